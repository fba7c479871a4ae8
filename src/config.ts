/**
 * Configuration: every environment variable the service reads, parsed once at start with zod.
 * A bad value stops the process with a message naming the variable. Nothing else reads
 * `process.env`.
 */
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/** `86400`, `90s`, `15m`, `24h` or `7d` → seconds. */
const duration = z
  .string()
  .regex(/^\d+(s|m|h|d)?$/, "must be seconds or a number with s, m, h or d")
  .transform((v) => {
    const n = parseInt(v, 10);
    const unit = v.replace(/^\d+/, "");
    return n * (unit === "m" ? 60 : unit === "h" ? 3600 : unit === "d" ? 86400 : 1);
  })
  .refine((s) => s > 0, "must be positive");

const secret = z.string().min(16, "must be at least 16 characters");

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default("0.0.0.0"),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "must be comma-separated host:port pairs")
    .optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]{1,32}$/, "must be 1-32 letters, digits, _ or -").default("sp"),
  STORE_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(30),
  ADMIN_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(5000),
  ADMIN_API_KEY: secret.optional(),
  TRACKING_SECRET: secret.optional(),
  TRACKING_SECRET_PREVIOUS: secret.optional(),
  TRACKING_TOKEN_TTL: duration.default(86400),
  USER_KEY_SECRET: secret.optional(),
  PUBLIC_BASE_URL: z
    .string()
    .url()
    .regex(/^https?:\/\//, "must be an http(s) origin")
    .transform((u) => u.replace(/\/+$/, ""))
    .optional(),
  SEED_SAMPLE_DATA: bool.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOURLY_RETENTION_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  DAILY_RETENTION_DAYS: z.coerce.number().int().min(30).max(3650).default(800),
  EVENT_STREAM_MAXLEN: z.coerce.number().int().min(1000).max(100_000_000).default(1_000_000),
  /** Page origins allowed to call decisions and beacons from a browser: `*` or comma-separated origins. */
  ALLOWED_ORIGINS: z
    .string()
    .regex(/^(\*|https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*)$/, "must be * or comma-separated http(s) origins")
    .optional(),
  /** Trust `X-Forwarded-For` for the client address (behind a load balancer). */
  TRUST_PROXY: bool.default(false),
  /** Clicks counted per client and campaign per minute (more are filtered as rate_limited). */
  CLICKS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(1),
  /** Impressions and viewables counted per client per minute. */
  BEACONS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(300),
  /** How often delivered counts for goals are read (ms). */
  PACING_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** How far above the even-pacing line delivery may go, as a fraction of the goal. */
  PACING_TOLERANCE: z.coerce.number().min(0).max(1).default(0.01),
  /** How long a page view remembers what it was served, for separation across its calls (seconds). */
  PAGE_VIEW_TTL: duration.default(1800),
  /** Beacons kept in memory while the store is down (what overflows is counted, logged and refused). */
  BEACON_BUFFER_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  /** On shutdown, how long to keep trying to write buffered beacons (ms). */
  SHUTDOWN_FLUSH_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  /** Consecutive store failures that open the circuit breaker. */
  BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  /** How long the breaker stays open before one probe call (ms). */
  BREAKER_COOLDOWN_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  /** Failed authentications per client per minute before 429. */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(20),
  CATALOG_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Omit<Env, "PUBLIC_BASE_URL" | "SEED_SAMPLE_DATA" | "ALLOWED_ORIGINS"> {
  PUBLIC_BASE_URL: string;
  SEED_SAMPLE_DATA: boolean;
  /** `*` (any origin) or the list of allowed page origins. */
  ALLOWED_ORIGINS: "*" | string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws `ConfigError` naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" (a common result of `VAR= npm start` or compose files).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = result.data;
  if (e.NODE_ENV === "production") {
    const missing = (["TRACKING_SECRET", "ADMIN_API_KEY"] as const).filter((k) => !e[k]);
    if (missing.length > 0) {
      throw new ConfigError(`invalid configuration:\n  ${missing.map((k) => `${k}: required when NODE_ENV=production`).join("\n  ")}`);
    }
  }
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError("invalid configuration:\n  REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES, not both");
  }
  const usesRedis = Boolean(e.REDIS_URL || e.REDIS_CLUSTER_NODES);
  return {
    ...e,
    PUBLIC_BASE_URL: e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`,
    SEED_SAMPLE_DATA: e.SEED_SAMPLE_DATA ?? !usesRedis,
    ALLOWED_ORIGINS: !e.ALLOWED_ORIGINS || e.ALLOWED_ORIGINS === "*" ? "*" : e.ALLOWED_ORIGINS.split(",").map((o) => o.replace(/\/+$/, "")),
  };
}

/** For entry points: the configuration, or exit 1 with a message naming every bad variable. */
export function parseConfigOrExit(env: Record<string, string | undefined>): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
