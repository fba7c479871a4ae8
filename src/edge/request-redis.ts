/**
 * Redis on Workers: a TCP socket belongs to the request that opened it, so each request gets its
 * own short-lived ioredis client (lazy: opened by the first command, closed after the response).
 * The stores are built once per isolate on `requestRedis`, a stand-in whose methods forward to the
 * client of the request being served, found through `AsyncLocalStorage`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Redis } from "ioredis";
import { defineScripts, type SpRedis } from "../store/redis/client.js";

const current = new AsyncLocalStorage<SpRedis>();

export interface RequestRedisOptions {
  /** Deadline of each command, counted from when it is written to a connected socket (ms). */
  commandTimeoutMs: number;
  /** Deadline for the TCP (and TLS) connection and its handshake (ms). */
  connectTimeoutMs: number;
}

/** A request's client and the knob for its command deadline. */
export interface RequestRedis {
  readonly client: SpRedis;
  /** The deadline of the commands sent from now on (e.g. looser for start-up and off-path work). */
  setCommandTimeout(ms: number): void;
  /** Closes the connection without a round trip (call once every command has settled). */
  close(): void;
}

/**
 * One request's client: no reconnects, no retries, RESP2 (no HELLO round trip), no ready check
 * (no INFO round trip). Commands sent before the socket is up wait in the offline queue, which
 * lives as long as the request; a failed or timed-out connect rejects them at once.
 *
 * Deadlines: ioredis arms a command's timer when the command is sent, queued or not. Here the
 * deadline is read from the client's state: none while queued (the connect timeout bounds that
 * wait), the connect budget for the handshake (AUTH, SELECT), and the request's deadline once
 * ready, so a command queued during the connect gets its full deadline when it is written.
 */
export function createRequestRedis(url: string, options: RequestRedisOptions): RequestRedis {
  let deadline = options.commandTimeoutMs;
  const client = defineScripts(
    new Redis(url, {
      lazyConnect: true,
      enableReadyCheck: false,
      enableOfflineQueue: true,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      reconnectOnError: () => false,
      protocol: 2,
      connectTimeout: options.connectTimeoutMs,
    }),
  ) as SpRedis;
  preferEvalsha(client);
  Object.defineProperty(client.options, "commandTimeout", {
    configurable: true,
    enumerable: true,
    get: () => (client.status === "ready" ? deadline : client.status === "connect" ? options.connectTimeoutMs : undefined),
  });
  return {
    client,
    setCommandTimeout(ms) {
      deadline = ms;
    },
    close() {
      if (client.status !== "wait" && client.status !== "end") client.disconnect();
    },
  };
}

/**
 * ioredis sends a script's whole body (EVAL) the first time it runs it on a connection; with a
 * connection per request that would be every time (3.4 KB for the serve script). Redis keeps
 * scripts across connections, so the request's client sends EVALSHA first and the body only on
 * NOSCRIPT (after a Redis restart or SCRIPT FLUSH), which loads it for every later request.
 */
function preferEvalsha(client: SpRedis): void {
  const scripts = client.scriptsSet as Record<string, { lua: string; sha: string }>;
  for (const [name, script] of Object.entries(scripts)) {
    const run = (numKeys: number, ...args: (string | number)[]): Promise<unknown> =>
      client.evalsha(script.sha, numKeys, ...args).catch((err: unknown) => {
        if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
        return client.eval(script.lua, numKeys, ...args);
      });
    Reflect.set(client, name, run);
  }
}

/** Runs `fn` with `client` as the Redis of every store call made inside it (awaited or not). */
export function withRequestRedis<T>(client: SpRedis, fn: () => T): T {
  return current.run(client, fn);
}

/** The client of the request being served; throws outside `withRequestRedis`. */
export function activeRedis(): SpRedis {
  const client = current.getStore();
  if (!client) throw new Error("no Redis client for this request (store call outside withRequestRedis)");
  return client;
}

/**
 * The stand-in the isolate's stores are built on: every property read resolves the current
 * request's client, and methods are bound to it (`multi()` returns that client's transaction).
 */
export const requestRedis: SpRedis = new Proxy({} as SpRedis, {
  get(_target, property) {
    const client = activeRedis();
    const value: unknown = Reflect.get(client, property, client);
    return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(client) : value;
  },
});
