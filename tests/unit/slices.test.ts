import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runInSlices, sortById } from "../../src/domain/slices.js";
import { withoutRepeats } from "../../src/domain/by-id.js";

const drain = <T>(g: Generator<void, T>): { value: T; yields: number } => {
  let yields = 0;
  for (;;) {
    const step = g.next();
    if (step.done) return { value: step.value, yields };
    yields++;
  }
};

describe("sortById", () => {
  it("sorts like Array.prototype.sort by id, stably, for lists shorter and longer than one run", () => {
    const item = fc.record({ id: fc.string({ maxLength: 4 }), n: fc.nat() });
    fc.assert(
      fc.property(fc.oneof(fc.array(item, { maxLength: 50 }), fc.array(item, { minLength: 2049, maxLength: 9000 })), (list) => {
        const expected = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        expect(drain(sortById(list)).value).toEqual(expected);
      }),
      { seed: 77, numRuns: 40 },
    );
  });

  it("leaves its input as it was", () => {
    const list = [{ id: "b" }, { id: "a" }];
    drain(sortById(list));
    expect(list).toEqual([{ id: "b" }, { id: "a" }]);
  });

  it("yields while merging a long list, so the work can be sliced", () => {
    const list = Array.from({ length: 20_000 }, (_, i) => ({ id: String((i * 7919) % 20_000).padStart(5, "0") }));
    expect(drain(sortById(list)).yields).toBeGreaterThan(50);
  });
});

describe("withoutRepeats", () => {
  it("keeps the first entry of each id of a sorted list, as a catalog read page by page may return an entry twice", () => {
    const list = [{ id: "a", n: 1 }, { id: "a", n: 2 }, { id: "b", n: 3 }, { id: "c", n: 4 }, { id: "c", n: 5 }];
    expect(withoutRepeats(list)).toEqual([{ id: "a", n: 1 }, { id: "b", n: 3 }, { id: "c", n: 4 }]);
  });

  it("returns the list itself when no id repeats", () => {
    const list = [{ id: "a" }, { id: "b" }];
    expect(withoutRepeats(list)).toBe(list);
    expect(withoutRepeats([])).toEqual([]);
  });
});

describe("runInSlices", () => {
  it("lets timers and I/O run between slices of a long task", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const result = await runInSlices(
      (function* () {
        const until = performance.now() + 120;
        let n = 0;
        while (performance.now() < until) {
          n++;
          yield;
        }
        return n;
      })(),
      5,
    );
    clearInterval(timer);
    expect(result).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(3);
  });
});
