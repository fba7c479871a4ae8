/**
 * The composition root: builds the logger, stores and services from the configuration, once.
 * No module holds hidden singletons; tests build their own with overrides.
 */
import { randomBytes } from "node:crypto";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import type { CatalogDocument } from "./domain/catalog-schema.js";
import type { Random } from "./domain/selection.js";
import { createHmacSha256, createTokenSigner } from "./domain/tokens.js";
import { createAuditService } from "./services/audit-service.js";
import { createAuthService } from "./services/auth-service.js";
import { createCatalogService } from "./services/catalog-service.js";
import { createDecisionService } from "./services/decision-service.js";
import { createEventService } from "./services/event-service.js";
import { createRateLimiter } from "./services/rate-limiter.js";
import { createReportService } from "./services/report-service.js";
import { createPacingService } from "./services/pacing-service.js";
import type { Context } from "hono";
import type { DemoStory } from "./web/demo-article.js";
import type { EmbedAsset } from "./web/embed-asset.js";
import type { CapStore, EventStore, RetentionPolicy } from "./store/ports.js";
import { createCircuitBreaker } from "./services/circuit-breaker.js";
import { createBeaconBuffer } from "./services/beacon-buffer.js";
import { createTelemetry, storeCall, type Telemetry } from "./telemetry/telemetry.js";
import { createKeys } from "./store/keys.js";
import { createMemoryStores } from "./store/memory/memory-stores.js";
import { createRedisClient, createRedisClusterClient } from "./store/redis/client.js";
import { createRedisStores } from "./store/redis/redis-stores.js";
import type { Stores } from "./store/ports.js";
import { createLogger, type Logger } from "./telemetry/logger.js";

export interface ComposeOptions {
  readonly logger?: Logger;
  readonly clock?: () => number;
  readonly random?: Random;
  /** Use these stores instead of building them from the configuration. */
  readonly stores?: Stores;
  /** Start the background catalog refresh (off in most tests). */
  readonly background?: boolean;
  /** The client address of a request (the Node server passes the socket's; tests may set one). */
  readonly clientIp?: (c: Context) => string | undefined;
  /** embed.js, demo stories and the sample catalog (default: read from disk, Node only). */
  readonly assets?: ServiceAssets;
  /** Spans and metrics (default: through the global OpenTelemetry API). */
  readonly telemetry?: Telemetry;
  /** Called with the generated ops key when `ADMIN_API_KEY` is unset. */
  readonly onGeneratedAdminKey?: (key: string) => void;
}

export type Service = Awaited<ReturnType<typeof composeService>>;

/**
 * Runs `task` now; if it fails and `retry` is set, again every second until it succeeds.
 * `done` tells whether it has succeeded yet.
 */
async function untilDone(task: () => Promise<void>, logger: Logger, retry: boolean): Promise<{ done: boolean }> {
  const state = { done: false };
  const attempt = async (): Promise<void> => {
    try {
      await task();
      state.done = true;
    } catch (err) {
      logger.error({ err }, "start-up store work failed; retrying");
      if (!retry) throw err;
      setTimeout(() => void attempt(), 1000).unref();
    }
  };
  await attempt();
  return state;
}

/** Files the service serves or seeds from; read from disk on Node, bundled on Workers. */
export interface ServiceAssets {
  readonly embed: EmbedAsset;
  readonly demoStories: readonly DemoStory[];
  readonly sampleCatalog: () => CatalogDocument;
}

/** The Node loaders (kept out of the static import graph so edge bundles never pull in fs). */
async function nodeAssets(): Promise<ServiceAssets> {
  const specifier = "./node-assets.js";
  const mod = (await import(specifier)) as { loadNodeAssets(): Promise<ServiceAssets> };
  return mod.loadNodeAssets();
}

export function retentionOf(config: Config): RetentionPolicy {
  return { hourlyDays: config.HOURLY_RETENTION_DAYS, dailyDays: config.DAILY_RETENTION_DAYS, streamMaxLen: config.EVENT_STREAM_MAXLEN };
}

