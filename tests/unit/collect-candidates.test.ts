/**
 * Bounded candidate collection (`collectCandidates`): small tiers are evaluated whole, large ones
 * are sampled by weight, and the sample comes out in weighted random order.
 */
import { describe, expect, it } from "vitest";
import { collectCandidates, type PlacementEntry } from "../../src/domain/catalog-snapshot.js";
import { aCampaign, anAdvertiser, aPlacement, aUnit, compiledPlacement, snapshotOf } from "../helpers/builders.js";
import { seededRandom } from "../helpers/app.js";

function tierOf(count: number, weightOf: (i: number) => number, tier: "sponsorship" | "standard" | "house" = "sponsorship") {
  const campaigns = Array.from({ length: count }, (_, i) => aCampaign({ id: `c${i}`, tier, weight: weightOf(i) }));
  const units = campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id }));
  return { campaigns, units, advertisers: [anAdvertiser()], placements: [aPlacement()] };
}

describe("collectCandidates", () => {
  it("evaluates a small tier whole and leaves its ranking to the caller", () => {
    const { campaigns, units } = tierOf(10, () => 1);
    const placement = compiledPlacement(snapshotOf({ campaigns, units, advertisers: [anAdvertiser()], placements: [aPlacement()] }), "article-mid");
    let evaluated = 0;
    const tiers = collectCandidates(placement, [], () => (evaluated++, true), seededRandom(1), { want: 3, exhaustive: 16, maxDraws: 256 });
    expect(evaluated).toBe(10);
    expect(tiers).toHaveLength(1);
    expect(tiers[0]?.ranked).toBe(false);
    expect(tiers[0]?.entries).toHaveLength(10);
  });

  it("samples a large tier: evaluates about as many campaigns as it wants, not the whole tier", () => {
    const { campaigns, units } = tierOf(2000, () => 1);
    const placement = compiledPlacement(snapshotOf({ campaigns, units, advertisers: [anAdvertiser()], placements: [aPlacement()] }), "article-mid");
    let evaluated = 0;
    const tiers = collectCandidates(placement, [], () => (evaluated++, true), seededRandom(2), { want: 9, exhaustive: 16, maxDraws: 256 });
    expect(tiers[0]?.ranked).toBe(true);
    expect(tiers[0]?.entries).toHaveLength(9);
    expect(evaluated).toBe(9);
    expect(new Set(tiers[0]?.entries.map((e) => e.campaign.id)).size).toBe(9);
  });

  it("stops visiting lower tiers once enough candidates are eligible", () => {
    const top = tierOf(50, () => 1, "sponsorship");
    const house = tierOf(50, () => 1, "house");
    const placement = compiledPlacement(
      snapshotOf({
        advertisers: [anAdvertiser()],
        placements: [aPlacement()],
        campaigns: [...top.campaigns, ...house.campaigns.map((c) => ({ ...c, id: `h-${c.id}` }))],
        units: [...top.units, ...house.units.map((u) => ({ ...u, id: `h-${u.id}`, campaignId: `h-${u.campaignId}` }))],
      }),
      "article-mid",
    );
    const tiers = collectCandidates(placement, [], () => true, seededRandom(3), { want: 5, exhaustive: 16, maxDraws: 256 });
    expect(tiers).toHaveLength(1);
    expect(tiers[0]?.entries.every((e: PlacementEntry) => e.campaign.tierRank === 0)).toBe(true);
  });

  it("leads with a campaign in proportion to its weight when sampling (weight 3 vs 1 in equal numbers: 75 %)", () => {
    const { campaigns, units } = tierOf(200, (i) => (i % 2 === 0 ? 3 : 1));
    const placement = compiledPlacement(snapshotOf({ campaigns, units, advertisers: [anAdvertiser()], placements: [aPlacement()] }), "article-mid");
    const random = seededRandom(4);
    let heavyFirst = 0;
    const trials = 5000;
    for (let t = 0; t < trials; t++) {
      const first = collectCandidates(placement, [], () => true, random, { want: 3, exhaustive: 16, maxDraws: 256 })[0]?.entries[0];
      if (first?.campaign.weight === 3) heavyFirst++;
    }
    expect(heavyFirst / trials).toBeGreaterThan(0.72);
    expect(heavyFirst / trials).toBeLessThan(0.78);
  });
  it("does not favour a campaign for sitting in more of the page's buckets (3 matching keys vs 1: 50 %)", () => {
    const broad = Array.from({ length: 20 }, (_, i) =>
      aCampaign({ id: `b${i}`, tier: "sponsorship", weight: 1, targeting: { field: "topics", op: "in", values: ["a", "b", "c"] } }),
    );
    const narrow = Array.from({ length: 20 }, (_, i) => aCampaign({ id: `n${i}`, tier: "sponsorship", weight: 1, targeting: { field: "topics", op: "in", values: ["a"] } }));
    const campaigns = [...broad, ...narrow];
    const units = campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id }));
    const placement = compiledPlacement(snapshotOf({ campaigns, units, advertisers: [anAdvertiser()], placements: [aPlacement()] }), "article-mid");
    const random = seededRandom(5);
    let broadFirst = 0;
    const trials = 5000;
    for (let t = 0; t < trials; t++) {
      const first = collectCandidates(placement, ["t:a", "t:b", "t:c"], () => true, random, { want: 3, exhaustive: 16, maxDraws: 256 })[0]?.entries[0];
      if (first?.campaign.id.startsWith("b")) broadFirst++;
    }
    expect(broadFirst / trials).toBeGreaterThan(0.47);
    expect(broadFirst / trials).toBeLessThan(0.53);
    // The page's keys as a set (how a decision passes them, built once for its slots) draw the same.
    const ids = (keys: readonly string[] | ReadonlySet<string>): string[][] =>
      collectCandidates(placement, keys, () => true, seededRandom(7), { want: 9, exhaustive: 16, maxDraws: 256 }).map((t) => t.entries.map((e) => e.campaign.id));
    expect(ids(new Set(["t:a", "t:b", "t:c"]))).toEqual(ids(["t:a", "t:b", "t:c"]));
    expect(ids(new Set())).toEqual(ids([]));
  });

  it("draws heavy campaigns directly instead of rejecting light ones: a tier of weights 1 and 1,000 still fills its want", () => {
    const { campaigns, units } = tierOf(500, (i) => (i === 0 ? 1000 : 1));
    const placement = compiledPlacement(snapshotOf({ campaigns, units, advertisers: [anAdvertiser()], placements: [aPlacement()] }), "article-mid");
    const tiers = collectCandidates(placement, [], () => true, seededRandom(6), { want: 9, exhaustive: 16, maxDraws: 64 });
    expect(tiers[0]?.entries).toHaveLength(9);
  });
});
