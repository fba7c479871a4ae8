/**
 * A decision costs one Redis command: the serve script (EVALSHA; EVAL the first time a connection
 * uses it, or after the server lost its script cache). Counted on this file's own fresh
 * redis-server by three witnesses, all on connections separate from the service's:
 *
 * - MONITOR: every command a client sent, with its source; commands a script runs are tagged `lua`.
 * - `INFO commandstats`: calls per command. Redis counts the commands a script runs here too, so
 *   the script calls (eval/evalsha) are checked alone and every other command must be one MONITOR
 *   saw the script run.
 * - `INFO stats` total_commands_processed: all of the above together (script internals included),
 *   less the probe's own INFO, calibrated first.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createRedisClient } from "../../src/store/redis/client.js";
import { createRedisStores } from "../../src/store/redis/redis-stores.js";
import { buildTestService, type TestService } from "../helpers/app.js";
import { redisOrFail } from "../helpers/redis-server.js";

const redis = await redisOrFail();


interface CommandStat {
  calls: number;
  failed: number;
  rejected: number;
}

interface Snapshot {
  readonly commands: ReadonlyMap<string, CommandStat>;
  readonly totalProcessed: number;
}

/** Per-command deltas between two snapshots, without INFO; `failed` counts calls that returned an error. */
type Delta = Record<string, CommandStat>;

interface Measured {
  /** Commands sent by clients other than the probe, in order (MONITOR). */
  readonly sent: string[];
  /** Commands run inside scripts, by name (MONITOR). */
  readonly scripted: Record<string, number>;
  /** eval / evalsha deltas (commandstats). */
  readonly scriptCalls: Delta;
  /** Every other command's delta (commandstats): the scripts' internals. */
  readonly otherCalls: Record<string, number>;
  /** total_commands_processed delta, less the probe's INFO. */
  readonly total: number;
}

const ECONOMY_PAGE = JSON.stringify({
  page: { url: "https://news.example/x", section: "economy", language: "en" },
  user: { key: "u-1" },
  slots: [
    { id: "mid-1", placement: "article-mid" },
    { id: "end-1", placement: "article-end", count: 3 },
  ],
});

let probe: Redis;
let probeId: number;
/** `host:port` of the probe connection, as MONITOR names it. */
let probeAddr: string;
let monitor: Redis;
const monitored: { source: string; command: string; args: string[] }[] = [];
let markerSeq = 0;
/** total_commands_processed moves by this much across two back-to-back snapshots (their own INFO). */
let infoOverhead: number;
let prefixSeq = 0;
const opened: TestService[] = [];

function parseInfo(text: string): Snapshot {
  const commands = new Map<string, CommandStat>();
  let totalProcessed = Number.NaN;
  for (const line of text.split(/\r?\n/)) {
    const stat = /^cmdstat_([^:]+):(.*)$/.exec(line);
    if (stat) {
      const fields = Object.fromEntries((stat[2] ?? "").split(",").map((kv) => kv.split("=") as [string, string]));
      commands.set(stat[1] ?? "", { calls: Number(fields.calls ?? 0), failed: Number(fields.failed_calls ?? 0), rejected: Number(fields.rejected_calls ?? 0) });
    }
    const total = /^total_commands_processed:(\d+)$/.exec(line);
    if (total) totalProcessed = Number(total[1]);
  }
  if (Number.isNaN(totalProcessed)) throw new Error(`INFO without total_commands_processed:\n${text}`);
  return { commands, totalProcessed };
}

/** One INFO call for both sections, so each snapshot costs exactly one command. */
async function snapshot(): Promise<Snapshot> {
  return parseInfo(await probe.info("stats", "commandstats"));
}

