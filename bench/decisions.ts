/**
 * `npm run bench` (and `npm run bench:quick`): decision throughput and latency against a real
 * Redis, per catalog size, next to two baselines on the same server.
 *
 * For each catalog size (1k, 10k, 100k campaigns; `--quick`: 1k and 10k):
 *   1. start the benchmark's own redis-server (once, on a free port; FLUSHALL between sizes),
 *   2. start bench/server.ts (compiled to dist/bench/server.js) as a child process, import the generated catalog through
 *      `PUT /v1/admin/catalog`, time a forced rebuild, and stop it; then start a second one, the
 *      decision instance, which loads the catalog from Redis (timed), then a full GC of it (`--settle`),
 *   3. autocannon, in turn: GET /__bench/empty, GET /__bench/redis (one Redis round trip),
 *      POST /__bench/floor, /__bench/io, /__bench/io-capped, /__bench/io-signed (lower bounds on
 *      a decision's cost, see bench/server.ts), POST /v1/decisions (rotating bodies and user keys),
 *      then decisions at a fixed rate of half the measured maximum,
 *   4. read Redis's own INFO (commandstats, CPU, bytes) around each run, and the server's RSS, CPU,
 *      event-loop utilisation and garbage collections from /__bench/stats,
 *   5. change under load: the fixed-rate load once without changes, once with three single-campaign
 *      PATCHes (their times, and the server's longest event-loop stall in each window).
 * Prints the tables and writes bench/results/latest.json.
 *
 * Options: --quick, --sizes=1000,10000, --duration=10 (s), --connections=50, --seed=42,
 *          --warmup=2 (s), --log-level=warn, --store-timeout-ms=10000, --profile, --probe=300,
 *          --alloc-profile, --sanity=100, --pin, --settle=false, --change-windows=1, --bound=0 (rounds),
 *          --out=bench/results/latest.json (see bench/README.md)
 *
 * STORE_TIMEOUT_MS: the service's default per-call Redis deadline is 30 ms. Under a saturating
 * closed-loop load the event loop is busy for longer than that between reading a reply and
 * its timer, so calls "time out", the circuit breaker opens and decisions are served degraded
 * (capped campaigns withheld, no Redis call): the measured path would no longer be the normal
 * one. The benchmark therefore runs with 10 s (the maximum) unless `--store-timeout-ms=30` asks
 * for the production deadline; degraded responses are counted either way.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { buildNodeEntry } from "../scripts/node-bundle.js";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { generateCatalog, type CatalogShape } from "./catalog.js";
import { redisDelta, sampleRedis, startRedis, freePort, type BenchRedis, type CommandStat, type RedisSample } from "./redis.js";
import { createDecisionPool, type DecisionPool } from "./requests.js";
import { median } from "./stats.js";
import type { Stall } from "./server.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  sizes: number[];
  duration: number;
  connections: number;
  seed: number;
  logLevel: string;
  out: string;
  warmupS: number;
  probeBodies: number;
  sanityRequests: number;
  storeTimeoutMs: number;
  profile: boolean;
  /**
   * V8's sampling heap profile of each decisions run (allocations by call site): every allocation
   * (`--alloc-profile`), or only what outlived the young generation (`--alloc-profile=survivors`).
   */
  allocProfile: false | "alloc" | "survivors";
  /** Pin the server to CPU 0, and Redis and the load generator to CPU 1 (`taskset`). */
  pin: boolean;
  /**
   * Full garbage collections of the server after the set-up (import, timed rebuild, probes) and
   * before the measured runs, repeated while the committed heap shrinks (default;
   * `--settle=false` to skip them).
   */
  settle: boolean;
  /**
   * Change-under-load windows per size (each a control window and a window with PATCHes; default 1).
   * The event loop's longest stall depends on whether a major GC falls in a window: more windows,
   * a better sample.
   */
  changeWindows: number;
  /**
   * Rounds of the bound runs per size (default 0: none): the empty, one-round-trip, io, io-capped,
   * io-signed and decision routes in turn, each for `duration` seconds, so that every ratio is taken
   * within one round and a slow spell of the machine falls on all routes of a round alike.
   */
  boundRounds: number;
}

function badOption(name: string): never {
  throw new Error(`--${name}: unknown value (see bench/README.md)`);
}

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    flags.set(m[1] as string, m[2] ?? "true");
  }
  const quick = flags.get("quick") === "true";
  const num = (k: string, d: number): number => (flags.has(k) ? Number(flags.get(k)) : d);
  return {
    quick,
    sizes: flags.has("sizes") ? (flags.get("sizes") as string).split(",").map(Number) : quick ? [1000, 10_000] : [1000, 10_000, 100_000],
    duration: num("duration", quick ? 2 : 10),
    connections: num("connections", 50),
    seed: num("seed", 42),
    logLevel: flags.get("log-level") ?? "warn",
    out: resolve(ROOT, flags.get("out") ?? "bench/results/latest.json"),
    warmupS: num("warmup", quick ? 0 : 2),
    probeBodies: num("probe", quick ? 50 : 300),
    sanityRequests: num("sanity", quick ? 20 : 100),
    storeTimeoutMs: num("store-timeout-ms", 10_000),
    profile: flags.get("profile") === "true",
    allocProfile: !flags.has("alloc-profile") ? false : flags.get("alloc-profile") === "survivors" ? "survivors" : flags.get("alloc-profile") === "true" ? "alloc" : badOption("alloc-profile"),
    pin: flags.get("pin") === "true",
    settle: flags.get("settle") !== "false",
    changeWindows: Math.max(1, num("change-windows", 1)),
    boundRounds: Math.max(0, num("bound", 0)),
  };
}

// ---------------------------------------------------------------------------------------------
// The server child process

interface ServerLog {
  warnings: Map<string, number>;
  tail: string[];
}

interface BenchServer {
  readonly base: string;
  readonly adminKey: string;
  readonly log: ServerLog;
  readonly pid: number;
  /** From the process's spawn (the bundle already built) to its `BENCH_READY` line. */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/** A full garbage collection of this (load-generating) process. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** CPUs of `--pin`: the server alone on one, Redis and the load generator on the other. */
const SERVER_CPU = "0";
const OTHER_CPU = "1";

async function startServer(redisUrl: string, opts: Options): Promise<BenchServer> {
  const port = await freePort();
  const adminKey = "spk_bench_" + randomBytes(18).toString("base64url");
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.REDIS_CLUSTER_NODES;
  Object.assign(env, {
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    ADMIN_API_KEY: adminKey,
    TRACKING_SECRET: randomBytes(32).toString("base64url"),
    LOG_LEVEL: opts.logLevel,
    STORE_TIMEOUT_MS: String(opts.storeTimeoutMs),
    PUBLIC_BASE_URL: "https://ads.bench.example",
    ALLOWED_ORIGINS: "https://news.example",
    SEED_SAMPLE_DATA: "false",
    // The 100k-campaign import is one large catalog write; the default 5 s admin deadline is for
    // interactive edits.
    ADMIN_TIMEOUT_MS: process.env.ADMIN_TIMEOUT_MS ?? "60000",
  });
  // The server runs as compiled JavaScript, as `npm start` runs it (dist/server.js), not through tsx.
  const entry = await buildNodeEntry("bench/server.ts", "dist/bench/server.js");
  // BENCH_NODE_FLAGS: extra node flags for the server, for experiments (e.g. heap sizing).
  const extraFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const nodeArgs = ["--expose-gc", "--enable-source-maps", ...extraFlags, entry];
  // taskset execs node: the child keeps its pid (the server's CPU is read by pid).
  const [command, args] = opts.pin ? ["taskset", ["-c", SERVER_CPU, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: ServerLog = { warnings: new Map(), tail: [] };
  // BENCH_SERVER_LOG: every line the server prints also goes to this file (e.g. with
  // BENCH_NODE_FLAGS=--trace-gc), for experiments.
  const rawLog = process.env.BENCH_SERVER_LOG ? createWriteStream(process.env.BENCH_SERVER_LOG, { flags: "a" }) : undefined;
  const onLine = (line: string): void => {
    if (!line) return;
    rawLog?.write(`${line}\n`);
    log.tail.push(line.length > 400 ? line.slice(0, 400) + "…" : line);
    if (log.tail.length > 30) log.tail.shift();
    if (line.startsWith("{")) {
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        if ((entry.level ?? 0) >= 40) {
          const key = `${entry.level === 40 ? "warn" : entry.level === 50 ? "error" : "fatal"}: ${entry.msg ?? "?"}`;
          log.warnings.set(key, (log.warnings.get(key) ?? 0) + 1);
        }
      } catch {
        /* a partial line; ignore */
      }
    }
  };
  child.on("exit", (code, signal) => onLine(`[bench] server process exited: code ${code} signal ${signal}`));
  const ready = new Promise<void>((resolveReady, reject) => {
    let buffered = "";
    child.stdout?.on("data", (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("BENCH_READY")) resolveReady();
        else onLine(line);
      }
    });
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      for (const l of d.toString().split("\n")) onLine(l);
    });
    child.once("exit", (code) => reject(new Error(`bench server exited (${code}) before it was ready:\n${err}`)));
    setTimeout(() => reject(new Error(`bench server not ready after 60 s:\n${err}`)), 60_000).unref();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 5000);
    await done;
    clearTimeout(timer);
  };
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  const readyMs = performance.now() - spawnedAt;
  return { base: `http://127.0.0.1:${port}`, adminKey, log, pid: child.pid as number, readyMs, stop };
}

