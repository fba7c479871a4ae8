/**
 * The Lua serve script (src/store/lua/serve.ts) against its reference, `walkPlan`
 * (src/domain/selection.ts): random selection plans and random counter values, the same outcomes
 * and the same counter values afterwards. A private redis-server for this file; a fresh key
 * prefix for every generated case.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeOutcomes, walkPlan, type PlanCandidate, type PlanCounter, type SelectionPlan } from "../../src/domain/selection.js";
import { createKeys, type Keys } from "../../src/store/keys.js";
import { serveScriptArgs } from "../../src/store/lua/serve.js";
import { createRedisClient, type SpRedis } from "../../src/store/redis/client.js";
import { createRedisCapStore } from "../../src/store/redis/redis-stores.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();

const SEED = 20261127;
const RUNS = 400;

// Catalog ids are always `[a-z0-9_-]`, but the script must not depend on it: some names here are
// ones the plan's text cannot hold as they are (passed as separate arguments), labels are free text.
const CAMPAIGNS = ["c0", "c1", "c2", "c 3;", "#4", "C5|é"] as const;
const ADVERTISERS = ["a0", "a1", "a,2:"] as const;
const LABELS = ["l0", "l 1;|#2,", "\u0142\n\"2"] as const;
/** 0 is a lifetime counter. */
const WINDOWS = [0, 1, 3600, 86400, 604800] as const;
const USERS = ["user-a", "user-b"] as const;

interface CampaignSpec {
  readonly advertiserId: string;
  readonly labels: readonly string[];
  /** Windows may repeat: two caps of one campaign on one counter (both checked, both counted). */
  readonly caps: readonly { readonly windowSeconds: number; readonly limit: number }[];
}

interface Case {
  readonly plan: SelectionPlan;
  readonly userHash: string;
  /** Value of each plan counter before the serve; undefined = the key is absent. */
  readonly preset: readonly (number | undefined)[];
}

const campaignSpec: fc.Arbitrary<CampaignSpec> = fc.record({
  advertiserId: fc.constantFrom(...ADVERTISERS),
  labels: fc.subarray([...LABELS]),
  caps: fc.array(fc.record({ windowSeconds: fc.constantFrom(...WINDOWS), limit: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }),
});

const slotSpec = fc.record({
  capacity: fc.integer({ min: 0, max: 3 }),
  /** Campaign indexes in rank order; campaigns recur across slots. */
  campaigns: fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 0, maxLength: 6 }),
});

/** Builds plans the way the decision service does: one counter per (campaign, window), in first-use order. */
const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    specs: fc.array(campaignSpec, { minLength: CAMPAIGNS.length, maxLength: CAMPAIGNS.length }),
    slots: fc.array(slotSpec, { minLength: 1, maxLength: 4 }),
    priorCampaigns: fc.option(fc.subarray([...CAMPAIGNS, "not-planned"], { maxLength: 3 }), { nil: undefined }),
    priorLabels: fc.option(fc.dictionary(fc.constantFrom(...LABELS), fc.constantFrom(...ADVERTISERS), { maxKeys: 2 }), { nil: undefined }),
    userHash: fc.constantFrom(...USERS),
    presetPool: fc.array(fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined, freq: 3 }), { minLength: 32, maxLength: 32 }),
  })
  .map(({ specs, slots, priorCampaigns, priorLabels, userHash, presetPool }) => {
    const counters: PlanCounter[] = [];
    const counterIndex = new Map<string, number>();
    const candidates: PlanCandidate[] = [];
    slots.forEach((slot, slotIndex) => {
      for (const ci of slot.campaigns) {
        const spec = specs[ci] as CampaignSpec;
        const campaignId = CAMPAIGNS[ci] as string;
        candidates.push({
          slot: slotIndex,
          campaignId,
          unitId: `${campaignId}-u${slotIndex}`,
          advertiserId: spec.advertiserId,
          labels: spec.labels,
          caps: spec.caps.map(({ windowSeconds, limit }) => {
            const key = `${campaignId}/${windowSeconds}`;
            let counter = counterIndex.get(key);
            if (counter === undefined) {
              counter = counters.length;
              counters.push({ campaignId, windowSeconds });
              counterIndex.set(key, counter);
            }
            return { counter, limit };
          }),
        });
      }
    });
    const plan: SelectionPlan = {
      slotCapacity: slots.map((s) => s.capacity),
      counters,
      candidates,
      ...(priorCampaigns ? { priorCampaigns } : {}),
      ...(priorLabels ? { priorLabels } : {}),
    };
    return { plan, userHash, preset: counters.map((_, i) => presetPool[i]) };
  });

