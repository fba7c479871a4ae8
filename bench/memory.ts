/**
 * Memory of a decision-serving instance with a large catalog: one bench server imports a generated
 * catalog (PUT /v1/admin/catalog), then a second, fresh server on the same Redis loads it the way
 * every other instance does (store load + compile) and reports its memory after a full GC, at
 * once and 3 s later. The importing instance's own figures are printed too, right after the import
 * and again ~40 s later: right after it, its RSS still counts the import's large strings and the
 * pages its collections emptied, which V8 hands back over the following seconds. A third instance, already running when the import lands, follows it
 * from the change notice; the longest event-loop block it had until it serves the new version is
 * how long its decisions would have waited.
 *
 *   npx tsx bench/memory.ts [campaigns=100000]
 *
 * The new instance's figures are taken three times: right after its load, 3 s later and 30 s
 * later (V8 hands back the pages the load emptied over the following seconds), each with the part
 * of its RSS that is the C allocator's heap (Linux: the `[heap]` mapping). Then it serves decisions
 * for 20 s (the bench's request pool, 16 at a time), its RSS sampled every 0.5 s without a forced
 * GC, and is measured once more. For experiments, `BENCH_NODE_FLAGS` adds node flags to the
 * servers and `MALLOC_*` variables reach them.
 *
 * Starts its own redis-server on a free port (never 6379) and stops it at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { buildNodeEntry } from "../scripts/node-bundle.js";
import { startRedis } from "../tests/helpers/redis-server.js";
import { freePort } from "../tests/helpers/browser.js";
import { generateCatalog } from "./catalog.js";
import { createDecisionPool } from "./requests.js";

interface Stats {
  memory: Record<string, number>;
  heapSpaces: Record<string, { size: number; used: number }>;
  catalog: { version: number; campaigns: number };
}

const size = Number(process.argv[2] ?? 100_000);
const redis = await startRedis();
const entry = await buildNodeEntry("bench/server.ts", "dist/bench/server.js");
const adminKey = "spk_bench_memory_0123456789abcdefghij";
const children: ChildProcess[] = [];

async function start(): Promise<string> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: redis.url,
    ADMIN_API_KEY: adminKey,
    TRACKING_SECRET: "t".repeat(43),
    LOG_LEVEL: "warn",
    SEED_SAMPLE_DATA: "false",
    ADMIN_TIMEOUT_MS: "60000",
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("MALLOC_"))),
  };
  const child = spawn(process.execPath, ["--expose-gc", ...(process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean), entry], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("BENCH_READY")) resolve();
    });
  });
  return `http://127.0.0.1:${port}`;
}

/** The resident size of a process's C allocator heap (the `[heap]` mapping; Linux only, else nothing). */
function mallocHeap(pid: number | undefined): string {
  let kb = 0;
  let inHeap = false;
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith("[heap]");
      else if (inHeap && line.startsWith("Rss:")) kb += Number(line.split(/\s+/)[1]);
    }
  } catch {
    return "";
  }
  return `, of which the allocator's heap ${Math.round(kb / 1024)} MB`;
}

const TRAFFIC_SECONDS = 20;
const TRAFFIC_CONCURRENCY = 16;

/** Sends decisions (the bench's request pool: varied pages, 100,000 user keys) and samples the server's RSS. */
async function serveDecisions(base: string, seconds: number, concurrency: number) {
  const pool = createDecisionPool({ pages: 1000, users: 100_000, seed: 7 });
  const until = performance.now() + seconds * 1000;
  let sent = 0;
  let ok = 0;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    fetch(`${base}/__bench/stats`)
      .then(async (r) => samples.push(((await r.json()) as Stats).memory.rss ?? 0))
      .catch(() => undefined);
  }, 500);
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const res = await fetch(`${base}/v1/decisions`, { method: "POST", headers: { "content-type": "application/json" }, body: pool.body(sent++) });
      if (res.status === 200) ok++;
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(sampler);
  const sorted = samples.filter((x) => x > 0).sort((a, b) => a - b);
  return { sent, ok, minRss: sorted[0] ?? 0, maxRss: sorted[sorted.length - 1] ?? 0, medianRss: sorted[Math.floor(sorted.length / 2)] ?? 0 };
}