// ---------------------------------------------------------------------------------------------
// Measurements

type GcKind = "minor" | "major" | "incremental" | "weak";

interface ServerStats {
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  elu: { idle: number; active: number; utilization: number };
  gc: Record<GcKind, { n: number; ms: number }>;
  catalog: { version: number; campaigns: number; units: number; placements: Record<string, unknown> };
  breaker: string;
  counters: { tallies: Record<string, number>; store: Record<string, { n: number; meanMs: number; p50Ms: number; p99Ms: number }>; inflight: number };
}

async function serverStats(base: string, reset = true, gc = false): Promise<ServerStats> {
  const res = await call(`${base}/__bench/stats?${reset ? "reset=1&" : ""}${gc ? "gc=1" : ""}`);
  return (await res.json()) as ServerStats;
}

interface DecisionTally {
  responses: number;
  units: number;
  unitsBySlot: { mid: number; end: number };
  noFill: Record<string, number>;
  degraded: number;
  statuses: Record<string, number>;
  non2xxSamples: string[];
}

function newTally(): DecisionTally {
  return { responses: 0, units: 0, unitsBySlot: { mid: 0, end: 0 }, noFill: {}, degraded: 0, statuses: {}, non2xxSamples: [] };
}

const NO_FILL = /"noFillReason":"([A-Z_]+)"/g;

/** Cheap accounting of one decision response (string scans, no JSON.parse on the load path). */
function tallyDecision(t: DecisionTally, status: number, body: string, headers: Record<string, unknown>): void {
  t.responses++;
  t.statuses[status] = (t.statuses[status] ?? 0) + 1;
  if (status < 200 || status >= 300) {
    if (t.non2xxSamples.length < 5) t.non2xxSamples.push(`${status} ${body.slice(0, 300)}`);
    return;
  }
  if (headers["x-degraded"] ?? headers["X-Degraded"]) t.degraded++;
  // Slots come back in request order: mid-1 first, end-1 second.
  const endAt = body.indexOf('"id":"end-1"');
  let i = body.indexOf('"unitId":"');
  while (i >= 0) {
    t.units++;
    if (endAt >= 0 && i > endAt) t.unitsBySlot.end++;
    else t.unitsBySlot.mid++;
    i = body.indexOf('"unitId":"', i + 10);
  }
  for (const m of body.matchAll(NO_FILL)) t.noFill[m[1] as string] = (t.noFill[m[1] as string] ?? 0) + 1;
}

interface LoadResult {
  responses: number;
  /** Seconds the load ran (for staggered instances: each instance's own duration). */
  durationS: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
  /**
   * Fixed-rate runs: the latencies of the responses that arrived once the load generator's ramp
   * was over (every instance started and connected, plus half a second), i.e. the steady state.
   */
  steadyLatencyMs?: { p50: number; p99: number; p99_9: number; max: number; responses: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

interface RunResult extends LoadResult {
  route: string;
  connections: number;
  overallRate?: number;
  /** % of one core over the run; `other` = the whole machine (/proc/stat) minus server, Redis and
   * load generator: anything else running on the box (interference). */
  cpuPercent: { server: number; redis: number; loadgen: number; machine: number; other: number };
  serverEventLoopUtilization: number;
  /** The server's garbage collections during the run: count and main-thread pause (ms) by kind. */
  gc: Record<GcKind, { n: number; ms: number }>;
  /** What the service itself counted during the run (its telemetry hooks), in-flight tail included. */
  server: {
    decisions: number;
    degraded: number;
    fills: Record<string, number>;
    noFills: Record<string, number>;
    storeCalls: Record<string, { n: number; meanMs: number; p50Ms: number; p99Ms: number }>;
  };
  redis: {
    totalCalls: number;
    scriptCalls: number;
    scriptUsec: number;
    netInBytes: number;
    netOutBytes: number;
    commands: Record<string, CommandStat>;
  };
  decisions?: DecisionTally;
}

type CannonOptions = autocannon.Options;

/** Runs autocannon; `onLatency` sees every response (status, ms). */
function cannon(options: CannonOptions, onLatency?: (status: number, ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolveRun, reject) => {
    const instance = autocannon(options, (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolveRun(result)));
    if (onLatency) instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => onLatency(status, ms));
  });
}

function responsesOf(r: autocannon.Result): number {
  return r["1xx"] + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"];
}

function fromAutocannon(r: autocannon.Result): LoadResult {
  const lat = r.latency as autocannon.Histogram & { p99_9?: number };
  const responses = responsesOf(r);
  return {
    responses,
    durationS: r.duration,
    rps: responses / r.duration,
    latencyMs: { p50: lat.p50, p90: lat.p90, p99: lat.p99, p99_9: lat.p99_9 ?? NaN, max: lat.max, mean: lat.mean },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, (v as { count: number }).count])),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/**
 * Decisions at a fixed overall rate with autocannon `overallRate`. autocannon meters a rate per
 * connection per one-second window (a connection sends its quota back to back, then waits for the
 * next second), so one instance turns "R per second" into one burst at the top of each second.
 * To spread arrivals, the rate and connections are split over up to 50 instances started 1/k s
 * apart, one connection each at the default 50 connections, so that every 20 ms one connection
 * sends its quota for the second back to back (with 10 instances of 5 connections, bursts of five
 * concurrent streams every 100 ms queued behind each other and the p99 measured the burst); latencies are collected raw from every response (no coordinated-omission correction:
 * autocannon 9 corrects with an expected interval of ceil(1/rate) = 1 ms, which floods the
 * histogram with synthetic samples).
 */
async function fixedRate(options: CannonOptions, rate: number, connections: number): Promise<LoadResult> {
  const k = Math.max(1, Math.min(50, rate, connections));
  const share = (total: number, i: number): number => Math.floor(total / k) + (i < total % k ? 1 : 0);
  const latencies: number[] = [];
  // The instances start 1000/k ms apart over the first second, each opening its connections: the
  // load generator's own ramp, which queues requests on both sides of the socket. Responses after
  // it are also kept apart (the steady state).
  const steady: number[] = [];
  const steadyFrom = performance.now() + ((k - 1) * 1000) / k + 500;
  const runs = Array.from({ length: k }, (_, i) =>
    sleep((i * 1000) / k).then(() =>
      cannon(
        { ...options, connections: Math.max(1, share(connections, i)), overallRate: share(rate, i), ignoreCoordinatedOmission: true },
        (status, ms) => {
          if (status >= 200 && status < 300) {
            latencies.push(ms);
            if (performance.now() >= steadyFrom) steady.push(ms);
          }
        },
      ),
    ),
  );
  const results = await Promise.all(runs);
  latencies.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  const responses = results.reduce((n, r) => n + responsesOf(r), 0);
  const statusCodes: Record<string, number> = {};
  for (const r of results) for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + (v as { count: number }).count;
  return {
    responses,
    durationS: Math.max(...results.map((r) => r.duration)),
    rps: results.reduce((n, r) => n + responsesOf(r) / r.duration, 0),
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      p99_9: percentile(latencies, 99.9),
      max: latencies[latencies.length - 1] ?? NaN,
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
    steadyLatencyMs: { p50: percentile(steady, 50), p99: percentile(steady, 99), p99_9: percentile(steady, 99.9), max: steady[steady.length - 1] ?? NaN, responses: steady.length },
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    timeouts: results.reduce((n, r) => n + r.timeouts, 0),
    statusCodes,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * fetch with a retry on network errors: undici may reuse a keep-alive socket the server has just
 * closed, which fails the request without reaching the server.
 */
async function call(url: string, init?: RequestInit, tries = 3): Promise<Response> {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (i >= tries) {
        const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
        throw new Error(`${init?.method ?? "GET"} ${url} failed${cause}`, { cause: err });
      }
      await sleep(200);
    }
  }
}

