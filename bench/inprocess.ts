/**
 * In-process decision cost: the real app (composeService, in-process store) driven through
 * `app.request()` with the benchmark's catalog and request pool, no sockets and no Redis. It
 * isolates the Node-side work of a decision (body parsing, validation, eligibility, ranking,
 * the walk, payloads, JSON) from HTTP and Redis, for quick before/after comparisons.
 *
 *   npx tsx bench/inprocess.ts [campaigns=1000] [decisions=20000]
 */
import { parseConfig } from "../src/config.js";
import { composeService } from "../src/compose.js";
import { generateCatalog } from "./catalog.js";
import { createDecisionPool } from "./requests.js";

const campaigns = Number(process.argv[2] ?? 1000);
const n = Number(process.argv[3] ?? 20000);
const adminKey = "spk_inprocess_bench_key_000000000000";
const config = parseConfig({ ADMIN_API_KEY: adminKey, TRACKING_SECRET: "x".repeat(32), USER_KEY_SECRET: "y".repeat(32), LOG_LEVEL: "warn", NODE_ENV: "production" });
const service = await composeService(config, { onGeneratedAdminKey: () => undefined });
const app = service.app;
const { document } = generateCatalog({ campaigns, seed: 42 });
const put = await app.request("/v1/admin/catalog", { method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` }, body: JSON.stringify(document) });
if (put.status >= 300) throw new Error(`import failed: ${put.status} ${await put.text()}`);
const pool = createDecisionPool();
const run = async (count: number, offset: number): Promise<number> => {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const res = await app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body: pool.body(offset + i) });
    if (res.status !== 200) throw new Error(`decision ${i}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  return performance.now() - t0;
};
await run(Math.min(5000, n), 0);
const cpu0 = process.cpuUsage();
const ms = await run(n, 5000);
const cpu = process.cpuUsage(cpu0);
const empty = async (count: number): Promise<number> => {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await (await app.request("/healthz")).arrayBuffer();
  return performance.now() - t0;
};
await empty(2000);
const emptyMs = await empty(n);
process.stdout.write(
  `campaigns ${campaigns}: ${(1000 * ms / n).toFixed(1)} µs/decision wall, ${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU; /healthz ${(1000 * emptyMs / n).toFixed(1)} µs\n`,
);
await service.close?.();
process.exit(0);
