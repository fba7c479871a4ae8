/**
 * Fault injection against a real redis-server that the tests start, kill, pause and restart (never
 * the shared one on 6379). The service is composed exactly as in production — two ioredis clients
 * (hot: STORE_TIMEOUT_MS per command; admin: ADMIN_TIMEOUT_MS), the circuit breaker, the beacon
 * buffer and the background start-up retries — and served over HTTP by @hono/node-server on a free
 * port; the tests are its clients through `fetch`.
 *
 * Redis runs with an append-only file fsynced on every write (`startRedis({ persistent: true })`),
 * so a kill + restart keeps every acknowledged write (cap counters, event counters, the catalog),
 * as a production Redis with AOF would. Each test has its own server.
 *
 * Latency. Every decision is timed twice: end to end by the client (fetch to body read), and inside
 * the server (the app receiving the request to its Response, wrapped around `app.fetch`). The load
 * generator shares the process, the event loop and a shared 2-core box with the server, so the
 * end-to-end figure mostly measures queueing behind other work; the server-side one is the
 * service's own answer time. Both are reported. The asserted bounds, while the store is down or
 * paused, are:
 *   server side: p50 <= STORE_TIMEOUT_MS (30 ms: the typical decision does not wait on the store);
 *                p99 <= 100 ms + the event loop's p99 delay; max <= 500 ms + its longest stall;
 *   end to end:  max < 2000 ms (the ioredis connect timeout: a decision that waited on a
 *                reconnect would cross it);
 * where the event-loop terms (monitorEventLoopDelay over the same run) are what the process lost to
 * CPU contention, which no decision can avoid and a decision waiting on I/O does not produce. On an
 * idle box they are ~10-20 ms, i.e. the bounds are p99 <= ~110 ms and max <= ~520 ms.
 *
 * Needs Debian's redis-server on PATH. Without it the file is skipped locally and fails under CI.
 */
import type { AddressInfo } from "node:net";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Writable } from "node:stream";
import { serve, type ServerType } from "@hono/node-server";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { composeService, type Service } from "../../src/compose.js";
import { parseConfig } from "../../src/config.js";
import { createLogger, type Logger } from "../../src/telemetry/logger.js";
import { OPS_KEY, TRACKING_SECRET } from "../helpers/app.js";
import { redisOrFail, startRedis, type RedisHandle } from "../helpers/redis-server.js";
import {
  BROWSER_UA,
  CLIENT_IP_HEADER,
  economyPage,
  headerIp,
  houseOnlyPage,
  type CampaignReport,
  type DecisionResponse,
  type ErrorEnvelope,
  type PageBody,
  type SlotRequest,
} from "../helpers/tracking.js";

// Fails under CI when redis-server cannot start; locally, skips the file.
const probe = await redisOrFail({ persistent: true });
await probe?.stop();

const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";
const HOUSE = "newsroom-daily";
/** Per-user daily caps of the sample catalog. */
const CAPS: Record<string, number> = { [WALMART]: 3, [MICROSOFT]: 2 };
/** The hot client's per-command deadline (the default, set explicitly). */
const STORE_TIMEOUT_MS = 30;
const SLOTS: SlotRequest[] = [
  { id: "mid-1", placement: "article-mid", count: 1 },
  { id: "end-1", placement: "article-end", count: 2 },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Work to undo after each test, newest first. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)().catch(() => undefined);
});

async function freshRedis(): Promise<RedisHandle> {
  const redis = await startRedis({ persistent: true });
  cleanups.push(() => redis.stop());
  return redis;
}

/**
 * `CLIENT PAUSE ms ALL` from a connection of its own: Redis holds every client's commands (it
 * answers slowly) until the pause ends. Returns when the pause began.
 */
async function pauseRedis(url: string, ms: number): Promise<number> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
    await admin.call("CLIENT", "PAUSE", String(ms), "ALL");
    return Date.now();
  } finally {
    admin.disconnect();
  }
}

/** A logger that keeps warn-and-above lines, to explain a failure. */
function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger("warn", sink), lines };
}

/** One decision as timed inside the server: from the app receiving the request to its Response. */
interface ServerTiming {
  readonly start: number;
  readonly ms: number;
}

