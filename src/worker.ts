/**
 * The Cloudflare Workers entry: the same `createApp` as the Node server (decisions, beacons,
 * reports, admin), composed once per isolate (src/edge/isolate.ts). Each request brings its own
 * Redis connection (src/edge/request-redis.ts), opened by its first store call and closed after the
 * response and the isolate's after-response work. See docs/edge.md.
 */
import { ConfigError, type Config } from "./config.js";
import { errorBody } from "./errors.js";
import { newId } from "./domain/ids.js";
import { configOf, createIsolate, type Isolate, type WorkerEnv } from "./edge/isolate.js";
import { createEdgeLogger } from "./edge/logger.js";
import { createRequestRedis, withRequestRedis, type RequestRedis } from "./edge/request-redis.js";

/** The part of the Workers `ExecutionContext` used here. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** How long a failed start-up is remembered before a request tries again (ms). */
const START_RETRY_MS = 1000;
/** Budget for opening a request's Redis connection (TCP, and TLS for rediss://). */
const CONNECT_TIMEOUT_MS = 1000;
/** Paths on the page's critical path, held to `STORE_TIMEOUT_MS`; the rest get `ADMIN_TIMEOUT_MS`. */
const HOT_PATH = /^\/v1\/(decisions|events\/)/;

let config: Config | undefined;
let isolate: Promise<Isolate> | undefined;
let failedAt = 0;

function failure(code: "UNAVAILABLE" | "INTERNAL", message: string): Response {
  const body = errorBody(code, message, newId("req", Date.now(), 10));
  return new Response(JSON.stringify(body), {
    status: code === "UNAVAILABLE" ? 503 : 500,
    headers: { "Content-Type": "application/json; charset=utf-8", "X-Request-Id": body.error.requestId, ...(code === "UNAVAILABLE" ? { "Retry-After": "1" } : {}) },
  });
}

/** The isolate's service, composed by the first request; a failure is retried a second later. */
function isolateFor(cfg: Config): Promise<Isolate> {
  if (!isolate) {
    const started = createIsolate(cfg);
    isolate = started;
    started.catch((err: unknown) => {
      if (isolate === started) isolate = undefined;
      failedAt = Date.now();
      createEdgeLogger(cfg.LOG_LEVEL).error({ err }, "worker start-up failed (store unreachable?); retrying on a later request");
    });
  }
  return isolate;
}

async function handle(request: Request, cfg: Config, ctx: WorkerContext, redis: RequestRedis | undefined): Promise<Response> {
  const deadline = (ms: number): void => redis?.setCommandTimeout(ms);
  const hotMs = HOT_PATH.test(new URL(request.url).pathname) ? cfg.STORE_TIMEOUT_MS : cfg.ADMIN_TIMEOUT_MS;
  let current: Isolate;
  try {
    // Start-up work and catalog reloads read more than a decision does: the looser deadline.
    deadline(cfg.ADMIN_TIMEOUT_MS);
    current = await isolateFor(cfg);
    await current.beforeRequest();
  } catch {
    redis?.close();
    return failure("UNAVAILABLE", "the service is starting and its store is unreachable; retry shortly");
  }
  deadline(hotMs);
  let response: Response;
  try {
    response = await current.service.app.fetch(request);
  } catch (err) {
    redis?.close();
    throw err;
  }
  ctx.waitUntil(
    (async () => {
      deadline(cfg.ADMIN_TIMEOUT_MS);
      await current.afterResponse();
    })()
      .catch((err: unknown) => current.logger.warn({ err }, "after-response work failed"))
      .finally(() => redis?.close()),
  );
  return response;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    try {
      config ??= configOf(env, request.url);
    } catch (err) {
      createEdgeLogger("error").fatal({ problem: err instanceof ConfigError ? err.message : String(err) }, "bad configuration");
      return failure("INTERNAL", "the service is misconfigured");
    }
    const cfg = config;
    if (!isolate && Date.now() - failedAt < START_RETRY_MS) {
      return failure("UNAVAILABLE", "the service is starting and its store is unreachable; retry shortly");
    }
    if (!cfg.REDIS_URL) return handle(request, cfg, ctx, undefined);
    const redis = createRequestRedis(cfg.REDIS_URL, { connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, cfg.ADMIN_TIMEOUT_MS), commandTimeoutMs: cfg.ADMIN_TIMEOUT_MS });
    return withRequestRedis(redis.client, () => handle(request, cfg, ctx, redis));
  },
};
