/**
 * Property tests of whole decisions: random catalogs and random sequences of decision requests run
 * through the real decision service on the in-process store, checked against a reference model
 * written from API.md (eligibility, separation, slot capacity, frequency caps).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CatalogDocumentSchema,
  FORMATS,
  type Advertiser,
  type Campaign,
  type CapWindow,
  type CatalogDocument,
  type FrequencyCap,
  type Placement,
  type Unit,
} from "../../src/domain/catalog-schema.js";
import { compileCatalog } from "../../src/domain/catalog-snapshot.js";
import { documentProblems } from "../../src/domain/catalog-validation.js";
import { createTokenSigner } from "../../src/domain/tokens.js";
import { DecisionRequestSchema, type DecisionRequest } from "../../src/routes/decisions.schema.js";
import { createDecisionService, type DecisionResult, type RequestFacts } from "../../src/services/decision-service.js";
import { createKeys } from "../../src/store/keys.js";
import { createMemoryStores } from "../../src/store/memory/memory-stores.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { fakeClock, seededRandom, TRACKING_SECRET } from "../helpers/app.js";
import { aCampaign, anAdvertiser, aPlacement, aUnit, NOW_ISO } from "../helpers/builders.js";
import {
  KEYWORDS,
  leafArb,
  mostlyKeyedLeafArb,
  pageInputArb,
  referenceMatches,
  referenceNotExcluded,
  spelling,
  TOPICS,
  treeArb,
  type PageInput,
} from "./arbitraries.js";

const BASE_URL = "https://ads.test";
const DAY = 86_400_000;
const logger = createLogger("silent");
const norm = (s: string): string => s.trim().toLowerCase();

// ---------------------------------------------------------------------------------------------
// Random catalogs
// ---------------------------------------------------------------------------------------------

const LABELS = ["Bank", "bank ", "telco", "RETAIL", "retail"] as const;
const SPONSORS = ["Acme", "Bank & <Co>", "  "] as const;

const WINDOWS: CapWindow[] = ["1h", "1d", "7d", "30d", "lifetime", { seconds: 60 }, { seconds: 86_400 }];

type Flight = { startAt?: string; endAt?: string };
const iso = (ms: number): string => new Date(ms).toISOString();
const NOW = Date.parse(NOW_ISO);
const FLIGHTS: Flight[] = [
  {},
  { startAt: iso(NOW - DAY), endAt: iso(NOW + DAY) },
  { startAt: iso(NOW - 10 * DAY), endAt: iso(NOW - DAY) },
  { startAt: iso(NOW + DAY), endAt: iso(NOW + 10 * DAY) },
  { startAt: NOW_ISO },
  { endAt: NOW_ISO },
  { startAt: iso(NOW - 30 * DAY) },
  { endAt: iso(NOW + 2 * DAY) },
];

const advertiserSpecArb = fc.record({
  name: fc.constantFrom(...SPONSORS),
  labels: fc.subarray([...LABELS], { maxLength: 2 }),
});

const placementSpecArb = fc.record({
  formats: fc.subarray([...FORMATS], { minLength: 1 }),
  maxUnits: fc.integer({ min: 1, max: 5 }),
});

const capArb: fc.Arbitrary<FrequencyCap> = fc.record({ limit: fc.integer({ min: 1, max: 3 }), window: fc.constantFrom(...WINDOWS) });

function wordsArb(words: readonly string[]): fc.Arbitrary<string[]> {
  return fc.subarray([...words], { maxLength: 2 }).chain((ws) => fc.tuple(...ws.map(spelling)));
}

/** `undefined` three times out of four. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

const campaignSpecArb = fc.record({
  advertiser: fc.nat(),
  status: fc.constantFrom("active", "active", "active", "active", "active", "paused", "archived"),
  tier: fc.constantFrom("sponsorship", "standard", "house"),
  weight: fc.integer({ min: 1, max: 10 }),
  flight: fc.oneof({ weight: 3, arbitrary: fc.constant<Flight>({}) }, { weight: 4, arbitrary: fc.constantFrom(...FLIGHTS) }),
  placements: fc.subarray([0, 1, 2], { minLength: 1 }),
  targeting: fc.option(fc.oneof(treeArb(1, mostlyKeyedLeafArb), treeArb(2, mostlyKeyedLeafArb), treeArb(2, leafArb)), { nil: undefined, freq: 2 }),
  excludedTopics: rarely(wordsArb(TOPICS)),
  excludedKeywords: rarely(wordsArb(KEYWORDS)),
  caps: fc.oneof(fc.constant<FrequencyCap[]>([]), fc.array(capArb, { minLength: 1, maxLength: 3 })),
  units: fc.oneof(
    { weight: 1, arbitrary: fc.constant<Unit["format"][]>([]) },
    { weight: 5, arbitrary: fc.array(fc.constantFrom(...FORMATS), { minLength: 1, maxLength: 3 }) },
  ),
});

const catalogArb: fc.Arbitrary<CatalogDocument> = fc
  .record({
    advertisers: fc.array(advertiserSpecArb, { minLength: 1, maxLength: 4 }),
    placements: fc.array(placementSpecArb, { minLength: 2, maxLength: 3 }),
    campaigns: fc.array(campaignSpecArb, { minLength: 1, maxLength: 12 }),
  })
  .map(({ advertisers, placements, campaigns }) => {
    const advs: Advertiser[] = advertisers.map((a, i) =>
      anAdvertiser({ id: `a${i}`, name: a.name.trim() === "" ? `Advertiser ${i}` : a.name, competitiveLabels: a.labels }),
    );
    const pls: Placement[] = placements.map((p, i) => aPlacement({ id: `p${i}`, formats: p.formats, maxUnits: p.maxUnits }));
    const units: Unit[] = [];
    const camps: Campaign[] = campaigns.map((c, i) => {
      const id = `c${i}`;
      c.units.forEach((format, j) =>
        units.push(aUnit({ id: `${id}-u${j}`, campaignId: id, format, headline: `Headline ${id} <${j}>`, disclosureLabel: j === 0 ? "Sponsored" : "Paid post" })),
      );
      const exclusions =
        c.excludedTopics || c.excludedKeywords
          ? { ...(c.excludedTopics ? { topics: c.excludedTopics } : {}), ...(c.excludedKeywords ? { keywords: c.excludedKeywords } : {}) }
          : undefined;
      return aCampaign({
        id,
        advertiserId: `a${c.advertiser % advs.length}`,
        name: `Campaign ${i}`,
        status: c.status,
        tier: c.tier,
        weight: c.weight,
        ...c.flight,
        placements: [...new Set(c.placements.map((p) => `p${p % pls.length}`))],
        ...(c.targeting ? { targeting: c.targeting } : {}),
        ...(exclusions ? { exclusions } : {}),
        ...(c.caps.length > 0 ? { frequencyCaps: c.caps } : {}),
      });
    });
    // Round-trip through the schema: the catalog is what the admin API would have stored.
    return CatalogDocumentSchema.parse({ advertisers: advs, placements: pls, campaigns: camps, units });
  });

// ---------------------------------------------------------------------------------------------
// Random requests
// ---------------------------------------------------------------------------------------------

const USER_AGENTS: Record<string, string> = {
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1": "mobile",
  "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1": "tablet",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36": "desktop",
};

interface Call {
  readonly body: DecisionRequest;
  readonly facts: RequestFacts;
  /** The page as the reference model sees it (country and device resolved from body or headers). */
  readonly page: PageInput;
  /** The user key the decision may use (none when absent or opted out). */
  readonly userKey: string | undefined;
  /** Milliseconds the clock moves before this call. */
  readonly advanceMs: number;
}

