/**
 * Builds the service for tests: in-process stores (or the stores given), a fixed clock that tests
 * can move, a seeded random source, a known ops key, and the sample catalog loaded.
 */
import { parseConfig } from "../../src/config.js";
import { composeService, type ComposeOptions } from "../../src/compose.js";
import { createLogger } from "../../src/telemetry/logger.js";
import type { Context } from "hono";
import type { Stores } from "../../src/store/ports.js";
import { mulberry32 } from "../../bench/prng.js";

export const OPS_KEY = "test-ops-key-0123456789abcdef";
export const TRACKING_SECRET = "test-tracking-secret-0123456789";

/** A clock tests can read and move. Starts at 2026-11-27T12:00:00Z unless told otherwise. */
export function fakeClock(startIso = "2026-11-27T12:00:00Z"): { now: () => number; advance(ms: number): void; set(iso: string): void } {
  let t = Date.parse(startIso);
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
    set(iso) {
      t = Date.parse(iso);
    },
  };
}

/** Mulberry32 (the benchmark's seeded PRNG): a small seeded source so selection is reproducible. */
export function seededRandom(seed = 42): () => number {
  return mulberry32(seed);
}

export interface TestServiceOptions {
  env?: Record<string, string>;
  stores?: Stores;
  clock?: () => number;
  random?: () => number;
  /** Load the sample catalog (default true). */
  seed?: boolean;
  /** The client address of a request (rate limits); default: from `CF-Connecting-IP`. */
  clientIp?: (c: Context) => string | undefined;
}

export async function buildTestService(options: TestServiceOptions = {}) {
  const config = parseConfig({
    NODE_ENV: "test",
    ADMIN_API_KEY: OPS_KEY,
    TRACKING_SECRET,
    PUBLIC_BASE_URL: "https://ads.test",
    SEED_SAMPLE_DATA: options.seed === false ? "false" : "true",
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const composeOptions: ComposeOptions = {
    logger: createLogger("silent"),
    clock: options.clock ?? fakeClock().now,
    random: options.random ?? seededRandom(),
    background: false,
    ...(options.stores ? { stores: options.stores } : {}),
    ...(options.clientIp ? { clientIp: options.clientIp } : {}),
  };
  return composeService(config, composeOptions);
}

/** Headers for an admin call with the given key (the ops key by default). */
export function auth(key = OPS_KEY): Record<string, string> {
  return { authorization: `Bearer ${key}`, "content-type": "application/json" };
}

/** The service `buildTestService` returns, and its Hono app. */
export type TestService = Awaited<ReturnType<typeof buildTestService>>;
export type App = TestService["app"];