export async function buildStores(config: Config, clock: () => number): Promise<Stores> {
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  if (config.REDIS_CLUSTER_NODES) {
    const nodes = config.REDIS_CLUSTER_NODES;
    const redis = createRedisClusterClient(nodes, { commandTimeoutMs: config.ADMIN_TIMEOUT_MS });
    const hot = createRedisClusterClient(nodes, { commandTimeoutMs: config.STORE_TIMEOUT_MS });
    await Promise.all([redis.connect(), hot.connect()]).catch(() => undefined);
    return createRedisStores(redis, keys, retentionOf(config), hot, { cluster: true, serveDeadlineMs: config.STORE_TIMEOUT_MS });
  }
  if (!config.REDIS_URL) return createMemoryStores(keys, clock, retentionOf(config));
  const redis = createRedisClient(config.REDIS_URL, { commandTimeoutMs: config.ADMIN_TIMEOUT_MS });
  const hot = createRedisClient(config.REDIS_URL, { commandTimeoutMs: config.STORE_TIMEOUT_MS });
  // Redis down at start-up is not fatal: ioredis keeps reconnecting, the service answers degraded
  // (readyz 503, capped campaigns withheld) until the store and the catalog are back.
  await Promise.all([redis.connect(), hot.connect()]).catch(() => undefined);
  return createRedisStores(redis, keys, retentionOf(config), hot, { serveDeadlineMs: config.STORE_TIMEOUT_MS });
}

/** The client address: `CF-Connecting-IP` at Cloudflare, `X-Forwarded-For` when trusted, else none here. */
export function headerClientIp(trustProxy: boolean): (c: Context) => string | undefined {
  return (c) =>
    c.req.header("cf-connecting-ip") ?? (trustProxy ? c.req.header("x-forwarded-for")?.split(",")[0]?.trim() : undefined);
}

