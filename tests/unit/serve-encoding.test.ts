import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SelectionPlan } from "../../src/domain/selection.js";
import { encodePlan } from "../../src/store/lua/serve.js";

/** The structure the serve script reads, stringified the plain way: what encodePlan must equal. */
function reference(plan: SelectionPlan): string {
  return JSON.stringify({
    s: plan.slotCapacity,
    w: plan.counters.map((c) => c.windowSeconds),
    c: plan.candidates.map((c) => [c.slot + 1, c.campaignId, c.advertiserId, c.labels, c.caps.map((cap) => [cap.counter + 1, cap.limit]), c.unitId]),
    pc: plan.priorCampaigns ?? [],
    pl: plan.priorLabels ?? {},
  });
}

const text = fc.string({ unit: "grapheme", maxLength: 12 });
const labelLists = fc.array(fc.array(text, { maxLength: 3 }), { minLength: 1, maxLength: 4 });

const planArb: fc.Arbitrary<SelectionPlan> = labelLists.chain((lists) =>
  fc.record(
    {
      slotCapacity: fc.array(fc.nat(5), { maxLength: 4 }),
      counters: fc.array(fc.record({ campaignId: text, windowSeconds: fc.nat(40_000_000) }), { maxLength: 6 }),
      candidates: fc.array(
        fc.record({
          slot: fc.nat(3),
          campaignId: text,
          unitId: text,
          advertiserId: text,
          // Shared arrays, as the snapshot's campaigns share their advertiser's labels.
          labels: fc.constantFrom(...lists),
          caps: fc.array(fc.record({ counter: fc.nat(5), limit: fc.integer({ min: 1, max: 1_000_000 }) }), { maxLength: 3 }),
        }),
        { maxLength: 12 },
      ),
      priorCampaigns: fc.array(text, { maxLength: 3 }),
      priorLabels: fc.dictionary(text, text, { maxKeys: 3 }),
    },
    { requiredKeys: ["slotCapacity", "counters", "candidates"] },
  ),
);

describe("encodePlan", () => {
  it("writes exactly the JSON that stringifying the script's structure gives, for any plan", () => {
    fc.assert(
      fc.property(planArb, (plan) => {
        expect(encodePlan(plan)).toBe(reference(plan));
        // Twice: the second time the labels' JSON comes from its cache.
        expect(encodePlan(plan)).toBe(reference(plan));
      }),
      { seed: 2024, numRuns: 500 },
    );
  });

  it("escapes quotes, backslashes, control characters and lone surrogates in every string it writes", () => {
    const odd = 'a"b\\c\u0001\né\ud800';
    const plan: SelectionPlan = {
      slotCapacity: [1],
      counters: [{ campaignId: odd, windowSeconds: 3600 }],
      candidates: [{ slot: 0, campaignId: odd, unitId: odd, advertiserId: odd, labels: [odd], caps: [{ counter: 0, limit: 3 }] }],
      priorCampaigns: [odd],
      priorLabels: { [odd]: odd },
    };
    expect(encodePlan(plan)).toBe(reference(plan));
    expect(JSON.parse(encodePlan(plan))).toEqual({ s: [1], w: [3600], c: [[1, odd, odd, [odd], [[1, 3]], odd]], pc: [odd], pl: { [odd]: odd } });
  });
});
