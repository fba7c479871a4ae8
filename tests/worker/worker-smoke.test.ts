/**
 * Smoke test of the Workers build: src/worker.ts in local workerd (`wrangler dev`) against a
 * private redis-server. The catalog is seeded by the Node service (so both builds read the same
 * store), then, through the Worker: a decision, its impression beacon (fired twice: counted, then
 * filtered as a duplicate), the campaign report with the ops key, and the per-request Redis
 * connections all closed afterwards; then the isolate's catalog snapshot following a write made by
 * another instance (within 2 s) and one made through the Worker's admin API (at once).
 *
 * Without redis-server, or when wrangler/workerd cannot start, the file is skipped locally and
 * fails under CI.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeService } from "../../src/compose.js";
import { parseConfig } from "../../src/config.js";
import { redisOrFail, type RedisHandle } from "../helpers/redis-server.js";
import { startWorker, type WorkerHandle } from "./wrangler-dev.js";

const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const OPS_KEY = "spk_worker_smoke_ops_key_0123456789";
const TRACKING_SECRET = "worker-smoke-tracking-secret-0123456789";

const redis: RedisHandle | null = await redisOrFail();

/** Starts the Worker; null (skip) when it cannot start outside CI, an error under CI. */
async function workerOrFail(vars: Record<string, string>): Promise<WorkerHandle | null> {
  try {
    return await startWorker(vars);
  } catch (err) {
    if (process.env.CI) throw new Error(`the Worker smoke test needs wrangler dev (local workerd) to start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    return null;
  }
}

interface DecisionUnit {
  campaignId: string;
  tracking: { impression: string };
}

describe.skipIf(!redis)("Worker in local workerd against Redis", () => {
  let worker: WorkerHandle | null = null;
  let probe: Redis;

  beforeAll(async () => {
    if (!redis) return;
    // Seed the sample catalog the way a Node instance would.
    const node = await composeService(parseConfig({ REDIS_URL: redis.url, SEED_SAMPLE_DATA: "true", TRACKING_SECRET, ADMIN_API_KEY: OPS_KEY, LOG_LEVEL: "silent" }), {
      background: false,
    });
    expect(node.catalog.current().version).toBeGreaterThan(0);
    await node.close();
    probe = new Redis(redis.url, { lazyConnect: true });
    await probe.connect();
    worker = await workerOrFail({ REDIS_URL: redis.url, TRACKING_SECRET, ADMIN_API_KEY: OPS_KEY, LOG_LEVEL: "warn" });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await probe?.quit().catch(() => undefined);
    await redis?.stop();
  });

  it("serves a decision, counts its impression beacon once, and reports it", async (ctx) => {
    if (!worker) return ctx.skip();
    const w = worker;
    const clientsBefore = Number((await probe.info("clients")).match(/connected_clients:(\d+)/)?.[1]);
    const connectionsBefore = Number((await probe.info("stats")).match(/total_connections_received:(\d+)/)?.[1]);

    const decision = await fetch(`${w.url}/v1/decisions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": BROWSER_UA },
      body: JSON.stringify({
        page: {
          url: "https://news.example/world/ukraine-urges-allies-north-korean-threat",
          section: "geopolitics",
          topics: ["military-conflict", "russia-ukraine-war", "north-korea", "diplomacy"],
          keywords: ["ukraine", "north korea"],
        },
        user: { key: "worker-smoke-reader" },
        slots: [{ id: "mid-1", placement: "article-mid", count: 1 }],
      }),
    });
    const body = (await decision.json()) as { decisionId: string; slots: { units: DecisionUnit[]; noFillReason?: string }[] };
    expect(decision.status, JSON.stringify(body) + w.output()).toBe(200);
    const unit = body.slots[0]?.units[0];
    expect(unit, `no unit served: ${JSON.stringify(body)}`).toBeDefined();
    const { campaignId, tracking } = unit as DecisionUnit;

    // The tracking URL carries the Worker's own origin (PUBLIC_BASE_URL unset: the request's).
    const beacon = new URL(tracking.impression);
    expect(beacon.origin).toBe(w.url);
    const first = await fetch(beacon, { headers: { "User-Agent": BROWSER_UA } });
    expect(first.status).toBe(204);
    const again = await fetch(beacon, { headers: { "User-Agent": BROWSER_UA } });
    expect(again.status).toBe(204);

    const day = new Date().toISOString().slice(0, 10);
    const report = await fetch(`${w.url}/v1/reports/campaigns/${campaignId}?from=${day}&to=${day}`, { headers: { Authorization: `Bearer ${OPS_KEY}` } });
    const totals = (await report.json()) as { totals: { served: number; impressions: number }; filtered: { duplicate: number } };
    expect(report.status, JSON.stringify(totals)).toBe(200);
    expect(totals.totals).toMatchObject({ served: 1, impressions: 1 });
    expect(totals.filtered.duplicate).toBe(1);

    // One connection per request that touched the store, each closed after its response.
    const connectionsAfter = Number((await probe.info("stats")).match(/total_connections_received:(\d+)/)?.[1]);
    expect(connectionsAfter - connectionsBefore).toBeGreaterThanOrEqual(4);
    await expect
      .poll(async () => Number((await probe.info("clients")).match(/connected_clients:(\d+)/)?.[1]), { timeout: 5000, interval: 100 })
      .toBe(clientsBefore);
  });

  it("refreshes its catalog snapshot by version: a write elsewhere shows within 2 s, its own write at once", async (ctx) => {
    if (!worker || !redis) return ctx.skip();
    const w = worker;
    let reader = 0;
    const served = async (): Promise<string[]> => {
      const res = await fetch(`${w.url}/v1/decisions`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "User-Agent": BROWSER_UA },
        body: JSON.stringify({
          page: { url: "https://news.example/economy/india-trade-war-winner", section: "economy", topics: ["trade", "india", "china", "manufacturing"] },
          user: { key: `worker-smoke-catalog-${reader++}` },
          slots: [{ id: "mid-1", placement: "article-mid", count: 1 }],
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { slots: { units: { campaignId: string }[] }[] };
      return body.slots[0]?.units.map((u) => u.campaignId) ?? [];
    };
    const CAMPAIGN = "walmart-us-manufacturing";
    expect(await served()).toEqual([CAMPAIGN]);

    // Another instance (a Node one) pauses the campaign.
    const node = await composeService(parseConfig({ REDIS_URL: redis.url, TRACKING_SECRET, ADMIN_API_KEY: OPS_KEY, LOG_LEVEL: "silent" }), { background: false });
    await node.catalog.update("campaign", CAMPAIGN, { status: "paused" });
    await node.close();
    const pausedAt = Date.now();
    await expect.poll(served, { timeout: 2000, interval: 50 }).not.toContain(CAMPAIGN);
    expect(Date.now() - pausedAt).toBeLessThan(2000);

    // The Worker's own admin write is visible to its next decision.
    const patch = await fetch(`${w.url}/v1/admin/campaigns/${CAMPAIGN}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${OPS_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: "active" }),
    });
    expect(patch.status, await patch.clone().text()).toBe(200);
    expect(await served()).toEqual([CAMPAIGN]);
  });
});