interface Running {
  readonly service: Service;
  readonly origin: string;
  readonly logLines: string[];
  /** Server-side handling time of every POST /v1/decisions (no client or socket queueing). */
  readonly decisionTimings: ServerTiming[];
  /** Closes the HTTP server (not the service). */
  stopHttp(): Promise<void>;
  /** The service's close() (once; the cleanup after the test then does nothing). */
  close(): Promise<void>;
}

async function startService(redisUrl: string, env: Record<string, string> = {}): Promise<Running> {
  const config = parseConfig({
    NODE_ENV: "test",
    REDIS_URL: redisUrl,
    ADMIN_API_KEY: OPS_KEY,
    TRACKING_SECRET,
    SEED_SAMPLE_DATA: "true",
    LOG_LEVEL: "silent",
    STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
    BREAKER_COOLDOWN_MS: "200",
    BEACONS_PER_MINUTE: "100000",
    CLICKS_PER_MINUTE: "10000",
    ...env,
  });
  const { logger, lines } = captureLogger();
  const service = await composeService(config, { logger, background: true, clientIp: headerIp });
  let closed = false;
  const closeService = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await service.close();
  };
  cleanups.push(closeService);
  const decisionTimings: ServerTiming[] = [];
  const fetchTimed = async (req: Request, env: unknown): Promise<Response> => {
    if (req.method !== "POST" || !req.url.endsWith("/v1/decisions")) return service.app.fetch(req, env);
    const start = Date.now();
    const t0 = performance.now();
    const res = await service.app.fetch(req, env);
    decisionTimings.push({ start, ms: performance.now() - t0 });
    return res;
  };
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: fetchTimed, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const stopHttp = (): Promise<void> =>
    new Promise((resolve) => {
      if ("closeAllConnections" in server) server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(stopHttp);
  return { service, origin: `http://127.0.0.1:${port}`, logLines: lines, decisionTimings, stopHttp, close: closeService };
}

interface DecisionSample {
  readonly user: string;
  readonly start: number;
  readonly end: number;
  readonly ms: number;
  readonly status: number;
  readonly degraded: boolean;
  readonly campaigns: string[];
  readonly body?: DecisionResponse;
  readonly error?: string;
}

/** POST /v1/decisions over HTTP, timed. `start`/`end` are Date.now() ms, `ms` is precise. */
async function timedDecision(origin: string, page: PageBody, user: string, ip = "10.0.0.1"): Promise<DecisionSample> {
  const start = Date.now();
  const t0 = performance.now();
  try {
    const res = await fetch(`${origin}/v1/decisions`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": BROWSER_UA, [CLIENT_IP_HEADER]: ip },
      body: JSON.stringify({ page, user: { key: user }, slots: SLOTS }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    const body = res.status === 200 ? (JSON.parse(text) as DecisionResponse) : undefined;
    return {
      user,
      start,
      end: Date.now(),
      ms,
      status: res.status,
      degraded: res.headers.get("x-degraded") === "store",
      campaigns: body ? body.slots.flatMap((s) => s.units.map((u) => u.campaignId)) : [],
      ...(body ? { body } : { error: text.slice(0, 300) }),
    };
  } catch (err) {
    return { user, start, end: Date.now(), ms: performance.now() - t0, status: 0, degraded: false, campaigns: [], error: String(err) };
  }
}

/** A tracking URL of a decision, re-pointed at the test server (PUBLIC_BASE_URL is not its origin). */
function local(origin: string, url: string): string {
  const u = new URL(url);
  return `${origin}${u.pathname}${u.search}`;
}

function tokenOf(url: string): string {
  return new URL(url).searchParams.get("t") ?? "";
}

interface BeaconShot {
  readonly token: string;
  readonly campaignId: string;
  readonly start: number;
  readonly end: number;
  readonly status: number;
}

async function fireBeacon(origin: string, url: string, campaignId: string, ip = "10.0.0.1"): Promise<BeaconShot> {
  const start = Date.now();
  try {
    const res = await fetch(local(origin, url), { headers: { "user-agent": BROWSER_UA, [CLIENT_IP_HEADER]: ip }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return { token: tokenOf(url), campaignId, start, end: Date.now(), status: res.status };
  } catch {
    return { token: tokenOf(url), campaignId, start, end: Date.now(), status: 0 };
  }
}

async function readyStatus(origin: string): Promise<number> {
  const res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(8000) });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until `check` is true or the time is up; returns how long it took (ms) or undefined. */
async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 50): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started <= timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(stepMs);
  }
  return undefined;
}

async function report(origin: string, campaignId: string, from: string, to: string): Promise<CampaignReport> {
  const res = await fetch(`${origin}/v1/reports/campaigns/${campaignId}?from=${from}&to=${to}`, {
    headers: { authorization: `Bearer ${OPS_KEY}` },
    signal: AbortSignal.timeout(8000),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as CampaignReport;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function latencySummary(samples: readonly { ms: number }[]): { n: number; p50: number; p99: number; max: number } {
  const ms = samples.map((s) => s.ms);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { n: ms.length, p50: r(percentile(ms, 50)), p99: r(percentile(ms, 99)), max: r(Math.max(0, ...ms)) };
}

/** Retries a decision for fresh readers until one is answered normally (not degraded); fails after `timeoutMs`. */
async function normalDecision(origin: string, page: PageBody, prefix: string, timeoutMs = 5000): Promise<DecisionSample> {
  let last: DecisionSample | undefined;
  let n = 0;
  const tookMs = await waitFor(async () => {
    last = await timedDecision(origin, page, `${prefix}-${n++}`);
    return last.status === 200 && !last.degraded;
  }, timeoutMs, 50);
  expect(tookMs, `no normal decision within ${timeoutMs} ms: ${JSON.stringify(last)}`).toBeDefined();
  return last as DecisionSample;
}

interface LagReport {
  readonly p99: number;
  readonly max: number;
}

/** Measures the event loop's own delay (ms) between start and stop: queueing no request can avoid. */
function lagMonitor(): { stop(): LagReport } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    stop() {
      h.disable();
      const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
      return { p99: ms(h.percentile(99)), max: ms(h.max) };
    },
  };
}

/** Asserts the documented latency bounds (see the file comment) for these samples. */
function expectWithinDeadline(serverSide: { p50: number; p99: number; max: number }, endToEnd: { max: number }, lag: LagReport): void {
  const why = `server-side ${JSON.stringify(serverSide)}, event-loop delay ${JSON.stringify(lag)}`;
  expect(serverSide.p50, why).toBeLessThanOrEqual(STORE_TIMEOUT_MS);
  expect(serverSide.p99, why).toBeLessThanOrEqual(Math.min(2000, 100 + lag.p99));
  expect(serverSide.max, why).toBeLessThanOrEqual(Math.min(2000, 500 + lag.max));
  expect(endToEnd.max, `end-to-end max ${endToEnd.max} ms`).toBeLessThan(2000);
}

/** Decisions for fresh users of one campaign's page; the impression URLs of the house unit served. */
async function houseImpressions(origin: string, n: number, prefix: string): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = await timedDecision(origin, houseOnlyPage(), `${prefix}-${i}`);
    expect(d.status, d.error).toBe(200);
    const unit = d.body?.slots.flatMap((s) => s.units).find((u) => u.campaignId === HOUSE);
    if (!unit) throw new Error(`no house unit: ${JSON.stringify(d.body)}`);
    urls.push(unit.tracking.impression);
  }
  return urls;
}