/**
 * Waits until the server has finished what the last load left in flight (autocannon stops
 * sending, but requests already read are still being computed or waiting for Redis): no decision
 * in flight, then an empty request must come back quickly twice in a row.
 */
async function drain(base: string, maxMs = 120_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const stats = (await (await call(`${base}/__bench/stats`)).json()) as { counters: { inflight: number } };
    if (stats.counters.inflight <= 0) break;
    await sleep(100);
  }
  let quick = 0;
  while (quick < 2 && Date.now() < until) {
    const t = performance.now();
    await call(`${base}/__bench/empty`).then((r) => r.text());
    if (performance.now() - t < 5) quick++;
    else {
      quick = 0;
      await sleep(50);
    }
  }
}

/** Busy and total jiffies of the whole machine (Linux /proc/stat; zeros elsewhere). */
function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function gcDelta(s0: ServerStats, s1: ServerStats): RunResult["gc"] {
  const out = {} as RunResult["gc"];
  for (const kind of ["minor", "major", "incremental", "weak"] as const) {
    out[kind] = { n: s1.gc[kind].n - s0.gc[kind].n, ms: s1.gc[kind].ms - s0.gc[kind].ms };
  }
  return out;
}

function serverCounters(s0: ServerStats, s1: ServerStats): RunResult["server"] {
  const delta = (prefix: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(s1.counters.tallies)) {
      if (!k.startsWith(prefix + ".")) continue;
      const d = v - (s0.counters.tallies[k] ?? 0);
      if (d > 0) out[k.slice(prefix.length + 1)] = d;
    }
    return out;
  };
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    decisions: (s1.counters.tallies.decisions ?? 0) - (s0.counters.tallies.decisions ?? 0),
    degraded: sum(delta("degraded")),
    fills: delta("fills"),
    noFills: delta("noFills"),
    storeCalls: s1.counters.store,
  };
}

/** A process's resident set (VmRSS of /proc/<pid>/status) every 250 ms until `stop`; NaN where /proc is missing. */
function rssSampler(pid: number): { stop(): { medianMB: number; maxMB: number; samples: number } } {
  const samples: number[] = [];
  const read = (): void => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) samples.push(Number(m[1]) / 1024);
    } catch {
      /* no /proc, or the process is gone */
    }
  };
  read();
  const timer = setInterval(read, 250);
  return {
    stop() {
      clearInterval(timer);
      read();
      const sorted = [...samples].sort((a, b) => a - b);
      return { medianMB: sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : NaN, maxMB: sorted.length ? (sorted[sorted.length - 1] as number) : NaN, samples: sorted.length };
    },
  };
}

async function measured(
  label: string,
  server: BenchServer,
  redis: BenchRedis,
  connections: number,
  load: () => Promise<LoadResult>,
  extra: { overallRate?: number; tally?: DecisionTally } = {},
): Promise<RunResult> {
  await drain(server.base);
  const [s0, r0] = await Promise.all([serverStats(server.base), sampleRedis(redis.client)]);
  const c0 = process.cpuUsage();
  const m0 = machineCpu();
  const t0 = performance.now();
  const result = await load();
  const c1 = process.cpuUsage(c0);
  const m1 = machineCpu();
  const loadS = (performance.now() - t0) / 1000;
  await drain(server.base);
  const wallS = (performance.now() - t0) / 1000;
  const [s1, r1]: [ServerStats, RedisSample] = await Promise.all([serverStats(server.base), sampleRedis(redis.client)]);
  const d = redisDelta(r0, r1);
  const serverCpuS = (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1e6;
  const eluWall = s1.elu.active + s1.elu.idle - (s0.elu.active + s0.elu.idle);
  const run: RunResult = {
    ...result,
    route: label,
    connections,
    ...(extra.overallRate ? { overallRate: extra.overallRate } : {}),
    // CPU over the wall time from start to drained (server work left in flight included).
    cpuPercent: (() => {
      const server = (100 * serverCpuS) / wallS;
      const redisCpu = (100 * d.cpuSeconds) / wallS;
      const loadgen = (100 * (c1.user + c1.system)) / 1e6 / loadS;
      const machine = m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * cpus().length * 100 : NaN;
      return { server, redis: redisCpu, loadgen, machine, other: Math.max(0, machine - server - redisCpu - loadgen) };
    })(),
    serverEventLoopUtilization: eluWall > 0 ? (s1.elu.active - s0.elu.active) / eluWall : NaN,
    gc: gcDelta(s0, s1),
    server: serverCounters(s0, s1),
    redis: {
      totalCalls: d.totalCalls,
      scriptCalls: d.scriptCalls,
      scriptUsec: d.scriptUsec,
      netInBytes: d.netInBytes,
      netOutBytes: d.netOutBytes,
      commands: d.commands,
    },
    ...(extra.tally ? { decisions: extra.tally } : {}),
  };
  process.stderr.write(
    `    ${label.padEnd(22)} ${fmt(run.rps, 0).padStart(7)} req/s  p50 ${fmt(run.latencyMs.p50, 1)} ms  p99 ${fmt(run.latencyMs.p99, 1)} ms` +
      (run.steadyLatencyMs ? ` (after the ramp ${fmt(run.steadyLatencyMs.p99, 1)} ms)` : "") +
      `  non-2xx ${run.non2xx}  errors ${run.errors}  ELU ${fmt(run.serverEventLoopUtilization, 2)}  cpu srv/redis/gen/other ${fmt(run.cpuPercent.server, 0)}/${fmt(run.cpuPercent.redis, 0)}/${fmt(run.cpuPercent.loadgen, 0)}/${fmt(run.cpuPercent.other, 0)}%` +
      `  gc minor ${run.gc.minor.n}/${fmt(run.gc.minor.ms, 0)} ms major ${run.gc.major.n}/${fmt(run.gc.major.ms, 0)} ms` +
      `${run.server.decisions ? `  served ${run.server.decisions}` : ""}${run.server.degraded ? `  DEGRADED ${run.server.degraded}` : ""}\n`,
  );
  return run;
}

/** The routes of a bound round, in the order they run: name, path, method. */
const BOUND_ROUTES = [
  ["empty", "/__bench/empty", "GET"],
  ["redis", "/__bench/redis", "GET"],
  ["io", "/__bench/io", "POST"],
  ["ioCapped", "/__bench/io-capped", "POST"],
  ["ioSigned", "/__bench/io-signed", "POST"],
  ["decisions", "/v1/decisions", "POST"],
] as const;

/** One bound round: req/s per route and each route's rate ÷ the round's empty and 1-RT routes. */
interface BoundRound {
  rps: Record<string, number>;
  toEmpty: Record<string, number>;
  toRedis: Record<string, number>;
}

function ratiosTo(rps: Record<string, number>, base: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rps)) if (k !== base) out[k] = v / (rps[base] as number);
  return out;
}

