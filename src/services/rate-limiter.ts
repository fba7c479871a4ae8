/**
 * In-process fixed-window rate limits keyed by a hashed, truncated client address: IPv4 whole,
 * IPv6 to its /64, hashed with a per-process random salt and cut to 16 bytes. The address itself
 * is never stored, and the entries vanish with their window.
 */
import { createHash, randomBytes } from "node:crypto";

export interface RateLimitResult {
  readonly ok: boolean;
  /** Seconds until the window resets (for `Retry-After`). */
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one hit and says whether it is within the limit. */
  hit(key: string): RateLimitResult;
  /** Whether the key is within the limit now, without counting. */
  peek(key: string): RateLimitResult;
}

export function createRateLimiter(options: { limit: number; windowMs: number; clock: () => number; maxKeys?: number }): RateLimiter {
  const windows = new Map<string, { count: number; resetAtMs: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  return {
    hit(key) {
      const now = options.clock();
      let w = windows.get(key);
      if (!w || w.resetAtMs <= now) {
        if (windows.size >= maxKeys) {
          for (const [k, v] of windows) if (v.resetAtMs <= now) windows.delete(k);
          // Still full of live windows: drop the oldest rather than grow without bound.
          if (windows.size >= maxKeys) windows.delete(windows.keys().next().value as string);
        }
        w = { count: 0, resetAtMs: now + options.windowMs };
        windows.set(key, w);
      }
      w.count++;
      return { ok: w.count <= options.limit, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAtMs - now) / 1000)) };
    },
    peek(key) {
      const now = options.clock();
      const w = windows.get(key);
      if (!w || w.resetAtMs <= now) return { ok: true, retryAfterSeconds: 0 };
      return { ok: w.count < options.limit, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAtMs - now) / 1000)) };
    },
  };
}

// Drawn on first use, not at import: Workers forbid random values in global scope.
let salt: Buffer | undefined;

/** A client address reduced to a salted hash of its network part (see module comment). */
export function clientKey(ip: string | undefined): string {
  if (!ip) return "unknown";
  let network = ip.trim().toLowerCase();
  if (network.startsWith("::ffff:")) network = network.slice(7);
  if (network.includes(":")) network = network.split(":").slice(0, 4).join(":");
  salt ??= randomBytes(16);
  return createHash("sha256").update(salt).update(network).digest("base64url").slice(0, 22);
}
