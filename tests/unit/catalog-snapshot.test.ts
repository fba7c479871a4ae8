import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Advertiser, Campaign, Unit } from "../../src/domain/catalog-schema.js";
import {
  candidateEntries,
  compileCatalog,
  keyedEntries,
  openEntries,
  compileCatalogInSlices,
  entryIneligibility,
  findUnit,
  firstIneligibility,
  ineligibility,
  type CompiledCampaign,
  type CompiledPlacement,
  type EligibilityInput,
  type IneligibilityCode,
  type PlacementEntry,
} from "../../src/domain/catalog-snapshot.js";
import type { PageContextInput } from "../../src/domain/context.js";
import { entityChanges } from "../../src/domain/catalog-diff.js";
import {
  aCampaign,
  aCatalog,
  anAdvertiser,
  aPlacement,
  aUnit,
  compiledCampaign,
  compiledPlacement,
  fixtureCatalog,
  leaf,
  NOW_MS,
  pageContext,
  snapshotOf,
} from "../helpers/builders.js";
import { mostlyKeyedLeafArb, pageInputArb, referenceMatches, treeArb } from "./arbitraries.js";

const ids = (entries: readonly PlacementEntry[]): string[] => entries.map((e) => e.campaign.id);

describe("compileCatalog", () => {
  it("keeps the version and every entity by id", () => {
    const doc = fixtureCatalog();
    const snapshot = compileCatalog(doc, 7);
    expect(snapshot.version).toBe(7);
    expect([...snapshot.advertisers.keys()]).toEqual(doc.advertisers.map((a) => a.id));
    expect([...snapshot.placements.keys()]).toEqual(doc.placements.map((p) => p.id));
    expect([...snapshot.campaigns.keys()]).toEqual(doc.campaigns.map((c) => c.id));
    for (const u of doc.units) expect(findUnit(snapshot, u.campaignId, u.id)).toBe(u);
  });

  it("finds a unit only under its own campaign", () => {
    const doc = fixtureCatalog();
    const snapshot = compileCatalog(doc, 1);
    const unit = doc.units[0] as Unit;
    const other = doc.campaigns.find((c) => c.id !== unit.campaignId) as Campaign;
    expect(findUnit(snapshot, unit.campaignId, unit.id)).toBe(unit);
    expect(findUnit(snapshot, other.id, unit.id)).toBeUndefined();
    expect(findUnit(snapshot, "no-such-campaign", unit.id)).toBeUndefined();
    expect(findUnit(snapshot, unit.campaignId, "no-such-unit")).toBeUndefined();
  });

  it("compiles a campaign's advertiser, labels, tier, flight, caps and units", () => {
    const snapshot = snapshotOf({
      advertisers: [anAdvertiser({ id: "acme", name: "Acme Inc.", competitiveLabels: ["Retail", "retail ", "Grocery"] })],
      placements: [aPlacement()],
      campaigns: [
        aCampaign({
          tier: "sponsorship",
          weight: 4,
          startAt: "2026-11-01T00:00:00Z",
          endAt: "2026-12-01T00:00:00Z",
          exclusions: { topics: ["War"], keywords: ["Boko Haram"] },
          frequencyCaps: [{ limit: 3, window: "1d" }],
        }),
      ],
      units: [aUnit({ id: "u1" }), aUnit({ id: "u2", format: "native-inline" }), aUnit({ id: "other", campaignId: "else" })],
    });
    const c = compiledCampaign(snapshot, "acme-spring");
    expect(c.advertiserName).toBe("Acme Inc.");
    expect(c.labels).toEqual(["retail", "grocery"]);
    expect(c.tierRank).toBe(0);
    expect(c.weight).toBe(4);
    expect(c.active).toBe(true);
    expect(c.startMs).toBe(Date.parse("2026-11-01T00:00:00Z"));
    expect(c.endMs).toBe(Date.parse("2026-12-01T00:00:00Z"));
    expect([...c.excludedTopics]).toEqual(["war"]);
    expect([...c.excludedKeywords]).toEqual(["boko haram"]);
    expect(c.caps).toEqual([{ limit: 3, windowSeconds: 86_400, label: "1d" }]);
    expect(c.units.map((u) => u.id)).toEqual(["u1", "u2"]);
  });

  it("indexes a campaign as itself where all its units fit, and as an entry of the fitting units elsewhere", () => {
    const snapshot = snapshotOf({
      placements: [aPlacement({ id: "cards", formats: ["native-card"] }), aPlacement({ id: "both", formats: ["native-card", "native-inline"] })],
      campaigns: [aCampaign({ placements: ["cards", "both"] })],
      units: [aUnit({ id: "u1" }), aUnit({ id: "u2", format: "native-inline" })],
    });
    const c = compiledCampaign(snapshot, "acme-spring");
    expect(c.campaign).toBe(c);
    const [inBoth] = openEntries(snapshot.placements.get("both") as CompiledPlacement);
    expect(inBoth).toBe(c);
    const [inCards] = openEntries(snapshot.placements.get("cards") as CompiledPlacement);
    expect(inCards).not.toBe(c);
    expect(inCards?.campaign).toBe(c);
    expect(inCards?.units.map((u) => u.id)).toEqual(["u1"]);
  });

  it("gives an unbounded flight infinite bounds", () => {
    const c = compiledCampaign(snapshotOf({ campaigns: [aCampaign()] }), "acme-spring");
    expect(c.startMs).toBe(-Infinity);
    expect(c.endMs).toBe(Infinity);
  });

  it("names the advertiser by id and gives no labels when the advertiser is missing", () => {
    const c = compiledCampaign(snapshotOf({ campaigns: [aCampaign({ advertiserId: "ghost" })] }), "acme-spring");
    expect(c.advertiserName).toBe("ghost");
    expect(c.labels).toEqual([]);
  });
});

