import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeOutcomes,
  OUTCOME_CODES,
  rankCandidates,
  TIER_RANK,
  walkPlan,
  type CandidateOutcome,
  type PlanCandidate,
  type PlanCap,
  type PlanCounter,
  type SelectionPlan,
} from "../../src/domain/selection.js";
import { seededRandom } from "../helpers/app.js";

interface Item {
  readonly id: string;
  readonly tierRank: number;
  readonly weight: number;
}

const item = (id: string, tierRank: number, weight = 1): Item => ({ id, tierRank, weight });

describe("TIER_RANK", () => {
  it("ranks sponsorship before standard before house", () => {
    expect(TIER_RANK.sponsorship).toBeLessThan(TIER_RANK.standard);
    expect(TIER_RANK.standard).toBeLessThan(TIER_RANK.house);
  });
});

describe("rankCandidates", () => {
  it("returns an empty list for no candidates and a copy of a single candidate", () => {
    const random = seededRandom(1);
    expect(rankCandidates([], random)).toEqual([]);
    const one = [item("a", 1)];
    const ranked = rankCandidates(one, random);
    expect(ranked).toEqual(one);
    expect(ranked).not.toBe(one);
  });

  it("puts every sponsorship before every standard before every house candidate", () => {
    const items = [item("h1", 2, 1000), item("s1", 1, 1000), item("p1", 0, 1), item("h2", 2), item("p2", 0), item("s2", 1)];
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const ranks = rankCandidates(items, random).map((x) => x.tierRank);
      expect(ranks).toEqual([0, 0, 1, 1, 2, 2]);
    }
  });

  it("returns a permutation of its input in tier order without touching the input", () => {
    const itemArb = fc.record({ id: fc.string(), tierRank: fc.integer({ min: 0, max: 2 }), weight: fc.integer({ min: 1, max: 1000 }) });
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 12 }), fc.integer(), (items, seed) => {
        const before = items.slice();
        const ranked = rankCandidates(items, seededRandom(seed));
        expect(items).toEqual(before);
        expect(ranked).toHaveLength(items.length);
        expect(new Set(ranked)).toEqual(new Set(items));
        for (let i = 1; i < ranked.length; i++) {
          expect((ranked[i - 1] as Item).tierRank).toBeLessThanOrEqual((ranked[i] as Item).tierRank);
        }
      }),
      { seed: 1234, numRuns: 300 },
    );
  });

  it("puts a weight-3 candidate before a weight-1 candidate of its tier about 75% of the time", () => {
    const random = seededRandom(2026);
    const heavy = item("heavy", 1, 3);
    const light = item("light", 1, 1);
    const draws = 20_000;
    let heavyFirst = 0;
    for (let i = 0; i < draws; i++) if (rankCandidates([light, heavy], random)[0] === heavy) heavyFirst++;
    expect(heavyFirst / draws).toBeGreaterThan(0.73);
    expect(heavyFirst / draws).toBeLessThan(0.77);
  });

  it("puts either of two equal-weight candidates first about half of the time", () => {
    const random = seededRandom(7);
    const a = item("a", 0, 5);
    const b = item("b", 0, 5);
    let aFirst = 0;
    for (let i = 0; i < 20_000; i++) if (rankCandidates([a, b], random)[0] === a) aFirst++;
    expect(aFirst / 20_000).toBeGreaterThan(0.48);
    expect(aFirst / 20_000).toBeLessThan(0.52);
  });

  it("gives each of three candidates first place in proportion to its weight", () => {
    const random = seededRandom(11);
    const items = [item("w1", 0, 1), item("w2", 0, 2), item("w5", 0, 5)];
    const firsts = new Map<string, number>();
    const draws = 40_000;
    for (let i = 0; i < draws; i++) {
      const first = (rankCandidates(items, random)[0] as Item).id;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect((firsts.get("w1") ?? 0) / draws).toBeCloseTo(1 / 8, 1);
    expect((firsts.get("w2") ?? 0) / draws).toBeCloseTo(2 / 8, 1);
    expect((firsts.get("w5") ?? 0) / draws).toBeCloseTo(5 / 8, 1);
  });

  it("ranks the same way for the same random sequence", () => {
    const items = [item("a", 1, 2), item("b", 1, 7), item("c", 1, 1), item("d", 0, 3)];
    expect(rankCandidates(items, seededRandom(99))).toEqual(rankCandidates(items, seededRandom(99)));
  });
});