const call = (url: string): Promise<Response> => fetch(url, { method: "POST" });
const stats = async (base: string): Promise<Stats> => (await (await fetch(`${base}/__bench/stats?gc=1`)).json()) as Stats;
/** The heap spaces that hold more than 4 MB: committed (used). */
const spaces = (s: Stats): string =>
  Object.entries(s.heapSpaces)
    .filter(([, v]) => v.size > 4 * 1048576)
    .map(([k, v]) => `${k} ${Math.round(v.size / 1048576)} (${Math.round(v.used / 1048576)})`)
    .join(", ");
const mb = (m: Record<string, number>): string =>
  ["rss", "heapUsed", "heapTotal", "external", "arrayBuffers"].map((k) => `${k} ${Math.round((m[k] ?? 0) / 1048576)} MB`).join(", ");

try {
  const importer = await start();
  // An instance that is already serving when the import lands elsewhere: it follows the new
  // version from the change notice. Its event loop is watched meanwhile: how long decisions
  // would have waited behind the rebuild.
  const follower = await start();
  await call(`${follower}/__bench/loop/start`);
  await call(`${importer}/__bench/loop/start`);
  const { document } = generateCatalog({ campaigns: size, seed: 42 });
  const res = await fetch(`${importer}/v1/admin/catalog`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
    body: JSON.stringify(document),
  });
  const imported = (await res.json()) as { version: number };
  if (res.status !== 200) throw new Error(`import answered ${res.status}`);
  const answered = performance.now();
  const importerLoop = (await (await call(`${importer}/__bench/loop/stop`)).json()) as { maxMs: number; p99Ms: number };
  process.stdout.write(
    `${size} campaigns\nimporting instance: longest event-loop block during the import ${importerLoop.maxMs.toFixed(0)} ms; after a full GC: ${mb((await stats(importer)).memory)}\n`,
  );
  for (;;) {
    const loop = (await (await fetch(`${follower}/__bench/loop`)).json()) as { maxMs: number; p99Ms: number; catalogVersion: number };
    if (loop.catalogVersion >= imported.version) {
      process.stdout.write(
        `following instance: at the imported version ${Math.round(performance.now() - answered)} ms after the import answered; ` +
          `longest event-loop block ${loop.maxMs.toFixed(1)} ms (p99 ${loop.p99Ms.toFixed(1)} ms) between the import's start and then\n`,
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const t = performance.now();
  const server = await start();
  let s = await stats(server);
  while (s.catalog.campaigns < size) {
    await new Promise((r) => setTimeout(r, 250));
    s = await stats(server);
  }
  const pid = children[children.length - 1]?.pid;
  const report = (when: string, st: Stats): void => {
    process.stdout.write(`new instance, ${when}, after a full GC: ${mb(st.memory)}${mallocHeap(pid)}\n  heap spaces, MB committed (used): ${spaces(st)}\n`);
  };
  report(`loaded in ${Math.round(performance.now() - t)} ms (process start included)`, s);
  await new Promise((r) => setTimeout(r, 3000));
  report("3 s later", await stats(server));
  await new Promise((r) => setTimeout(r, 27_000));
  report("30 s later", await stats(server));
  // V8 unmaps the import's large strings and the pages its collections emptied over the seconds
  // after it: right after the import the importer's RSS still counts them.
  process.stdout.write(
    `importing instance, ${Math.round((performance.now() - answered) / 1000)} s after the import answered, after a full GC: ${mb((await stats(importer)).memory)}\n`,
  );
  // Then the same instance serving decisions: its RSS sampled every 0.5 s (no forced GC).
  const traffic = await serveDecisions(server, TRAFFIC_SECONDS, TRAFFIC_CONCURRENCY);
  process.stdout.write(
    `new instance serving decisions for ${TRAFFIC_SECONDS} s (${TRAFFIC_CONCURRENCY} at a time; ${traffic.ok} answered 200 of ${traffic.sent}): ` +
      `RSS ${Math.round(traffic.minRss / 1048576)}–${Math.round(traffic.maxRss / 1048576)} MB, median ${Math.round(traffic.medianRss / 1048576)} MB\n`,
  );
  report("after that traffic", await stats(server));
} finally {
  for (const c of children) c.kill("SIGKILL");
  await redis.stop();
}
process.exit(0);
