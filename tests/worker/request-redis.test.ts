/**
 * The Worker's per-request Redis client (src/edge/request-redis.ts), exercised in Node against a
 * private redis-server: the stand-in forwards to the client of the current request, scripts go
 * out as EVALSHA (the body only after NOSCRIPT), a command queued while connecting gets its full
 * deadline once connected, and a dead Redis fails the request's commands within the connect budget.
 *
 * Needs Debian's redis-server on PATH. Without it the file is skipped locally and fails under CI.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeRedis, createRequestRedis, requestRedis, withRequestRedis } from "../../src/edge/request-redis.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();

describe.skipIf(!redis)("per-request Redis client", () => {
  let admin: Redis;

  beforeAll(async () => {
    admin = new Redis(redis?.url ?? "");
    await admin.ping();
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  const open = (commandTimeoutMs = 200) => createRequestRedis(redis?.url ?? "", { commandTimeoutMs, connectTimeoutMs: 1000 });

  it("forwards store calls to the current request's client, and only inside a request", async () => {
    const a = open();
    const b = open();
    await withRequestRedis(a.client, () => requestRedis.set("rr:key", "a"));
    await withRequestRedis(b.client, async () => {
      expect(activeRedis()).toBe(b.client);
      expect(await requestRedis.get("rr:key")).toBe("a");
      const [[, value]] = (await requestRedis.multi().get("rr:key").exec()) as [[Error | null, string]];
      expect(value).toBe("a");
    });
    expect(a.client.status).toBe("ready");
    expect(() => requestRedis.get("rr:key")).toThrow(/no Redis client/);
    a.close();
    b.close();
    await expect.poll(() => a.client.status).toBe("end");
  });

  it("does not connect a request that makes no store call", () => {
    const idle = open();
    expect(idle.client.status).toBe("wait");
    idle.close();
  });

  it("sends scripts as EVALSHA, and the body only when Redis does not know it", async () => {
    await admin.script("FLUSH");
    await admin.config("RESETSTAT");
    for (let i = 0; i < 3; i++) {
      const r = open();
      await withRequestRedis(r.client, () => requestRedis.spFiltered(2, "rr:h", "rr:d", "f:bot", "unit-1", 3600, 86400));
      r.close();
    }
    const stats = await admin.info("commandstats");
    expect(stats).toMatch(/cmdstat_evalsha:calls=3,.*failed_calls=1/);
    expect(stats).toMatch(/cmdstat_eval:calls=1,/);
    expect(await admin.hget("rr:d", "u:unit-1:f:bot")).toBe("3");
  });

  it("counts a queued command's deadline from the connect, and holds it to that deadline", async () => {
    const r = open(50);
    // Paused: the connection is accepted, the command is never answered.
    await admin.client("PAUSE", 300, "ALL");
    const started = performance.now();
    await expect(withRequestRedis(r.client, () => requestRedis.get("rr:key"))).rejects.toThrow(/timed out/);
    const elapsed = performance.now() - started;
    r.close();
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(250);
  });

  it("fails the request's commands at once when Redis refuses the connection", async () => {
    const dead = createRequestRedis("redis://127.0.0.1:1", { commandTimeoutMs: 50, connectTimeoutMs: 1000 });
    const started = performance.now();
    await expect(withRequestRedis(dead.client, () => requestRedis.get("rr:key"))).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(500);
    dead.close();
  });
});