describe("the placement index", () => {
  const economy = leaf("section", "in", ["Economy"]);
  const snapshot = snapshotOf({
    advertisers: [anAdvertiser()],
    placements: [aPlacement({ id: "mid", formats: ["native-card"] }), aPlacement({ id: "end", formats: ["native-card", "native-inline"], maxUnits: 3 })],
    campaigns: [
      aCampaign({ id: "open", placements: ["mid", "end"] }),
      aCampaign({ id: "by-section", placements: ["mid"], targeting: economy }),
      aCampaign({ id: "by-section-or-topic", placements: ["mid"], targeting: { any: [economy, leaf("topics", "in", ["trade", "tariffs"])] } }),
      aCampaign({ id: "not-in", placements: ["mid"], targeting: leaf("section", "notIn", ["sport"]) }),
      aCampaign({ id: "by-keyword", placements: ["mid"], targeting: { all: [leaf("keywords", "in", ["Ukraine"]), leaf("geo.country", "in", ["US"])] } }),
      aCampaign({ id: "paused", status: "paused", placements: ["mid"] }),
      aCampaign({ id: "archived", status: "archived", placements: ["mid"] }),
      aCampaign({ id: "inline-only", placements: ["mid", "end"] }),
      aCampaign({ id: "no-units", placements: ["mid"] }),
      aCampaign({ id: "end-only", placements: ["end"] }),
    ],
    units: [
      aUnit({ id: "open-card", campaignId: "open" }),
      aUnit({ id: "open-inline", campaignId: "open", format: "native-inline" }),
      aUnit({ id: "s-card", campaignId: "by-section" }),
      aUnit({ id: "st-card", campaignId: "by-section-or-topic" }),
      aUnit({ id: "n-card", campaignId: "not-in" }),
      aUnit({ id: "k-card", campaignId: "by-keyword" }),
      aUnit({ id: "p-card", campaignId: "paused" }),
      aUnit({ id: "a-card", campaignId: "archived" }),
      aUnit({ id: "i-inline", campaignId: "inline-only", format: "native-inline" }),
      aUnit({ id: "e-card", campaignId: "end-only" }),
    ],
  });
  const mid = compiledPlacement(snapshot, "mid");
  const end = compiledPlacement(snapshot, "end");

  it("puts campaigns whose targeting needs no index key in open", () => {
    expect(ids(openEntries(mid))).toEqual(["open", "not-in"]);
  });

  it("buckets keyed campaigns under every key their targeting requires", () => {
    expect([...keyedEntries(mid).keys()].sort()).toEqual(["k:ukraine", "s:economy", "t:tariffs", "t:trade"]);
    expect(ids(keyedEntries(mid).get("s:economy") ?? [])).toEqual(["by-section", "by-section-or-topic"]);
    expect(ids(keyedEntries(mid).get("t:trade") ?? [])).toEqual(["by-section-or-topic"]);
  });

  it("does not index paused or archived campaigns", () => {
    const indexed = [...openEntries(mid), ...[...keyedEntries(mid).values()].flat()].map((e) => e.campaign.id);
    expect(indexed).not.toContain("paused");
    expect(indexed).not.toContain("archived");
  });

  it("does not index campaigns without a unit of a format the placement accepts, but counts them as active", () => {
    const indexed = [...openEntries(mid), ...[...keyedEntries(mid).values()].flat()].map((e) => e.campaign.id);
    expect(indexed).not.toContain("inline-only");
    expect(indexed).not.toContain("no-units");
    // open, by-section, by-section-or-topic, not-in, by-keyword, inline-only, no-units
    expect(mid.activeCampaignCount).toBe(7);
  });

  it("indexes a campaign only on the placements it lists", () => {
    expect(ids(openEntries(end))).toEqual(["open", "inline-only", "end-only"]);
    expect(keyedEntries(end).size).toBe(0);
    expect(end.activeCampaignCount).toBe(3);
  });

  it("keeps only the units of accepted formats in each entry", () => {
    expect(openEntries(mid)[0]?.units.map((u) => u.id)).toEqual(["open-card"]);
    expect(openEntries(end)[0]?.units.map((u) => u.id)).toEqual(["open-card", "open-inline"]);
  });

  it("returns only open campaigns for a page without index keys", () => {
    expect(ids(candidateEntries(mid, pageContext({ language: "en" })))).toEqual(["open", "not-in"]);
  });

  it("returns open campaigns plus the buckets of the page's keys", () => {
    expect(ids(candidateEntries(mid, pageContext({ section: "ECONOMY" })))).toEqual(["open", "not-in", "by-section", "by-section-or-topic"]);
    expect(ids(candidateEntries(mid, pageContext({ keywords: ["ukraine"] })))).toEqual(["open", "not-in", "by-keyword"]);
  });

  it("returns each campaign once when several of the page's keys lead to it", () => {
    const entries = candidateEntries(mid, pageContext({ section: "economy", topics: ["trade", "tariffs"], keywords: ["ukraine"] }));
    expect(ids(entries)).toEqual(["open", "not-in", "by-section", "by-section-or-topic", "by-keyword"]);
  });

  it("answers the same for the same page on repeated calls", () => {
    const ctx = pageContext({ section: "economy", topics: ["trade"] });
    const first = ids(candidateEntries(mid, ctx));
    expect(ids(candidateEntries(mid, ctx))).toEqual(first);
    expect(ids(candidateEntries(end, ctx))).toEqual(["open", "inline-only", "end-only"]);
    expect(ids(candidateEntries(mid, ctx))).toEqual(first);
  });

  it("returns every active, fitting campaign whose targeting matches, each once, and nothing else", () => {
    const campaignArb = fc.record({
      status: fc.constantFrom("active", "active", "paused", "archived"),
      placements: fc.subarray(["p1", "p2"], { minLength: 1 }),
      targeting: fc.option(fc.oneof(treeArb(2), treeArb(2, mostlyKeyedLeafArb)), { nil: undefined }),
      formats: fc.subarray(["native-card", "native-inline"] as const),
    });
    fc.assert(
      fc.property(fc.array(campaignArb, { maxLength: 12 }), pageInputArb, (specs, input) => {
        const campaigns: Campaign[] = specs.map((s, i) => aCampaign({ id: `c${i}`, status: s.status, placements: s.placements, targeting: s.targeting }));
        const units: Unit[] = specs.flatMap((s, i) => s.formats.map((format) => aUnit({ id: `u${i}-${format}`, campaignId: `c${i}`, format })));
        const snap = snapshotOf({
          advertisers: [anAdvertiser()],
          placements: [aPlacement({ id: "p1", formats: ["native-card"] }), aPlacement({ id: "p2", formats: ["native-inline"] })],
          campaigns,
          units,
        });
        const ctx = pageContext(input);
        for (const [pid, format] of [["p1", "native-card"], ["p2", "native-inline"]] as const) {
          const got = ids(candidateEntries(compiledPlacement(snap, pid), ctx));
          expect(new Set(got).size).toBe(got.length);
          const possible = specs.flatMap((s, i) => (s.status === "active" && s.placements.includes(pid) && s.formats.includes(format) ? [`c${i}`] : []));
          const matching = possible.filter((id) => referenceMatches(specs[Number(id.slice(1))]?.targeting, input, NOW_MS));
          for (const id of got) expect(possible).toContain(id);
          for (const id of matching) expect(got).toContain(id);
        }
      }),
      { seed: 1234, numRuns: 300 },
    );
  });
});

