/**
 * The one long-lived ioredis client of a Node process: auto-pipelining on (commands issued in the
 * same tick share one write), the serve script registered once (EVALSHA with EVAL fallback), bounded
 * retries and no offline queue, so nothing piles up in memory while Redis is away.
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { SERVED_LUA, SERVE_LUA } from "../lua/serve.js";
import { FILTERED_LUA, TRACK_LUA } from "../lua/track.js";
import { CATALOG_WRITE_LUA } from "../lua/catalog-write.js";

/** The service's Lua scripts, registered with `defineCommand` (EVALSHA, EVAL on NOSCRIPT). */
export interface ServeCommand {
  spServe(numKeys: number, ...args: (string | number)[]): Promise<string>;
  spTrack(numKeys: number, ...args: (string | number)[]): Promise<number>;
  spFiltered(numKeys: number, ...args: (string | number)[]): Promise<number>;
  spCatalogWrite(numKeys: number, ...args: (string | number)[]): Promise<number>;
  spServed(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export type SpRedis = Redis & ServeCommand;

export interface RedisClientOptions {
  /** Per-command deadline in milliseconds. */
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
}

function redisOptions(options: RedisClientOptions): RedisOptions {
  return {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 4), 500),
    lazyConnect: true,
  };
}

/** Registers the service's scripts on a client (also used by the Workers per-request client). */
export function defineScripts<T extends Redis | Cluster>(client: T): T {
  client.defineCommand("spServe", { lua: SERVE_LUA });
  client.defineCommand("spServed", { lua: SERVED_LUA });
  client.defineCommand("spTrack", { lua: TRACK_LUA });
  client.defineCommand("spFiltered", { lua: FILTERED_LUA });
  client.defineCommand("spCatalogWrite", { lua: CATALOG_WRITE_LUA });
  // Errors surface on the commands that hit them; an unhandled 'error' event would crash the process.
  client.on("error", () => undefined);
  return client;
}

export function createRedisClient(url: string, options: RedisClientOptions): SpRedis {
  return defineScripts(new Redis(url, redisOptions(options))) as SpRedis;
}

/**
 * A Redis Cluster client (`REDIS_CLUSTER_NODES`). It offers the same commands the stores use, so
 * it is typed as one client; every multi-key command and script the stores send in cluster mode
 * stays within one hash slot (see keys.ts).
 */
export function createRedisClusterClient(nodes: string, options: RedisClientOptions): SpRedis {
  const seeds = nodes.split(",").map((n) => {
    const i = n.lastIndexOf(":");
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
  const cluster = new Cluster(seeds, {
    redisOptions: redisOptions(options),
    enableAutoPipelining: true,
    // ioredis groups auto-pipelined commands by the slot of their first argument, which for a
    // script is its key count, not a key: scripts would be batched with other slots' commands.
    autoPipeliningIgnoredCommands: ["spServe", "spServed", "spTrack", "spFiltered", "spCatalogWrite", "eval", "evalsha"],
    enableOfflineQueue: false,
    lazyConnect: true,
    clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  return defineScripts(cluster) as unknown as SpRedis;
}
