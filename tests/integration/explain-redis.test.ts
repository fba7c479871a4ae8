/**
 * Explain has no side effects, on real Redis: the reader's cap counters, the campaigns' counters,
 * the event stream and in fact every key of the deployment read the same before and after 20
 * explains; decisions then change them (so the keys read are the right ones).
 */
import { createHash, createHmac } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createKeys, type Keys } from "../../src/store/keys.js";
import { createRedisClient, type SpRedis } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { auth, buildTestService, type TestService } from "../helpers/app.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();

const USER_KEY_SECRET = "explain-redis-user-key-secret-0123";
const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";
const DAY = 86_400;
const WEEK = 7 * DAY;


/** The reader's hash as compose computes it: HMAC-SHA256 with USER_KEY_SECRET, base64url, 22 characters. */
function userHash(userKey: string): string {
  return createHmac("sha256", USER_KEY_SECRET).update(userKey).digest("base64url").slice(0, 22);
}

let prefixSeq = 0;
const opened: TestService[] = [];
const clients: SpRedis[] = [];

async function client(): Promise<SpRedis> {
  if (!redis) throw new Error("redis-server is not running");
  const c = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await c.connect();
  clients.push(c);
  return c;
}

async function redisService(): Promise<{ service: TestService; keys: Keys; prefix: string; inspector: SpRedis }> {
  const prefix = `explain-redis-${++prefixSeq}`;
  const keys = createKeys(prefix);
  const service = await buildTestService({ stores: createRedisStores(await client(), keys), env: { USER_KEY_SECRET } });
  opened.push(service);
  return { service, keys, prefix, inspector: await client() };
}

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

afterAll(async () => {
  for (const c of clients.splice(0)) await c.quit().catch(() => c.disconnect());
  await redis?.stop();
});

/** An economy page on which Walmart (mid) and Microsoft (end) both serve, for one reader and page view. */
function economyBody(userKey: string, pageViewId?: string): string {
  return JSON.stringify({
    page: { url: "https://news.example/economy/india-trade-war-winner", section: "economy", topics: ["trade", "india"], language: "en", ...(pageViewId ? { pageViewId } : {}) },
    user: { key: userKey },
    slots: [
      { id: "mid-1", placement: "article-mid", count: 1 },
      { id: "end-1", placement: "article-end", count: 3 },
    ],
  });
}

async function decideOn(service: TestService, body: string): Promise<string[]> {
  const res = await service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-degraded")).toBeNull();
  const d = (await res.json()) as { slots: { units: { campaignId: string }[] }[] };
  return d.slots.flatMap((s) => s.units.map((u) => u.campaignId));
}

async function explainOn(service: TestService, body: string): Promise<string[]> {
  const res = await service.app.request("/v1/admin/explain", { method: "POST", headers: auth(), body });
  expect(res.status).toBe(200);
  const e = (await res.json()) as { degraded: boolean; slots: { units: { campaignId: string }[] }[] };
  expect(e.degraded).toBe(false);
  return e.slots.flatMap((s) => s.units.map((u) => u.campaignId));
}

/** The cap counters of one reader (null when absent) and the event stream's length. */
async function counters(inspector: SpRedis, keys: Keys, hash: string): Promise<{ caps: Record<string, string | null>; events: number }> {
  const capKeys = {
    walmartDay: keys.cap(hash, WALMART, DAY),
    walmartWeek: keys.cap(hash, WALMART, WEEK),
    microsoftDay: keys.cap(hash, MICROSOFT, DAY),
  };
  const caps: Record<string, string | null> = {};
  for (const [name, key] of Object.entries(capKeys)) caps[name] = await inspector.get(key);
  return { caps, events: await inspector.xlen(keys.events) };
}

