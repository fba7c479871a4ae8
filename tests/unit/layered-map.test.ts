import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LayeredMap } from "../../src/domain/layered-map.js";

/** A batch of changes: a value sets a key, `undefined` removes it. */
const batchArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.option(fc.integer(), { nil: undefined })), { maxLength: 8 });

function applyTo(reference: Map<number, number>, batch: readonly [number, number | undefined][]): Map<number, number | undefined> {
  const changes = new Map<number, number | undefined>();
  for (const [k, v] of batch) {
    changes.set(k, v);
    if (v === undefined) reference.delete(k);
    else reference.set(k, v);
  }
  return changes;
}

describe("LayeredMap", () => {
  it("reads like a plain map with the same changes applied, however many layers are stacked", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 20 })), fc.array(batchArb, { maxLength: 6 }), (baseKeys, batches) => {
        const base = new Map(baseKeys.map((k) => [k, k * 10]));
        const reference = new Map(base);
        let layered: ReadonlyMap<number, number> = base;
        for (const batch of batches) layered = LayeredMap.over(layered, applyTo(reference, batch));
        expect(layered.size).toBe(reference.size);
        for (let k = 0; k <= 30; k++) {
          expect(layered.get(k)).toBe(reference.get(k));
          expect(layered.has(k)).toBe(reference.has(k));
        }
        const sorted = (entries: Iterable<[number, number]>) => [...entries].sort((a, b) => a[0] - b[0]);
        expect(sorted(layered)).toEqual(sorted(reference));
        expect(sorted(layered.entries())).toEqual(sorted(reference.entries()));
        expect([...layered.keys()].sort((a, b) => a - b)).toEqual([...reference.keys()].sort((a, b) => a - b));
        expect([...layered.values()].length).toBe(reference.size);
        const seen: [number, number][] = [];
        layered.forEach((v, k, map) => {
          expect(map).toBe(layered);
          seen.push([k, v]);
        });
        expect(sorted(seen)).toEqual(sorted(reference));
      }),
      { seed: 4242, numRuns: 300 },
    );
  });

  it("keeps the base's order, with changed values in place and added keys after, as a map updated in place would", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { minLength: 1 }), fc.array(fc.integer(), { maxLength: 5 }), fc.integer({ min: 0, max: 5 }), (baseKeys, newValues, added) => {
        const base = new Map(baseKeys.map((k) => [k, k]));
        const reference = new Map(base);
        // Updates and removals of base keys, then keys the base does not have (never removed again).
        const batch: [number, number | undefined][] = baseKeys.slice(0, newValues.length).map((k, i) => [k, i % 2 === 0 ? newValues[i] : undefined]);
        for (let i = 0; i < added; i++) batch.push([100 + i, i]);
        const layered = LayeredMap.over(base, applyTo(reference, batch));
        expect([...layered]).toEqual([...reference]);
      }),
      { seed: 4343, numRuns: 200 },
    );
  });

  it("leaves the maps it is built from unchanged and shares the first base across layers", () => {
    const base = new Map([
      ["a", 1],
      ["b", 2],
    ]);
    const one = LayeredMap.over(base, new Map([["a", 10]]));
    const two = LayeredMap.over(one, new Map<string, number | undefined>([["b", undefined], ["c", 3]]));
    expect([...base]).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect([...one]).toEqual([
      ["a", 10],
      ["b", 2],
    ]);
    expect([...two]).toEqual([
      ["a", 10],
      ["c", 3],
    ]);
    expect(one.layerSize).toBe(1);
    expect(two.layerSize).toBe(3);
  });
});
