/**
 * Beacon deduplication under concurrency on a real redis-server: 1,000 distinct impression tokens
 * (1,000 decisions for different users on a house-only page), each fired 5 times in a shuffled
 * order, 500 requests in flight at a time. The report must say exactly 1,000 impressions and
 * 4,000 duplicates: one Lua round trip per beacon decides counted or duplicate atomically.
 *
 * Needs Debian's redis-server on PATH. Without it the file is skipped locally and fails under CI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createRedisClient } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { buildTestService, fakeClock } from "../helpers/app.js";
import { redisOrFail } from "../helpers/redis-server.js";
import {
  campaignReport,
  decide,
  decisionBody,
  fire,
  headerIp,
  houseOnlyPage,
  onlyUnit,
  shuffled,
  type TestService,
} from "../helpers/tracking.js";

const redis = await redisOrFail();

const HOUSE = "newsroom-daily";
const TOKENS = 1000;
const REPEATS = 5;
const BATCH = 500;

describe.skipIf(!redis)("impression beacons on Redis", () => {
  let service: TestService;

  beforeAll(async () => {
    if (!redis) throw new Error("redis-server is not running");
    const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
    await client.connect();
    service = await buildTestService({
      stores: createRedisStores(client, createKeys("t")),
      clock: fakeClock().now,
      // Far above what the test sends, so neither the per-client beacon limit nor the flood
      // ceiling (4x) filters anything; clients are spread over many addresses as well.
      env: { BEACONS_PER_MINUTE: "100000" },
      clientIp: headerIp,
    });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("counts 1,000 distinct impression tokens fired 5 times each, concurrently, as exactly 1,000 impressions and 4,000 duplicates", async () => {
    const { app } = service;
    const urls: string[] = [];
    for (let start = 0; start < TOKENS; start += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, i) => decide(app, decisionBody(houseOnlyPage(), `redis-beacon-user-${start + i}`))),
      );
      for (const d of batch) urls.push(onlyUnit(d, HOUSE).tracking.impression);
    }
    expect(new Set(urls).size).toBe(TOKENS);

    const shots = shuffled(urls.flatMap((url) => Array.from({ length: REPEATS }, () => url)), 20261127);
    const statuses = new Map<number, number>();
    for (let start = 0; start < shots.length; start += BATCH) {
      const results = await Promise.all(
        shots.slice(start, start + BATCH).map((url, i) => fire(app, url, { ip: `10.0.${(start + i) % 50}.1` })),
      );
      for (const res of results) statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 204: TOKENS * REPEATS });

    const report = await campaignReport(app, HOUSE, { from: "2026-11-27", to: "2026-11-27" });
    expect(report.totals.served).toBe(TOKENS);
    expect(report.totals.impressions).toBe(TOKENS);
    expect(report.filtered).toEqual({ duplicate: TOKENS * (REPEATS - 1), expired: 0, bot: 0, rate_limited: 0 });
    // Reach is a HyperLogLog on Redis: approximate, within a few percent.
    expect(Math.abs(report.totals.reach - TOKENS)).toBeLessThanOrEqual(TOKENS * 0.03);

    const log = await service.stores.events.recent(5 * TOKENS);
    expect(log.filter((e) => e.type === "impression")).toHaveLength(TOKENS);
    expect(log.filter((e) => e.type === "served")).toHaveLength(TOKENS);
    expect(JSON.stringify(log)).not.toContain("redis-beacon-user-");
    expect(JSON.stringify(log)).not.toContain("10.0.");
  });
});
