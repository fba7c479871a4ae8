/**
 * Redis's own time per decision: the serve script (src/store/lua/serve.ts) replayed with real
 * arguments. The real app (composeService, on a private redis-server) imports the bench catalog
 * and answers decisions from the bench's request pool through `app.request()`, while the serve
 * calls it sends are recorded (ioredis's `sendCommand`, EVALSHA of the serve script). Those calls
 * are then sent again to an emptied Redis, 16 at a time, in variants that isolate parts of the
 * script, alternated over several rounds; Redis's `INFO commandstats` gives its time per call.
 *
 *   npx tsx bench/serve-script.ts [campaigns=1000] [calls=3000] [rounds=6]
 *
 * Variants: the call as the app sent it; without the record (no report counters, reach or event
 * log); the read-only walk (no write at all); and an empty script with the same arguments, the
 * cost of the call itself. Each variant replays the same calls from an empty Redis, so counters
 * and caps evolve the same way every round. Absolute figures move with the machine; compare the
 * variants of one run, or two commits run back to back.
 */
import { Redis } from "ioredis";
import { parseConfig } from "../src/config.js";
import { composeService } from "../src/compose.js";
import { SERVE_LUA } from "../src/store/lua/serve.js";
import { startRedis } from "../tests/helpers/redis-server.js";
import { generateCatalog } from "./catalog.js";
import { scriptCallFigures } from "./redis.js";
import { createDecisionPool } from "./requests.js";

const campaigns = Number(process.argv[2] ?? 1000);
const callCount = Number(process.argv[3] ?? 3000);
const rounds = Number(process.argv[4] ?? 6);

/** The serve script's ARGV positions (see SERVE_LUA). */
const ARG_WRITE = 2;
const ARG_DEADLINE = 4;
const ARG_RECORD = 5;

const redis = await startRedis();
const recorded: string[][] = [];
let recording = false;
const serveSha = (await import("node:crypto")).createHash("sha1").update(SERVE_LUA).digest("hex");
type SendCommand = (command: { name: string; args: unknown[] }, ...rest: unknown[]) => unknown;
const proto = Redis.prototype as unknown as { sendCommand: SendCommand };
const send = proto.sendCommand;
proto.sendCommand = function (this: unknown, command, ...rest) {
  if (recording && command.name === "evalsha" && command.args[0] === serveSha) recorded.push(command.args.slice(1).map(String));
  return send.call(this, command, ...rest);
};

try {
  const adminKey = "spk_serve_script_bench_key_00000000";
  const config = parseConfig({
    REDIS_URL: redis.url,
    ADMIN_API_KEY: adminKey,
    TRACKING_SECRET: "t".repeat(43),
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    SEED_SAMPLE_DATA: "false",
    ALLOWED_ORIGINS: "https://news.example",
  });
  const service = await composeService(config, { onGeneratedAdminKey: () => undefined });
  const { document } = generateCatalog({ campaigns, seed: 42 });
  const put = await service.app.request("/v1/admin/catalog", {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
    body: JSON.stringify(document),
  });
  if (put.status !== 200) throw new Error(`import answered ${put.status}: ${await put.text()}`);
  const pool = createDecisionPool({ pages: 1000, users: 100_000, seed: 7 });
  recording = true;
  for (let i = 0; recorded.length < callCount && i < callCount * 2; i++) {
    const res = await service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body: pool.body(i) });
    if (res.status !== 200) throw new Error(`decision answered ${res.status}`);
    await res.arrayBuffer();
  }
  recording = false;
  await service.close?.();
  if (recorded.length === 0) throw new Error("no serve call was recorded");

  /** Each call's arguments with one ARGV replaced (ARGV[i] sits after the key count and the keys). */
  const withArg = (calls: string[][], index: number, value: string): string[][] =>
    calls.map((a) => {
      const b = a.slice();
      b[Number(a[0]) + index] = value;
      return b;
    });
  // The recorded deadlines have passed by now: replay without one.
  const calls = withArg(recorded, ARG_DEADLINE, "");
  const variants: Record<string, { lua: string; calls: string[][] }> = {
    "as sent": { lua: SERVE_LUA, calls },
    "without the record": { lua: SERVE_LUA, calls: withArg(calls, ARG_RECORD, "") },
    "read-only walk": { lua: SERVE_LUA, calls: withArg(calls, ARG_WRITE, "0") },
    "empty script": { lua: "return '1'", calls },
  };
  const client = new Redis(redis.url, { enableAutoPipelining: true });
  const perCall: Record<string, number[]> = {};
  const inner: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, v] of Object.entries(variants)) {
      await client.flushall();
      const sha = (await client.script("LOAD", v.lua)) as string;
      await client.config("RESETSTAT");
      for (let i = 0; i < v.calls.length; i += 16) await Promise.all(v.calls.slice(i, i + 16).map((a) => client.evalsha(sha, a[0] as string, ...a.slice(1))));
      const figures = scriptCallFigures(await client.info("commandstats"), v.calls.length);
      (perCall[name] ??= []).push(figures.usecPerCall);
      inner[name] = figures.commandsPerCall;
    }
  }
  await client.quit();
  const argBytes = calls.reduce((n, a) => n + a.reduce((m, x) => m + Buffer.byteLength(x), 0), 0) / calls.length;
  process.stdout.write(`${campaigns} campaigns: ${calls.length} serve calls recorded (${argBytes.toFixed(0)} bytes of keys and arguments each); ${rounds} rounds\n`);
  process.stdout.write("| variant | Redis µs per call, median (fastest round) | commands inside per call |\n|:--|--:|--:|\n");
  for (const [name, values] of Object.entries(perCall)) {
    const sorted = [...values].sort((a, b) => a - b);
    process.stdout.write(`| ${name} | ${(sorted[sorted.length >> 1] as number).toFixed(0)} (${(sorted[0] as number).toFixed(0)}) | ${(inner[name] ?? 0).toFixed(1)} |\n`);
  }
} finally {
  proto.sendCommand = send;
  await redis.stop();
}
process.exit(0);