describe("ineligibility", () => {
  const placement = aPlacement({ id: "mid", formats: ["native-card"] });
  const other = aPlacement({ id: "end", formats: ["native-inline"] });
  const page: PageContextInput = { url: "https://news.example/economy/a", section: "economy", topics: ["Trade", "War"], keywords: ["Tariffs"] };

  function check(campaign: Partial<Campaign>, options: { units?: Unit[]; placementId?: string; hasUserKey?: boolean; nowMs?: number; all?: boolean; first?: boolean; pacing?: EligibilityInput["pacing"] } = {}) {
    const c = aCampaign({ id: "c", placements: ["mid"], ...campaign });
    const snapshot = snapshotOf({
      advertisers: [anAdvertiser()],
      placements: [placement, other],
      campaigns: [c],
      units: options.units ?? [aUnit({ id: "u", campaignId: "c" })],
    });
    const compiled: CompiledCampaign = compiledCampaign(snapshot, "c");
    const nowMs = options.nowMs ?? NOW_MS;
    const input: EligibilityInput = {
      ctx: pageContext(page, nowMs),
      nowMs,
      hasUserKey: options.hasUserKey ?? true,
      placement: compiledPlacement(snapshot, options.placementId ?? "mid"),
      ...(options.pacing ? { pacing: options.pacing } : {}),
    };
    return options.first ? [firstIneligibility(compiled, input)].filter((c) => c !== undefined).map((code) => ({ code })) : ineligibility(compiled, input, options.all ?? true);
  }
  const codes = (reasons: readonly { code: string }[]): string[] => reasons.map((r) => r.code);

  it("finds no reason for an eligible campaign", () => {
    expect(check({})).toEqual([]);
  });

  it("reports INACTIVE with the status for a paused or archived campaign", () => {
    expect(check({ status: "paused" })).toEqual([{ code: "INACTIVE", detail: "paused" }]);
    expect(check({ status: "archived" })).toEqual([{ code: "INACTIVE", detail: "archived" }]);
  });

  it("reports OUT_OF_FLIGHT with the bounds before the start and after the end", () => {
    const flight = { startAt: "2026-12-01T00:00:00Z", endAt: "2026-12-31T00:00:00Z" };
    expect(check(flight)).toEqual([{ code: "OUT_OF_FLIGHT", detail: flight }]);
    expect(check({ endAt: "2026-11-27T11:59:59Z" })).toEqual([{ code: "OUT_OF_FLIGHT", detail: { startAt: null, endAt: "2026-11-27T11:59:59Z" } }]);
  });

  it("treats both flight bounds as inclusive", () => {
    expect(check({ startAt: "2026-11-27T12:00:00Z" })).toEqual([]);
    expect(check({ endAt: "2026-11-27T12:00:00Z" })).toEqual([]);
    expect(codes(check({ endAt: "2026-11-27T12:00:00Z" }, { nowMs: NOW_MS + 1 }))).toEqual(["OUT_OF_FLIGHT"]);
    expect(codes(check({ startAt: "2026-11-27T12:00:00Z" }, { nowMs: NOW_MS - 1 }))).toEqual(["OUT_OF_FLIGHT"]);
  });

  it("keeps flight bounds to the millisecond, before 1970 and after 2038 too", () => {
    const startAt = "2026-11-27T11:59:59.250Z";
    const endAt = "2026-11-27T12:00:00.750Z";
    expect(check({ startAt, endAt }, { nowMs: Date.parse(startAt) })).toEqual([]);
    expect(codes(check({ startAt, endAt }, { nowMs: Date.parse(startAt) - 1 }))).toEqual(["OUT_OF_FLIGHT"]);
    expect(check({ startAt, endAt }, { nowMs: Date.parse(endAt) })).toEqual([]);
    expect(codes(check({ startAt, endAt }, { nowMs: Date.parse(endAt) + 1 }))).toEqual(["OUT_OF_FLIGHT"]);
    for (const at of ["1969-12-31T23:59:59.999Z", "1901-01-01T00:00:00.001Z", "2038-01-19T03:14:08.500Z", "2099-12-31T23:59:59.999Z"]) {
      const c = compiledCampaign(snapshotOf({ campaigns: [aCampaign({ startAt: at, endAt: at })] }), "acme-spring");
      expect([c.startMs, c.endMs]).toEqual([Date.parse(at), Date.parse(at)]);
    }
  });

  it("reports PLACEMENT_MISMATCH with the placement a campaign does not list", () => {
    expect(check({ placements: ["end"] }, { units: [aUnit({ id: "u", campaignId: "c" })] })).toEqual([{ code: "PLACEMENT_MISMATCH", detail: "mid" }]);
  });

  it("reports FORMAT_MISMATCH with the accepted and available formats", () => {
    expect(check({}, { units: [aUnit({ id: "u", campaignId: "c", format: "native-inline" })] })).toEqual([
      { code: "FORMAT_MISMATCH", detail: { accepted: ["native-card"], available: ["native-inline"] } },
    ]);
    expect(check({}, { units: [] })).toEqual([{ code: "FORMAT_MISMATCH", detail: { accepted: ["native-card"], available: [] } }]);
  });

  it("reports TARGETING_MISMATCH with the failing node when collecting every reason", () => {
    const failing = leaf("geo.country", "in", ["RU"]);
    expect(check({ targeting: { all: [leaf("section", "in", ["economy"]), failing] } })).toEqual([{ code: "TARGETING_MISMATCH", detail: failing }]);
  });

  it("reports TARGETING_MISMATCH without computing the failing node on the decision path", () => {
    expect(check({ targeting: leaf("section", "in", ["sport"]) }, { all: false })).toEqual([{ code: "TARGETING_MISMATCH", detail: undefined }]);
  });

  it("reports EXCLUDED_TOPIC with the page's topic, case-insensitively", () => {
    expect(check({ exclusions: { topics: [" WAR "] } })).toEqual([{ code: "EXCLUDED_TOPIC", detail: "war" }]);
  });

  it("reports EXCLUDED_KEYWORD with the page's keyword, case-insensitively", () => {
    expect(check({ exclusions: { keywords: ["tariffs"] } })).toEqual([{ code: "EXCLUDED_KEYWORD", detail: "tariffs" }]);
  });

  it("does not exclude on a topic listed only as an excluded keyword", () => {
    expect(check({ exclusions: { keywords: ["war"] } })).toEqual([]);
  });

  it("reports NO_USER_KEY for a capped campaign without a user key", () => {
    expect(check({ frequencyCaps: [{ limit: 3, window: "1d" }] }, { hasUserKey: false })).toEqual([{ code: "NO_USER_KEY" }]);
  });

  it("lets a capped campaign through with a user key and an uncapped one without", () => {
    expect(check({ frequencyCaps: [{ limit: 3, window: "1d" }] }, { hasUserKey: true })).toEqual([]);
    expect(check({}, { hasUserKey: false })).toEqual([]);
  });

  it("adds the pacing verdict last, for a campaign with a goal", () => {
    const pacing: EligibilityInput["pacing"] = (c, nowMs) => (c.id === "c" && nowMs === NOW_MS ? { code: "PACING_AHEAD", detail: 0.5 } : undefined);
    const goal = { impressions: 1000, pacing: "even" as const };
    expect(check({ goal }, { pacing })).toEqual([{ code: "PACING_AHEAD", detail: 0.5 }]);
    expect(codes(check({ goal, status: "paused" }, { pacing }))).toEqual(["INACTIVE", "PACING_AHEAD"]);
    expect(codes(check({ goal }, { pacing, first: true }))).toEqual(["PACING_AHEAD"]);
  });

  it("does not ask pacing about a campaign without a goal", () => {
    let asked = 0;
    const pacing: EligibilityInput["pacing"] = () => (asked++, { code: "PACING_AHEAD", detail: 0.5 });
    expect(check({}, { pacing })).toEqual([]);
    expect(check({}, { pacing, first: true })).toEqual([]);
    expect(asked).toBe(0);
  });

  const everything: Partial<Campaign> = {
    status: "paused",
    startAt: "2027-01-01T00:00:00Z",
    placements: ["end"],
    exclusions: { topics: ["war"], keywords: ["tariffs"] },
    targeting: leaf("section", "in", ["sport"]),
    frequencyCaps: [{ limit: 1, window: "1h" }],
  };
  const failingEverything = { units: [aUnit({ id: "u", campaignId: "c", format: "native-inline" })], hasUserKey: false };

  it("collects every reason in order when asked for all", () => {
    expect(codes(check(everything, failingEverything))).toEqual<IneligibilityCode[]>([
      "INACTIVE",
      "OUT_OF_FLIGHT",
      "PLACEMENT_MISMATCH",
      "FORMAT_MISMATCH",
      "EXCLUDED_TOPIC",
      "EXCLUDED_KEYWORD",
      "TARGETING_MISMATCH",
      "NO_USER_KEY",
    ]);
  });

  it("stops at the first reason when not asked for all", () => {
    expect(codes(check(everything, { ...failingEverything, all: false }))).toEqual(["INACTIVE"]);
    expect(codes(check({ ...everything, status: "active" }, { ...failingEverything, all: false }))).toEqual(["OUT_OF_FLIGHT"]);
    expect(codes(check({ ...everything, status: "active", startAt: undefined }, { ...failingEverything, all: false }))).toEqual(["PLACEMENT_MISMATCH"]);
    expect(codes(check({ exclusions: { topics: ["trade", "war"] }, targeting: leaf("section", "in", ["sport"]) }, { all: false }))).toEqual(["EXCLUDED_TOPIC"]);
  });

  it("is empty on the decision path exactly when it is empty with every reason, and firstIneligibility names the same first reason", () => {
    const specArb = fc.record({
      status: fc.constantFrom("active", "paused"),
      startAt: fc.constantFrom(undefined, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
      placements: fc.constantFrom<string[]>(["mid"], ["end"], ["mid", "end"]),
      targeting: fc.option(treeArb(2), { nil: undefined }),
      topics: fc.subarray(["war", "trade", "sport"]),
      capped: fc.boolean(),
      hasUserKey: fc.boolean(),
      format: fc.constantFrom("native-card" as const, "native-inline" as const),
    });
    fc.assert(
      fc.property(specArb, (s) => {
        const campaign: Partial<Campaign> = {
          status: s.status,
          startAt: s.startAt,
          placements: s.placements,
          targeting: s.targeting,
          exclusions: { topics: s.topics },
          ...(s.capped ? { frequencyCaps: [{ limit: 1, window: "1d" as const }] } : {}),
        };
        const units = [aUnit({ id: "u", campaignId: "c", format: s.format })];
        const all = check(campaign, { units, hasUserKey: s.hasUserKey, all: true });
        const first = check(campaign, { units, hasUserKey: s.hasUserKey, all: false });
        expect(first.length === 0).toBe(all.length === 0);
        expect(first.length).toBeLessThanOrEqual(1);
        if (first[0]) expect(first[0].code).toBe(all[0]?.code);
        const fast = check(campaign, { units, hasUserKey: s.hasUserKey, first: true });
        expect(fast.map((r) => r.code)).toEqual(first.map((r) => r.code));
      }),
      { seed: 1234, numRuns: 300 },
    );
  });

  it("judges the fixture pages as the fixture README describes", () => {
    const snapshot = compileCatalog(fixtureCatalog(), 1);
    const mid = compiledPlacement(snapshot, "article-mid");
    const judge = (id: string, p: PageContextInput): string[] =>
      codes(ineligibility(compiledCampaign(snapshot, id), { ctx: pageContext(p), nowMs: NOW_MS, hasUserKey: true, placement: mid }, true));
    const ukraine = { url: "https://news.example/world/ukraine", section: "geopolitics", topics: ["military-conflict"], language: "en" };
    const nigeria = { url: "https://news.example/world/nigeria", section: "geopolitics", topics: ["terrorism"], keywords: ["boko haram"], language: "en" };
    const canada = { url: "https://news.example/politics/carney", section: "politics", topics: ["trade"], language: "en" };
    expect(judge("walmart-us-manufacturing", ukraine)).toEqual(["EXCLUDED_TOPIC", "TARGETING_MISMATCH"]);
    expect(judge("microsoft-quantum", ukraine)).toEqual([]);
    expect(judge("walmart-us-manufacturing", nigeria)).toEqual(["EXCLUDED_TOPIC", "EXCLUDED_KEYWORD", "TARGETING_MISMATCH"]);
    expect(judge("microsoft-quantum", nigeria)).toEqual(["EXCLUDED_TOPIC"]);
    expect(judge("walmart-us-manufacturing", canada)).toEqual([]);
    expect(judge("newsroom-daily", nigeria)).toEqual([]);
  });
});

describe("compileCatalogInSlices", () => {
  it("builds the same snapshot as compileCatalog while letting other work run between slices", async () => {
    const campaigns = Array.from({ length: 3000 }, (_, i) =>
      aCampaign({ id: `c${String(i).padStart(5, "0")}`, weight: 1 + (i % 5), tier: i % 3 === 0 ? "sponsorship" : "standard", targeting: leaf("topics", "in", [`t${i % 40}`]) }),
    );
    const doc = { advertisers: [anAdvertiser()], placements: [aPlacement()], campaigns, units: campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id })) };
    const document = aCatalog(doc);
    const whole = compileCatalog(document, 1);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const sliced = await compileCatalogInSlices(document, 1, undefined, { sliceMs: 0 });
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(0);
    const shape = (snap: typeof whole) =>
      [...snap.placements.values()].map((p) => ({
        active: p.activeCampaignCount,
        tiers: p.tiers.map((t) => ({ open: ids(t.open.entries), keys: [...t.byKey].map(([k, l]) => [k, ids(l.entries), [...l.cumulative]]) })),
      }));
    expect(shape(sliced)).toEqual(shape(whole));
    expect([...sliced.campaigns.keys()]).toEqual([...whole.campaigns.keys()]);
  });
});

