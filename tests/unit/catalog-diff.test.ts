/**
 * `applyChanges`: patching a few changes into sorted lists gives the same document as applying
 * them to maps and sorting everything (the reference here), forward and backward; `sameJson`
 * against canonical JSON.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyChanges, canonicalJson, sameJson, type EntityChange } from "../../src/domain/catalog-diff.js";
import type { CatalogDocument, EntityKind } from "../../src/domain/catalog-schema.js";

const KINDS = ["advertiser", "placement", "campaign", "unit"] as const satisfies readonly EntityKind[];
const PLURAL = { advertiser: "advertisers", placement: "placements", campaign: "campaigns", unit: "units" } as const;
const IDS = ["a", "b", "c", "d", "e", "f", "g", "h"];

type Doc = Record<(typeof PLURAL)[EntityKind], { id: string; v: number }[]>;

const docArb: fc.Arbitrary<Doc> = fc
  .record({
    advertisers: fc.subarray(IDS),
    placements: fc.subarray(IDS),
    campaigns: fc.subarray(IDS),
    units: fc.subarray(IDS),
  })
  .map((r) => {
    const out = {} as Doc;
    for (const [k, ids] of Object.entries(r)) out[k as keyof Doc] = ids.map((id) => ({ id, v: 0 }));
    return out;
  });

const changeArb: fc.Arbitrary<EntityChange> = fc.record({
  kind: fc.constantFrom(...KINDS),
  id: fc.constantFrom(...IDS),
  before: fc.option(fc.integer({ min: 1, max: 9 }).map((v) => ({ v })), { nil: null }),
  after: fc.option(fc.integer({ min: 1, max: 9 }).map((v) => ({ v })), { nil: null }),
}).map((c) => ({
  kind: c.kind,
  id: c.id,
  before: c.before === null ? null : { id: c.id, ...c.before },
  after: c.after === null ? null : { id: c.id, ...c.after },
})) as fc.Arbitrary<EntityChange>;

function reference(doc: Doc, changes: readonly EntityChange[], direction: "forward" | "backward"): Doc {
  const out = {} as Doc;
  for (const kind of KINDS) {
    const table = new Map(doc[PLURAL[kind]].map((e) => [e.id, e]));
    const ordered = direction === "forward" ? changes : [...changes].reverse();
    for (const c of ordered) {
      if (c.kind !== kind) continue;
      const value = (direction === "forward" ? c.after : c.before) as { id: string; v: number } | null;
      if (value === null) table.delete(c.id);
      else table.set(c.id, value);
    }
    out[PLURAL[kind]] = [...table.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  return out;
}

describe("applyChanges", () => {
  it("gives the same sorted document as applying the changes to maps, forward and backward", () => {
    fc.assert(
      fc.property(docArb, fc.array(changeArb, { maxLength: 12 }), fc.constantFrom("forward" as const, "backward" as const), (doc, changes, direction) => {
        const before = JSON.stringify(doc);
        const result = applyChanges(doc as unknown as CatalogDocument, changes, direction);
        expect(result).toEqual(reference(doc, changes, direction));
        expect(JSON.stringify(doc)).toBe(before);
      }),
      { seed: 20261127, numRuns: 500 },
    );
  });

  it("sorts lists that did not arrive sorted", () => {
    const doc = { advertisers: [], placements: [], campaigns: [{ id: "b" }, { id: "a" }], units: [] } as unknown as CatalogDocument;
    const result = applyChanges(doc, [{ kind: "campaign", id: "c", before: null, after: { id: "c" } } as unknown as EntityChange], "forward");
    expect(result.campaigns.map((c) => c.id)).toEqual(["a", "b", "c"]);
  });
});

describe("sameJson", () => {
  const shuffledKeys = (v: unknown, rnd: () => number): unknown => {
    if (Array.isArray(v)) return v.map((x) => shuffledKeys(x, rnd));
    if (v && typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shuffledKeys(x, rnd)] as const);
      entries.sort(() => rnd() - 0.5);
      return Object.fromEntries(entries);
    }
    return v;
  };

  it("agrees with comparing canonical JSON, whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.integer(), (a, b, seed) => {
        let s = seed;
        const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
        expect(sameJson(a, shuffledKeys(a, rnd))).toBe(true);
        expect(sameJson(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
      }),
      { seed: 99, numRuns: 300 },
    );
  });

  it("tells apart values that differ only in a nested field or an array's order", () => {
    expect(sameJson({ a: { b: 1, c: [1, 2] } }, { a: { c: [1, 2], b: 1 } })).toBe(true);
    expect(sameJson({ a: { b: 1, c: [1, 2] } }, { a: { b: 2, c: [1, 2] } })).toBe(false);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});
