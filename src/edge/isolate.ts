/**
 * One isolate's service: composed once, on the first request, from the Worker's env, with stores
 * built on the per-request Redis stand-in and no timers (`background: false`). What the Node
 * process does on timers happens here around requests, with the request's own client:
 *
 * - catalog: the compiled snapshot stays in the isolate; its version is checked at most once per
 *   `CATALOG_POLL_MS`. A check due within one more poll interval runs after the response
 *   (`waitUntil`); an older one (the isolate sat idle) runs before the request is handled, so a
 *   decision never uses a snapshot whose version was last checked more than 2 × `CATALOG_POLL_MS`
 *   ago (API.md: rule changes reach every instance within 2 s).
 * - pacing: delivered counts are re-read after a response once `PACING_REFRESH_MS` has passed.
 * - beacons buffered while the store was down are written after a later response.
 */
import { composeService, retentionOf, type Service } from "../compose.js";
import { ConfigError, parseConfig, type Config } from "../config.js";
import { createKeys } from "../store/keys.js";
import { createRedisStores } from "../store/redis/redis-stores.js";
import type { Logger } from "../telemetry/logger.js";
import { edgeAssets } from "./assets.js";
import { createEdgeLogger } from "./logger.js";
import { requestRedis } from "./request-redis.js";

/** The Worker's bindings: vars and secrets (strings); other bindings are ignored. */
export type WorkerEnv = Record<string, unknown>;

export interface Isolate {
  readonly config: Config;
  readonly service: Service;
  readonly logger: Logger;
  /** Work due before this request is handled (a stale catalog check). */
  beforeRequest(): Promise<void>;
  /** Work due after the response (catalog check, pacing read, buffered beacons); never throws. */
  afterResponse(): Promise<void>;
}

/** The env's string values, as `parseConfig` expects them. */
export function configOf(env: WorkerEnv, requestUrl: string): Config {
  const vars: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") vars[k] = v;
  // Tracking and click URLs default to the origin the Worker is reached on.
  vars.PUBLIC_BASE_URL ||= new URL(requestUrl).origin;
  const config = parseConfig(vars);
  if (config.REDIS_CLUSTER_NODES) throw new ConfigError("invalid configuration:\n  REDIS_CLUSTER_NODES: not supported by the Worker (use REDIS_URL)");
  if (!config.TRACKING_SECRET) {
    // Each isolate would mint its own: tokens signed by one would fail on every other.
    throw new ConfigError("invalid configuration:\n  TRACKING_SECRET: required by the Worker (wrangler secret put TRACKING_SECRET)");
  }
  return config;
}

export async function createIsolate(config: Config): Promise<Isolate> {
  const logger = createEdgeLogger(config.LOG_LEVEL);
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const stores = config.REDIS_URL ? createRedisStores(requestRedis, keys, retentionOf(config)) : undefined;
  if (!stores) logger.warn("REDIS_URL is unset: the Worker uses a store inside this isolate (demo only: nothing is shared or kept)");
  const service = await composeService(config, {
    logger,
    background: false,
    assets: edgeAssets(),
    ...(stores ? { stores } : {}),
    onGeneratedAdminKey: () => logger.warn("ADMIN_API_KEY is unset: only keys created through the admin API (stored in Redis) are accepted"),
  });

  const pollMs = config.CATALOG_POLL_MS;
  let catalogCheckedAt = Date.now();
  let pacingReadAt = Date.now();

  const checkCatalog = async (): Promise<void> => {
    catalogCheckedAt = Date.now();
    try {
      await service.catalog.refresh();
    } catch (err) {
      // Retried on the next request after another poll interval; meanwhile the snapshot serves.
      logger.warn({ err }, "catalog version check failed");
    }
  };

  return {
    config,
    service,
    logger,
    async beforeRequest() {
      if (Date.now() - catalogCheckedAt >= 2 * pollMs) await checkCatalog();
    },
    async afterResponse() {
      const now = Date.now();
      const work: Promise<unknown>[] = [];
      if (now - catalogCheckedAt >= pollMs) work.push(checkCatalog());
      if (now - pacingReadAt >= config.PACING_REFRESH_MS) {
        pacingReadAt = now;
        work.push(service.pacing.refresh().catch((err: unknown) => logger.warn({ err }, "pacing refresh failed")));
      }
      if (service.beaconBuffer.size > 0 && service.breaker.state !== "open") work.push(service.beaconBuffer.flush());
      await Promise.all(work);
    },
  };
}
