/**
 * Soak test: the Node server on Redis under steady mixed load for N minutes, watching the server's
 * memory and event loop for leaks and stalls.
 *
 *   npm run soak                      10 minutes (after a 5 s capacity probe)
 *   npm run soak -- --quick           1 minute (RSS reference after 20 s instead of 1 minute)
 *   npm run soak -- --minutes=30      longer
 *
 * What it does:
 *   1. starts its own redis-server on a free port (never 6379; temp dir, `--save "" --appendonly no`);
 *   2. starts the service as a child process, `node --import bench/soak-preload.mjs
 *      dist/server.js` (what `npm start` runs, plus the preload; built first), on Redis with
 *      SEED_SAMPLE_DATA=true, NODE_ENV=production, LOG_LEVEL=warn and beacon/click limits raised;
 *      the preload appends the event-loop delay (`monitorEventLoopDelay`) and memory every 10 s to
 *      a file — src/ is not touched;
 *   3. measures the maximum decision throughput: autocannon, 5 s, closed loop;
 *   4. runs the soak at `--fraction` (0.5) of that: decisions from autocannon at a fixed
 *      `overallRate` (split over staggered instances, as bench/decisions.ts does, so arrivals are
 *      spread over each second) with bodies from src/data/sample-pages.json, varied slots,
 *      countries, devices and 100,000 user keys; and, in a side loop with plain `fetch`, page views
 *      that fire the beacons of the units they were served (impression always, viewable 70 %,
 *      click 2 %), paced to their share of the rate;
 *   5. every 10 s (each preload line): the child's VmRSS from /proc/<pid>/status, heap, event-loop
 *      delay, request rates, decision latency, errors, Redis memory;
 *   6. prints the table, the RSS growth from the warm-up sample (first at >= 60 s, or >= 20 s with
 *      --quick) to the last one, PASS when under 10 %; writes bench/results/soak-latest.json
 *      (`--out=`); stops the server (SIGTERM, drain) and Redis and removes the temp dir.
 *
 * Other options: --connections=20 (soak), --probe-connections=20, --probe-seconds=5,
 * --fraction=0.5, --decision-share=0.6 (of the rate; the side loop takes the rest), --seed=42,
 * --max-growth=10 (%). Service variables in the environment pass through to the server (e.g.
 * `STORE_TIMEOUT_MS=100 npm run soak`); REDIS_URL and REDIS_CLUSTER_NODES do not. Exits 1 when
 * the growth check fails, 2 when the run breaks.
 *
 * Event-loop delay is how late the server's loop ran a 10 ms timer (0 on an idle loop), per 10 s
 * window; "degraded" counts decisions answered with `X-Degraded` (store calls over
 * STORE_TIMEOUT_MS, default 30 ms, opened the circuit: capped campaigns withheld).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { buildNodeEntry } from "../scripts/node-bundle.js";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { mulberry32 } from "./prng.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PRELOAD = fileURLToPath(new URL("./soak-preload.mjs", import.meta.url));
const ADMIN_KEY = "soak-ops-key-0123456789abcdef";
const TRACKING_SECRET = "soak-tracking-secret-0123456789abcdef";
const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const USERS = 100_000;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  minutes: number;
  quick: boolean;
  warmupSeconds: number;
  sampleSeconds: number;
  connections: number;
  probeConnections: number;
  probeSeconds: number;
  fraction: number;
  decisionShare: number;
  maxGrowthPercent: number;
  seed: number;
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i] as string);
    if (!m) throw new Error(`unknown argument ${argv[i]}`);
    const name = m[1] as string;
    if (name === "quick") {
      values.set(name, "true");
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  const known = ["minutes", "quick", "connections", "probe-connections", "probe-seconds", "fraction", "decision-share", "max-growth", "seed", "out"];
  for (const k of values.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(", ")})`);
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const v = values.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in ${min}..${max}`);
    return n;
  };
  const quick = values.has("quick");
  return {
    minutes: num("minutes", quick ? 1 : 10, 0.5, 24 * 60),
    quick,
    warmupSeconds: quick ? 20 : 60,
    sampleSeconds: 10,
    connections: Math.round(num("connections", 20, 1, 1000)),
    probeConnections: Math.round(num("probe-connections", 20, 1, 1000)),
    probeSeconds: num("probe-seconds", 5, 1, 120),
    fraction: num("fraction", 0.5, 0.01, 1),
    decisionShare: num("decision-share", 0.6, 0, 1),
    maxGrowthPercent: num("max-growth", 10, 0, 1000),
    seed: Math.round(num("seed", 42, 0, 2 ** 31)),
    out: resolve(ROOT, values.get("out") ?? "bench/results/soak-latest.json"),
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP port nobody listens on now (never Redis's default). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolvePort, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const address = srv.address();
        srv.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
      });
    });
    if (port !== 6379 && port !== 0) return port;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once("exit", () => r());
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }, graceMs);
  await exited(child);
  clearTimeout(timer);
}

interface SoakRedis {
  url: string;
  port: number;
  version: string;
  client: Redis;
  stop(): Promise<void>;
}

async function startRedis(): Promise<SoakRedis> {
  const dir = mkdtempSync(join(tmpdir(), "sp-soak-redis-"));
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  let spawnError: Error | undefined;
  child.once("error", (err) => (spawnError = err));
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on("error", () => undefined);
  const stop = async (): Promise<void> => {
    client.disconnect();
    await stopProcess(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError || child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server did not start: ${spawnError?.message ?? stderr}`);
    }
    try {
      if (client.status === "wait" || client.status === "end") await client.connect();
      await client.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not answer on ${port}: ${stderr}`);
      }
      await sleep(100);
    }
  }
  const version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "unknown";
  return { url: `redis://127.0.0.1:${port}/0`, port, version, client, stop };
}

interface SoakServer {
  base: string;
  pid: number;
  statsFile: string;
  /** Warnings and errors the server logged (last 200 lines). */
  logTail: string[];
  stop(): Promise<void>;
}

