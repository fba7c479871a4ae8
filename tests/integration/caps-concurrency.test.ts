/**
 * Frequency caps under concurrency, through the whole service on Redis: 200 parallel decisions for
 * one user on an economy page. Every decision wants walmart-us-manufacturing (sponsorship, capped
 * 3 per day and 10 per week) and microsoft-quantum (standard, capped 2 per day); the caps must hold
 * exactly: served the cap's number of times, never more, per user.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createKeys, type Keys } from "../../src/store/keys.js";
import { createRedisClient, type SpRedis } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { buildTestService, type TestService } from "../helpers/app.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();

const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";
const HOUSE = "newsroom-daily";
const DAY = 86400;
const WEEK = 7 * DAY;


interface DecisionBody {
  decisionId: string;
  slots: { id: string; units: { campaignId: string }[]; noFillReason?: string }[];
}

function economyPage(userKey: string): string {
  return JSON.stringify({
    page: { url: "https://news.example/x", section: "economy", language: "en" },
    user: { key: userKey },
    slots: [
      { id: "mid-1", placement: "article-mid" },
      { id: "end-1", placement: "article-end", count: 3 },
    ],
  });
}

let prefixSeq = 0;
const opened: TestService[] = [];
/** A separate client for inspecting Redis (the service's client belongs to the service). */
let inspector: SpRedis | undefined;

async function redisService(): Promise<{ service: TestService; keys: Keys; prefix: string }> {
  if (!redis) throw new Error("redis-server is not running");
  const prefix = `caps-concurrency-${++prefixSeq}`;
  const keys = createKeys(prefix);
  const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await client.connect();
  const service = await buildTestService({ stores: createRedisStores(client, keys) });
  opened.push(service);
  return { service, keys, prefix };
}

async function inspect(): Promise<SpRedis> {
  if (!redis) throw new Error("redis-server is not running");
  if (!inspector) {
    inspector = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
    await inspector.connect();
  }
  return inspector;
}

/** Fires `n` decisions for `userKey` at once; returns every response body, checking each is a clean 200. */
async function burst(service: TestService, userKey: string, n: number): Promise<DecisionBody[]> {
  const responses = await Promise.all(
    Array.from({ length: n }, () =>
      service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body: economyPage(userKey) }),
    ),
  );
  for (const res of responses) {
    expect(res.status).toBe(200);
    // A degraded decision would withhold capped campaigns and hide a broken store.
    expect(res.headers.get("x-degraded")).toBeNull();
  }
  return Promise.all(responses.map((r) => r.json() as Promise<DecisionBody>));
}

function servedCount(bodies: readonly DecisionBody[], campaignId: string): number {
  return bodies.reduce((n, b) => n + b.slots.reduce((m, s) => m + s.units.filter((u) => u.campaignId === campaignId).length, 0), 0);
}

/** The cap counters of one campaign and window, for every user (one key per user hash). */
async function capCounters(prefix: string, campaignId: string, windowSeconds: number): Promise<{ key: string; value: number; ttl: number }[]> {
  const r = await inspect();
  const found = await r.keys(`${prefix}:v1:{u:*}:cap:${campaignId}:${windowSeconds}`);
  return Promise.all(found.map(async (key) => ({ key, value: Number(await r.get(key)), ttl: await r.ttl(key) })));
}

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

afterAll(async () => {
  await inspector?.quit();
  await redis?.stop();
});

describe.skipIf(!redis)("frequency caps under 200 parallel decisions on Redis", () => {
  it("one user gets walmart-us-manufacturing exactly 3 times and microsoft-quantum exactly 2 times", async () => {
    const { service, prefix } = await redisService();
    const bodies = await burst(service, "u-1", 200);

    expect(servedCount(bodies, WALMART)).toBe(3);
    expect(servedCount(bodies, MICROSOFT)).toBe(2);
    // Every decision filled the page: the uncapped house campaign takes over once the caps are reached.
    expect(servedCount(bodies, HOUSE)).toBeGreaterThanOrEqual(200);
    for (const b of bodies) expect(new Set(b.slots.flatMap((s) => s.units.map((u) => u.campaignId))).size).toBe(b.slots.flatMap((s) => s.units).length);

    // The counters say the same, with the window as TTL.
    const walmartDay = await capCounters(prefix, WALMART, DAY);
    expect(walmartDay.map((c) => c.value)).toEqual([3]);
    expect(walmartDay[0]?.ttl).toBeGreaterThan(DAY - 60);
    expect((await capCounters(prefix, WALMART, WEEK)).map((c) => c.value)).toEqual([3]);
    expect((await capCounters(prefix, MICROSOFT, DAY)).map((c) => c.value)).toEqual([2]);
  });

  it("a second burst for the same user serves neither capped campaign again", async () => {
    const { service } = await redisService();
    const first = await burst(service, "u-1", 200);
    const second = await burst(service, "u-1", 200);
    expect(servedCount(first, WALMART)).toBe(3);
    expect(servedCount(first, MICROSOFT)).toBe(2);
    expect(servedCount(second, WALMART)).toBe(0);
    expect(servedCount(second, MICROSOFT)).toBe(0);
  });

  it("two users decided concurrently each get exactly their own caps", async () => {
    const { service, prefix } = await redisService();
    const [u1, u2] = await Promise.all([burst(service, "u-1", 200), burst(service, "u-2", 200)]);
    for (const bodies of [u1, u2]) {
      expect(servedCount(bodies, WALMART)).toBe(3);
      expect(servedCount(bodies, MICROSOFT)).toBe(2);
    }
    const walmartDay = await capCounters(prefix, WALMART, DAY);
    expect(walmartDay).toHaveLength(2);
    expect(walmartDay.map((c) => c.value)).toEqual([3, 3]);
    expect((await capCounters(prefix, MICROSOFT, DAY)).map((c) => c.value)).toEqual([2, 2]);
  });

  it("the same user on two service instances sharing one Redis still gets each cap exactly", async () => {
    const a = await redisService();
    // A second instance of the same deployment: same key prefix, its own client and snapshot.
    if (!redis) throw new Error("redis-server is not running");
    const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
    await client.connect();
    const b = await buildTestService({ stores: createRedisStores(client, a.keys) });
    opened.push(b);
    const [fromA, fromB] = await Promise.all([burst(a.service, "u-1", 100), burst(b, "u-1", 100)]);
    const all = [...fromA, ...fromB];
    expect(servedCount(all, WALMART)).toBe(3);
    expect(servedCount(all, MICROSOFT)).toBe(2);
    expect((await capCounters(a.prefix, WALMART, DAY)).map((c) => c.value)).toEqual([3]);
  });
});