describe("compileCatalog with a previous snapshot", () => {
  const placements = [aPlacement({ id: "mid", formats: ["native-card"] }), aPlacement({ id: "end", formats: ["native-card", "native-inline"], maxUnits: 3 })];
  const advertisers = [anAdvertiser({ id: "a0" }), anAdvertiser({ id: "a1", competitiveLabels: ["x"] })];
  const targetingArb = fc.constantFrom(
    undefined,
    leaf("topics", "in", ["t0", "t1"]),
    leaf("section", "in", ["s0"]),
    { all: [leaf("section", "in", ["s1", "s0"]), leaf("topics", "in", ["t2"])] },
    leaf("device.type", "in", ["mobile"]),
  );
  const specArb = fc.record({
    tier: fc.constantFrom("sponsorship" as const, "standard" as const, "house" as const),
    weight: fc.integer({ min: 1, max: 9 }),
    status: fc.constantFrom("active" as const, "active" as const, "paused" as const),
    placements: fc.constantFrom(["mid"], ["end"], ["mid", "end"]),
    targeting: targetingArb,
    advertiserId: fc.constantFrom("a0", "a1"),
    format: fc.constantFrom("native-card" as const, "native-inline" as const),
  });
  type Spec = typeof specArb extends fc.Arbitrary<infer T> ? T : never;
  const campaignOf = (id: string, s: Spec): Campaign =>
    aCampaign({ id, advertiserId: s.advertiserId, tier: s.tier, weight: s.weight, status: s.status, placements: [...s.placements], ...(s.targeting ? { targeting: s.targeting } : {}) });
  const unitOf = (id: string, s: Spec): Unit => aUnit({ id: `u-${id}`, campaignId: id, format: s.format });
  const changeArb = fc.oneof(
    fc.record({ type: fc.constant("update" as const), index: fc.nat(29), spec: specArb }),
    fc.record({ type: fc.constant("unit" as const), index: fc.nat(29), spec: specArb }),
    fc.record({ type: fc.constant("remove" as const), index: fc.nat(29) }),
    fc.record({ type: fc.constant("add" as const), index: fc.nat(29), spec: specArb }),
    fc.record({ type: fc.constant("advertiser" as const) }),
  );
  const shape = (snap: ReturnType<typeof compileCatalog>) =>
    [...snap.placements.values()].map((p) => ({
      active: p.activeCampaignCount,
      tiers: p.tiers.map((t) => ({
        open: [ids(t.open.entries), [...t.open.cumulative]],
        keys: [...t.byKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, l]) => [k, ids(l.entries), [...l.cumulative], l.entries.map((e) => e.units.map((u) => u.id))]),
      })),
    }));

  it("lists only entries whose decision-path eligibility (entryIneligibility) is their campaign's firstIneligibility, whatever the page, time and changes", () => {
    const flights = [{}, { startAt: "2026-12-01T00:00:00Z" }, { endAt: "2026-01-01T00:00:00Z" }] as const;
    const pages: Partial<PageContextInput>[] = [
      { section: "s0", topics: ["t0"] },
      { section: "s1", topics: ["t2", "t1"], deviceType: "mobile" },
      { topics: ["t3"], keywords: ["k"] },
      {},
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(specArb, fc.constantFrom(...flights), fc.boolean()), { minLength: 30, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(29), specArb), { maxLength: 3 }),
        fc.boolean(),
        (specs, updates, hasUserKey) => {
          const campaignFor = (i: number, [s, flight, withGoal]: (typeof specs)[number]): Campaign => ({
            ...campaignOf(`c${String(i).padStart(2, "0")}`, s),
            ...flight,
            ...(withGoal ? { goal: { impressions: 10, pacing: "even" as const } } : {}),
            ...(i % 3 === 0 ? { frequencyCaps: [{ limit: 1, window: "1d" as const }] } : {}),
          });
          const campaigns = specs.map((spec, i) => campaignFor(i, spec));
          const units = specs.map(([s], i) => unitOf(`c${String(i).padStart(2, "0")}`, s));
          const doc1 = aCatalog({ advertisers, placements, campaigns, units });
          const first = compileCatalog(doc1, 1);
          const nextCampaigns = [...campaigns];
          const nextUnits = [...units];
          for (const [index, s] of updates) {
            nextCampaigns[index] = campaignFor(index, [s, flights[index % flights.length] as (typeof flights)[number], index % 2 === 0]);
            nextUnits[index] = unitOf(nextCampaigns[index].id, s);
          }
          const doc2 = aCatalog({ advertisers, placements, campaigns: nextCampaigns, units: nextUnits });
          const patched = compileCatalog(doc2, 2, first, entityChanges(doc1, doc2));
          const pacing: EligibilityInput["pacing"] = (c) => (c.id.endsWith("1") ? { code: "PACING_AHEAD" } : undefined);
          for (const snapshot of [first, patched]) {
            for (const placement of snapshot.placements.values()) {
              const entries = [...openEntries(placement), ...[...keyedEntries(placement).values()].flat()];
              for (const entry of entries) {
                for (const page of pages) {
                  const input: EligibilityInput = { ctx: pageContext(page), nowMs: NOW_MS, hasUserKey, placement, pacing };
                  expect(entryIneligibility(entry, input)).toBe(firstIneligibility(entry.campaign, input));
                }
              }
            }
          }
        },
      ),
      { seed: 20261128, numRuns: 200 },
    );
  });

  it("patches the indexes of a few changed campaigns into the same index a full compile builds, with or without the changes given", () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 30, maxLength: 30 }), fc.array(changeArb, { minLength: 1, maxLength: 3 }), (specs, changes) => {
        const campaigns = specs.map((s, i) => campaignOf(`c${String(i).padStart(2, "0")}`, s));
        const units = specs.map((s, i) => unitOf(`c${String(i).padStart(2, "0")}`, s));
        const doc1 = aCatalog({ advertisers, placements, campaigns, units });
        const first = compileCatalog(doc1, 1);
        let nextCampaigns = [...campaigns];
        let nextUnits = [...units];
        let nextAdvertisers = [...advertisers];
        for (const change of changes) {
          const target = nextCampaigns["index" in change ? change.index : 0];
          if (change.type === "advertiser") nextAdvertisers = [nextAdvertisers[0] as Advertiser, anAdvertiser({ id: "a1", competitiveLabels: ["y"] })];
          else if (!target) continue;
          else if (change.type === "update") nextCampaigns = nextCampaigns.map((c) => (c === target ? campaignOf(c.id, change.spec) : c));
          else if (change.type === "unit") nextUnits = nextUnits.map((u) => (u.campaignId === target.id ? unitOf(target.id, change.spec) : u));
          else if (change.type === "remove") {
            nextCampaigns = nextCampaigns.filter((c) => c !== target);
            nextUnits = nextUnits.filter((u) => u.campaignId !== target.id);
          } else if (!nextCampaigns.some((c) => c.id === `${target.id}x`)) {
            nextCampaigns = [...nextCampaigns, campaignOf(`${target.id}x`, change.spec)].sort((a, b) => (a.id < b.id ? -1 : 1));
            nextUnits = [...nextUnits, unitOf(`${target.id}x`, change.spec)];
          }
        }
        const doc2 = aCatalog({ advertisers: nextAdvertisers, placements, campaigns: nextCampaigns, units: nextUnits });
        const patched = compileCatalog(doc2, 2, first);
        const scratch = compileCatalog(doc2, 2);
        expect(shape(patched)).toEqual(shape(scratch));
        // Given the changes themselves (as an instance applying a version's records is).
        const viaChanges = compileCatalog(doc2, 2, first, entityChanges(doc1, doc2));
        expect(shape(viaChanges)).toEqual(shape(scratch));
        expect([...viaChanges.campaigns.keys()]).toEqual([...scratch.campaigns.keys()]);
        expect([...viaChanges.advertisers.values()]).toEqual([...scratch.advertisers.values()]);
        expect([...viaChanges.goalCampaignIds].sort()).toEqual([...scratch.goalCampaignIds].sort());
        const compiled = (snap: ReturnType<typeof compileCatalog>) => [...snap.campaigns].map(([id, c]) => [id, c.labels, c.advertiserName, c.units.map((u) => u.id), c.weight, c.active]);
        expect(compiled(viaChanges)).toEqual(compiled(scratch));
        expect(compiled(patched)).toEqual(compiled(scratch));
        for (const [id, c] of viaChanges.campaigns) expect(c.source).toBe(scratch.campaigns.get(id)?.source);
        // Untouched campaigns keep their compiled form.
        for (const c of nextCampaigns) if (campaigns.includes(c) && nextAdvertisers.includes(advertisers.find((a) => a.id === c.advertiserId) as Advertiser) && nextUnits.includes(units.find((u) => u.campaignId === c.id) as Unit)) expect(patched.campaigns.get(c.id)).toBe(first.campaigns.get(c.id));
      }),
      { seed: 20261127, numRuns: 300 },
    );
  });

  it("keeps the ids of the active campaigns with a goal, through edits and removals applied as changes", () => {
    const goal = { impressions: 1000, pacing: "even" as const };
    const campaigns = [aCampaign({ id: "g1", goal }), aCampaign({ id: "g2", goal, status: "paused" }), aCampaign({ id: "n3" })];
    const units = campaigns.map((c) => aUnit({ id: `u-${c.id}`, campaignId: c.id }));
    const doc1 = aCatalog({ advertisers, placements: [aPlacement()], campaigns, units });
    const first = compileCatalog(doc1, 1);
    expect(first.goalCampaignIds).toEqual(["g1"]);
    const doc2 = aCatalog({ ...doc1, campaigns: [aCampaign({ id: "g1", goal, status: "paused" }), campaigns[1] as Campaign, aCampaign({ id: "n3", goal })] });
    const second = compileCatalog(doc2, 2, first, entityChanges(doc1, doc2));
    expect(second.goalCampaignIds).toEqual(["n3"]);
    const doc3 = aCatalog({ ...doc2, campaigns: doc2.campaigns.filter((c) => c.id !== "n3"), units: units.filter((u) => u.campaignId !== "n3") });
    const third = compileCatalog(doc3, 3, second, entityChanges(doc2, doc3));
    expect(third.goalCampaignIds).toEqual([]);
    expect(compileCatalog(doc3, 3).goalCampaignIds).toEqual([]);
    expect([...compileCatalog(doc2, 2).goalCampaignIds]).toEqual(["n3"]);
  });

  it("applies a long series of single-campaign edits and removals as a full compile would, past the point where the campaigns map is copied again", () => {
    const specs = fc.sample(specArb, { numRuns: 1300, seed: 77 });
    const id = (i: number) => `c${String(i).padStart(4, "0")}`;
    let doc = aCatalog({ advertisers, placements, campaigns: specs.map((s, i) => campaignOf(id(i), s)), units: specs.map((s, i) => unitOf(id(i), s)) });
    let snapshot = compileCatalog(doc, 1);
    for (let step = 1; step <= 1200; step++) {
      // Each step edits or removes a campaign not touched before (1,200 distinct ids), with its unit.
      const cid = id((step * 7) % 1300);
      const spec = specs[(step * 13) % 1300] as Spec;
      const removed = step % 10 === 0;
      const campaign = doc.campaigns.find((c) => c.id === cid) as Campaign;
      const unit = doc.units.find((u) => u.campaignId === cid) as Unit;
      const [after, afterUnit] = removed ? [null, null] : [campaignOf(cid, { ...spec, weight: spec.weight + step }), unitOf(cid, spec)];
      const next = aCatalog({
        advertisers,
        placements,
        campaigns: after ? doc.campaigns.map((c) => (c === campaign ? after : c)) : doc.campaigns.filter((c) => c !== campaign),
        units: afterUnit ? doc.units.map((u) => (u === unit ? afterUnit : u)) : doc.units.filter((u) => u !== unit),
      });
      const changes = [
        { kind: "campaign" as const, id: cid, before: campaign, after },
        { kind: "unit" as const, id: unit.id, before: unit, after: afterUnit },
      ];
      snapshot = compileCatalog(next, step + 1, snapshot, changes);
      doc = next;
      if (step % 400 === 0) {
        const scratch = compileCatalog(doc, step + 1);
        expect(shape(snapshot)).toEqual(shape(scratch));
        expect([...snapshot.campaigns.keys()]).toEqual([...scratch.campaigns.keys()]);
        expect(snapshot.campaigns.size).toBe(scratch.campaigns.size);
        for (const [cid, c] of scratch.campaigns) expect(snapshot.campaigns.get(cid)?.source).toBe(c.source);
      }
    }
  });
});
