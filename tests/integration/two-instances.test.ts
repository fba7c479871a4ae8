/**
 * Two (and three) service instances on ONE redis-server, same key prefix, each with its own ioredis
 * client, composed as in production with background work on (catalog change notices + a 1-second
 * poll, pacing refresh). The contract: a write is visible on every other instance within 2 seconds,
 * key revocation included. Measured here, and printed.
 *
 * Instance C's catalog store never delivers change notices (its `subscribe` is a no-op), so C sees
 * changes through the poll alone: the path taken when notices are lost (a dropped subscriber
 * connection, a missed message).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeService } from "../../src/compose.js";
import { parseConfig } from "../../src/config.js";
import { createKeys, type Keys } from "../../src/store/keys.js";
import type { Stores } from "../../src/store/ports.js";
import { createRedisClient, type SpRedis } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { OPS_KEY, seededRandom, TRACKING_SECRET } from "../helpers/app.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();

const WALMART = "walmart-us-manufacturing";
const PREFIX = "two-instances";
const POLL_MS = 1000;
const PROMISE_MS = 2000;
const PROBE_EVERY_MS = 50;

type Service = Awaited<ReturnType<typeof composeService>>;

const clients: SpRedis[] = [];
async function client(): Promise<SpRedis> {
  if (!redis) throw new Error("redis-server is not running");
  const c = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await c.connect();
  clients.push(c);
  return c;
}

/** Stores whose change notices never arrive: the instance relies on its poll. */
function withoutNotices(stores: Stores): Stores {
  return {
    ...stores,
    catalog: {
      ...stores.catalog,
      subscribe: async () => async () => undefined,
    },
  };
}

async function instance(keys: Keys, options: { seed: boolean; notices: boolean }): Promise<Service> {
  const stores = createRedisStores(await client(), keys);
  const config = parseConfig({
    NODE_ENV: "test",
    ADMIN_API_KEY: OPS_KEY,
    TRACKING_SECRET,
    USER_KEY_SECRET: "two-instances-user-key-secret-0123",
    PUBLIC_BASE_URL: "https://ads.test",
    REDIS_KEY_PREFIX: PREFIX,
    SEED_SAMPLE_DATA: options.seed ? "true" : "false",
    CATALOG_POLL_MS: String(POLL_MS),
    LOG_LEVEL: "silent",
  });
  return composeService(config, {
    logger: createLogger("silent"),
    clock: Date.now,
    random: seededRandom(7),
    stores: options.notices ? stores : withoutNotices(stores),
    background: true,
  });
}

let readerSeq = 0;
/** An economy page for a fresh reader (Walmart is capped per reader; a fresh one is never capped). */
function economyPage(): string {
  return JSON.stringify({
    page: { url: "https://news.example/economy/india-trade-war-winner", section: "economy", topics: ["trade"], language: "en" },
    user: { key: `two-instances-reader-${++readerSeq}` },
    slots: [{ id: "mid-1", placement: "article-mid", count: 1 }],
  });
}

async function servesWalmart(s: Service): Promise<boolean> {
  const res = await s.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body: economyPage() });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-degraded")).toBeNull();
  const body = (await res.json()) as { slots: { units: { campaignId: string }[] }[] };
  return body.slots.some((slot) => slot.units.some((u) => u.campaignId === WALMART));
}