/** Every key under the prefix with its content (TTLs left out: they tick). */
async function keyspace(inspector: SpRedis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = "0";
  const found: string[] = [];
  do {
    const [next, batch] = await inspector.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== "0");
  for (const key of found.sort()) {
    const type = await inspector.type(key);
    switch (type) {
      case "string":
        out[key] = await inspector.get(key);
        break;
      case "hash":
        out[key] = await inspector.hgetall(key);
        break;
      case "set":
        out[key] = (await inspector.smembers(key)).sort();
        break;
      case "zset":
        out[key] = await inspector.zrange(key, "0", "-1", "WITHSCORES");
        break;
      case "list":
        out[key] = await inspector.lrange(key, 0, -1);
        break;
      case "stream":
        out[key] = { length: await inspector.xlen(key), last: await inspector.xrevrange(key, "+", "-", "COUNT", 1) };
        break;
      default:
        out[key] = type;
    }
  }
  return out;
}

describe.skipIf(!redis)("explain on Redis has no side effects", () => {
  it("leaves the reader's cap counters and the event stream unchanged over 20 explains; decisions then change them", async () => {
    const { service, keys, inspector } = await redisService();
    const reader = "explain-redis-reader";
    const hash = userHash(reader);

    // One decision first, so the counters exist and are not trivially absent.
    expect(await decideOn(service, economyBody(reader))).toEqual(expect.arrayContaining([WALMART, MICROSOFT]));
    const before = await counters(inspector, keys, hash);
    expect(before.caps).toEqual({ walmartDay: "1", walmartWeek: "1", microsoftDay: "1" });
    expect(before.events).toBeGreaterThan(0);

    for (let i = 0; i < 20; i++) expect(await explainOn(service, economyBody(reader))).toEqual(expect.arrayContaining([WALMART, MICROSOFT]));
    expect(await counters(inspector, keys, hash)).toEqual(before);

    // A decision counts: the counters move and the stream grows.
    await decideOn(service, economyBody(reader));
    const after = await counters(inspector, keys, hash);
    expect(after.caps).toEqual({ walmartDay: "2", walmartWeek: "2", microsoftDay: "2" });
    expect(after.events).toBeGreaterThan(before.events);
  });

  it("creates no cap counters for a reader who was only ever explained", async () => {
    const { service, keys, inspector } = await redisService();
    const reader = "only-explained-reader";
    for (let i = 0; i < 20; i++) await explainOn(service, economyBody(reader));
    expect(await counters(inspector, keys, userHash(reader))).toEqual({ caps: { walmartDay: null, walmartWeek: null, microsoftDay: null }, events: 0 });
    await decideOn(service, economyBody(reader));
    const after = await counters(inspector, keys, userHash(reader));
    expect(after.caps).toEqual({ walmartDay: "1", walmartWeek: "1", microsoftDay: "1" });
    expect(after.events).toBe(1);
  });

  it("changes no key at all: caps, campaign counters, reach, page-view memory, event stream and audit read the same after 20 explains", async () => {
    const { service, prefix, inspector } = await redisService();
    const reader = "keyspace-reader";
    const pageViewId = "pv-explain-redis";
    await decideOn(service, economyBody(reader, pageViewId));
    await decideOn(service, economyBody("another-reader"));
    const before = await keyspace(inspector, prefix);
    // The page view and the reader's caps are there to be read (and must not be rewritten).
    expect(Object.keys(before).some((k) => k.includes(":cap:"))).toBe(true);
    const pvHash = createHash("sha256").update(pageViewId).digest("base64url").slice(0, 22);
    expect(Object.keys(before).some((k) => k.includes(pvHash))).toBe(true);

    for (let i = 0; i < 20; i++) {
      await explainOn(service, economyBody(reader, pageViewId));
      await explainOn(service, economyBody(`explained-only-${i}`, `pv-explained-only-${i}`));
    }
    expect(await keyspace(inspector, prefix)).toEqual(before);

    // A decision for a reader who was only explained writes their caps, counters and page view.
    expect(await decideOn(service, economyBody("explained-only-0", "pv-explained-only-0"))).toContain(WALMART);
    const after = await keyspace(inspector, prefix);
    expect(Object.keys(after).length).toBeGreaterThan(Object.keys(before).length);
  });
});
