import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileCaps, windowSeconds } from "../../src/domain/caps.js";
import { CAP_WINDOWS, type CapWindow, type FrequencyCap } from "../../src/domain/catalog-schema.js";

describe("windowSeconds", () => {
  it.each([
    ["1h", 3600],
    ["1d", 86_400],
    ["7d", 604_800],
    ["30d", 2_592_000],
  ] as const)("gives %s as %i seconds", (window, seconds) => {
    expect(windowSeconds(window)).toBe(seconds);
  });

  it("gives lifetime as 0 (no expiry)", () => {
    expect(windowSeconds("lifetime")).toBe(0);
  });

  it("gives a custom window as its seconds", () => {
    expect(windowSeconds({ seconds: 90 })).toBe(90);
  });
});

describe("compileCaps", () => {
  it("compiles no caps to an empty list", () => {
    expect(compileCaps(undefined)).toEqual([]);
    expect(compileCaps([])).toEqual([]);
  });

  it("keeps caps on different windows apart, in their order", () => {
    expect(
      compileCaps([
        { limit: 3, window: "1d" },
        { limit: 10, window: "7d" },
        { limit: 1, window: { seconds: 600 } },
      ]),
    ).toEqual([
      { limit: 3, windowSeconds: 86_400, label: "1d" },
      { limit: 10, windowSeconds: 604_800, label: "7d" },
      { limit: 1, windowSeconds: 600, label: "600s" },
    ]);
  });

  it("merges two caps on the same window into the tighter limit", () => {
    expect(
      compileCaps([
        { limit: 5, window: "1d" },
        { limit: 3, window: "1d" },
        { limit: 4, window: "1d" },
      ]),
    ).toEqual([{ limit: 3, windowSeconds: 86_400, label: "1d" }]);
  });

  it("merges a named window with a custom window of the same length", () => {
    expect(
      compileCaps([
        { limit: 4, window: "1h" },
        { limit: 2, window: { seconds: 3600 } },
      ]),
    ).toEqual([{ limit: 2, windowSeconds: 3600, label: "3600s" }]);
  });

  it("compiles a lifetime cap to window 0", () => {
    expect(compileCaps([{ limit: 7, window: "lifetime" }])).toEqual([{ limit: 7, windowSeconds: 0, label: "lifetime" }]);
  });

  it("keeps one counter per window whose limit is the smallest of that window's caps", () => {
    const windowArb: fc.Arbitrary<CapWindow> = fc.oneof(
      fc.constantFrom(...CAP_WINDOWS),
      fc.constantFrom(3600, 86_400, 600).map((seconds) => ({ seconds })),
    );
    const capArb: fc.Arbitrary<FrequencyCap> = fc.record({ limit: fc.integer({ min: 1, max: 20 }), window: windowArb });
    fc.assert(
      fc.property(fc.array(capArb, { maxLength: 8 }), (caps) => {
        const compiled = compileCaps(caps);
        const windows = compiled.map((c) => c.windowSeconds);
        expect(new Set(windows).size).toBe(windows.length);
        expect(new Set(windows)).toEqual(new Set(caps.map((c) => windowSeconds(c.window))));
        for (const c of compiled) {
          const limits = caps.filter((x) => windowSeconds(x.window) === c.windowSeconds).map((x) => x.limit);
          expect(c.limit).toBe(Math.min(...limits));
        }
      }),
      { seed: 1234, numRuns: 300 },
    );
  });
});