function admin(s: Service, method: string, path: string, body?: unknown, key = OPS_KEY): Promise<Response> {
  return Promise.resolve(
    s.app.request(path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Probes `check` every 50 ms from `startedAt` until it holds; returns the elapsed milliseconds
 * (measured to the probe that saw it), or Infinity when it never held within `giveUpMs`.
 */
async function timeUntil(check: () => Promise<boolean>, startedAt: number, giveUpMs = 5000): Promise<number> {
  for (;;) {
    if (await check()) return performance.now() - startedAt;
    if (performance.now() - startedAt > giveUpMs) return Number.POSITIVE_INFINITY;
    await sleep(PROBE_EVERY_MS);
  }
}

/** Waits until `count` subscribers listen on the catalog channel (instances subscribe in the background). */
async function subscribersReady(inspector: SpRedis, keys: Keys, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const reply = (await inspector.call("PUBSUB", "NUMSUB", keys.catalogChannel)) as [string, number];
    if (Number(reply[1]) >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${reply[1]} catalog subscribers after 5 s (wanted ${count})`);
    await sleep(20);
  }
}

let keys: Keys;
let a: Service | undefined;
let b: Service | undefined;
let c: Service | undefined;
let inspector: SpRedis;

function started(): { a: Service; b: Service; c: Service } {
  if (!a || !b || !c) throw new Error("the instances did not start");
  return { a, b, c };
}

beforeAll(async () => {
  if (!redis) return;
  keys = createKeys(PREFIX);
  inspector = await client();
  // A seeds the sample catalog into the empty store; B and C find it there.
  a = await instance(keys, { seed: true, notices: true });
  b = await instance(keys, { seed: false, notices: true });
  c = await instance(keys, { seed: false, notices: false });
  // A and B subscribe to change notices; C does not.
  await subscribersReady(inspector, keys, 2);
});

afterAll(async () => {
  for (const s of [a, b, c]) await s?.close();
  for (const cl of clients.splice(0)) await cl.quit().catch(() => cl.disconnect());
  await redis?.stop();
});

describe.skipIf(!redis)("two instances sharing one Redis", () => {
  it("all three instances serve the same sample catalog at the start", async () => {
    const { a, b, c } = started();
    expect(a.catalog.current().version).toBeGreaterThan(0);
    expect(b.catalog.current().version).toBe(a.catalog.current().version);
    expect(c.catalog.current().version).toBe(a.catalog.current().version);
    for (const s of [a, b, c]) expect(await servesWalmart(s)).toBe(true);
  });

  it("pausing Walmart on A stops it serving on B (change notice) and on C (poll only) within 2 seconds", async () => {
    const { a, b, c } = started();
    expect(await servesWalmart(b)).toBe(true);
    const res = await admin(a, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "paused" });
    expect(res.status).toBe(200);
    const t0 = performance.now();
    // On the accepting instance, at once.
    expect(await servesWalmart(a)).toBe(false);
    const [onB, onC] = await Promise.all([timeUntil(async () => !(await servesWalmart(b)), t0), timeUntil(async () => !(await servesWalmart(c)), t0)]);
    console.log(`[two-instances] PATCH pause on A -> B stops serving Walmart after ${onB.toFixed(0)} ms (change notice); C after ${onC.toFixed(0)} ms (poll only, CATALOG_POLL_MS=${POLL_MS})`);
    expect(onB).toBeLessThan(PROMISE_MS);
    expect(onC).toBeLessThan(PROMISE_MS);
    // And it stays paused there.
    for (let i = 0; i < 5; i++) {
      expect(await servesWalmart(b)).toBe(false);
      expect(await servesWalmart(c)).toBe(false);
    }
  });

  it("a change written straight to the store (a raw catalog put) reaches B and the poll-only C within 2 seconds", async () => {
    const { b, c } = started();
    // Another process writing the catalog: its own client, the store adapter alone, no service.
    const raw = createRedisStores(await client(), keys);
    const { document } = await raw.catalog.load();
    const walmart = document.campaigns.find((x) => x.id === WALMART);
    if (!walmart) throw new Error("no Walmart in the stored catalog");
    expect(walmart.status).toBe("paused");
    const before = c.catalog.current().version;
    await raw.catalog.put("campaign", { ...walmart, status: "active" });
    const t0 = performance.now();
    const [onB, onC] = await Promise.all([timeUntil(() => servesWalmart(b), t0), timeUntil(() => servesWalmart(c), t0)]);
    console.log(`[two-instances] raw store put (Walmart active) -> B serves it after ${onB.toFixed(0)} ms (change notice); C after ${onC.toFixed(0)} ms (poll only)`);
    expect(onB).toBeLessThan(PROMISE_MS);
    expect(onC).toBeLessThan(PROMISE_MS);
    expect(c.catalog.current().version).toBe(before + 1);
  });

  it("with B's catalog refresh stopped and restarted, the poll and the notices pick up changes again", async () => {
    const { a, b } = started();
    await b.catalog.stop();
    b.catalog.start(POLL_MS);
    await subscribersReady(inspector, keys, 2);
    expect(await servesWalmart(b)).toBe(true);
    const res = await admin(a, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "paused" });
    expect(res.status).toBe(200);
    const t0 = performance.now();
    const onB = await timeUntil(async () => !(await servesWalmart(b)), t0);
    console.log(`[two-instances] after a restart of B's refresh: pause on A -> B after ${onB.toFixed(0)} ms`);
    expect(onB).toBeLessThan(PROMISE_MS);
    // Put Walmart back for the tests after this one.
    expect((await admin(a, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "active" })).status).toBe(200);
    expect(await timeUntil(() => servesWalmart(b), performance.now())).toBeLessThan(PROMISE_MS);
  });

  it("when Redis drops the subscriber connections, a change made meanwhile still reaches B within 2 seconds, and B subscribes again", async () => {
    const { a, b } = started();
    expect(await servesWalmart(b)).toBe(true);
    const killed = Number(await inspector.call("CLIENT", "KILL", "TYPE", "pubsub"));
    expect(killed).toBeGreaterThanOrEqual(2);
    const res = await admin(a, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "paused" });
    expect(res.status).toBe(200);
    const t0 = performance.now();
    const onB = await timeUntil(async () => !(await servesWalmart(b)), t0);
    console.log(`[two-instances] subscribers killed, pause on A -> B after ${onB.toFixed(0)} ms`);
    expect(onB).toBeLessThan(PROMISE_MS);
    // ioredis reconnects the subscribers and subscribes again.
    await subscribersReady(inspector, keys, 2);
    expect((await admin(a, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "active" })).status).toBe(200);
    const back = await timeUntil(() => servesWalmart(b), performance.now());
    expect(back).toBeLessThan(PROMISE_MS);
  });

  it("revoking a key on A is honoured on B (401) within 2 seconds", async () => {
    const { a, b } = started();
    const issued = await admin(a, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId: "walmart" });
    expect(issued.status).toBe(201);
    const { id, key } = (await issued.json()) as { id: string; key: string };
    // B accepts the new key (and caches it, as it does for every key it sees).
    expect((await admin(b, "GET", "/v1/admin/advertisers/walmart", undefined, key)).status).toBe(200);
    expect((await admin(a, "GET", "/v1/admin/advertisers/walmart", undefined, key)).status).toBe(200);

    expect((await admin(a, "DELETE", `/v1/admin/keys/${id}`)).status).toBe(204);
    const t0 = performance.now();
    // On the accepting instance, at once.
    expect((await admin(a, "GET", "/v1/admin/advertisers/walmart", undefined, key)).status).toBe(401);
    const onB = await timeUntil(async () => (await admin(b, "GET", "/v1/admin/advertisers/walmart", undefined, key)).status === 401, t0);
    console.log(`[two-instances] key revoked on A -> B answers 401 after ${onB.toFixed(0)} ms`);
    expect(onB).toBeLessThan(PROMISE_MS);
    const res = await admin(b, "GET", "/v1/admin/advertisers/walmart", undefined, key);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
  });
});
