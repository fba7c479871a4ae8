/**
 * `npm run bench:edge`: what the Worker's connection per request costs. Starts a private
 * redis-server, seeds the sample catalog, then runs the same requests against
 *   - the Worker in local workerd (`wrangler dev`: a new Redis connection per request), and
 *   - the Node server (src/server.ts: one long-lived client with auto-pipelining),
 * on the same machine and the same Redis:
 *   1. sequential, one request at a time after a warm-up, interleaved: GET /healthz (no store),
 *      GET /readyz (one PING), POST /v1/decisions (two slots, a new reader each time); p50/p90/p99
 *      in ms, and the median of the per-iteration `readyz − healthz` (one store round trip; on the
 *      Worker it includes opening and closing the connection);
 *   2. closed-loop load with autocannon: GET /healthz (the ceiling of the HTTP path itself: in
 *      `wrangler dev` a Node proxy sits in front of workerd) and POST /v1/decisions;
 *   3. Redis connections opened per store-touching request (INFO total_connections_received);
 *   4. for reference, in Node: ioredis PING on a kept connection vs new client + PING + close.
 *
 * Options: --requests=200 (sequential, per endpoint), --duration=10 (s), --connections=10.
 * Prints a markdown table (the figures in docs/edge.md); writes nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { buildNodeEntry } from "./node-bundle.js";
import { cpus, loadavg } from "node:os";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { composeService } from "../src/compose.js";
import { parseConfig } from "../src/config.js";
import { startRedis } from "../tests/helpers/redis-server.js";
import { freePort, ROOT, startWorker } from "../tests/worker/wrangler-dev.js";

const flags = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const REQUESTS = Number(flags.get("requests") ?? 200);
const DURATION = Number(flags.get("duration") ?? 10);
const CONNECTIONS = Number(flags.get("connections") ?? 10);

const TRACKING_SECRET = "edge-bench-tracking-secret-0123456789";
const OPS_KEY = "spk_edge_bench_ops_key_0123456789";
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

let reader = 0;
function decisionBody(): string {
  return JSON.stringify({
    page: {
      url: "https://news.example/economy/india-trade-war-winner",
      section: "economy",
      topics: ["trade", "india", "china", "manufacturing"],
      keywords: ["india", "tariffs"],
    },
    user: { key: `bench-reader-${process.pid}-${reader++}` },
    slots: [
      { id: "mid-1", placement: "article-mid", count: 1 },
      { id: "end-1", placement: "article-end", count: 1 },
    ],
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

interface Sequential {
  p50: number;
  p90: number;
  p99: number;
}

function summary(times: number[]): Sequential {
  const sorted = [...times].sort((x, y) => x - y);
  return { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99) };
}

type Kind = "healthz" | "readyz" | "decision";

async function once(base: string, kind: Kind): Promise<number> {
  const started = performance.now();
  const res =
    kind === "decision"
      ? await fetch(`${base}/v1/decisions`, { method: "POST", headers: { "Content-Type": "application/json", "User-Agent": UA }, body: decisionBody() })
      : await fetch(`${base}/${kind}`);
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`${kind}: HTTP ${res.status}`);
  return ms;
}

/**
 * One request at a time, the three kinds interleaved (healthz, readyz, decision, healthz, ...) so
 * that they share whatever else the machine is doing; `readyz − healthz` is the median of the
 * per-iteration differences.
 */
async function sequential(base: string): Promise<Record<Kind, Sequential> & { storeRoundTrip: number; requests: number }> {
  const kinds: Kind[] = ["healthz", "readyz", "decision"];
  for (let i = 0; i < 20; i++) for (const k of kinds) await once(base, k);
  const times: Record<Kind, number[]> = { healthz: [], readyz: [], decision: [] };
  const diffs: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const h = await once(base, "healthz");
    const r = await once(base, "readyz");
    times.healthz.push(h);
    times.readyz.push(r);
    times.decision.push(await once(base, "decision"));
    diffs.push(r - h);
  }
  return {
    healthz: summary(times.healthz),
    readyz: summary(times.readyz),
    decision: summary(times.decision),
    storeRoundTrip: summary(diffs).p50,
    requests: 3 * (REQUESTS + 20),
  };
}