describe.skipIf(!probe)("Redis faults", () => {
  it(
    "keeps answering under steady load while Redis is killed for 10 seconds: no 5xx, fast degraded decisions with only the house campaign, no cap exceeded, every accepted beacon counted after recovery, and readiness following the store",
    { timeout: 60_000 },
    async () => {
      const LOOPS = 20;
      const POOL = 50;
      const THINK_MS = 50;
      const WARMUP_MS = 2500;
      const OUTAGE_MS = 10_000;
      const AFTER_MS = 4000;

      const redis = await freshRedis();
      const run = await startService(redis.url);
      const { origin } = run;
      expect(await readyStatus(origin)).toBe(200);

      const decisions: DecisionSample[] = [];
      const beacons: BeaconShot[] = [];
      let stop = false;
      let fresh = 0;
      const loop = async (n: number): Promise<void> => {
        const ip = `10.1.${n}.1`;
        for (let i = 0; !stop; i++) {
          // Mostly returning readers (who reach their caps), some new ones (who can be served capped campaigns).
          const user = (i + n) % 5 === 0 ? `fresh-${fresh++}` : `reader-${(n * 7 + i) % POOL}`;
          const d = await timedDecision(origin, economyPage(), user, ip);
          decisions.push(d);
          const served = d.body?.slots.flatMap((s) => s.units) ?? [];
          const shots = await Promise.all(served.map((u) => fireBeacon(origin, u.tracking.impression, u.campaignId, ip)));
          beacons.push(...shots);
          await sleep(THINK_MS);
        }
      };
      const lagWatch = lagMonitor();
      const runStart = Date.now();
      const loops = Array.from({ length: LOOPS }, (_, n) => loop(n));

      await sleep(WARMUP_MS);
      await redis.kill();
      const killedAt = Date.now();
      await sleep(OUTAGE_MS / 2);
      const readyDuringOutage = await readyStatus(origin);
      const bufferedDuringOutage = run.service.beaconBuffer.size;
      await sleep(OUTAGE_MS / 2);
      const restartBegan = Date.now();
      await redis.restart();
      const restartedAt = Date.now();
      const readyAfterMs = await waitFor(async () => (await readyStatus(origin)) === 200, 8000, 100);
      await sleep(AFTER_MS);
      stop = true;
      await Promise.all(loops);
      const runEnd = Date.now();
      const lag = lagWatch.stop();

      // Beacons accepted during the outage are written by the buffer's background flush (one round
      // trip at a time: on a busy event loop that takes a while for a thousand or two).
      const leftWhenLoadStopped = run.service.beaconBuffer.size;
      const flushedAfterMs = await waitFor(() => run.service.beaconBuffer.size === 0, 20_000, 100);

      const inOutage = decisions.filter((d) => d.start >= killedAt && d.end <= restartBegan);
      const afterRecovery = decisions.filter((d) => d.start >= restartedAt + (readyAfterMs ?? 0) + 1000);
      const summary = {
        decisions: decisions.length,
        beacons: beacons.length,
        all: latencySummary(decisions),
        outage: latencySummary(inOutage),
        outageServerSide: latencySummary(run.decisionTimings.filter((t) => t.start >= killedAt && t.start <= restartBegan)),
        allServerSide: latencySummary(run.decisionTimings),
        beforeOutage: latencySummary(decisions.filter((d) => d.end < killedAt)),
        afterRecovery: latencySummary(afterRecovery),
        degraded: decisions.filter((d) => d.degraded).length,
        degradedBeforeOutage: decisions.filter((d) => d.degraded && d.end < killedAt).length,
        degradedAfterRecovery: afterRecovery.filter((d) => d.degraded).length,
        beaconsBufferedMidOutage: bufferedDuringOutage,
        beacons204InOutage: beacons.filter((b) => b.status === 204 && b.start >= killedAt && b.end <= restartBegan).length,
        readyAfterRestartMs: readyAfterMs,
        bufferLeftWhenLoadStopped: leftWhenLoadStopped,
        bufferFlushedAfterMs: flushedAfterMs,
        dropped: run.service.beaconBuffer.dropped,
        eventLoopDelayMs: lag,
        loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      };
      console.log(`steady load, Redis killed for ${OUTAGE_MS} ms: ${JSON.stringify(summary)}`);

      // Every request answered, none with a 5xx (or not at all).
      const failedDecisions = decisions.filter((d) => d.status !== 200);
      expect(failedDecisions.slice(0, 5), `${failedDecisions.length} decisions not 200`).toEqual([]);
      const failedBeacons = beacons.filter((b) => b.status !== 204);
      expect(failedBeacons.slice(0, 5), `${failedBeacons.length} beacons not 204`).toEqual([]);
      expect(inOutage.length).toBeGreaterThan(100);

      // Decisions during the outage: degraded, house only, within the store deadline plus a margin.
      const notDegraded = inOutage.filter((d) => !d.degraded || d.campaigns.some((c) => c !== HOUSE));
      expect(notDegraded.slice(0, 3)).toEqual([]);
      expect(inOutage.every((d) => d.campaigns.includes(HOUSE))).toBe(true);
      expectWithinDeadline(summary.outageServerSide, summary.outage, lag);
      expect(summary.all.max).toBeLessThan(2000);
      // Whenever a response is degraded, no capped campaign is in it.
      expect(decisions.filter((d) => d.degraded && d.campaigns.some((c) => c in CAPS)).slice(0, 3)).toEqual([]);

      // Caps: per reader over the whole run (well inside one day's window), across the restart.
      const served = new Map<string, number>();
      for (const d of decisions) for (const c of d.campaigns) if (c in CAPS) served.set(`${c}|${d.user}`, (served.get(`${c}|${d.user}`) ?? 0) + 1);
      const over = [...served].filter(([k, n]) => n > (CAPS[k.split("|")[0] as string] as number));
      expect(over).toEqual([]);
      // Returning readers did reach their caps (the check above is not vacuous) ...
      const most = (campaign: string): number => Math.max(0, ...[...served].filter(([k]) => k.startsWith(`${campaign}|reader-`)).map(([, n]) => n));
      expect([most(WALMART), most(MICROSOFT)]).toEqual([3, 2]);
      // ... and capped campaigns were served again after the restart (to new readers).
      expect(afterRecovery.length).toBeGreaterThan(0);
      expect(afterRecovery.some((d) => d.campaigns.includes(WALMART))).toBe(true);
      // Normal service resumed: most decisions are not degraded (a busy event loop can still make
      // a 30 ms deadline trip now and then, as it can before the outage).
      expect(summary.degradedAfterRecovery).toBeLessThanOrEqual(afterRecovery.length / 2);

      // Readiness: 503 during the outage, 200 again within a few seconds of Redis being back.
      expect(readyDuringOutage).toBe(503);
      expect(readyAfterMs).toBeDefined();
      expect(await readyStatus(origin)).toBe(200);

      // Beacons: every one answered 204 is counted once — those of the outage after the flush.
      expect(summary.beacons204InOutage).toBeGreaterThan(0);
      expect(bufferedDuringOutage).toBeGreaterThan(0);
      expect(flushedAfterMs).toBeDefined();
      expect(run.service.beaconBuffer.dropped).toBe(0);
      const accepted = new Map<string, Set<string>>();
      for (const b of beacons) if (b.status === 204) accepted.set(b.campaignId, (accepted.get(b.campaignId) ?? new Set()).add(b.token));
      const counted: Record<string, number> = {};
      const expected: Record<string, number> = {};
      for (const campaign of [WALMART, MICROSOFT, HOUSE]) {
        const r = await report(origin, campaign, day(runStart), day(runEnd));
        counted[campaign] = r.totals.impressions;
        expected[campaign] = accepted.get(campaign)?.size ?? 0;
      }
      console.log(`impressions counted ${JSON.stringify(counted)}, distinct tokens answered 204 ${JSON.stringify(expected)}`);
      expect(counted).toEqual(expected);
    },
  );

  it("answers decisions within the store deadline, degraded, while Redis is paused, and serves normally afterwards", { timeout: 30_000 }, async () => {
    const redis = await freshRedis();
    const run = await startService(redis.url);
    const { origin } = run;
    const before = await normalDecision(origin, economyPage(), "slow-before");
    expect(before.campaigns).toContain(WALMART);

    const PAUSE_MS = 2000;
    const pausedAt = await pauseRedis(redis.url, PAUSE_MS);

    const samples: DecisionSample[] = [];
    const lagWatch = lagMonitor();
    let n = 0;
    await Promise.all(
      Array.from({ length: 5 }, async (_, loop) => {
        while (Date.now() - pausedAt < PAUSE_MS - 300) {
          samples.push(await timedDecision(origin, economyPage(), `slow-${loop}-${n++}`, `10.2.${loop}.1`));
          await sleep(10);
        }
      }),
    );
    const lag = lagWatch.stop();
    const summary = latencySummary(samples);
    const serverSide = latencySummary(run.decisionTimings.filter((t) => t.start >= pausedAt && t.start <= pausedAt + PAUSE_MS - 300));
    console.log(`Redis paused for ${PAUSE_MS} ms: decisions end to end ${JSON.stringify(summary)}, server side ${JSON.stringify(serverSide)}, event-loop delay ${JSON.stringify(lag)}`);
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(samples.filter((s) => !s.degraded || s.campaigns.some((c) => c !== HOUSE))).toEqual([]);
    expectWithinDeadline(serverSide, summary, lag);

    // After the pause: normal (not degraded) decisions with capped campaigns, within a few seconds.
    const after = await normalDecision(origin, economyPage(), "slow-after");
    console.log(`normal decisions again ${Date.now() - pausedAt} ms after the pause began`);
    expect(after.campaigns).toContain(WALMART);
    expect(await waitFor(async () => (await readyStatus(origin)) === 200, 3000)).toBeDefined();
  });

  it("counts as served, and against a reader's caps, only what a response served while Redis was paused", { timeout: 30_000 }, async () => {
    const redis = await freshRedis();
    // A deadline well above this machine's scheduling noise but far below the pause: a decision
    // after the pause must not time out on a busy CPU (that would be a client-side stall, a
    // different case), while every serve sent during the pause still runs past its deadline.
    const run = await startService(redis.url, { STORE_TIMEOUT_MS: "250" });
    const { origin, service } = run;
    const today = day(Date.now());
    // One reader keeps reading while Redis is paused: every answer is degraded (no Walmart), but the
    // serve calls that timed out on the client still run in Redis once the pause ends.
    const pausedAt = await pauseRedis(redis.url, 1500);
    const during: DecisionSample[] = [];
    while (Date.now() - pausedAt < 1200) {
      during.push(await timedDecision(origin, economyPage(), "phantom-reader"));
      await sleep(20);
    }
    expect(during.every((d) => d.degraded && !d.campaigns.includes(WALMART))).toBe(true);
    await sleep(1500 - (Date.now() - pausedAt) + 100);
    // The reader was never shown Walmart, so its 3-a-day cap is untouched and the next reads show
    // Walmart 3 times; the report counts as served exactly what the responses served.
    const after: DecisionSample[] = [];
    await normalDecision(origin, houseOnlyPage(), "wake-up");
    for (let i = 0; i < 4; i++) after.push(await timedDecision(origin, economyPage(), "phantom-reader"));
    const shown = [...during, ...after].filter((d) => d.campaigns.includes(WALMART)).length;
    const r = await report(origin, WALMART, today, day(Date.now()));
    console.log(`paused: ${during.length} degraded decisions for one reader; after: walmart shown ${after.filter((d) => d.campaigns.includes(WALMART)).length} of 4; walmart served in report ${r.totals.served}; breaker ${service.breaker.state}`);
    expect({ shownAfter: after.filter((d) => d.campaigns.includes(WALMART)).length, reportedServed: r.totals.served }).toEqual({ shownAfter: 3, reportedServed: shown });
  });

  it("starts with Redis down: compose does not throw, answers degraded and not ready, then becomes ready and serves capped campaigns once Redis starts", { timeout: 30_000 }, async () => {
    const redis = await freshRedis();
    await redis.kill();

    const composeStarted = Date.now();
    const run = await startService(redis.url);
    const composeMs = Date.now() - composeStarted;
    const { origin } = run;
    console.log(`composed with Redis down in ${composeMs} ms`);
    expect(composeMs).toBeLessThan(5000);

    expect(await readyStatus(origin)).toBe(503);
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const down = await timedDecision(origin, economyPage(), "startup-reader");
    expect(down.status, down.error).toBe(200);
    expect(down.campaigns.filter((c) => c in CAPS)).toEqual([]);
    // Either the catalog is not loaded yet (nothing to serve) or it is and the response is degraded.
    const reasons = down.body?.slots.map((s) => s.noFillReason) ?? [];
    expect(down.degraded || reasons.every((r) => r === "UNKNOWN_PLACEMENT" || r === "STORE_UNAVAILABLE")).toBe(true);
    expect(down.ms).toBeLessThan(2000);

    const startedAt = Date.now();
    await redis.restart();
    const readyMs = await waitFor(async () => (await readyStatus(origin)) === 200, 8000, 100);
    console.log(`ready ${readyMs} ms after Redis started (${Date.now() - startedAt} ms incl. start)`);
    expect(readyMs).toBeDefined();
    expect(readyMs).toBeLessThan(5000);

    const up = await normalDecision(origin, economyPage(), "startup-reader-after");
    expect(up.campaigns).toContain(WALMART);
    expect(up.campaigns).toContain(MICROSOFT);
  });

  it("refuses the beacon that does not fit the buffer with a 503 envelope while Redis is down, and counts the buffered ones after recovery", { timeout: 30_000 }, async () => {
    const redis = await freshRedis();
    const run = await startService(redis.url, { BEACON_BUFFER_SIZE: "5" });
    const { origin, service } = run;
    const urls = await houseImpressions(origin, 6, "buffer-reader");
    const today = day(Date.now());

    await redis.kill();
    const accepted: number[] = [];
    for (const url of urls.slice(0, 5)) accepted.push((await fireBeacon(origin, url, HOUSE)).status);
    expect(accepted).toEqual([204, 204, 204, 204, 204]);
    expect(service.beaconBuffer.size).toBe(5);

    const res = await fetch(local(origin, urls[5] as string), { headers: { "user-agent": BROWSER_UA } });
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    const envelope = JSON.parse(text) as ErrorEnvelope;
    expect(envelope.error.code).toBe("UNAVAILABLE");
    expect(envelope.error.requestId).toBe(res.headers.get("x-request-id"));
    expect(service.beaconBuffer.dropped).toBe(1);

    await redis.restart();
    const flushedMs = await waitFor(() => service.beaconBuffer.size === 0, 10_000, 100);
    console.log(`buffer of 5 written ${flushedMs} ms after Redis restarted`);
    expect(flushedMs).toBeDefined();
    const r = await report(origin, HOUSE, today, day(Date.now()));
    // (A flush write that timed out client-side but ran in Redis is retried and then filtered as a
    // duplicate: counted once all the same.)
    expect(r.totals.impressions).toBe(5);

    // The refused beacon was not acknowledged, so the page may retry it: then it counts.
    expect((await fireBeacon(origin, urls[5] as string, HOUSE)).status).toBe(204);
    expect((await report(origin, HOUSE, today, day(Date.now()))).totals.impressions).toBe(6);
  });

  it("writes buffered beacons on close() after Redis comes back, as a SIGTERM shutdown does", { timeout: 30_000 }, async () => {
    const redis = await freshRedis();
    const run = await startService(redis.url);
    const { origin, service } = run;
    const urls = await houseImpressions(origin, 4, "shutdown-reader");
    const today = day(Date.now());

    await redis.kill();
    for (const url of urls) expect((await fireBeacon(origin, url, HOUSE)).status).toBe(204);
    expect(service.beaconBuffer.size).toBe(4);
    // An outage of a few seconds: meanwhile the ioredis clients back off between reconnection
    // attempts (100, 200, 400, 800, 1600, then 2000 ms), as they do in production.
    await sleep(5500);
    await redis.restart();
    // SIGTERM right after Redis is back: the server stops accepting, then the service closes.
    await run.stopHttp();
    const leftAtClose = service.beaconBuffer.size;
    const closeStarted = Date.now();
    await run.close();
    const closeMs = Date.now() - closeStarted;
    console.log(`close() took ${closeMs} ms with ${leftAtClose} buffered beacons; ${service.beaconBuffer.size} left unwritten`);
    expect(leftAtClose).toBe(4);
    expect(closeMs).toBeLessThan(10_000);

    // A fresh instance on the same Redis reads the counts.
    const check = await startService(redis.url);
    const r = await report(check.origin, HOUSE, today, day(Date.now()));
    const lost = run.logLines.filter((l) => l.includes("unwritten"));
    expect({ unwritten: service.beaconBuffer.size, impressions: r.totals.impressions, lost }).toEqual({ unwritten: 0, impressions: 4, lost: [] });
  });

  it("becomes ready again once Redis is back even when no request arrives to probe the open circuit", { timeout: 30_000 }, async () => {
    const redis = await freshRedis();
    const run = await startService(redis.url);
    const { origin, service } = run;
    expect(await readyStatus(origin)).toBe(200);

    await redis.kill();
    // A little traffic while Redis is down opens the circuit (BREAKER_FAILURES = 5) ...
    for (let i = 0; i < 8; i++) expect((await timedDecision(origin, economyPage(), `probe-${i}`)).status).toBe(200);
    expect(service.breaker.state).toBe("open");
    expect(await readyStatus(origin)).toBe(503);

    // ... then the instance is out of rotation (not ready), so no decisions reach it; only probes do.
    await redis.restart();
    const readyMs = await waitFor(async () => (await readyStatus(origin)) === 200, 6000, 200);
    console.log(`ready ${readyMs} ms after Redis restarted with no request traffic (breaker ${service.breaker.state})`);
    expect(readyMs, `still 503 after 6 s with Redis up; breaker is ${service.breaker.state}`).toBeDefined();
  });
});
