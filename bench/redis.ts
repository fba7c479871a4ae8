/**
 * The benchmark's own redis-server (never the shared one): a free port, a temporary directory, no
 * persistence; plus readers for the stats the benchmark takes from Redis itself.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly version: string;
  /** A plain client (no auto-pipelining) for stats and FLUSHALL. */
  readonly client: Redis;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (bind to 0 and read it back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Starts a private redis-server on a free port; with `cpus`, pinned to them (`taskset -c`). */
export async function startRedis(binary = "redis-server", cpus?: string): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), "sp-bench-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning"];
  const [command, argv] = cpus === undefined ? [binary, args] : ["taskset", ["-c", cpus, binary, ...args]];
  const child = spawn(command, argv, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on("error", () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start: ${stderr}`);
    try {
      if (client.status === "wait" || client.status === "end") await client.connect();
      await client.ping();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "unknown";
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    version,
    client,
    async stop() {
      if (stopped) return;
      stopped = true;
      client.disconnect();
      if (child.exitCode === null && child.pid !== undefined) child.kill("SIGTERM");
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && child.kill("SIGKILL"), 5000);
      await exited(child);
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CommandStat {
  calls: number;
  usec: number;
}

/** `INFO commandstats` as name → { calls, usec } (name without the `cmdstat_` prefix). */
export function parseCommandStats(info: string): Map<string, CommandStat> {
  const out = new Map<string, CommandStat>();
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m) out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Commands a script replay sends around its calls (by name, without a subcommand): not the script's own. */
const HARNESS_COMMANDS = new Set(["evalsha", "config", "info", "flushall", "script"]);

/**
 * After `calls` EVALSHA calls since `CONFIG RESETSTAT` (bench/serve-script.ts, bench/track-script.ts):
 * Redis's time per call and the commands the script ran inside each, from `INFO commandstats`.
 */
export function scriptCallFigures(info: string, calls: number): { usecPerCall: number; commandsPerCall: number } {
  const stats = parseCommandStats(info);
  let inner = 0;
  for (const [name, s] of stats) if (!HARNESS_COMMANDS.has(name.split("|")[0] as string)) inner += s.calls;
  return { usecPerCall: (stats.get("evalsha")?.usec ?? 0) / calls, commandsPerCall: inner / calls };
}

/** Numeric fields of an INFO section (`used_cpu_user`, `total_net_input_bytes`, ...). */
export function parseInfoNumbers(info: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^([a-z_0-9]+):(-?[\d.]+)$/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

export interface RedisSample {
  commands: Map<string, CommandStat>;
  info: Record<string, number>;
}

export async function sampleRedis(client: Redis): Promise<RedisSample> {
  const [commands, info] = await Promise.all([client.info("commandstats"), client.info("all")]);
  return { commands: parseCommandStats(commands), info: parseInfoNumbers(info) };
}

/** Redis-side activity between two samples, excluding the sampler's own INFO calls. */
export function redisDelta(before: RedisSample, after: RedisSample): {
  commands: Record<string, CommandStat>;
  totalCalls: number;
  scriptCalls: number;
  scriptUsec: number;
  cpuSeconds: number;
  netInBytes: number;
  netOutBytes: number;
} {
  const commands: Record<string, CommandStat> = {};
  let totalCalls = 0;
  for (const [name, stat] of after.commands) {
    if (name === "info") continue;
    const prev = before.commands.get(name) ?? { calls: 0, usec: 0 };
    const d = { calls: stat.calls - prev.calls, usec: stat.usec - prev.usec };
    if (d.calls <= 0) continue;
    commands[name] = d;
    totalCalls += d.calls;
  }
  const script = (n: string): CommandStat => commands[n] ?? { calls: 0, usec: 0 };
  const num = (s: RedisSample, k: string): number => s.info[k] ?? 0;
  return {
    commands,
    totalCalls,
    scriptCalls: script("evalsha").calls + script("eval").calls,
    scriptUsec: script("evalsha").usec + script("eval").usec,
    cpuSeconds:
      num(after, "used_cpu_user") + num(after, "used_cpu_sys") - num(before, "used_cpu_user") - num(before, "used_cpu_sys"),
    // The sampler's INFO replies are a few KB each; negligible next to a load run.
    netInBytes: num(after, "total_net_input_bytes") - num(before, "total_net_input_bytes"),
    netOutBytes: num(after, "total_net_output_bytes") - num(before, "total_net_output_bytes"),
  };
}
