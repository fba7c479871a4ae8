import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clearInterners, HashInterner, hashStrings, Interner, sameItems, shareStrings, ValueSharer } from "../../src/domain/intern.js";
import { compileTargeting, matchesTargeting } from "../../src/domain/targeting.js";
import { compileCatalog } from "../../src/domain/catalog-snapshot.js";
import { aCampaign, aCatalog, anAdvertiser, aUnit, leaf, pageContext } from "../helpers/builders.js";
import { treeArb } from "./arbitraries.js";
import type { Campaign, TargetingNode } from "../../src/domain/catalog-schema.js";

describe("Interner", () => {
  it("gives back the first value made for a key and makes a new one past its limit", () => {
    const interner = new Interner<{ n: number }>(2);
    const a = interner.get("a", () => ({ n: 1 }));
    expect(interner.get("a", () => ({ n: 2 }))).toBe(a);
    interner.get("b", () => ({ n: 3 }));
    const c1 = interner.get("c", () => ({ n: 4 }));
    const c2 = interner.get("c", () => ({ n: 5 }));
    expect(c1).not.toBe(c2);
    expect(c2.n).toBe(5);
  });

  it("shares again once cleared, as when a whole catalog is compiled afresh", () => {
    const interner = new Interner<{ n: number }>(1);
    interner.get("old", () => ({ n: 1 }));
    expect(interner.get("new", () => ({ n: 2 }))).not.toBe(interner.get("new", () => ({ n: 3 })));
    clearInterners();
    const shared = interner.get("new", () => ({ n: 4 }));
    expect(interner.get("new", () => ({ n: 5 }))).toBe(shared);
  });

  it("is cleared by a full compile but not by a compile of a few changes", () => {
    const campaigns = ["c1", "c2"].map((id) => aCampaign({ id, placements: ["article-mid"], frequencyCaps: [{ limit: 3, window: "1d" }] }));
    const doc = aCatalog({ campaigns, units: campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id })) });
    const first = compileCatalog(doc, 1);
    const second = compileCatalog(structuredClone(doc), 2);
    // Both campaigns of each snapshot share their caps; the second full compile starts afresh.
    expect(second.campaigns.get("c1")?.caps).toBe(second.campaigns.get("c2")?.caps);
    expect(second.campaigns.get("c1")?.caps).not.toBe(first.campaigns.get("c1")?.caps);
    const changed = { ...(doc.campaigns[1] as (typeof doc.campaigns)[number]), weight: 7 };
    const third = compileCatalog({ ...doc, campaigns: [doc.campaigns[0] as (typeof doc.campaigns)[number], changed] }, 3, second, [
      { kind: "campaign", id: "c2", before: doc.campaigns[1], after: changed },
    ]);
    expect(third.campaigns.get("c2")?.caps).toBe(second.campaigns.get("c1")?.caps);
  });
});

describe("HashInterner", () => {
  const lists = (): HashInterner<string[]> => new HashInterner<string[]>(3);
  const get = (interner: HashInterner<string[]>, hash: number, value: string[]): string[] =>
    interner.get(hash, (v) => sameItems(v, value), () => value);

  it("gives back the first equal value for a hash", () => {
    const interner = lists();
    const first = get(interner, hashStrings(["a", "b"]), ["a", "b"]);
    expect(get(interner, hashStrings(["a", "b"]), ["a", "b"])).toBe(first);
  });

  it("keeps unequal values whose hashes collide apart, and shares each of them", () => {
    const interner = lists();
    const a = get(interner, 7, ["a"]);
    const b = get(interner, 7, ["b"]);
    const c = get(interner, 7, ["c"]);
    expect(b).not.toBe(a);
    expect(get(interner, 7, ["a"])).toBe(a);
    expect(get(interner, 7, ["b"])).toBe(b);
    expect(get(interner, 7, ["c"])).toBe(c);
  });

  it("stops remembering past its limit and starts again once cleared", () => {
    const interner = lists();
    for (const v of ["a", "b", "c"]) get(interner, hashStrings([v]), [v]);
    const d = get(interner, hashStrings(["d"]), ["d"]);
    expect(get(interner, hashStrings(["d"]), ["d"])).not.toBe(d);
    clearInterners();
    const again = get(interner, hashStrings(["d"]), ["d"]);
    expect(get(interner, hashStrings(["d"]), ["d"])).toBe(again);
  });

  it("hashes lists to small integers that tell part boundaries and salts apart", () => {
    const hashes = [hashStrings(["ab", "c"]), hashStrings(["a", "bc"]), hashStrings(["abc"]), hashStrings(["ab", "c"], 1), hashStrings([])];
    expect(new Set(hashes).size).toBe(hashes.length);
    for (const h of hashes) expect(Number.isInteger(h) && h >= 0 && h < 2 ** 30).toBe(true);
  });
});