function delta(before: Snapshot, after: Snapshot): Delta {
  const out: Delta = {};
  for (const [name, a] of after.commands) {
    if (name === "info") continue;
    const b = before.commands.get(name) ?? { calls: 0, failed: 0, rejected: 0 };
    const d = { calls: a.calls - b.calls, failed: a.failed - b.failed, rejected: a.rejected - b.rejected };
    if (d.calls !== 0 || d.failed !== 0 || d.rejected !== 0) out[name] = d;
  }
  return out;
}

/** Sends a marker through the probe and waits until MONITOR shows it: everything before it has been seen. */
async function monitorSync(): Promise<void> {
  const marker = `marker-${++markerSeq}`;
  await probe.echo(marker);
  const deadline = Date.now() + 5000;
  while (!monitored.some((m) => m.command === "echo" && m.args[0] === marker)) {
    if (Date.now() > deadline) throw new Error(`MONITOR never showed ${marker}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What reached Redis while `fn` ran, by every witness. */
async function measure(fn: () => Promise<void>): Promise<Measured> {
  await monitorSync();
  monitored.length = 0;
  const before = await snapshot();
  await fn();
  const after = await snapshot();
  await monitorSync();
  const seen = monitored.splice(0).filter((m) => m.source !== probeAddr);
  const scripted: Record<string, number> = {};
  for (const m of seen.filter((x) => x.source === "lua")) scripted[m.command] = (scripted[m.command] ?? 0) + 1;
  const commands = delta(before, after);
  const scriptCalls: Delta = {};
  const otherCalls: Record<string, number> = {};
  for (const [name, d] of Object.entries(commands)) {
    if (name === "eval" || name === "evalsha") scriptCalls[name] = d;
    else otherCalls[name] = d.calls;
  }
  return {
    sent: seen.filter((x) => x.source !== "lua").map((x) => x.command),
    scripted,
    scriptCalls,
    otherCalls,
    total: after.totalProcessed - before.totalProcessed - infoOverhead,
  };
}

/** The witnesses agree that exactly the commands `sent` (by name, in order) reached Redis, and nothing else. */
function expectOnly(m: Measured, sent: readonly string[], scriptCalls: Delta): void {
  expect(m.sent).toEqual(sent);
  expect(m.scriptCalls).toEqual(scriptCalls);
  // Every other command Redis counted ran inside the script.
  expect(m.otherCalls).toEqual(m.scripted);
  const nested = Object.values(m.scripted).reduce((a, b) => a + b, 0);
  expect(m.total).toBe(sent.length + nested);
}

async function redisService(): Promise<TestService> {
  if (!redis) throw new Error("redis-server is not running");
  const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await client.connect();
  const service = await buildTestService({ stores: createRedisStores(client, createKeys(`round-trip-${++prefixSeq}`)) });
  opened.push(service);
  return service;
}

interface DecisionBody {
  slots: { units: { campaignId: string }[] }[];
}

async function decide(service: TestService, body = ECONOMY_PAGE): Promise<DecisionBody> {
  const res = await service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-degraded")).toBeNull();
  return (await res.json()) as DecisionBody;
}

/** The last command of every connection but the witnesses', from CLIENT LIST. */
async function lastCommandsOfOtherConnections(): Promise<string[]> {
  const list = await probe.call("CLIENT", "LIST");
  if (typeof list !== "string") throw new Error("CLIENT LIST did not answer a string");
  return list
    .trim()
    .split("\n")
    .map((line) => Object.fromEntries(line.trim().split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])))
    // Neither the probe nor the MONITOR connection (flag O).
    .filter((c) => Number(c.id) !== probeId && !String(c.flags).includes("O"))
    .map((c) => String(c.cmd));
}

beforeAll(async () => {
  if (!redis) return;
  probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await probe.connect();
  probeId = await probe.client("ID");
  probeAddr = /(?:^| )addr=(\S+)/.exec(await probe.client("INFO"))?.[1] ?? "";
  expect(probeAddr).toMatch(/^127\.0\.0\.1:\d+$/);
  monitor = await probe.monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    const [command = "", ...rest] = args;
    monitored.push({ source, command: command.toLowerCase(), args: rest });
  });
  await monitorSync();
  const a = await snapshot();
  const b = await snapshot();
  infoOverhead = b.totalProcessed - a.totalProcessed;
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

afterAll(async () => {
  monitor?.disconnect();
  if (probe) await probe.quit();
  await redis?.stop();
});

describe.skipIf(!redis)("one decision is one Redis command", () => {
  it("the witnesses are calibrated: with no decision, nothing reaches the fresh server", async () => {
    expect(infoOverhead).toBe(1);
    const idle = await measure(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expectOnly(idle, [], {});
    expect(idle.scripted).toEqual({});
  });

  it("the first decision of a connection sends one EVAL of the serve script and nothing else", async () => {
    const service = await redisService();
    let body: DecisionBody | undefined;
    const m = await measure(async () => {
      body = await decide(service);
    });
    expect(body?.slots.flatMap((s) => s.units.map((u) => u.campaignId))).toContain("walmart-us-manufacturing");
    // ioredis sends the script body on a connection's first use: no NOSCRIPT round trip.
    expectOnly(m, ["eval"], { eval: { calls: 1, failed: 0, rejected: 0 } });
    // The script did the work: read and counted the caps.
    expect(m.scripted.incr ?? 0).toBeGreaterThan(0);
  });

  it("a warm decision sends exactly one EVALSHA and nothing else", async () => {
    const service = await redisService();
    await decide(service);
    const m = await measure(async () => {
      await decide(service);
    });
    expectOnly(m, ["evalsha"], { evalsha: { calls: 1, failed: 0, rejected: 0 } });
    expect(await lastCommandsOfOtherConnections()).toEqual(["evalsha"]);
  });

  it("20 decisions one after another send exactly 20 EVALSHA and nothing else", async () => {
    const service = await redisService();
    await decide(service);
    const served: string[] = [];
    const m = await measure(async () => {
      for (let i = 0; i < 20; i++) served.push(...(await decide(service)).slots.flatMap((s) => s.units.map((u) => u.campaignId)));
    });
    expect(served.length).toBeGreaterThanOrEqual(20);
    expectOnly(m, Array<string>(20).fill("evalsha"), { evalsha: { calls: 20, failed: 0, rejected: 0 } });
  });

  it("20 decisions in parallel send exactly 20 EVALSHA and nothing else", async () => {
    const service = await redisService();
    await decide(service);
    const m = await measure(async () => {
      await Promise.all(Array.from({ length: 20 }, () => decide(service)));
    });
    expectOnly(m, Array<string>(20).fill("evalsha"), { evalsha: { calls: 20, failed: 0, rejected: 0 } });
  });

  it("after the server loses its script cache, one decision costs a failed EVALSHA and one EVAL, then one EVALSHA again", async () => {
    const service = await redisService();
    await decide(service);
    await probe.call("SCRIPT", "FLUSH");
    const afterFlush = await measure(async () => {
      await decide(service);
    });
    expectOnly(afterFlush, ["evalsha", "eval"], {
      evalsha: { calls: 1, failed: 1, rejected: 0 },
      eval: { calls: 1, failed: 0, rejected: 0 },
    });
    const next = await measure(async () => {
      await decide(service);
    });
    expectOnly(next, ["evalsha"], { evalsha: { calls: 1, failed: 0, rejected: 0 } });
  });

  it("a decision with nothing to walk sends no command at all", async () => {
    const service = await redisService();
    await decide(service);
    const m = await measure(async () => {
      const body = await decide(
        service,
        JSON.stringify({ page: { url: "https://news.example/x", section: "economy", language: "en" }, slots: [{ id: "s", placement: "no-such-placement" }] }),
      );
      expect(body.slots.flatMap((s) => s.units)).toEqual([]);
    });
    expectOnly(m, [], {});
  });
});