function callArb(advances: fc.Arbitrary<number>): fc.Arbitrary<Call> {
  return fc
    .record({
      page: pageInputArb,
      user: fc.constantFrom<string | undefined>("alice", "bob", undefined),
      optOut: fc.constantFrom(false, false, false, true),
      countryInBody: fc.boolean(),
      deviceInBody: fc.boolean(),
      userAgent: fc.option(fc.constantFrom(...Object.keys(USER_AGENTS)), { nil: undefined }),
      slots: fc.array(fc.record({ placement: fc.constantFrom("p0", "p0", "p1", "p1", "p2", "nowhere"), count: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 4 }),
      advanceMs: advances,
    })
    .map((r) => {
      const { country, deviceType, ...pageRest } = r.page;
      const trimmedCountry = country?.trim();
      const bodyCountry = r.countryInBody && trimmedCountry ? trimmedCountry : undefined;
      const headerCountry = bodyCountry === undefined ? country : undefined;
      const bodyDevice = r.deviceInBody && deviceType !== undefined && deviceType.trim() !== "" ? deviceType : undefined;
      const body = DecisionRequestSchema.parse({
        page: { url: pageRest.url, section: pageRest.section, topics: pageRest.topics, keywords: pageRest.keywords, language: pageRest.language },
        ...(r.user === undefined ? {} : { user: { key: r.user } }),
        slots: r.slots.map((s, i) => ({ id: `s${i}`, placement: s.placement, count: s.count })),
        ...(bodyCountry === undefined ? {} : { geo: { country: bodyCountry } }),
        ...(bodyDevice === undefined ? {} : { device: { type: bodyDevice } }),
      });
      const facts: RequestFacts = { optOut: r.optOut, country: headerCountry, userAgent: r.userAgent };
      const effectiveDevice = bodyDevice ?? (r.userAgent === undefined ? undefined : USER_AGENTS[r.userAgent]);
      const page: PageInput = { ...pageRest };
      const effectiveCountry = bodyCountry ?? headerCountry;
      if (effectiveCountry !== undefined) page.country = effectiveCountry;
      if (effectiveDevice !== undefined) page.deviceType = effectiveDevice;
      return { body, facts, page, userKey: r.optOut ? undefined : r.user, advanceMs: r.advanceMs };
    });
}

// ---------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------

const WINDOW_SECONDS: Record<string, number> = { "1h": 3600, "1d": 86_400, "7d": 604_800, "30d": 2_592_000, lifetime: 0 };
const seconds = (w: CapWindow): number => (typeof w === "string" ? (WINDOW_SECONDS[w] as number) : w.seconds);

/** The caps that bind: one per window length, the tightest limit of that length. */
function bindingCaps(c: Campaign): { windowSeconds: number; limit: number }[] {
  const byWindow = new Map<number, number>();
  for (const cap of c.frequencyCaps ?? []) {
    const s = seconds(cap.window);
    byWindow.set(s, Math.min(cap.limit, byWindow.get(s) ?? Infinity));
  }
  return [...byWindow].map(([windowSeconds, limit]) => ({ windowSeconds, limit }));
}

/** Fixed windows per user, campaign and window length, starting at the first counted serve. */
class CapModel {
  private readonly windows = new Map<string, { startMs: number; count: number }>();

  private key(user: string, campaignId: string, windowSeconds: number): string {
    return `${user}\u0000${campaignId}\u0000${windowSeconds}`;
  }

  count(user: string, campaignId: string, windowSeconds: number, nowMs: number): number {
    const w = this.windows.get(this.key(user, campaignId, windowSeconds));
    if (!w) return 0;
    const alive = windowSeconds === 0 || w.startMs + windowSeconds * 1000 > nowMs;
    return alive ? w.count : 0;
  }

  isCapped(user: string, c: Campaign, nowMs: number): boolean {
    return bindingCaps(c).some((cap) => this.count(user, c.id, cap.windowSeconds, nowMs) >= cap.limit);
  }

  /** Counts one serve; returns the caps it takes over their limit (should be none). */
  serve(user: string, c: Campaign, nowMs: number): string[] {
    const over: string[] = [];
    for (const cap of bindingCaps(c)) {
      const k = this.key(user, c.id, cap.windowSeconds);
      const current = this.count(user, c.id, cap.windowSeconds, nowMs);
      const next = current === 0 ? { startMs: nowMs, count: 1 } : { startMs: (this.windows.get(k) as { startMs: number }).startMs, count: current + 1 };
      this.windows.set(k, next);
      if (next.count > cap.limit) over.push(`${c.id} for ${user}: ${next.count} serves in a ${cap.windowSeconds}s window of limit ${cap.limit}`);
    }
    return over;
  }
}

function inFlight(c: Campaign, nowMs: number): boolean {
  return (c.startAt === undefined || nowMs >= Date.parse(c.startAt)) && (c.endAt === undefined || nowMs <= Date.parse(c.endAt));
}

/** Everything but caps and separation: could this campaign serve in this placement on this page? */
function referenceEligible(doc: CatalogDocument, c: Campaign, placement: Placement, page: PageInput, nowMs: number): boolean {
  return (
    c.status === "active" &&
    inFlight(c, nowMs) &&
    c.placements.includes(placement.id) &&
    doc.units.some((u) => u.campaignId === c.id && placement.formats.includes(u.format)) &&
    referenceMatches(c.targeting, page, nowMs) &&
    referenceNotExcluded(c.exclusions, page)
  );
}

function labelsOf(doc: CatalogDocument, advertiserId: string): Set<string> {
  return new Set((doc.advertisers.find((a) => a.id === advertiserId)?.competitiveLabels ?? []).map(norm));
}

/** Checks one decision against the model; updates the model with its serves. */
function checkDecision(doc: CatalogDocument, call: Call, result: DecisionResult, model: CapModel, nowMs: number): void {
  const campaigns = new Map(doc.campaigns.map((c) => [c.id, c]));
  const units = new Map(doc.units.map((u) => [u.id, u]));
  const placements = new Map(doc.placements.map((p) => [p.id, p]));
  const signer = createTokenSigner(TRACKING_SECRET);

  expect(result.slots.map((s) => [s.id, s.placement])).toEqual(call.body.slots.map((s) => [s.id, s.placement]));

  const served: Campaign[] = [];
  result.slots.forEach((slot, i) => {
    const request = call.body.slots[i] as DecisionRequest["slots"][number];
    const placement = placements.get(slot.placement);
    // Slot capacity and no-fill reasons.
    expect(slot.units.length === 0).toBe(slot.noFillReason !== undefined);
    if (!placement) {
      expect(slot.units).toEqual([]);
      expect(slot.noFillReason).toBe("UNKNOWN_PLACEMENT");
      return;
    }
    expect(slot.units.length).toBeLessThanOrEqual(Math.min(request.count, placement.maxUnits));
    if (!doc.campaigns.some((c) => c.status === "active" && c.placements.includes(placement.id))) expect(slot.noFillReason).toBe("NO_CAMPAIGNS");

    let previousTier = -1;
    for (const payload of slot.units) {
      const campaign = campaigns.get(payload.campaignId);
      const unit = units.get(payload.unitId);
      expect(campaign, `served campaign ${payload.campaignId} exists`).toBeDefined();
      expect(unit, `served unit ${payload.unitId} exists`).toBeDefined();
      if (!campaign || !unit) return;
      expect(unit.campaignId).toBe(campaign.id);
      expect(payload.advertiserId).toBe(campaign.advertiserId);
      expect(campaign.status, `${campaign.id} is active`).toBe("active");
      expect(inFlight(campaign, nowMs), `${campaign.id} is within its flight`).toBe(true);
      expect(campaign.placements, `${campaign.id} lists ${placement.id}`).toContain(placement.id);
      expect(placement.formats, `${placement.id} accepts ${unit.format}`).toContain(unit.format);
      expect(payload.format).toBe(unit.format);
      expect(referenceMatches(campaign.targeting, call.page, nowMs), `${campaign.id} targeting matches`).toBe(true);
      expect(referenceNotExcluded(campaign.exclusions, call.page), `${campaign.id} exclusions do not match`).toBe(true);
      if ((campaign.frequencyCaps ?? []).length > 0) expect(call.userKey, `capped ${campaign.id} served without a user key`).toBeDefined();
      // Units in rank order: higher tier first.
      const tier = ["sponsorship", "standard", "house"].indexOf(campaign.tier);
      expect(tier).toBeGreaterThanOrEqual(previousTier);
      previousTier = tier;
      // Payload: disclosure and a click URL carrying a token for this very unit.
      expect(payload.disclosure.label.trim()).not.toBe("");
      expect(payload.disclosure.sponsor.trim()).not.toBe("");
      expect(payload.cta.url.startsWith(`${BASE_URL}/v1/events/click?t=`)).toBe(true);
      const verified = signer.verify(payload.cta.url.slice(`${BASE_URL}/v1/events/click?t=`.length), "click", nowMs);
      expect(verified.ok && verified.claims).toMatchObject({ slotId: slot.id, campaignId: campaign.id, unitId: unit.id });
      served.push(campaign);
    }
  });

  // One campaign once per decision; no two advertisers sharing a competitive label.
  const servedIds = served.map((c) => c.id);
  expect(new Set(servedIds).size, `campaigns served twice: ${servedIds.join(", ")}`).toBe(servedIds.length);
  const owner = new Map<string, string>();
  for (const c of served) {
    for (const label of labelsOf(doc, c.advertiserId)) {
      const holder = owner.get(label) ?? c.advertiserId;
      expect(holder, `label "${label}" served for ${holder} and ${c.advertiserId}`).toBe(c.advertiserId);
      owner.set(label, c.advertiserId);
    }
  }

  // Completeness: a slot left with room never passes over a campaign that could have served.
  result.slots.forEach((slot, i) => {
    const request = call.body.slots[i] as DecisionRequest["slots"][number];
    const placement = placements.get(slot.placement);
    if (!placement || slot.units.length >= Math.min(request.count, placement.maxUnits)) return;
    for (const c of doc.campaigns) {
      if (!referenceEligible(doc, c, placement, call.page, nowMs)) continue;
      const capped = bindingCaps(c).length > 0 && (call.userKey === undefined || model.isCapped(call.userKey, c, nowMs));
      const separated =
        servedIds.includes(c.id) ||
        served.some((w) => w.advertiserId !== c.advertiserId && [...labelsOf(doc, w.advertiserId)].some((l) => labelsOf(doc, c.advertiserId).has(l)));
      expect(capped || separated, `slot ${slot.id} has room but ${c.id} was not served`).toBe(true);
    }
  });

  // Caps: counted per user, never over a limit.
  if (call.userKey !== undefined) {
    const over = served.flatMap((c) => model.serve(call.userKey as string, c, nowMs));
    expect(over).toEqual([]);
  }
}

async function runScenario(doc: CatalogDocument, calls: readonly Call[], seed: number): Promise<number> {
  expect(documentProblems(doc)).toEqual([]);
  const clock = fakeClock(NOW_ISO);
  const stores = createMemoryStores(createKeys("prop"), clock.now);
  const snapshot = compileCatalog(doc, 1);
  const service = createDecisionService({
    catalog: { current: () => snapshot },
    caps: stores.caps,
    signer: createTokenSigner(TRACKING_SECRET),
    clock: clock.now,
    random: seededRandom(seed),
    hashUserKey: (key) => `h-${key}`,
    baseUrl: BASE_URL,
    tokenTtlSeconds: 86_400,
    logger,
  });
  const model = new CapModel();
  let servedUnits = 0;
  for (const call of calls) {
    clock.advance(call.advanceMs);
    const outcome = await service.decide(call.body, call.facts);
    expect(outcome.degraded).toBe(false);
    // The JSON the route sends is exactly the response's.
    expect(outcome.json).toBe(JSON.stringify(outcome.response));
    checkDecision(doc, call, outcome.response, model, clock.now());
    servedUnits += outcome.response.slots.reduce((n, s) => n + s.units.length, 0);
  }
  return servedUnits;
}

describe("decisions on random catalogs", () => {
  it("serve only eligible, separated units within slot capacity and caps, at a fixed time", async () => {
    let servedUnits = 0;
    await fc.assert(
      fc.asyncProperty(catalogArb, fc.array(callArb(fc.constant(0)), { minLength: 1, maxLength: 8 }), fc.integer(), async (doc, calls, seed) => {
        servedUnits += await runScenario(doc, calls, seed);
      }),
      { seed: 1234, numRuns: 200 },
    );
    // The generators must make decisions that serve, or the checks above prove little.
    expect(servedUnits).toBeGreaterThan(400);
  });

  it("keep every cap over time, windows starting at the first counted serve", async () => {
    const advances = fc.constantFrom(0, 0, 1000, 59_000, 61_000, 1_800_000, 3_599_000, 3_600_000, 43_200_000, 86_400_000, 8 * 86_400_000);
    let servedUnits = 0;
    await fc.assert(
      fc.asyncProperty(catalogArb, fc.array(callArb(advances), { minLength: 2, maxLength: 10 }), fc.integer(), async (doc, calls, seed) => {
        servedUnits += await runScenario(doc, calls, seed);
      }),
      { seed: 4321, numRuns: 200 },
    );
    expect(servedUnits).toBeGreaterThan(400);
  });

  it("serve a lone capped campaign exactly when its cap windows allow, as time passes", async () => {
    const steps = fc.constantFrom(0, 1000, 59_000, 61_000, 1_800_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 7 * 86_400_000, 31 * 86_400_000);
    await fc.assert(
      fc.asyncProperty(
        fc.array(capArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(steps, fc.constantFrom("alice", "bob")), { minLength: 1, maxLength: 25 }),
        async (frequencyCaps, script) => {
          const doc = CatalogDocumentSchema.parse({
            advertisers: [anAdvertiser({ id: "a" })],
            placements: [aPlacement({ id: "p" })],
            campaigns: [aCampaign({ id: "c", advertiserId: "a", placements: ["p"], frequencyCaps })],
            units: [aUnit({ id: "u", campaignId: "c" })],
          });
          const campaign = doc.campaigns[0] as Campaign;
          const clock = fakeClock(NOW_ISO);
          const stores = createMemoryStores(createKeys("lone"), clock.now);
          const snapshot = compileCatalog(doc, 1);
          const service = createDecisionService({
            catalog: { current: () => snapshot },
            caps: stores.caps,
            signer: createTokenSigner(TRACKING_SECRET),
            clock: clock.now,
            random: seededRandom(1),
            hashUserKey: (key) => `h-${key}`,
            baseUrl: BASE_URL,
            tokenTtlSeconds: 86_400,
            logger,
          });
          const model = new CapModel();
          for (const [advanceMs, user] of script) {
            clock.advance(advanceMs);
            const body = DecisionRequestSchema.parse({ page: { url: "https://news.example/a" }, user: { key: user }, slots: [{ id: "s", placement: "p" }] });
            const slot = (await service.decide(body, { optOut: false })).response.slots[0];
            const allowed = !model.isCapped(user, campaign, clock.now());
            expect(slot?.units.length, `serve to ${user} at +${clock.now() - NOW} ms`).toBe(allowed ? 1 : 0);
            if (allowed) expect(model.serve(user, campaign, clock.now())).toEqual([]);
            else expect(slot?.noFillReason).toBe("ALL_FREQUENCY_CAPPED");
          }
        },
      ),
      { seed: 99, numRuns: 200 },
    );
  });

  it("serve a capped campaign to one user no more often than its tightest cap allows", async () => {
    const doc = CatalogDocumentSchema.parse({
      advertisers: [anAdvertiser({ id: "a" })],
      placements: [aPlacement({ id: "p", maxUnits: 5 })],
      campaigns: [aCampaign({ id: "c", advertiserId: "a", placements: ["p"], frequencyCaps: [{ limit: 3, window: "1d" }, { limit: 2, window: { seconds: 86_400 } }] })],
      units: [aUnit({ id: "u", campaignId: "c" })],
    });
    const call: Call = {
      body: DecisionRequestSchema.parse({ page: { url: "https://news.example/a" }, user: { key: "alice" }, slots: [{ id: "s", placement: "p", count: 5 }] }),
      facts: { optOut: false },
      page: { url: "https://news.example/a" },
      userKey: "alice",
      advanceMs: 0,
    };
    const calls = Array.from({ length: 5 }, () => call);
    expect(await runScenario(doc, calls, 1)).toBe(2);
  });
});