async function startServer(redisUrl: string, statsDir: string): Promise<SoakServer> {
  const port = await freePort();
  const statsFile = join(statsDir, "server-stats.jsonl");
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "REDIS_CLUSTER_NODES" && k !== "npm_lifecycle_event") env[k] = v;
  Object.assign(env, {
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    SEED_SAMPLE_DATA: "true",
    ADMIN_API_KEY: ADMIN_KEY,
    TRACKING_SECRET,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: "warn",
    BEACONS_PER_MINUTE: "100000",
    CLICKS_PER_MINUTE: "10000",
    SOAK_STATS_FILE: statsFile,
    SOAK_STATS_INTERVAL_MS: "10000",
  });
  const entry = await buildNodeEntry("src/server.ts", "dist/server.js");
  const child = spawn(process.execPath, ["--enable-source-maps", "--import", pathToFileURL(PRELOAD).href, entry], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const logTail: string[] = [];
  const collect = (d: Buffer): void => {
    for (const line of d.toString().split("\n")) {
      if (!line.trim()) continue;
      logTail.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (logTail.length > 200) logTail.shift();
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const base = `http://127.0.0.1:${port}`;
  const stop = (): Promise<void> => stopProcess(child, 15_000);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited at start (${child.exitCode}):\n${logTail.join("\n")}`);
    try {
      const res = await fetch(`${base}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready within 60 s:\n${logTail.join("\n")}`);
    }
    await sleep(200);
  }
  if (child.pid === undefined) throw new Error("the server has no pid");
  return { base, pid: child.pid, statsFile, logTail, stop };
}

// ---------------------------------------------------------------------------------------------
// Requests

const prng = mulberry32;

interface SamplePage {
  slug: string;
  page: Record<string, unknown>;
}

const SLOT_SETS = [
  [{ id: "mid-1", placement: "article-mid" }, { id: "end-1", placement: "article-end", count: 3 }],
  [{ id: "mid-1", placement: "article-mid" }, { id: "end-1", placement: "article-end", count: 3 }],
  [{ id: "mid-1", placement: "article-mid" }],
  [{ id: "end-1", placement: "article-end", count: 2 }],
  [{ id: "mid-1", placement: "article-mid" }, { id: "end-1", placement: "article-end", count: 1 }],
];
const COUNTRIES = ["US", "US", "GB", "DE", "IN", "FR", "CA", "RU"];
const DEVICES = ["desktop", "mobile", "mobile", "tablet"];

/** Decision bodies: sample pages, slot sets, countries, devices, 100,000 user keys (3 % opted out). */
function bodyMaker(seed: number): () => string {
  const pages = (JSON.parse(readFileSync(join(ROOT, "src/data/sample-pages.json"), "utf8")) as SamplePage[]).map((p) => p.page);
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  let n = 0;
  return () => {
    const r = random();
    const body = {
      page: { ...pick(pages), pageViewId: `pv-${seed.toString(36)}-${(n++).toString(36)}` },
      ...(r < 0.97 ? { user: { key: `soak-user-${Math.floor(random() * USERS)}` } } : {}),
      slots: pick(SLOT_SETS),
      ...(random() < 0.8 ? { geo: { country: pick(COUNTRIES) } } : {}),
      device: { type: pick(DEVICES) },
    };
    return JSON.stringify(body);
  };
}

interface DecisionUnit {
  cta: { url: string };
  tracking: { impression: string; viewable: string };
}

// ---------------------------------------------------------------------------------------------
// Counters per sample window

interface WindowCounts {
  decisions: number;
  sideDecisions: number;
  impressions: number;
  viewables: number;
  clicks: number;
  non2xx: number;
  errors: number;
  degraded: number;
  statuses: Record<string, number>;
  latencies: number[];
}

function emptyWindow(): WindowCounts {
  return { decisions: 0, sideDecisions: 0, impressions: 0, viewables: 0, clicks: 0, non2xx: 0, errors: 0, degraded: 0, statuses: {}, latencies: [] };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

// ---------------------------------------------------------------------------------------------
// Load

interface ProbeResult {
  rps: number;
  connections: number;
  seconds: number;
  latencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  degraded: number;
}

function degradedOf(headers: Record<string, unknown> | undefined): boolean {
  return headers !== undefined && ("x-degraded" in headers || "X-Degraded" in headers);
}

async function probe(base: string, makeBody: () => string, connections: number, seconds: number): Promise<ProbeResult> {
  let degraded = 0;
  const run = (duration: number): Promise<autocannon.Result> =>
    new Promise((resolveRun, reject) => {
      autocannon(
        {
          url: base,
          connections,
          duration,
          pipelining: 1,
          requests: decisionRequests(makeBody, () => degraded++),
        },
        (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolveRun(result)),
      );
    });
  await run(2); // warm-up: JIT, connections, Redis scripts loaded
  degraded = 0;
  const r = await run(seconds);
  const responses = r["1xx"] + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"];
  return { rps: responses / r.duration, connections, seconds: r.duration, latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max }, non2xx: r.non2xx, errors: r.errors, degraded };
}

/** autocannon's request list for decisions: a fresh body each time, degraded answers counted. */
function decisionRequests(makeBody: () => string, onDegraded: () => void): autocannon.Request[] {
  return [
    {
      method: "POST",
      path: "/v1/decisions",
      headers: { "content-type": "application/json", "user-agent": BROWSER_UA },
      setupRequest: (req) => ({ ...req, body: makeBody() }),
      onResponse: (_status: number, _body: string, _ctx: object, headers: unknown) => {
        if (degradedOf(headers as Record<string, unknown> | undefined)) onDegraded();
      },
    },
  ];
}

/** Decisions at a fixed overall rate: the rate and connections split over k instances started 1/k s apart. */
function fixedRateDecisions(base: string, makeBody: () => string, rate: number, connections: number, seconds: number, current: () => WindowCounts): Promise<autocannon.Result[]> {
  const k = Math.max(1, Math.min(10, Math.floor(rate), connections));
  const share = (total: number, i: number): number => Math.floor(total / k) + (i < total % k ? 1 : 0);
  const runs = Array.from({ length: k }, (_, i) =>
    sleep((i * 1000) / k).then(
      () =>
        new Promise<autocannon.Result>((resolveRun, reject) => {
          const instance = autocannon(
            {
              url: base,
              connections: Math.max(1, share(connections, i)),
              overallRate: Math.max(1, share(Math.round(rate), i)),
              ignoreCoordinatedOmission: true,
              duration: seconds,
              pipelining: 1,
              timeout: 10,
              requests: decisionRequests(makeBody, () => current().degraded++),
            },
            (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolveRun(result)),
          );
          instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
            const w = current();
            w.decisions++;
            w.statuses[String(status)] = (w.statuses[String(status)] ?? 0) + 1;
            if (status < 200 || status >= 300) w.non2xx++;
            else w.latencies.push(ms);
          });
          instance.on("reqError", () => current().errors++);
        }),
    ),
  );
  return Promise.all(runs);
}

/**
 * Page views with plain fetch: a decision, then the beacons of what it served (impression GET as a
 * pixel, viewable POST as sendBeacon sends it, a click now and then), each request paced to `rate`.
 */
function sideLoop(base: string, makeBody: () => string, rate: number, workers: number, current: () => WindowCounts, seed: number): { stop(): Promise<void> } {
  let running = true;
  const interval = 1000 / Math.max(0.1, rate);
  let next = performance.now();
  const random = prng(seed ^ 0x5eed);
  const take = async (): Promise<void> => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at > now) await sleep(at - now);
  };
  const pathOf = (url: string): string => {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  };
  const count = (status: number): void => {
    const w = current();
    w.statuses[String(status)] = (w.statuses[String(status)] ?? 0) + 1;
    if (status >= 400) w.non2xx++;
  };
  const send = async (path: string, init: RequestInit): Promise<Response | undefined> => {
    try {
      const res = await fetch(`${base}${path}`, { ...init, redirect: "manual", signal: AbortSignal.timeout(10_000) });
      count(res.status);
      return res;
    } catch {
      current().errors++;
      return undefined;
    }
  };
  const worker = async (): Promise<void> => {
    while (running) {
      await take();
      if (!running) break;
      const res = await send("/v1/decisions", { method: "POST", headers: { "content-type": "application/json", "user-agent": BROWSER_UA }, body: makeBody() });
      current().sideDecisions++;
      if (!res) continue;
      if (res.status !== 200) {
        await res.arrayBuffer();
        continue;
      }
      if (res.headers.get("x-degraded")) current().degraded++;
      const decision = (await res.json()) as { slots: { units: DecisionUnit[] }[] };
      for (const unit of decision.slots.flatMap((s) => s.units)) {
        if (!running) break;
        await take();
        const imp = await send(pathOf(unit.tracking.impression), { method: "GET", headers: { "user-agent": BROWSER_UA } });
        await imp?.arrayBuffer();
        current().impressions++;
        if (random() < 0.7) {
          await take();
          const view = await send(pathOf(unit.tracking.viewable), { method: "POST", headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": BROWSER_UA }, body: "" });
          await view?.arrayBuffer();
          current().viewables++;
        }
        if (random() < 0.02) {
          await take();
          const click = await send(pathOf(unit.cta.url), { method: "GET", headers: { "user-agent": BROWSER_UA } });
          await click?.arrayBuffer();
          current().clicks++;
        }
      }
    }
  };
  const all = Array.from({ length: workers }, () => worker());
  return {
    async stop() {
      running = false;
      await Promise.all(all);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Samples

interface PreloadLine {
  seq: number;
  at: number;
  pid: number;
  samples: number;
  loopDelayMs: { min: number; mean: number; p50: number; p99: number; max: number } | null;
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

interface Sample {
  t: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  loopDelayMs: PreloadLine["loopDelayMs"];
  decisionsPerSec: number;
  beaconsPerSec: number;
  requestsPerSec: number;
  decisionLatencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  degraded: number;
  statuses: Record<string, number>;
  redisUsedMb: number;
}

function vmRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function readPreloadLines(file: string): PreloadLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as PreloadLine);
}

async function redisUsedMb(client: Redis): Promise<number> {
  try {
    const info = await client.info("memory");
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) / 1024 / 1024;
  } catch {
    return NaN;
  }
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : "-");

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => c.padStart(widths[i] ?? 8)).join(" ");
}

const HEADER = ["t s", "RSS MB", "heap MB", "loop p50", "loop p99", "loop max", "dec/s", "beacon/s", "dec p50", "dec p99", "non2xx", "errors", "degraded", "redis MB"];
const WIDTHS = [6, 8, 8, 9, 9, 9, 7, 9, 8, 8, 7, 7, 9, 9];

function sampleRow(s: Sample): string {
  return row(
    [
      String(Math.round(s.t)),
      f(s.rssMb),
      f(s.heapUsedMb),
      f(s.loopDelayMs?.p50 ?? NaN, 2),
      f(s.loopDelayMs?.p99 ?? NaN, 2),
      f(s.loopDelayMs?.max ?? NaN, 1),
      f(s.decisionsPerSec, 0),
      f(s.beaconsPerSec, 0),
      f(s.decisionLatencyMs.p50, 1),
      f(s.decisionLatencyMs.p99, 1),
      String(s.non2xx),
      String(s.errors),
      String(s.degraded),
      f(s.redisUsedMb),
    ],
    WIDTHS,
  );
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const statsDir = mkdtempSync(join(tmpdir(), "sp-soak-"));
  let redis: SoakRedis | undefined;
  let server: SoakServer | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    log("soak: interrupted; cleaning up");
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    redis = await startRedis();
    log(`soak: redis-server ${redis.version} on port ${redis.port}`);
    server = await startServer(redis.url, statsDir);
    log(`soak: server pid ${server.pid} at ${server.base} (store: redis, sample catalog, NODE_ENV=production)`);
    const makeBody = bodyMaker(options.seed);

    const first = await fetch(`${server.base}/v1/decisions`, { method: "POST", headers: { "content-type": "application/json", "user-agent": BROWSER_UA }, body: makeBody() });
    const firstText = await first.text();
    if (first.status !== 200) throw new Error(`a decision answered ${first.status}: ${firstText}`);

    log(`soak: measuring max decision throughput (${options.probeSeconds} s, ${options.probeConnections} connections, after a 2 s warm-up)`);
    const capacity = await probe(server.base, makeBody, options.probeConnections, options.probeSeconds);
    log(`soak: max ${f(capacity.rps, 0)} decisions/s (p50 ${f(capacity.latencyMs.p50)} ms, p99 ${f(capacity.latencyMs.p99)} ms, non-2xx ${capacity.non2xx}, errors ${capacity.errors}, degraded ${capacity.degraded})`);
    await sleep(3000);

    const rate = Math.max(1, Math.round(capacity.rps * options.fraction));
    const decisionRate = Math.max(1, Math.round(rate * options.decisionShare));
    const sideRate = Math.max(1, rate - decisionRate);
    const seconds = Math.round(options.minutes * 60);
    log(`soak: ${options.minutes} min at ~${rate} req/s: decisions ${decisionRate}/s (autocannon overallRate, ${options.connections} connections) + page views with beacons ${sideRate} req/s (fetch)`);

    let window = emptyWindow();
    const current = (): WindowCounts => window;
    const totals = emptyWindow();
    const samples: Sample[] = [];
    const started = performance.now();
    const loadDone = fixedRateDecisions(server.base, makeBody, decisionRate, options.connections, seconds, current);
    const side = sideLoop(server.base, makeBody, sideRate, 8, current, options.seed);
    let loadFinished = false;
    const loadPromise = loadDone.finally(() => (loadFinished = true));

    // One sample per preload line (every 10 s), aligned with the server's own windows.
    let seen = readPreloadLines(server.statsFile).length;
    let windowStarted = performance.now();
    log(row(HEADER, WIDTHS));
    while (!loadFinished && !interrupted) {
      await sleep(250);
      const lines = readPreloadLines(server.statsFile);
      if (lines.length <= seen) continue;
      const line = lines[lines.length - 1] as PreloadLine;
      seen = lines.length;
      const now = performance.now();
      const w = window;
      window = emptyWindow();
      const span = (now - windowStarted) / 1000;
      windowStarted = now;
      const t = (now - started) / 1000;
      const latencies = w.latencies.sort((a, b) => a - b);
      const beacons = w.impressions + w.viewables + w.clicks;
      const sample: Sample = {
        t,
        rssMb: vmRssMb(server.pid),
        heapUsedMb: line.memory.heapUsed / 1024 / 1024,
        heapTotalMb: line.memory.heapTotal / 1024 / 1024,
        externalMb: line.memory.external / 1024 / 1024,
        loopDelayMs: line.loopDelayMs,
        decisionsPerSec: (w.decisions + w.sideDecisions) / span,
        beaconsPerSec: beacons / span,
        requestsPerSec: (w.decisions + w.sideDecisions + beacons) / span,
        decisionLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN },
        non2xx: w.non2xx,
        errors: w.errors,
        degraded: w.degraded,
        statuses: w.statuses,
        redisUsedMb: await redisUsedMb(redis.client),
      };
      samples.push(sample);
      for (const k of ["decisions", "sideDecisions", "impressions", "viewables", "clicks", "non2xx", "errors", "degraded"] as const) totals[k] += w[k];
      for (const [s, n] of Object.entries(w.statuses)) totals.statuses[s] = (totals.statuses[s] ?? 0) + n;
      log(sampleRow(sample));
    }
    await side.stop();
    const results = await loadPromise;
    for (const k of ["decisions", "sideDecisions", "impressions", "viewables", "clicks", "non2xx", "errors", "degraded"] as const) totals[k] += window[k];
    for (const [s, n] of Object.entries(window.statuses)) totals.statuses[s] = (totals.statuses[s] ?? 0) + n;
    const elapsed = (performance.now() - started) / 1000;

    // RSS growth: from the first sample after warm-up to the last one.
    const reference = samples.find((s) => s.t >= options.warmupSeconds);
    const last = samples[samples.length - 1];
    const growth = reference && last && last !== reference ? ((last.rssMb - reference.rssMb) / reference.rssMb) * 100 : NaN;
    const heapGrowth = reference && last && last !== reference ? ((last.heapUsedMb - reference.heapUsedMb) / reference.heapUsedMb) * 100 : NaN;
    const pass = Number.isFinite(growth) && growth < options.maxGrowthPercent && !interrupted;
    // Context for the verdict: RSS follows the V8 heap's sawtooth, so two single samples can sit at
    // different points of a GC cycle. The least-squares slope over every sample after warm-up, and
    // the range, tell a trend from that noise.
    const after = samples.filter((s) => s.t >= options.warmupSeconds);
    const slopeMbPerMin = ((): number => {
      if (after.length < 3) return NaN;
      const mt = after.reduce((a, s) => a + s.t, 0) / after.length;
      const mr = after.reduce((a, s) => a + s.rssMb, 0) / after.length;
      const num = after.reduce((a, s) => a + (s.t - mt) * (s.rssMb - mr), 0);
      const den = after.reduce((a, s) => a + (s.t - mt) ** 2, 0);
      return den > 0 ? (num / den) * 60 : NaN;
    })();
    const rssRange = after.length > 0 ? { min: Math.min(...after.map((s) => s.rssMb)), max: Math.max(...after.map((s) => s.rssMb)) } : null;
    const loopP99s = samples.map((s) => s.loopDelayMs?.p99 ?? NaN).filter(Number.isFinite);
    const loopMaxes = samples.map((s) => s.loopDelayMs?.max ?? NaN).filter(Number.isFinite);

    const out = process.stdout;
    out.write(`\nSoak: ${f(elapsed, 0)} s at ~${rate} req/s (${Math.round(options.fraction * 100)} % of the measured ${f(capacity.rps, 0)} decisions/s), server on Redis ${redis.version}, ${cpus().length} CPUs\n\n`);
    out.write(`${row(HEADER, WIDTHS)}\n`);
    for (const s of samples) out.write(`${sampleRow(s)}\n`);
    out.write(
      `\nrequests: ${totals.decisions} decisions (autocannon) + ${totals.sideDecisions} (page views), ${totals.impressions} impressions, ${totals.viewables} viewables, ${totals.clicks} clicks; ` +
        `statuses ${JSON.stringify(totals.statuses)}; non-2xx/3xx ${totals.non2xx}, errors ${totals.errors}, degraded ${totals.degraded}\n`,
    );
    out.write(`event loop: p99 per window max ${f(Math.max(...loopP99s), 2)} ms, max delay ${f(Math.max(...loopMaxes), 1)} ms\n`);
    if (reference && last) {
      out.write(
        `RSS: ${f(reference.rssMb)} MB at ${Math.round(reference.t)} s (warm-up reference) -> ${f(last.rssMb)} MB at ${Math.round(last.t)} s: ${growth >= 0 ? "+" : ""}${f(growth, 2)} % ` +
          `(heap used ${f(reference.heapUsedMb)} -> ${f(last.heapUsedMb)} MB, ${heapGrowth >= 0 ? "+" : ""}${f(heapGrowth, 1)} %)\n`,
      );
    }
    if (rssRange) out.write(`RSS after warm-up: ${after.length} samples, range ${f(rssRange.min)}-${f(rssRange.max)} MB, trend ${slopeMbPerMin >= 0 ? "+" : ""}${f(slopeMbPerMin, 2)} MB/min (least squares)\n`);
    out.write(`${pass ? "PASS" : "FAIL"}: RSS growth after warm-up ${f(growth, 2)} % (limit ${options.maxGrowthPercent} %)\n`);
    if (totals.errors > 0 || totals.non2xx > 0) out.write(`note: ${totals.non2xx} error statuses and ${totals.errors} connection errors during the soak\n`);

    const result = {
      kind: "soak",
      startedAt: new Date(Date.now() - elapsed * 1000).toISOString(),
      options,
      machine: { cpus: cpus().length, node: process.version, redis: redis.version },
      server: { pid: server.pid, env: { NODE_ENV: "production", LOG_LEVEL: "warn", SEED_SAMPLE_DATA: "true", BEACONS_PER_MINUTE: "100000", CLICKS_PER_MINUTE: "10000" } },
      capacity,
      load: { rate, decisionRate, sideRate, connections: options.connections, seconds: elapsed },
      totals: { ...totals, latencies: undefined },
      autocannon: results.map((r) => ({ requests: r.requests.total, duration: r.duration, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts })),
      samples,
      eventLoop: { maxP99Ms: Math.max(...loopP99s), maxDelayMs: Math.max(...loopMaxes) },
      rss: {
        warmupSeconds: options.warmupSeconds,
        reference: reference ?? null,
        end: last ?? null,
        growthPercent: growth,
        heapGrowthPercent: heapGrowth,
        limitPercent: options.maxGrowthPercent,
        pass,
        afterWarmup: { samples: after.length, minMb: rssRange?.min ?? null, maxMb: rssRange?.max ?? null, trendMbPerMin: slopeMbPerMin },
      },
      serverLogTail: server.logTail.slice(-50),
    };
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
    out.write(`results: ${options.out}\n`);
    return pass ? 0 : 1;
  } finally {
    if (server) await server.stop().catch(() => undefined);
    if (redis) await redis.stop().catch(() => undefined);
    rmSync(statsDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);
