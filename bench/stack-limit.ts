/**
 * What the stack itself allows, without the service: a plain Hono app on `@hono/node-server` (no
 * middleware, no validation, nothing of ours but the response bytes) whose routes do only the I/O
 * a decision cannot avoid, measured with autocannon like `npm run bench` (50 connections,
 * pipelining 1), the routes alternated over rounds so that every ratio is taken within one round.
 *
 *   npx tsx bench/stack-limit.ts [rounds=5] [seconds=5]
 *
 * Routes of the plain app:
 *   GET  /empty     c.text("ok")
 *   GET  /redis     one INCR (ioredis, auto-pipelining): the issue's one-round-trip route
 *   POST /body      a decision body read as text and JSON.parse'd; answers "ok"
 *   GET  /bytes     a real decision's response bytes (20 real responses in turn), no body in
 *   POST /io        /body + one INCR + the decision's bytes: the I/O of any decision
 * The decision bodies are the benchmark's pool (bench/requests.ts); the response bytes are real
 * decisions of the 1k generated catalog, made once at start by the service on its in-process store.
 * It prints req/s per route and round, and each route ÷ /empty and ÷ /redis (median and range).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { createDecisionPool } from "./requests.js";
import { freePort, startRedis } from "./redis.js";
import { median } from "./stats.js";

const SELF = fileURLToPath(import.meta.url);

async function serveMode(port: number, redisPort: number, responsesFile: string): Promise<void> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const { Redis } = await import("ioredis");
  const responses = JSON.parse(readFileSync(responsesFile, "utf8")) as string[];
  const redis = new Redis({ port: redisPort, host: "127.0.0.1", enableAutoPipelining: true });
  let n = 0;
  const next = (): string => responses[n++ % responses.length] as string;
  const app = new Hono();
  app.get("/empty", (c) => c.text("ok"));
  app.get("/redis", async (c) => c.text(String(await redis.incr("stack:counter"))));
  app.post("/body", async (c) => {
    const v = JSON.parse(await c.req.text()) as { slots?: unknown };
    return Array.isArray(v.slots) ? c.text("ok") : c.text("bad", 400);
  });
  app.get("/bytes", (c) => {
    c.header("Content-Type", "application/json");
    return c.body(next());
  });
  app.post("/io", async (c) => {
    const v = JSON.parse(await c.req.text()) as { slots?: unknown };
    if (!Array.isArray(v.slots)) return c.text("bad", 400);
    await redis.incr("stack:counter");
    c.header("Content-Type", "application/json");
    return c.body(next());
  });
  serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => process.stdout.write("READY\n"));
}

/** 20 real decision responses of the 1k generated catalog (the service on its in-process store). */
async function realResponses(): Promise<string[]> {
  const { parseConfig } = await import("../src/config.js");
  const { composeService } = await import("../src/compose.js");
  const { generateCatalog } = await import("./catalog.js");
  const adminKey = "spk_stack_limit_bench_key_0000000000";
  const config = parseConfig({ ADMIN_API_KEY: adminKey, TRACKING_SECRET: "x".repeat(32), USER_KEY_SECRET: "y".repeat(32), LOG_LEVEL: "error", NODE_ENV: "production", ALLOWED_ORIGINS: "*" });
  const service = await composeService(config, { onGeneratedAdminKey: () => undefined });
  const { document } = generateCatalog({ campaigns: 1000, seed: 42 });
  const put = await service.app.request("/v1/admin/catalog", { method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` }, body: JSON.stringify(document) });
  if (put.status >= 300) throw new Error(`import failed: ${put.status}`);
  const pool = createDecisionPool();
  const out: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body: pool.body(i) });
    out.push(await res.text());
  }
  await service.close?.();
  return out;
}

async function main(): Promise<void> {
  if (process.argv[2] === "--serve") return serveMode(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] as string);
  const rounds = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 5);
  const redis = await startRedis();
  const responses = await realResponses();
  const dir = mkdtempSync(join(tmpdir(), "sp-stack-limit-"));
  const file = join(dir, "responses.json");
  writeFileSync(file, JSON.stringify(responses));
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", SELF, "--serve", String(port), String(redis.port), file], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_ENV: "production" } });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("READY") && resolve());
  });
  const pool = createDecisionPool();
  let i = 0;
  const bodies = (): autocannon.Request[] => Array.from({ length: 1000 }, () => ({ method: "POST", body: pool.body(i++), headers: { "content-type": "application/json" } }));
  const routes: [string, string, boolean][] = [["empty", "/empty", false], ["redis", "/redis", false], ["body", "/body", true], ["bytes", "/bytes", false], ["io", "/io", true]];
  const rps: Record<string, number[]> = {};
  const ratio: Record<string, { empty: number[]; redis: number[] }> = {};
  const meanBytes = responses.reduce((a, r) => a + Buffer.byteLength(r), 0) / responses.length;
  process.stderr.write(`plain Hono app on @hono/node-server, ${rounds} rounds of ${seconds} s per route; response ${Math.round(meanBytes)} bytes on average\n`);
  for (let round = 0; round < rounds; round++) {
    const got: Record<string, number> = {};
    for (const [name, path, post] of routes) {
      const options = { url: `http://127.0.0.1:${port}${path}`, connections: 50, pipelining: 1, ...(post ? { requests: bodies() } : {}) };
      await autocannon({ ...options, duration: 1 });
      const result = await autocannon({ ...options, duration: seconds });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      got[name] = result.requests.average;
      (rps[name] ??= []).push(got[name]);
    }
    for (const [name] of routes) {
      const r = (ratio[name] ??= { empty: [], redis: [] });
      r.empty.push((got[name] as number) / (got.empty as number));
      r.redis.push((got[name] as number) / (got.redis as number));
    }
    process.stderr.write(`  round ${round + 1}: ${routes.map(([name]) => `${name} ${Math.round(got[name] as number)}`).join(", ")} req/s\n`);
  }
  const f = (x: number): string => x.toFixed(2);
  const range = (xs: number[]): string => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
  process.stdout.write(`| route | req/s median | ÷ /empty median (range) | ÷ /redis median (range) |\n|---|---:|---:|---:|\n`);
  for (const [name, path, post] of routes) {
    process.stdout.write(`| ${post ? "POST" : "GET"} ${path} | ${Math.round(median(rps[name] as number[])).toLocaleString("en-US")} | ${range(ratio[name]?.empty ?? [])} | ${range(ratio[name]?.redis ?? [])} |\n`);
  }
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
  await redis.stop();
  process.exit(0);
}

await main();