describe("shared compiled values", () => {
  it("compiles equal targeting leaves once, and keeps leaves whose values only look alike apart", () => {
    const page = pageContext({ topics: ["a"] });
    const joined = compileTargeting(leaf("topics", "in", ["a\u0001b"]));
    const split = compileTargeting(leaf("topics", "in", ["a", "b"]));
    expect(matchesTargeting(joined, page)).toBe(false);
    expect(matchesTargeting(split, page)).toBe(true);
    expect(matchesTargeting(compileTargeting(leaf("topics", "in", ["A", "b"])), page)).toBe(true);
    expect(matchesTargeting(compileTargeting(leaf("topics", "notIn", ["a", "b"])), page)).toBe(false);
    // Same values, another field or operator: not the same leaf.
    expect(matchesTargeting(compileTargeting(leaf("keywords", "in", ["a", "b"])), page)).toBe(false);
    expect(matchesTargeting(compileTargeting(leaf("topics", "prefix", ["a", "b"])), pageContext({ topics: ["ab"] }))).toBe(true);
    expect(matchesTargeting(compileTargeting(leaf("topics", "in", ["a", "b"])), pageContext({ topics: ["ab"] }))).toBe(false);
  });

  it("shares placement sets, caps and index keys between campaigns that have the same ones", () => {
    const campaigns = ["c1", "c2"].map((id) =>
      aCampaign({ id, placements: ["article-mid"], targeting: leaf("section", "in", ["economy"]), frequencyCaps: [{ limit: 3, window: "1d" }] }),
    );
    const snapshot = compileCatalog(aCatalog({ advertisers: [anAdvertiser({ competitiveLabels: ["retail"] })], campaigns, units: campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id })) }), 1);
    const [a, b] = [snapshot.campaigns.get("c1"), snapshot.campaigns.get("c2")];
    expect(a?.placements).toBe(b?.placements);
    expect(a?.caps).toBe(b?.caps);
    expect(a?.indexKeys).toBe(b?.indexKeys);
    expect(a?.labels).toBe(b?.labels);
    expect(a?.labels).toEqual(["retail"]);
  });

  it("compiles a targeting tree that several campaigns share (as a catalog read from Redis shares them) once", () => {
    const tree = { all: [leaf("section", "in", ["economy"]), { not: leaf("geo.country", "in", ["RU"]) }] };
    const campaigns = ["c1", "c2"].map((id) => aCampaign({ id, targeting: tree }));
    const snapshot = compileCatalog(aCatalog({ campaigns, units: campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id })) }), 1);
    const [a, b] = ["c1", "c2"].map((id) => snapshot.campaigns.get(id));
    expect(a?.targeting).toBeDefined();
    expect(a?.targeting).toBe(b?.targeting);
    expect(matchesTargeting(a?.targeting, pageContext({ section: "economy", country: "DE" }))).toBe(true);
    expect(matchesTargeting(a?.targeting, pageContext({ section: "economy", country: "RU" }))).toBe(false);
  });

  it("shares the exclusion sets of campaigns that exclude the same words", () => {
    const campaigns = ["c1", "c2", "c3"].map((id) => aCampaign({ id, exclusions: { topics: id === "c3" ? ["war"] : ["War", "terrorism"] } }));
    const snapshot = compileCatalog(aCatalog({ campaigns, units: campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id })) }), 1);
    const [a, b, c] = ["c1", "c2", "c3"].map((id) => snapshot.campaigns.get(id));
    expect(a?.excludedTopics).toBe(b?.excludedTopics);
    expect([...(a?.excludedTopics ?? [])]).toEqual(["war", "terrorism"]);
    expect([...(c?.excludedTopics ?? [])]).toEqual(["war"]);
  });
});