function decisionRequests(pool: DecisionPool, counter: { n: number }, tally?: DecisionTally, path = "/v1/decisions"): autocannon.Request[] {
  return [
    {
      method: "POST",
      path,
      headers: { "content-type": "application/json" },
      setupRequest: (req) => ({ ...req, body: pool.body(counter.n++) }),
      ...(tally ? { onResponse: (status: number, body: string, _ctx: object, headers: unknown) => tallyDecision(tally, status, String(body), (headers ?? {}) as Record<string, unknown>) } : {}),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Per catalog size

interface SanityReport {
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  unitsPerDecision: number;
  filledSlots: { mid: number; end: number };
  noFill: Record<string, number>;
  degraded: number;
  problems: string[];
  example?: unknown;
}

async function sanityCheck(base: string, pool: DecisionPool, counter: { n: number }, n: number, maxMs = 15_000): Promise<SanityReport> {
  const report: SanityReport = { requests: 0, ok: 0, statuses: {}, unitsPerDecision: 0, filledSlots: { mid: 0, end: 0 }, noFill: {}, degraded: 0, problems: [] };
  let units = 0;
  const until = Date.now() + maxMs;
  for (let i = 0; i < n && Date.now() < until; i++) {
    report.requests++;
    const res = await call(`${base}/v1/decisions`, { method: "POST", headers: { "content-type": "application/json" }, body: pool.body(counter.n++) });
    report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
    const text = await res.text();
    if (res.status !== 200) {
      if (report.problems.length < 5) report.problems.push(`status ${res.status}: ${text.slice(0, 200)}`);
      continue;
    }
    if (res.headers.get("x-degraded")) report.degraded++;
    const body = JSON.parse(text) as { decisionId?: string; slots?: { id: string; units: { cta?: { url?: string }; disclosure?: { label?: string }; html?: string }[]; noFillReason?: string }[] };
    if (!body.decisionId || body.slots?.length !== 2) {
      report.problems.push(`unexpected body: ${text.slice(0, 200)}`);
      continue;
    }
    report.ok++;
    const [mid, end] = body.slots as [NonNullable<typeof body.slots>[number], NonNullable<typeof body.slots>[number]];
    if (mid.units.length > 1) report.problems.push(`article-mid served ${mid.units.length} units (maxUnits 1)`);
    if (end.units.length > 3) report.problems.push(`article-end served ${end.units.length} units (maxUnits 3)`);
    if (mid.units.length > 0) report.filledSlots.mid++;
    if (end.units.length > 0) report.filledSlots.end++;
    for (const s of body.slots ?? []) {
      if (s.noFillReason) report.noFill[s.noFillReason] = (report.noFill[s.noFillReason] ?? 0) + 1;
      for (const u of s.units) {
        units++;
        if (!u.cta?.url?.startsWith("https://ads.bench.example/v1/events/click?t=")) report.problems.push(`unit without a signed click URL: ${u.cta?.url}`);
        if (!u.disclosure?.label) report.problems.push("unit without a disclosure label");
      }
    }
    if (!report.example && mid.units.length > 0 && end.units.length > 0) {
      report.example = { slots: body.slots?.map((s) => ({ id: s.id, units: s.units.map((u) => (u as { campaignId?: string }).campaignId), noFillReason: s.noFillReason })) };
    }
  }
  report.unitsPerDecision = report.ok > 0 ? units / report.ok : 0;
  report.problems = [...new Set(report.problems)].slice(0, 10);
  return report;
}

interface ProbeReport {
  bodies: number;
  perSlot: Record<string, { poolMean: number; poolP50: number; poolMax: number; eligibleMean: number; eligibleP50: number; eligibleMax: number; open: number }>;
}

async function probeCandidates(base: string, pool: DecisionPool, n: number, maxMs = 10_000): Promise<ProbeReport> {
  const bySlot = new Map<string, { pool: number[]; eligible: number[]; open: number }>();
  const until = Date.now() + maxMs;
  let done = 0;
  for (let i = 0; i < n && Date.now() < until; i++, done++) {
    const res = await call(`${base}/__bench/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(pool.sample(i)) });
    const { slots } = (await res.json()) as { slots: { id: string; pool: number; eligible: number; open: number }[] };
    for (const s of slots) {
      const e = bySlot.get(s.id) ?? { pool: [], eligible: [], open: s.open };
      e.pool.push(s.pool);
      e.eligible.push(s.eligible);
      bySlot.set(s.id, e);
    }
  }
  const stats = (xs: number[]): { mean: number; p50: number; max: number } => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), p50: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
  };
  const perSlot: ProbeReport["perSlot"] = {};
  for (const [id, e] of bySlot) {
    const p = stats(e.pool);
    const el = stats(e.eligible);
    perSlot[id] = { poolMean: p.mean, poolP50: p.p50, poolMax: p.max, eligibleMean: el.mean, eligibleP50: el.p50, eligibleMax: el.max, open: e.open };
  }
  return { bodies: done, perSlot };
}

interface ProfileSummary {
  file: string;
  totalMs: number;
  top: { name: string; where: string; selfMs: number; selfPercent: number }[];
  byArea: { area: string; selfPercent: number }[];
}

interface SizeResult {
  campaigns: number;
  /** `--bound=N`: the alternated rounds of the baselines and decisions. */
  bound?: BoundRound[];
  code: Record<string, unknown>;
  loadAverageAtStart: number[];
  catalog: { shape: CatalogShape; bytes: number; generateMs: number };
  import: { ms: number; redisScriptMs: number; redisMemoryMB: number; status: number; version?: number; added?: number };
  /** Timed on the importing instance (see `runSize`). */
  rebuild: { loadMs: number; compileMs: number; refreshMs: number };
  /** The decision instance: process start to listening, its load of the catalog from Redis included. */
  instanceStartMs: number;
  index: Record<string, unknown>;
  candidates: ProbeReport;
  sanity: SanityReport;
  /** The server's memory when the measured runs start (after the full GC of `--settle`, if on). */
  beforeRuns: { settled: boolean; rssMB: number; heapUsedMB: number; heapTotalMB: number };
  backgroundRedisCallsPerSecond: number;
  runs: { empty: RunResult; redis: RunResult; floor: RunResult; io?: RunResult; ioSigned?: RunResult; ioCapped?: RunResult; decisions: RunResult; fixedRate: RunResult };
  /** The first change-under-load window (the tables show it). */
  change: ChangeResult;
  /** Every window, the first included, with `--change-windows` > 1. */
  changeWindows?: ChangeResult[];
  profile?: ProfileSummary;
  summary: {
    decisionsRps: number;
    decisionsP50: number;
    decisionsP99: number;
    ratioToRedis: number;
    ratioToEmpty: number;
    /** Decisions ÷ the contract's floor route, and that floor ÷ the one-round-trip route. */
    ratioToFloor: number;
    floorToRedis: number;
    commandsPerDecision: number;
    scriptCallsPerDecision: number;
    redisUsecPerDecision: number;
    redisUsecPerScriptCall: number;
    redisBytesInPerDecision: number;
    redisBytesOutPerDecision: number;
    unitsPerDecision: number;
    degraded: number;
    /** caps.serve as timed by the service (event-loop queueing included). */
    storeServeMs: { n: number; meanMs: number; p50Ms: number; p99Ms: number } | null;
    non2xx: number;
    errors: number;
    /** The decision instance's RSS sampled every 250 ms during the closed-loop decisions run (saturation)... */
    rssServingMedianMB: number;
    rssServingMaxMB: number;
    rssServingSamples: number;
    /** ... and during the fixed-rate run (half the closed loop's rate). */
    rssHalfRateMedianMB: number;
    rssHalfRateMaxMB: number;
    rssHalfRateSamples: number;
    /** After every run, the change windows included. */
    rssMB: number;
    heapUsedMB: number;
    rssAfterGcMB: number;
    heapUsedAfterGcMB: number;
    /** `steadyP99`: after the load generator's ramp (see `LoadResult.steadyLatencyMs`). */
    fixedRate: { target: number; achieved: number; p50: number; p99: number; steadyP99: number; non2xx: number };
  };
  serverWarnings: Record<string, number>;
}

async function runSize(size: number, opts: Options, redis: BenchRedis, pool: DecisionPool, counter: { n: number }): Promise<SizeResult> {
  process.stderr.write(`\n== ${size.toLocaleString("en-US")} campaigns (load average ${loadavg().map((x) => x.toFixed(1)).join(" ")})\n`);
  const loadAverageAtStart = loadavg();
  let t = performance.now();
  // The generated document, its JSON and the import's answer (~600 MB of heap at 100k) are
  // dropped once the import is done and collected before measuring: kept, the load generator's
  // own garbage collections (it shares the event loop that timestamps responses) were counted as
  // decision latency.
  let generated: ReturnType<typeof generateCatalog> | undefined = generateCatalog({ campaigns: size, seed: opts.seed });
  const shape = generated.shape;
  let payload: string | undefined = JSON.stringify(generated.document);
  const catalogBytes = payload.length;
  // Active campaigns (ids only) for the change phase's PATCHes.
  const activeCampaigns = (generated.document.campaigns ?? []).filter((c) => (c.status ?? "active") === "active").map((c) => ({ id: c.id }));
  const generateMs = performance.now() - t;
  process.stderr.write(`  catalog generated: ${(catalogBytes / 1e6).toFixed(1)} MB in ${fmt(generateMs, 0)} ms\n`);

  await redis.client.flushall();
  // The server loads src/ as it is now: note which code that was.
  const code = codeState();
  // The catalog goes in through one instance and decisions are served by another, started
  // afterwards, which loads the catalog from Redis as every decision instance does (the
  // deployment docs/performance.md recommends for large imports). Measured on the importing
  // instance, RSS at 100k was what the import's body and answer left committed (400+ MB), not
  // what a serving instance holds.
  const importer = await startServer(redis.url, opts);
  let importMs: number;
  let importScriptMs: number;
  let redisMemoryMB: number;
  let imported: { version: number | undefined; added: number };
  let rebuild: SizeResult["rebuild"];
  let status: number;
  try {
    const importBefore = await sampleRedis(redis.client);
    t = performance.now();
    const res = await fetch(`${importer.base}/v1/admin/catalog`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${importer.adminKey}` },
      body: payload,
    });
    status = res.status;
    let importText: string | undefined = await res.text();
    importMs = performance.now() - t;
    if (res.status !== 200) throw new Error(`catalog import answered ${res.status}: ${importText.slice(0, 500)}`);
    const answer = JSON.parse(importText) as { version?: number; diff?: { added?: unknown[] } };
    imported = { version: answer.version, added: answer.diff?.added?.length ?? 0 };
    generated = undefined;
    payload = undefined;
    importText = undefined;
    collectGarbage();
    const importAfter = await sampleRedis(redis.client);
    const importRedis = redisDelta(importBefore, importAfter);
    // The catalog write is one script: Redis runs nothing else meanwhile.
    importScriptMs = importRedis.scriptUsec / 1000;
    redisMemoryMB = (importAfter.info.used_memory ?? 0) / 1048576;
    process.stderr.write(
      `  import: ${fmt(importMs, 0)} ms (version ${imported.version}; catalog-write script ${fmt(importScriptMs, 0)} ms in Redis; Redis memory ${fmt(redisMemoryMB, 0)} MB)\n`,
    );

    rebuild = (await (await call(`${importer.base}/__bench/rebuild`, { method: "POST" })).json()) as SizeResult["rebuild"];
    process.stderr.write(`  rebuild: load ${fmt(rebuild.loadMs, 0)} ms + compile ${fmt(rebuild.compileMs, 0)} ms (refresh ${fmt(rebuild.refreshMs, 0)} ms)\n`);
  } catch (err) {
    process.stderr.write(`  importing server's log tail:\n    ${importer.log.tail.join("\n    ")}\n`);
    throw err;
  } finally {
    await importer.stop();
  }
  const server = await startServer(redis.url, opts);
  // Process start to listening, the catalog's load from Redis included (composeService awaits it).
  const startMs = server.readyMs;
  process.stderr.write(`  decision instance: started and loaded in ${fmt(startMs, 0)} ms\n`);
  try {

    const candidates = await probeCandidates(server.base, pool, opts.probeBodies);
    const sanity = await sanityCheck(server.base, pool, counter, opts.sanityRequests);
    process.stderr.write(
      `  sanity: ${sanity.ok}/${sanity.requests} ok, ${fmt(sanity.unitsPerDecision, 2)} units/decision, filled mid ${sanity.filledSlots.mid} end ${sanity.filledSlots.end}` +
        `${sanity.problems.length ? `, PROBLEMS: ${sanity.problems.join("; ")}` : ""}\n`,
    );

    // The catalog's load (its pages of JSON, parsed in slices) and the probes leave garbage in the
    // server's old generation until V8's next major collection, which under load comes tens of
    // seconds later, and the pages they fragmented stay committed. Scavenges pay per committed old
    // page (at 100k, when the import was served by this same process: 4–6 ms each unsettled, ~3 ms
    // settled, on every route alike). Collecting first measures the heap a serving instance
    // settles at.
    let settledStats = await serverStats(server.base, false, opts.settle);
    // Each full collection compacts only the most fragmented pages: repeat while the committed
    // heap still shrinks (a few times at most).
    for (let i = 0; opts.settle && i < 4; i++) {
      const again = await serverStats(server.base, false, true);
      const shrunk = again.memory.heapTotal < settledStats.memory.heapTotal * 0.95;
      settledStats = again;
      if (!shrunk) break;
    }
    const beforeRuns = {
      settled: opts.settle,
      rssMB: settledStats.memory.rss / 1048576,
      heapUsedMB: settledStats.memory.heapUsed / 1048576,
      heapTotalMB: settledStats.memory.heapTotal / 1048576,
    };
    process.stderr.write(
      `  before the runs${opts.settle ? ", after a full GC" : " (not settled)"}: RSS ${fmt(beforeRuns.rssMB, 0)} MB, heap ${fmt(beforeRuns.heapUsedMB, 0)} MB used of ${fmt(beforeRuns.heapTotalMB, 0)} MB\n`,
    );

    const common = { connections: opts.connections, pipelining: 1, timeout: 120 } as const;
    const base = server.base;
    const closed = (options: CannonOptions) => async (): Promise<LoadResult> => fromAutocannon(await cannon(options));
    // Warm-up (JIT, connection pools, script cache) before each route, not measured.
    // `--warmup=0` (the quick run's, to stay under a minute on a slow machine) skips it.
    const warm = async (options: CannonOptions): Promise<void> => {
      if (opts.warmupS > 0) await cannon({ ...options, duration: opts.warmupS });
    };
    // One closed-loop run of a route (decision bodies for POST), after its warm-up.
    const routeRun = async (label: string, path: string, method: "GET" | "POST"): Promise<RunResult> => {
      const url = `${base}${path}`;
      const options = (): CannonOptions => (method === "GET" ? { ...common, url } : { ...common, url, requests: decisionRequests(pool, counter, undefined, path) });
      await warm(options());
      return measured(label, server, redis, opts.connections, closed({ ...options(), duration: opts.duration }));
    };
    const empty = await routeRun("GET /__bench/empty", "/__bench/empty", "GET");
    const redisRun = await routeRun("GET /__bench/redis", "/__bench/redis", "GET");
    // The contract's floor: the decision bodies in, a decision's bytes out, one INCR (see bench/server.ts).
    const floor = await routeRun("POST /__bench/floor", "/__bench/floor", "POST");
    // The contract's I/O alone (no validation), then with the least cap script, then with the least
    // cryptography (see bench/server.ts): upper bounds on any decision's rate on this server.
    const ioRun = (path: string): Promise<RunResult> => routeRun(`POST ${path}`, path, "POST");
    // Not in the quick run, which must stay under a minute (`--bound` runs them either way).
    const io = opts.quick ? undefined : await ioRun("/__bench/io");
    const ioCapped = opts.quick ? undefined : await ioRun("/__bench/io-capped");
    const ioSigned = opts.quick ? undefined : await ioRun("/__bench/io-signed");
    const decisionUrl = `${base}/v1/decisions`;
    await warm({ ...common, url: decisionUrl, requests: decisionRequests(pool, counter) });
    if (opts.profile) await call(`${base}/__bench/profile/start`, { method: "POST" });
    if (opts.allocProfile) await call(`${base}/__bench/${opts.allocProfile}/start`, { method: "POST" });
    const tally = newTally();
    // The decision instance's RSS while it serves: the closed-loop run (saturation), then the
    // fixed-rate run (half of it), which starts with what the first left in the old generation.
    const rssAtMax = rssSampler(server.pid);
    const decisions = await measured(
      "POST /v1/decisions",
      server,
      redis,
      opts.connections,
      closed({ ...common, url: decisionUrl, duration: opts.duration, requests: decisionRequests(pool, counter, tally) }),
      { tally },
    );
    const servingAtMax = rssAtMax.stop();
    // Stops one of the server's recordings (bench/server.ts `recorder`), written next to the results.
    const stopRecording = async (name: string, file: string): Promise<unknown> => {
      mkdirSync(dirname(file), { recursive: true });
      const res = await call(`${base}/__bench/${name}/stop`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ file }) });
      if (!res.ok) throw new Error(`${name} stop: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    };
    if (opts.allocProfile) {
      const kind = opts.allocProfile;
      const file = resolve(dirname(opts.out), `decisions-${size}${kind === "survivors" ? "-survivors" : ""}.heapprofile`);
      const summary = (await stopRecording(kind, file)) as { totalKB: number; top: { name: string; where: string; selfKB: number; selfPercent: number }[] };
      const per = decisions.server.decisions > 0 ? ` (${fmt(summary.totalKB / decisions.server.decisions, 2)} KB per decision)` : "";
      process.stderr.write(
        `  ${kind === "survivors" ? "allocations that outlived the young generation" : "allocations"}: ${fmt(summary.totalKB / 1024, 1)} MB sampled${per}; ${file}\n` +
          summary.top
            .slice(0, 12)
            .map((t) => `    ${fmt(t.selfPercent, 1).padStart(5)} %  ${fmt(t.selfKB, 0).padStart(8)} KB  ${t.name} ${t.where}\n`)
            .join(""),
      );
    }
    let profile: ProfileSummary | undefined;
    if (opts.profile) {
      const file = resolve(dirname(opts.out), `decisions-${size}.cpuprofile`);
      profile = (await stopRecording("profile", file)) as ProfileSummary;
      process.stderr.write(
        `  profile: ${file}\n  self time by area:\n${profile.byArea.slice(0, 12).map((a) => `    ${fmt(a.selfPercent, 1).padStart(5)}%  ${a.area}`).join("\n")}\n` +
          `  top functions:\n${profile.top.slice(0, 15).map((f) => `    ${fmt(f.selfPercent, 1).padStart(5)}%  ${f.name}  ${f.where}`).join("\n")}\n`,
      );
    }
    const rate = Math.max(1, Math.floor(decisions.rps / 2));
    const fixedTally = newTally();
    const rssAtHalf = rssSampler(server.pid);
    const fixed = await measured(
      `decisions @ ${rate}/s`,
      server,
      redis,
      opts.connections,
      () => fixedRate({ ...common, url: decisionUrl, duration: opts.duration, requests: decisionRequests(pool, counter, fixedTally) }, rate, opts.connections),
      { overallRate: rate, tally: fixedTally },
    );
    const servingAtHalf = rssAtHalf.stop();
    const changes: ChangeResult[] = [];
    for (let w = 0; w < opts.changeWindows; w++) {
      const change = await changeUnderLoad(
        server,
        activeCampaigns,
        () => fixedRate({ ...common, url: decisionUrl, duration: opts.quick ? 2.5 : Math.max(4, Math.min(opts.duration, 8)), requests: decisionRequests(pool, counter) }, rate, opts.connections),
        w % 2 === 1,
      );
      changes.push(change);
      process.stderr.write(
        `  change under load${opts.changeWindows > 1 ? ` (${w + 1}/${opts.changeWindows}${change.patchesFirst ? ", PATCHes first" : ""})` : ""}: ${change.patches.length} PATCHes ${change.patches.map((p) => fmt(p, 0)).join(", ")} ms; event loop max ${fmt(change.loopMaxMs, 1)} ms (p99 ${fmt(change.loopP99Ms, 1)}); ` +
          `decisions p99 ${fmt(change.load.latencyMs.p99, 1)} ms, max ${fmt(change.load.latencyMs.max, 1)} ms, non-2xx ${change.load.non2xx}; ` +
          `major GCs ${change.gc.major.n} (longest ${fmt(change.gc.major.maxMs, 1)} ms), longest scavenge ${fmt(change.gc.minor.maxMs, 1)} ms; ` +
          `without changes: event loop max ${fmt(change.control.loopMaxMs, 1)} ms, decisions p99 ${fmt(change.control.load.latencyMs.p99, 1)} ms, ` +
          `major GCs ${change.control.gc.major.n} (longest ${fmt(change.control.gc.major.maxMs, 1)} ms)\n` +
          `    stalls ≥ 20 ms with changes: ${stallLine(change.stalls)}\n` +
          `    stalls ≥ 20 ms without:      ${stallLine(change.control.stalls)}\n`,
      );
    }
    const change = changes[0] as ChangeResult;
    // Bound rounds: each route's req/s and its ratios to the round's empty and 1-RT routes.
    const bound: BoundRound[] = [];
    for (let round = 0; round < opts.boundRounds; round++) {
      const rps: Record<string, number> = {};
      // Every second round runs the routes in reverse order, so a machine that slows down (or
      // speeds up) within a round does not always favour the same routes.
      for (const [name, path, method] of round % 2 === 0 ? BOUND_ROUTES : [...BOUND_ROUTES].reverse()) {
        rps[name] = (await routeRun(`bound ${round + 1}: ${method} ${path}`, path, method)).rps;
      }
      bound.push({ rps, toEmpty: ratiosTo(rps, "empty"), toRedis: ratiosTo(rps, "redis") });
    }
    const after = await serverStats(base);
    const afterGc = await serverStats(base, false, true);

    // Per decision the server made during the run (in-flight tail included, like Redis's counters).
    const made = decisions.server.decisions || decisions.responses;
    const perDecision = (x: number): number => (made > 0 ? x / made : NaN);
    const fills = Object.values(decisions.server.fills).reduce((a, b) => a + b, 0);
    return {
      campaigns: size,
      code,
      loadAverageAtStart,
      catalog: { shape, bytes: catalogBytes, generateMs },
      import: { ms: importMs, redisScriptMs: importScriptMs, redisMemoryMB, status, ...(imported.version !== undefined ? { version: imported.version } : {}), added: imported.added },
      rebuild,
      instanceStartMs: startMs,
      index: after.catalog.placements,
      candidates,
      sanity,
      beforeRuns,
      // The empty route touches no Redis: what it sees is the service's background work.
      backgroundRedisCallsPerSecond: empty.redis.totalCalls / empty.durationS,
      runs: { empty, redis: redisRun, floor, ...(io ? { io } : {}), ...(ioCapped ? { ioCapped } : {}), ...(ioSigned ? { ioSigned } : {}), decisions, fixedRate: fixed },
      change,
      ...(changes.length > 1 ? { changeWindows: changes } : {}),
      ...(bound.length > 0 ? { bound } : {}),
      ...(profile ? { profile } : {}),
      summary: {
        decisionsRps: decisions.rps,
        decisionsP50: decisions.latencyMs.p50,
        decisionsP99: decisions.latencyMs.p99,
        ratioToRedis: decisions.rps / redisRun.rps,
        ratioToEmpty: decisions.rps / empty.rps,
        ratioToFloor: decisions.rps / floor.rps,
        floorToRedis: floor.rps / redisRun.rps,
        commandsPerDecision: perDecision(decisions.redis.totalCalls),
        scriptCallsPerDecision: perDecision(decisions.redis.scriptCalls),
        redisUsecPerDecision: perDecision(decisions.redis.scriptUsec),
        redisUsecPerScriptCall: decisions.redis.scriptCalls > 0 ? decisions.redis.scriptUsec / decisions.redis.scriptCalls : NaN,
        redisBytesInPerDecision: perDecision(decisions.redis.netInBytes),
        redisBytesOutPerDecision: perDecision(decisions.redis.netOutBytes),
        unitsPerDecision: made > 0 && fills > 0 ? fills / made : tally.responses > 0 ? tally.units / tally.responses : NaN,
        degraded: Math.max(tally.degraded, decisions.server.degraded) + Math.max(fixedTally.degraded, fixed.server.degraded),
        storeServeMs: decisions.server.storeCalls["caps.serve.ok"] ?? null,
        non2xx: decisions.non2xx + fixed.non2xx,
        errors: decisions.errors + fixed.errors,
        rssServingMedianMB: servingAtMax.medianMB,
        rssServingMaxMB: servingAtMax.maxMB,
        rssServingSamples: servingAtMax.samples,
        rssHalfRateMedianMB: servingAtHalf.medianMB,
        rssHalfRateMaxMB: servingAtHalf.maxMB,
        rssHalfRateSamples: servingAtHalf.samples,
        rssMB: after.memory.rss / 1048576,
        heapUsedMB: after.memory.heapUsed / 1048576,
        rssAfterGcMB: afterGc.memory.rss / 1048576,
        heapUsedAfterGcMB: afterGc.memory.heapUsed / 1048576,
        fixedRate: { target: rate, achieved: fixed.rps, p50: fixed.latencyMs.p50, p99: fixed.latencyMs.p99, steadyP99: fixed.steadyLatencyMs?.p99 ?? NaN, non2xx: fixed.non2xx },
      },
      serverWarnings: Object.fromEntries(server.log.warnings),
    };
  } catch (err) {
    process.stderr.write(`  server log tail:\n    ${server.log.tail.join("\n    ")}\n`);
    throw err;
  } finally {
    await server.stop();
  }
}

/** The event-loop stalls of a loop window (see `stallSampler` in bench/server.ts). */
interface StallFigures {
  count: number;
  totalMs: number;
  longest: Stall[];
}

/** "n, the longest: gap (on CPU x, of it GC y; waiting for a CPU z; stolen w)" for the three longest. */
function stallLine(s: StallFigures | undefined): string {
  if (!s || s.count === 0) return "none";
  const one = (x: StallFigures["longest"][number]): string =>
    `${fmt(x.gapMs, 0)} ms at ${fmt(x.atMs / 1000, 1)} s (on CPU ${fmt(x.onCpuMs, 0)}, GC ${fmt(x.gcMs, 0)}${x.gcKinds.length ? ` ${[...new Set(x.gcKinds)].join("+")}` : ""}; waiting ${fmt(x.waitingMs, 0)}; stolen ${fmt(x.stolenMs, 0)})`;
  return `${s.count} (${fmt(s.totalMs, 0)} ms); longest ${s.longest.slice(0, 3).map(one).join(", ")}`;
}

/** What one campaign change costs while decisions run at a fixed rate (see `changeUnderLoad`). */
interface ChangeResult {
  /** Each PATCH's response time: validation, the catalog write, and this instance's rebuild. */
  patches: number[];
  /** The server's event-loop delay during the window: how long decisions could be held up. */
  loopMaxMs: number;
  loopP99Ms: number;
  /** The server's garbage collections in the window, by kind: count, total and longest pause (ms). */
  gc: Record<GcKind, { n: number; ms: number; maxMs: number }>;
  /** Gaps of ≥ 20 ms in the event loop, and where their time went. */
  stalls: StallFigures;
  /** Whether the window with PATCHes ran before the control window (every second window of `--change-windows`). */
  patchesFirst: boolean;
  versionsApplied: number;
  load: LoadResult;
  /** The same load without changes, just before (or after, `patchesFirst`): what the load alone does to the event loop. */
  control: { loopMaxMs: number; loopP99Ms: number; gc: ChangeResult["gc"]; stalls: StallFigures; load: LoadResult };
}

/**
 * Three single-campaign PATCHes (weight), half a second apart from 0.5 s in, while `load` sends decisions at a
 * fixed rate: the PATCH times (each returns once this instance has rebuilt its snapshot) and the
 * server's longest event-loop stall in the window; and the same load without changes (the control
 * window), before it or, with `patchesFirst`, after it. `--change-windows` alternates the order, so
 * that where the major collections fall says whether the edits bring them on or the windows' order
 * does.
 */
async function changeUnderLoad(server: BenchServer, campaigns: readonly { id: string }[], load: () => Promise<LoadResult>, patchesFirst = false): Promise<ChangeResult> {
  type LoopStats = { maxMs: number; p99Ms: number; gc: ChangeResult["gc"]; stalls: StallFigures };
  const window = async <T>(run: () => Promise<T>): Promise<{ result: T; stats: LoopStats }> => {
    await drain(server.base);
    await call(`${server.base}/__bench/loop/start`, { method: "POST" });
    const result = await run();
    const stats = (await (await call(`${server.base}/__bench/loop/stop`, { method: "POST" })).json()) as LoopStats;
    return { result, stats };
  };
  const patches: number[] = [];
  const withPatches = async (): Promise<LoadResult> => {
    const running = load();
    await sleep(500);
    for (let i = 0; i < 3; i++) {
      const id = (campaigns[(i * 7919) % campaigns.length] as { id: string }).id;
      const t = performance.now();
      const res = await call(`${server.base}/v1/admin/campaigns/${encodeURIComponent(id)}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", authorization: `Bearer ${server.adminKey}` },
        body: JSON.stringify({ weight: 50 + i }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`PATCH ${id} answered ${res.status}`);
      patches.push(performance.now() - t);
      await sleep(500);
    }
    return running;
  };
  let control: { result: LoadResult; stats: LoopStats };
  let during: { result: LoadResult; stats: LoopStats };
  if (patchesFirst) {
    during = await window(withPatches);
    control = await window(load);
  } else {
    control = await window(load);
    during = await window(withPatches);
  }
  return {
    patches,
    patchesFirst,
    loopMaxMs: during.stats.maxMs,
    loopP99Ms: during.stats.p99Ms,
    gc: during.stats.gc,
    stalls: during.stats.stalls,
    versionsApplied: patches.length,
    load: during.result,
    control: { loopMaxMs: control.stats.maxMs, loopP99Ms: control.stats.p99Ms, gc: control.stats.gc, stalls: control.stats.stalls, load: control.result },
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function fmt(x: number, digits: number): string {
  if (!Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ":" + "-".repeat(w + 1) : "-".repeat(w + 1) + ":")).join("|")}|`, ...rows.map(line)].join("\n");
}

export function renderTables(results: SizeResult[]): string {
  const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));
  const runRows: string[][] = [];
  for (const r of results) {
    for (const run of [r.runs.empty, r.runs.redis, ...(r.runs.floor ? [r.runs.floor] : []), ...(r.runs.io ? [r.runs.io] : []), ...(r.runs.ioCapped ? [r.runs.ioCapped] : []), ...(r.runs.ioSigned ? [r.runs.ioSigned] : []), r.runs.decisions, r.runs.fixedRate]) {
      runRows.push([
        k(r.campaigns),
        run.route,
        fmt(run.rps, 0),
        fmt(run.latencyMs.p50, 1),
        fmt(run.latencyMs.p99, 1),
        String(run.non2xx),
        String(run.errors),
        fmt(run.serverEventLoopUtilization, 2),
        `${fmt(run.cpuPercent.server, 0)}/${fmt(run.cpuPercent.redis, 0)}/${fmt(run.cpuPercent.loadgen, 0)}/${fmt(run.cpuPercent.other, 0)}`,
      ]);
    }
  }
  const t1 = table(["campaigns", "route", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "server ELU", "CPU % server/redis/loadgen/other"], runRows);

  const t2 = table(
    ["campaigns", "decisions/s", "÷ 1-RT route", "÷ empty route", "÷ floor route (floor ÷ 1-RT)", "Redis cmds/decision", "script calls/decision", "Redis µs/script call", "Redis KB in/decision", "caps.serve p50/p99 ms", "units/decision", "degraded"],
    results.map((r) => [
      k(r.campaigns),
      fmt(r.summary.decisionsRps, 0),
      fmt(r.summary.ratioToRedis, 2),
      fmt(r.summary.ratioToEmpty, 2),
      `${fmt(r.summary.ratioToFloor, 2)} (${fmt(r.summary.floorToRedis, 2)})`,
      fmt(r.summary.commandsPerDecision, 2),
      fmt(r.summary.scriptCallsPerDecision, 3),
      fmt(r.summary.redisUsecPerScriptCall, 0),
      fmt(r.summary.redisBytesInPerDecision / 1024, 1),
      r.summary.storeServeMs ? `${fmt(r.summary.storeServeMs.p50Ms, 1)}/${fmt(r.summary.storeServeMs.p99Ms, 1)}` : "–",
      fmt(r.summary.unitsPerDecision, 2),
      String(r.summary.degraded),
    ]),
  );

  const t3 = table(
    ["campaigns", "catalog MB", "import s (Redis script s)", "rebuild ms (load + compile)", "candidates/slot mid, end (eligible)", "instance start s", "RSS MB loaded; serving median (max) at max rate, at half rate; after runs + GC (heap)", "fixed rate", "p50 ms", "p99 ms (after the ramp)"],
    results.map((r) => {
      const mid = r.candidates.perSlot["mid-1"];
      const end = r.candidates.perSlot["end-1"];
      return [
        k(r.campaigns),
        fmt(r.catalog.bytes / 1e6, 1),
        `${fmt(r.import.ms / 1000, 2)} (${fmt(r.import.redisScriptMs / 1000, 2)})`,
        `${fmt(r.rebuild.loadMs + r.rebuild.compileMs, 0)} (${fmt(r.rebuild.loadMs, 0)} + ${fmt(r.rebuild.compileMs, 0)})`,
        `${fmt(mid?.poolMean ?? NaN, 0)} (${fmt(mid?.eligibleMean ?? NaN, 0)}), ${fmt(end?.poolMean ?? NaN, 0)} (${fmt(end?.eligibleMean ?? NaN, 0)})`,
        fmt(r.instanceStartMs / 1000, 1),
        `${fmt(r.beforeRuns.rssMB, 0)}; ${fmt(r.summary.rssServingMedianMB, 0)} (${fmt(r.summary.rssServingMaxMB, 0)}), ${fmt(r.summary.rssHalfRateMedianMB, 0)} (${fmt(r.summary.rssHalfRateMaxMB, 0)}); ${fmt(r.summary.rssAfterGcMB, 0)} (${fmt(r.summary.heapUsedAfterGcMB, 0)})`,
        `${fmt(r.summary.fixedRate.target, 0)}/s → ${fmt(r.summary.fixedRate.achieved, 0)}/s`,
        fmt(r.summary.fixedRate.p50, 1),
        `${fmt(r.summary.fixedRate.p99, 1)} (${fmt(r.summary.fixedRate.steadyP99 ?? NaN, 1)})`,
      ];
    }),
  );
  const t4 = table(
    ["campaigns", "PATCH one campaign under load, ms (each)", "event loop max ms (p99)", "decisions p99 ms (max) meanwhile", "same load, no change: loop max (p99); decisions p99 (max)", "non-2xx"],
    results.map((r) => [
      k(r.campaigns),
      r.change.patches.map((p) => fmt(p, 0)).join(", "),
      `${fmt(r.change.loopMaxMs, 1)} (${fmt(r.change.loopP99Ms, 1)})`,
      `${fmt(r.change.load.latencyMs.p99, 1)} (${fmt(r.change.load.latencyMs.max, 1)})`,
      `${fmt(r.change.control.loopMaxMs, 1)} (${fmt(r.change.control.loopP99Ms, 1)}); ${fmt(r.change.control.load.latencyMs.p99, 1)} (${fmt(r.change.control.load.latencyMs.max, 1)})`,
      String(r.change.load.non2xx + r.change.control.load.non2xx),
    ]),
  );
  // What the contract's own I/O allows: each route's rate ÷ the empty and the one-round-trip route.
  // A decision does everything the io-capped and io-signed routes do, so its ratios cannot exceed theirs.
  const withIo = results.filter((r) => r.runs.io && r.runs.ioSigned && r.runs.ioCapped);
  const t5 = withIo.length === 0 ? "" : table(
    ["campaigns", "route", "÷ empty route", "÷ 1-RT route"],
    withIo.flatMap((r) =>
      [r.runs.floor, r.runs.io as RunResult, r.runs.ioCapped as RunResult, r.runs.ioSigned as RunResult, r.runs.decisions].map((run) => [k(r.campaigns), run.route, fmt(run.rps / r.runs.empty.rps, 2), fmt(run.rps / r.runs.redis.rps, 2)]),
    ),
  );
  const withBound = results.filter((r) => r.bound && r.bound.length > 0);
  const boundNames: readonly (readonly [string, string])[] = [["io", "POST /__bench/io"], ["ioCapped", "POST /__bench/io-capped"], ["ioSigned", "POST /__bench/io-signed"], ["decisions", "POST /v1/decisions"]];
  const range = (xs: number[]): string => `${fmt(median(xs), 2)} (${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)})`;
  const t6 = withBound.length === 0 ? "" : table(
    ["campaigns", "route", "rounds", "req/s median", "÷ empty route: median (range)", "÷ 1-RT route: median (range)"],
    withBound.flatMap((r) => {
      const rounds = r.bound as BoundRound[];
      return boundNames.map(([name, label]) => [
        k(r.campaigns),
        label,
        String(rounds.length),
        fmt(median(rounds.map((b) => b.rps[name] as number)), 0),
        range(rounds.map((b) => b.toEmpty[name] as number)),
        range(rounds.map((b) => b.toRedis[name] as number)),
      ]);
    }),
  );
  return `${t1}\n\n${t2}\n\n${t3}\n\n${t4}\n${t5 ? `\n${t5}\n` : ""}${t6 ? `\n${t6}\n` : ""}`;
}

// ---------------------------------------------------------------------------------------------

function machine(redisVersion: string): Record<string, unknown> {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  try {
    cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  } catch {
    /* not Linux */
  }
  return { nproc: cpus().length, cpuModel, node: process.version, redis: redisVersion, platform: `${process.platform} ${process.arch}` };
}

/** Which code was measured: HEAD and a fingerprint of uncommitted changes under src/. */
function codeState(): Record<string, unknown> {
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const dirty = git("status", "--porcelain", "--", "src").split("\n").filter(Boolean);
    const diff = git("diff", "HEAD", "--", "src");
    return {
      head: git("rev-parse", "--short", "HEAD"),
      headSubject: git("log", "-1", "--format=%s"),
      uncommittedSrcFiles: dirty.length,
      srcDiffSha1: dirty.length ? createHash("sha1").update(diff).digest("hex").slice(0, 12) : null,
      ...(process.env.BENCH_CODE_LABEL ? { label: process.env.BENCH_CODE_LABEL } : {}),
      ...(process.env.BENCH_NODE_FLAGS ? { serverNodeFlags: process.env.BENCH_NODE_FLAGS } : {}),
    };
  } catch {
    return { head: "unknown (not a git checkout)", label: process.env.BENCH_CODE_LABEL ?? null };
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const code = codeState();
  const started = performance.now();
  if (opts.pin) {
    // The load generator (this process, every thread) shares the other CPU with Redis.
    execFileSync("taskset", ["-a", "-p", "-c", OTHER_CPU, String(process.pid)], { stdio: "ignore" });
  }
  const redis = await startRedis("redis-server", opts.pin ? OTHER_CPU : undefined);
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write("\ninterrupted: stopping redis-server\n");
    void redis.stop().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const env = machine(redis.version);
  process.stderr.write(
    `bench: ${opts.quick ? "quick" : "full"} run, sizes ${opts.sizes.join(", ")}, ${opts.duration} s per route, ${opts.connections} connections, pipelining 1\n` +
      `machine: ${env.nproc} cpu (${env.cpuModel}), node ${env.node}, redis ${env.redis} on :${redis.port}\n` +
      `code: ${JSON.stringify(code)}\n`,
  );
  const pool = createDecisionPool({ pages: 1000, users: 100_000, seed: opts.seed });
  const counter = { n: 0 };
  const results: SizeResult[] = [];
  try {
    for (const size of opts.sizes) results.push(await runSize(size, opts, redis, pool, counter));
  } finally {
    await redis.stop();
  }
  const totalS = (performance.now() - started) / 1000;
  const tables = renderTables(results);
  process.stdout.write(`\n${tables}\n`);
  const odd: string[] = [];
  const codeAtEnd = codeState();
  if (JSON.stringify(codeAtEnd) !== JSON.stringify(code)) odd.push(`the code under src/ changed during the run: ${JSON.stringify(code)} → ${JSON.stringify(codeAtEnd)}`);
  for (const r of results) {
    if (r.summary.non2xx > 0) odd.push(`${r.campaigns}: ${r.summary.non2xx} non-2xx decisions (${JSON.stringify(r.runs.decisions.statusCodes)})`);
    if (r.summary.errors > 0) odd.push(`${r.campaigns}: ${r.summary.errors} connection errors/timeouts`);
    if (r.summary.degraded > 0) odd.push(`${r.campaigns}: ${r.summary.degraded} degraded decisions (X-Degraded: store)`);
    if (r.sanity.problems.length > 0) odd.push(`${r.campaigns}: sanity problems: ${r.sanity.problems.join("; ")}`);
    const busiest = Math.max(...Object.values(r.runs).map((run: RunResult) => run.cpuPercent.other));
    if (busiest > 25) odd.push(`${r.campaigns}: other processes used up to ${fmt(busiest, 0)}% of a core during a run (figures disturbed)`);
    for (const [w, n] of Object.entries(r.serverWarnings)) odd.push(`${r.campaigns}: server logged ${n}× "${w}"`);
  }
  process.stdout.write(odd.length ? `Attention:\n  ${odd.join("\n  ")}\n` : "No non-2xx responses, errors, degraded decisions or server warnings.\n");
  process.stdout.write(`Code: ${JSON.stringify(code)}\nTotal time ${fmt(totalS, 0)} s. Results: ${opts.out}\n`);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(
    opts.out,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        mode: opts.quick ? "quick" : "full",
        options: { ...opts, out: undefined },
        machine: env,
        code,
        totalSeconds: totalS,
        tables,
        attention: odd,
        results,
      },
      null,
      2,
    ) + "\n",
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