describe.skipIf(!redis)("the Lua serve script is equivalent to walkPlan", () => {
  let client: SpRedis;
  let caseSeq = 0;
  const stats = { cases: 0, won: 0, capped: 0, separated: 0, skipped: 0 };

  beforeAll(async () => {
    if (!redis) throw new Error("redis-server is not running");
    client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
    await client.connect();
  });

  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });

  /** Sets the case's counters under a fresh prefix; returns the keys and their Redis key names. */
  async function prepare(c: Case): Promise<{ keys: Keys; counterKeys: string[] }> {
    const keys = createKeys(`lua-eq-${++caseSeq}`);
    const counterKeys = c.plan.counters.map((counter) => keys.cap(c.userHash, counter.campaignId, counter.windowSeconds));
    await Promise.all(
      counterKeys.map((key, i) => {
        const value = c.preset[i];
        return value === undefined ? Promise.resolve() : client.set(key, String(value));
      }),
    );
    return { keys, counterKeys };
  }

  const valuesOf = async (counterKeys: readonly string[]): Promise<number[]> =>
    counterKeys.length === 0 ? [] : (await client.mget(...counterKeys)).map((v) => Number(v ?? 0));

  it("serve returns walkPlan's outcomes and adds exactly walkPlan's increments to the counters", async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const { keys, counterKeys } = await prepare(c);
        const before = c.preset.map((v) => v ?? 0);
        const expected = walkPlan(c.plan, (i) => before[i] ?? 0);

        const outcomes = await createRedisCapStore(client, keys).serve({
          plan: c.plan,
          userHash: c.userHash,
          decisionId: `d-${caseSeq}`,
          nowMs: Date.UTC(2026, 10, 27, 12),
        });
        expect(outcomes).toEqual(expected.outcomes);

        const after = await valuesOf(counterKeys);
        expect(after).toEqual(before.map((v, i) => v + expected.increments.filter((k) => k === i).length));

        stats.cases++;
        for (const o of outcomes) stats[o]++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The generator must reach every branch of the walk, or the equivalence says little.
    expect(stats.cases).toBe(RUNS);
    expect(stats.won).toBeGreaterThan(RUNS);
    expect(stats.capped).toBeGreaterThan(RUNS / 4);
    expect(stats.separated).toBeGreaterThan(RUNS / 4);
    expect(stats.skipped).toBeGreaterThan(RUNS / 4);
  });

  it("the read-only walk returns walkPlan's outcomes and changes no counter", async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        if (c.plan.candidates.length === 0) return;
        const { counterKeys } = await prepare(c);
        const before = await valuesOf(counterKeys);
        const digits = await client.spServe(counterKeys.length, ...counterKeys, ...serveScriptArgs(c.plan, { write: false }));
        expect(decodeOutcomes(digits)).toEqual(walkPlan(c.plan, (i) => before[i] ?? 0).outcomes);
        expect(await valuesOf(counterKeys)).toEqual(before);
        const present = await Promise.all(counterKeys.map((k) => client.exists(k)));
        expect(present).toEqual(c.preset.map((v) => (v === undefined ? 0 : 1)));
      }),
      { seed: SEED + 1, numRuns: RUNS / 2 },
    );
  });

  it("a new counter gets its window as TTL, an existing counter keeps its TTL, and lifetime counters get none", async () => {
    const EXISTING_TTL_MS = 30_000;
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const keys = createKeys(`lua-eq-${++caseSeq}`);
        const counterKeys = c.plan.counters.map((counter) => keys.cap(c.userHash, counter.campaignId, counter.windowSeconds));
        // Existing windowed counters are part-way through their window: EXISTING_TTL_MS left.
        // A live counter is never 0 (INCR creates it at 1), so a preset 0 stands for an absent key here.
        const existing = c.preset.map((v) => (v !== undefined && v > 0 ? v : undefined));
        await Promise.all(
          counterKeys.map((key, i) => {
            const value = existing[i];
            if (value === undefined) return Promise.resolve();
            const window = (c.plan.counters[i] as PlanCounter).windowSeconds;
            return window === 0 ? client.set(key, String(value)) : client.set(key, String(value), "PX", EXISTING_TTL_MS);
          }),
        );
        const expected = walkPlan(c.plan, (i) => existing[i] ?? 0);
        await createRedisCapStore(client, keys).serve({ plan: c.plan, userHash: c.userHash, decisionId: `d-${caseSeq}`, nowMs: 0 });
        const ttls = await Promise.all(counterKeys.map((k) => client.pttl(k)));
        ttls.forEach((ttl, i) => {
          const counted = expected.increments.includes(i);
          const existed = existing[i] !== undefined;
          const window = (c.plan.counters[i] as PlanCounter).windowSeconds;
          if (!existed && !counted) expect(ttl).toBe(-2);
          else if (window === 0) expect(ttl).toBe(-1);
          else if (existed) {
            expect(ttl).toBeGreaterThan(EXISTING_TTL_MS - 5000);
            expect(ttl).toBeLessThanOrEqual(EXISTING_TTL_MS);
          } else {
            expect(ttl).toBeGreaterThan(window * 1000 - 1000);
            expect(ttl).toBeLessThanOrEqual(window * 1000);
          }
        });
      }),
      { seed: SEED + 2, numRuns: RUNS / 2 },
    );
  });
  it("every report key a serve writes gets a TTL once, also when the hour's first serve had no user key", async () => {
    const keys = createKeys(`lua-eq-${++caseSeq}`);
    const store = createRedisCapStore(client, keys, { hourlyDays: 2, dailyDays: 30, streamMaxLen: 1000 });
    const plan: SelectionPlan = {
      slotCapacity: [1],
      counters: [],
      candidates: [{ slot: 0, campaignId: "cr", unitId: "ur", advertiserId: "ar", labels: [], caps: [] }],
    };
    const record = { hour: "2026112707", day: "20261127", entry: { type: "served" } };
    // First serve of the hour and day without a user key, then two with one.
    await store.serve({ plan, userHash: undefined, decisionId: "d-1", nowMs: 0, slotIds: ["s"], record });
    await store.serve({ plan, userHash: "user-1", decisionId: "d-2", nowMs: 0, slotIds: ["s"], record });
    await store.serve({ plan, userHash: "user-2", decisionId: "d-3", nowMs: 0, slotIds: ["s"], record });
    const hourly = [keys.hourCounters("cr", record.hour), keys.hourReach("cr", record.hour)];
    const daily = [keys.dayCounters("cr", record.day), keys.dayReach("cr", record.day), keys.advertiserDayReach("ar", record.day)];
    for (const key of hourly) {
      const ttl = await client.ttl(key);
      expect(ttl, key).toBeGreaterThan(2 * 86400 - 10);
      expect(ttl, key).toBeLessThanOrEqual(2 * 86400);
    }
    for (const key of daily) {
      const ttl = await client.ttl(key);
      expect(ttl, key).toBeGreaterThan(30 * 86400 - 10);
      expect(ttl, key).toBeLessThanOrEqual(30 * 86400);
    }
    expect(await client.pfcount(keys.hourReach("cr", record.hour))).toBe(2);
    expect(await client.pfcount(keys.advertiserDayReach("ar", record.day))).toBe(2);
    expect(await client.hgetall(keys.dayCounters("cr", record.day))).toEqual({ "u:ur:served": "3" });
  });

  it("the event log entry is the record's entry plus every winner with its slot id, whatever characters the names hold", async () => {
    const keys = createKeys(`lua-eq-${++caseSeq}`);
    const store = createRedisCapStore(client, keys, { hourlyDays: 2, dailyDays: 30, streamMaxLen: 1000 });
    const odd = 'x "y"\\ #1;|,\u2028é';
    const plan: SelectionPlan = {
      slotCapacity: [1, 2],
      counters: [],
      candidates: [
        { slot: 0, campaignId: "c-1", unitId: "u-1", advertiserId: "a-1", labels: [odd], caps: [] },
        { slot: 1, campaignId: odd, unitId: `${odd}u`, advertiserId: `${odd}a`, labels: [], caps: [] },
        { slot: 1, campaignId: "c-3", unitId: "u-3", advertiserId: "a-1", labels: [], caps: [] },
      ],
    };
    const entry = { type: "served", decisionId: "d-odd", pageUrl: "https://news.example/a?b=\"c\"&d=</script>", country: null };
    const outcomes = await store.serve({
      plan,
      userHash: "user-1",
      decisionId: "d-odd",
      nowMs: 0,
      slotIds: ["mid:1", "end.1"],
      record: { hour: "2026112707", day: "20261127", entry },
    });
    expect(outcomes).toEqual(["won", "won", "won"]);
    const [[, fields]] = (await client.xrange(keys.events, "-", "+")) as [string, string[]][] as [[string, string[]]];
    expect(fields[0]).toBe("e");
    expect(JSON.parse(fields[1] as string)).toEqual({
      ...entry,
      units: [
        { slotId: "mid:1", campaignId: "c-1", advertiserId: "a-1", unitId: "u-1" },
        { slotId: "end.1", campaignId: odd, advertiserId: `${odd}a`, unitId: `${odd}u` },
        { slotId: "end.1", campaignId: "c-3", advertiserId: "a-1", unitId: "u-3" },
      ],
    });
    expect(await client.hget(keys.dayCounters(odd, "20261127"), `u:${odd}u:served`)).toBe("1");
  });
});