async function load(base: string, kind: "healthz" | "decision"): Promise<{ rps: number; p50: number; p99: number; errors: number; non2xx: number }> {
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      kind === "healthz"
        ? { method: "GET", path: "/healthz" }
        : {
            method: "POST",
            path: "/v1/decisions",
            headers: { "content-type": "application/json", "user-agent": UA },
            setupRequest: (req) => ({ ...req, body: decisionBody() }),
          },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

async function startNode(redisUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const entry = await buildNodeEntry("src/server.ts", "dist/server.js");
  const child: ChildProcess = spawn(process.execPath, ["--enable-source-maps", entry], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", REDIS_URL: redisUrl, TRACKING_SECRET, ADMIN_API_KEY: OPS_KEY, LOG_LEVEL: "warn", NODE_ENV: "production" },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (i > 150) throw new Error("the Node server did not start");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((r) => {
        child.once("exit", () => r());
        child.kill("SIGTERM");
      }),
  };
}

const f = (n: number): string => n.toFixed(2);

/** The raw cost in Node: PING on a kept connection vs a new client (the Worker's options) per PING. */
async function rawConnectCost(url: string): Promise<string[]> {
  const time = async (fn: () => Promise<unknown>): Promise<Sequential> => {
    for (let i = 0; i < 20; i++) await fn();
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      await fn();
      times.push(performance.now() - started);
    }
    return summary(times);
  };
  const kept = new Redis(url);
  const warm = await time(() => kept.ping());
  kept.disconnect();
  const fresh = await time(async () => {
    const c = new Redis(url, { lazyConnect: true, enableReadyCheck: false, protocol: 2, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await c.ping();
    c.disconnect();
  });
  return [
    `| ioredis in Node | PING on a kept connection | ${f(warm.p50)} | ${f(warm.p90)} | ${f(warm.p99)} | |`,
    `| ioredis in Node | new client + PING + close | ${f(fresh.p50)} | ${f(fresh.p90)} | ${f(fresh.p99)} | |`,
  ];
}

async function measure(name: string, base: string, probe: Redis): Promise<string[]> {
  const connections = async (): Promise<number> => Number((await probe.info("stats")).match(/total_connections_received:(\d+)/)?.[1]);
  const before = await connections();
  const seq = await sequential(base);
  // healthz needs no store: per store-touching request (readyz, decision).
  const perRequest = ((await connections()) - before) / ((seq.requests * 2) / 3);
  const baseline = await load(base, "healthz");
  const loaded = await load(base, "decision");
  const row = (what: string, r: Sequential): string => `| ${name} | ${what} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | |`;
  const loadRow = (what: string, r: Awaited<ReturnType<typeof load>>): string =>
    `| ${name} | ${what} | ${f(r.p50)} | | ${f(r.p99)} | ${Math.round(r.rps)} req/s${r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : ""} |`;
  return [
    row("healthz (no store)", seq.healthz),
    row("readyz (1 PING)", seq.readyz),
    row("decision (2 slots)", seq.decision),
    `| ${name} | readyz − healthz, median of pairs (one store round trip) | ${f(seq.storeRoundTrip)} | | | |`,
    `| ${name} | Redis connections per store-touching request | ${f(perRequest)} | | | |`,
    loadRow(`load, healthz, ${CONNECTIONS} conns × ${DURATION} s`, baseline),
    loadRow(`load, decisions, ${CONNECTIONS} conns × ${DURATION} s`, loaded),
  ];
}

const redis = await startRedis();
const probe = new Redis(redis.url);
try {
  const seed = await composeService(parseConfig({ REDIS_URL: redis.url, SEED_SAMPLE_DATA: "true", TRACKING_SECRET, ADMIN_API_KEY: OPS_KEY, LOG_LEVEL: "silent" }), { background: false });
  await seed.close();

  const rows: string[] = await rawConnectCost(redis.url);
  const node = await startNode(redis.url);
  try {
    rows.push(...(await measure("Node", node.url, probe)));
  } finally {
    await node.stop();
  }
  const worker = await startWorker({ REDIS_URL: redis.url, TRACKING_SECRET, ADMIN_API_KEY: OPS_KEY, LOG_LEVEL: "warn" });
  try {
    rows.push(...(await measure("Worker (wrangler dev)", worker.url, probe)));
  } finally {
    await worker.stop();
  }
  process.stdout.write(
    [
      `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}, redis on 127.0.0.1, ${REQUESTS} sequential requests per row`,
      "",
      "| build | what | p50 ms | p90 ms | p99 ms | |",
      "|---|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
} finally {
  probe.disconnect();
  await redis.stop();
}