describe("shareStrings", () => {
  it("changes no value of any JSON document", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy: unknown = JSON.parse(JSON.stringify(value));
        shareStrings(copy, new Map());
        expect(copy).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it("collects the short strings of nested objects and arrays, but not ids, campaign ids or long texts", () => {
    const table = new Map<string, string>();
    const long = "a headline much longer than thirty-two characters";
    shareStrings({ id: "c-1", campaignId: "c-2", status: "active", image: { alt: "x" }, placements: ["mid", "end"], body: long, n: 3 }, table);
    shareStrings([{ status: "active" }, "paused"], table);
    expect([...table.keys()].sort()).toEqual(["active", "end", "mid", "paused", "x"]);
  });
});

describe("ValueSharer", () => {
  const campaign = (id: string, targeting: Campaign["targeting"], extra: Partial<Campaign> = {}): Campaign =>
    JSON.parse(JSON.stringify(aCampaign({ id, targeting, frequencyCaps: [{ limit: 3, window: "1d" }], exclusions: { topics: ["war"] }, ...extra }))) as Campaign;

  it("gives campaigns with equal parts one instance of each part, and keeps unequal ones apart", () => {
    const sharer = new ValueSharer();
    const section = leaf("section", "in", ["economy"]);
    const a = campaign("a", { all: [section, { not: leaf("geo.country", "in", ["RU"]) }] });
    const b = campaign("b", { any: [section, leaf("topics", "in", ["trade"])] });
    const c = campaign("c", { all: [section, { not: leaf("geo.country", "in", ["RU"]) }] }, { frequencyCaps: [{ limit: 4, window: "1d" }] });
    for (const x of [a, b, c]) sharer.campaign(x);
    expect(c.targeting).toBe(a.targeting);
    expect((b.targeting as { any: unknown[] }).any[0]).toBe((a.targeting as { all: unknown[] }).all[0]);
    expect(b.targeting).not.toBe(a.targeting);
    expect(b.placements).toBe(a.placements);
    expect(b.exclusions).toBe(a.exclusions);
    expect(b.frequencyCaps).toBe(a.frequencyCaps);
    expect(c.frequencyCaps).not.toBe(a.frequencyCaps);
    expect(c.frequencyCaps).toEqual([{ limit: 4, window: "1d" }]);
  });

  it("tells apart trees that differ only in their kind of node or in the order of their children", () => {
    const sharer = new ValueSharer();
    const [x, y] = [leaf("section", "in", ["economy"]), leaf("topics", "in", ["trade"])];
    const trees = [{ all: [x, y] }, { any: [x, y] }, { all: [y, x] }, { not: x }, { all: [{ not: x }] }, { all: [x] }, x].map((t) => sharer.tree(structuredClone(t)));
    expect(new Set(trees).size).toBe(trees.length);
    // A daypart hour given as a number and as a string: equal JSON-wise only in looks.
    const hours = [{ field: "daypart" as const, op: "in" as const, values: [7] }, { field: "daypart" as const, op: "in" as const, values: ["7"] }];
    expect(sharer.tree(hours[0] as TargetingNode)).not.toBe(sharer.tree(hours[1] as TargetingNode));
  });

  /** Campaigns that repeat a few trees, caps and placement lists (as copies, the way JSON.parse gives them). */
  const campaignsArb: fc.Arbitrary<Campaign[]> = fc.array(treeArb(3), { minLength: 1, maxLength: 4 }).chain((trees) =>
    fc.array(
      fc.record({
        targeting: fc.option(fc.constantFrom(...trees), { nil: undefined }),
        frequencyCaps: fc.option(fc.constantFrom<Campaign["frequencyCaps"]>([{ limit: 3, window: "1d" }], [{ limit: 3, window: "7d" }]), { nil: undefined }),
        placements: fc.constantFrom<string[]>(["article-mid"], ["article-mid", "article-end"]),
      }),
      { maxLength: 20 },
    ).map((parts) => parts.map((p, i) => JSON.parse(JSON.stringify(aCampaign({ id: `c${i}`, ...p }))) as Campaign)),
  );

  it("changes no campaign's value", () => {
    fc.assert(
      fc.property(campaignsArb, (campaigns) => {
        const copies = campaigns.map((c) => structuredClone(c));
        const sharer = new ValueSharer();
        for (const c of copies) sharer.campaign(c);
        expect(copies).toEqual(campaigns);
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});