export async function composeService(config: Config, options: ComposeOptions = {}) {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const stores = options.stores ?? (await buildStores(config, clock));
  const assets = options.assets ?? (await nodeAssets());

  const trackingSecret = config.TRACKING_SECRET ?? randomBytes(32).toString("base64url");
  if (!config.TRACKING_SECRET) logger.warn("TRACKING_SECRET is unset: generated one for this process; tracking links die with it");
  let userKeySecret = config.USER_KEY_SECRET;
  let bootstrapKey = config.ADMIN_API_KEY;
  if (!bootstrapKey) {
    bootstrapKey = "spk_" + randomBytes(24).toString("base64url");
    (options.onGeneratedAdminKey ?? ((k: string) => process.stdout.write(`\nADMIN_API_KEY is unset; generated ops key for this run:\n  ${k}\n\n`)))(bootstrapKey);
  }

  // The request path's store calls go through a circuit breaker: a dead Redis fails fast.
  const breaker = createCircuitBreaker({ failureThreshold: config.BREAKER_FAILURES, cooldownMs: config.BREAKER_COOLDOWN_MS, clock });
  breaker.onChange((state) => (state === "closed" ? logger.info({ state }, "store circuit closed") : logger.warn({ state }, "store circuit changed")));
  const telemetry = options.telemetry ?? createTelemetry();
  const guarded = <T>(operation: string, fn: () => Promise<T>): Promise<T> => storeCall(telemetry, operation, () => breaker.run(fn));
  const caps: CapStore = {
    serve: (r) => guarded("caps.serve", () => stores.caps.serve(r)),
    counts: (r) => guarded("caps.counts", () => stores.caps.counts(r)),
    pageView: (pv, user) => guarded("caps.page_view", () => stores.caps.pageView(pv, user)),
  };
  const guardedEvents: EventStore = {
    track: (r) => guarded("events.track", () => stores.events.track(r)),
    filtered: (r, reason) => guarded("events.filtered", () => stores.events.filtered(r, reason)),
    recent: (n) => stores.events.recent(n),
  };
  const beaconBuffer = createBeaconBuffer({ events: guardedEvents, capacity: config.BEACON_BUFFER_SIZE, logger });
  if (options.background ?? true) beaconBuffer.start(1000);

  const catalog = createCatalogService({ store: stores.catalog, logger, clock });
  // Start-up work that needs the store; retried in the background until it succeeds.
  const initialised = await untilDone(
    async () => {
      userKeySecret ??= await stores.meta.getOrCreateSecret("user-key-secret", randomBytes(32).toString("base64url"));
      if (config.SEED_SAMPLE_DATA && (await stores.catalog.version()) === 0) {
        await catalog.replace(assets.sampleCatalog());
        logger.info("loaded the sample catalog into an empty store");
      }
      await catalog.refresh(true);
    },
    logger,
    options.background ?? true,
  );
  if (options.background ?? true) catalog.start(config.CATALOG_POLL_MS);

  const pacing = createPacingService({
    reports: stores.reports,
    catalog,
    refreshMs: config.PACING_REFRESH_MS,
    toleranceFraction: config.PACING_TOLERANCE,
    logger,
  });
  await pacing.refresh().catch((err: unknown) => logger.warn({ err }, "pacing: first read failed"));
  if (options.background ?? true) pacing.start();

  const signer = createTokenSigner(trackingSecret, config.TRACKING_SECRET_PREVIOUS);
  /** Keyed once the secret is known (it is set once, possibly after start-up, and never changes). */
  let userKeyMac: ((data: string) => string) | undefined;
  const decisions = createDecisionService({
    catalog,
    caps,
    signer,
    clock,
    random,
    // Until the secret is known (store down at start-up), reader keys cannot be hashed
    // consistently, so the reader counts as keyless: capped campaigns are withheld.
    hashUserKey: (key) => {
      if (!userKeySecret) return undefined;
      userKeyMac ??= createHmacSha256(userKeySecret);
      return userKeyMac(key).slice(0, 22);
    },
    baseUrl: config.PUBLIC_BASE_URL,
    tokenTtlSeconds: config.TRACKING_TOKEN_TTL,
    logger,
    pacing,
    pageViewTtlSeconds: config.PAGE_VIEW_TTL,
    telemetry,
  });
  const auth = createAuthService({ keys: stores.keys, bootstrapKey, clock });
  const audit = createAuditService({ store: stores.audit, clock, logger });
  const events = createEventService({
    telemetry,
    events: guardedEvents,
    buffer: beaconBuffer,
    signer,
    catalog,
    clock,
    logger,
    clickLimiter: createRateLimiter({ limit: config.CLICKS_PER_MINUTE, windowMs: 60_000, clock }),
    beaconLimiter: createRateLimiter({ limit: config.BEACONS_PER_MINUTE, windowMs: 60_000, clock }),
  });
  const reports = createReportService({ reports: stores.reports, catalog });
  const app = createApp({
    logger,
    telemetry,
    stores,
    catalog,
    decisions,
    auth,
    audit,
    events,
    reports,
    clientIp: options.clientIp ?? headerClientIp(config.TRUST_PROXY),
    authFailureLimiter: createRateLimiter({ limit: config.AUTH_FAILURES_PER_MINUTE, windowMs: 60_000, clock }),
    storeDegraded: () => !initialised.done,
    // Readiness probes go through the breaker: while it is open they answer 503 at once, and
    // after its cooldown a probe's successful ping closes it even when no traffic arrives.
    storePing: () => breaker.run(() => stores.meta.ping()),
    beaconFloodLimiter: createRateLimiter({ limit: Math.max(1000, config.BEACONS_PER_MINUTE * 4), windowMs: 60_000, clock }),
    clock,
    allowedOrigins: config.ALLOWED_ORIGINS,
    embed: assets.embed,
    demoStories: assets.demoStories,
    adminTimeoutMs: config.ADMIN_TIMEOUT_MS,
  });
  if (config.NODE_ENV === "production" && config.ALLOWED_ORIGINS === "*") {
    logger.warn("ALLOWED_ORIGINS is unset: any page origin may call decisions and beacons from a browser");
  }

  return {
    app,
    logger,
    stores,
    catalog,
    decisions,
    auth,
    pacing,
    breaker,
    beaconBuffer,
    signer,
    bootstrapKey,
    /** Stops background work, writes buffered beacons (a few tries), then closes the stores. */
    async close(): Promise<void> {
      await catalog.stop();
      pacing.stop();
      beaconBuffer.stop();
      // Keep trying for a few seconds: Redis may have just come back and be reconnecting.
      const flushDeadline = Date.now() + config.SHUTDOWN_FLUSH_MS;
      while (beaconBuffer.size > 0 && Date.now() < flushDeadline) {
        await beaconBuffer.flush();
        if (beaconBuffer.size > 0) await new Promise((r) => setTimeout(r, 100));
      }
      if (beaconBuffer.size > 0) logger.error({ left: beaconBuffer.size }, "shutting down with unwritten buffered beacons");
      await stores.close();
    },
  };
}
