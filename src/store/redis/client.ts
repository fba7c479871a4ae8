/**
 * The one long-lived ioredis client of a Node process: auto-pipelining on (commands issued in the
 * same tick share one write), the serve script registered once (EVALSHA with EVAL fallback), bounded
 * retries and no offline queue, so nothing piles up in memory while Redis is away.
 */
import { Redis, type RedisOptions } from "ioredis";
import { SERVE_LUA } from "../lua/serve.js";
import { FILTERED_LUA, TRACK_LUA } from "../lua/track.js";
import { CATALOG_WRITE_LUA } from "../lua/catalog-write.js";

/** The service's Lua scripts, registered with `defineCommand` (EVALSHA, EVAL on NOSCRIPT). */
export interface ServeCommand {
  spServe(numKeys: number, ...args: (string | number)[]): Promise<string>;
  spTrack(numKeys: number, ...args: (string | number)[]): Promise<number>;
  spFiltered(numKeys: number, ...args: (string | number)[]): Promise<number>;
  spCatalogWrite(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export type SpRedis = Redis & ServeCommand;

export interface RedisClientOptions {
  /** Per-command deadline in milliseconds. */
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
}

export function createRedisClient(url: string, options: RedisClientOptions): SpRedis {
  const redisOptions: RedisOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    lazyConnect: true,
  };
  const client = new Redis(url, redisOptions) as SpRedis;
  client.defineCommand("spServe", { lua: SERVE_LUA });
  client.defineCommand("spTrack", { lua: TRACK_LUA });
  client.defineCommand("spFiltered", { lua: FILTERED_LUA });
  client.defineCommand("spCatalogWrite", { lua: CATALOG_WRITE_LUA });
  // Errors surface on the commands that hit them; an unhandled 'error' event would crash the process.
  client.on("error", () => undefined);
  return client;
}