function cand(overrides: Partial<PlanCandidate> & { campaignId: string }): PlanCandidate {
  return { slot: 0, unitId: `${overrides.campaignId}-unit`, advertiserId: `${overrides.campaignId}-adv`, labels: [], caps: [], ...overrides };
}

function plan(slotCapacity: number[], candidates: PlanCandidate[], extra: Partial<SelectionPlan> = {}): SelectionPlan {
  const counters: PlanCounter[] = [];
  for (const c of candidates) for (const cap of c.caps) counters[cap.counter] = { campaignId: c.campaignId, windowSeconds: 86_400 };
  return { slotCapacity, counters, candidates, ...extra };
}

const none = (): number => 0;

describe("walkPlan", () => {
  it("fills a slot up to its capacity and skips the rest", () => {
    const result = walkPlan(plan([2], [cand({ campaignId: "a" }), cand({ campaignId: "b" }), cand({ campaignId: "c" })]), none);
    expect(result.outcomes).toEqual(["won", "won", "skipped"]);
  });

  it("skips every candidate of a slot with capacity 0", () => {
    const result = walkPlan(plan([0, 1], [cand({ campaignId: "a" }), cand({ campaignId: "b", slot: 1 })]), none);
    expect(result.outcomes).toEqual(["skipped", "won"]);
  });

  it("fills each slot on its own", () => {
    const p = plan([1, 2], [cand({ campaignId: "a" }), cand({ campaignId: "b" }), cand({ campaignId: "c", slot: 1 }), cand({ campaignId: "d", slot: 1 })]);
    expect(walkPlan(p, none).outcomes).toEqual(["won", "skipped", "won", "won"]);
  });

  it("serves a campaign at most once per decision, across slots", () => {
    const p = plan([1, 1], [cand({ campaignId: "a" }), cand({ campaignId: "a", slot: 1 }), cand({ campaignId: "b", slot: 1 })]);
    expect(walkPlan(p, none).outcomes).toEqual(["won", "separated", "won"]);
  });

  it("never serves two advertisers sharing a competitive label in one decision", () => {
    const p = plan(
      [1, 1],
      [cand({ campaignId: "bank-a", advertiserId: "a", labels: ["bank"] }), cand({ campaignId: "bank-b", advertiserId: "b", labels: ["bank"], slot: 1 })],
    );
    expect(walkPlan(p, none).outcomes).toEqual(["won", "separated"]);
  });

  it("serves the same advertiser twice with different campaigns despite its label", () => {
    const p = plan(
      [1, 1],
      [cand({ campaignId: "a-1", advertiserId: "a", labels: ["bank"] }), cand({ campaignId: "a-2", advertiserId: "a", labels: ["bank"], slot: 1 })],
    );
    expect(walkPlan(p, none).outcomes).toEqual(["won", "won"]);
  });

  it("separates an advertiser on any one of its labels, and lets advertisers with disjoint labels serve", () => {
    const p = plan(
      [4],
      [
        cand({ campaignId: "a", advertiserId: "a", labels: ["bank"] }),
        cand({ campaignId: "b", advertiserId: "b", labels: ["telco", "bank"] }),
        cand({ campaignId: "c", advertiserId: "c", labels: ["telco"] }),
        cand({ campaignId: "d", advertiserId: "d" }),
      ],
    );
    expect(walkPlan(p, none).outcomes).toEqual(["won", "separated", "won", "won"]);
  });

  it("does not let a separated candidate claim its other labels", () => {
    const p = plan(
      [3],
      [
        cand({ campaignId: "a", advertiserId: "a", labels: ["bank"] }),
        cand({ campaignId: "b", advertiserId: "b", labels: ["bank", "telco"] }),
        cand({ campaignId: "c", advertiserId: "c", labels: ["telco"] }),
      ],
    );
    expect(walkPlan(p, none).outcomes).toEqual(["won", "separated", "won"]);
  });

  it("separates campaigns already served earlier in the page view", () => {
    const p = plan([2], [cand({ campaignId: "a" }), cand({ campaignId: "b" })], { priorCampaigns: ["a"] });
    expect(walkPlan(p, none).outcomes).toEqual(["separated", "won"]);
  });

  it("separates competitors of labels held earlier in the page view, but not their holder", () => {
    const p = plan(
      [2],
      [cand({ campaignId: "b1", advertiserId: "b", labels: ["bank"] }), cand({ campaignId: "a1", advertiserId: "a", labels: ["bank"] })],
      { priorLabels: { bank: "a" } },
    );
    expect(walkPlan(p, none).outcomes).toEqual(["separated", "won"]);
  });

  it("marks a candidate whose cap is at its limit as capped and moves on", () => {
    const caps: PlanCap[] = [{ counter: 0, limit: 3 }];
    const p = plan([1], [cand({ campaignId: "a", caps }), cand({ campaignId: "b" })]);
    expect(walkPlan(p, () => 3).outcomes).toEqual(["capped", "won"]);
  });

  it("marks a candidate over its limit as capped", () => {
    const p = plan([1], [cand({ campaignId: "a", caps: [{ counter: 0, limit: 3 }] })]);
    expect(walkPlan(p, () => 7).outcomes).toEqual(["capped"]);
  });

  it("serves a candidate below its limit", () => {
    const p = plan([1], [cand({ campaignId: "a", caps: [{ counter: 0, limit: 3 }] })]);
    expect(walkPlan(p, () => 2)).toEqual({ outcomes: ["won"], increments: [0] });
  });

  it("caps a candidate when any one of its caps is at its limit", () => {
    const p = plan([1], [cand({ campaignId: "a", caps: [{ counter: 0, limit: 3 }, { counter: 1, limit: 10 }] })]);
    const counts = [1, 10];
    expect(walkPlan(p, (i) => counts[i] ?? 0).outcomes).toEqual(["capped"]);
  });

  it("does not let a capped candidate claim its campaign or its labels", () => {
    const p = plan(
      [1, 1],
      [
        cand({ campaignId: "a", advertiserId: "a", labels: ["bank"], caps: [{ counter: 0, limit: 1 }] }),
        cand({ campaignId: "b", advertiserId: "b", labels: ["bank"] }),
        cand({ campaignId: "a", advertiserId: "a", labels: ["bank"], caps: [{ counter: 0, limit: 1 }], slot: 1 }),
      ],
    );
    expect(walkPlan(p, (i) => (i === 0 ? 1 : 0)).outcomes).toEqual(["capped", "won", "separated"]);
  });

  it("increments the caps of winners only, in plan order", () => {
    const p = plan(
      [2, 1],
      [
        cand({ campaignId: "a", caps: [{ counter: 0, limit: 5 }, { counter: 1, limit: 9 }] }),
        cand({ campaignId: "b", caps: [{ counter: 2, limit: 1 }] }),
        cand({ campaignId: "c", caps: [{ counter: 3, limit: 5 }] }),
        cand({ campaignId: "d", caps: [{ counter: 4, limit: 5 }] }),
        cand({ campaignId: "a", caps: [{ counter: 0, limit: 5 }, { counter: 1, limit: 9 }], slot: 1 }),
        cand({ campaignId: "e", caps: [{ counter: 5, limit: 5 }], slot: 1 }),
      ],
    );
    const counts = [0, 0, 1, 0, 0, 0];
    const result = walkPlan(p, (i) => counts[i] ?? 0);
    expect(result.outcomes).toEqual(["won", "capped", "won", "skipped", "separated", "won"]);
    expect(result.increments).toEqual([0, 1, 3, 5]);
  });

  it("does not increment anything when nothing wins", () => {
    const p = plan([0], [cand({ campaignId: "a", caps: [{ counter: 0, limit: 5 }] })]);
    expect(walkPlan(p, none)).toEqual({ outcomes: ["skipped"], increments: [] });
  });

  it("holds its invariants on random plans", () => {
    const candArb = fc.record({
      slot: fc.integer({ min: 0, max: 2 }),
      campaignId: fc.constantFrom("c1", "c2", "c3", "c4", "c5"),
      advertiserId: fc.constantFrom("a1", "a2", "a3"),
      labels: fc.subarray(["bank", "telco", "retail"]),
      caps: fc.array(fc.record({ counter: fc.integer({ min: 0, max: 4 }), limit: fc.integer({ min: 1, max: 3 }) }), { maxLength: 2 }),
    });
    const planArb = fc.record({
      slotCapacity: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
      candidates: fc.array(candArb.map((c) => ({ ...c, unitId: "u" })), { maxLength: 12 }),
      priorCampaigns: fc.subarray(["c1", "c2"]),
      priorLabels: fc.constantFrom<Record<string, string>>({}, { bank: "a1" }, { telco: "a2", retail: "a3" }),
      counts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }),
    });
    fc.assert(
      fc.property(planArb, ({ counts, ...rest }) => {
        const p: SelectionPlan = { ...rest, counters: counts.map((_, i) => ({ campaignId: `x${i}`, windowSeconds: 0 })) };
        const { outcomes, increments } = walkPlan(p, (i) => counts[i] ?? 0);
        expect(outcomes).toHaveLength(p.candidates.length);
        const winners = p.candidates.filter((_, i) => outcomes[i] === "won");
        const campaigns = winners.map((w) => w.campaignId);
        expect(new Set(campaigns).size).toBe(campaigns.length);
        for (const c of campaigns) expect(p.priorCampaigns).not.toContain(c);
        const owner = new Map(Object.entries(p.priorLabels ?? {}));
        for (const w of winners) {
          for (const l of w.labels) {
            expect(owner.get(l) ?? w.advertiserId).toBe(w.advertiserId);
            owner.set(l, w.advertiserId);
          }
          for (const cap of w.caps) expect(counts[cap.counter] ?? 0).toBeLessThan(cap.limit);
        }
        p.slotCapacity.forEach((capacity, slot) => expect(winners.filter((w) => w.slot === slot).length).toBeLessThanOrEqual(capacity));
        expect(increments).toEqual(winners.flatMap((w) => w.caps.map((c) => c.counter)));
      }),
      { seed: 1234, numRuns: 500 },
    );
  });
});

describe("decodeOutcomes", () => {
  it("decodes one digit per candidate", () => {
    expect(decodeOutcomes("0123")).toEqual<CandidateOutcome[]>(["skipped", "won", "capped", "separated"]);
  });

  it("decodes an empty string to no outcomes", () => {
    expect(decodeOutcomes("")).toEqual([]);
  });

  it("decodes an unknown digit as skipped", () => {
    expect(decodeOutcomes("19")).toEqual<CandidateOutcome[]>(["won", "skipped"]);
  });

  it("is the inverse of encoding with OUTCOME_CODES", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...OUTCOME_CODES)), (outcomes) => {
        expect(decodeOutcomes(outcomes.map((o) => String(OUTCOME_CODES.indexOf(o))).join(""))).toEqual(outcomes);
      }),
      { seed: 1234, numRuns: 100 },
    );
  });
});
