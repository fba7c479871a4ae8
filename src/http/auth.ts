/** Authentication and role checks for routes that need a key. */
import type { Context, MiddlewareHandler } from "hono";
import type { RateLimiter } from "../services/rate-limiter.js";
import { ApiError } from "../errors.js";
import type { AuthService, Principal } from "../services/auth-service.js";
import type { AppEnv } from "./types.js";

/**
 * Requires a valid key (401 otherwise); with `role: "ops"`, advertiser keys get 403 except on
 * paths for which `unless` is true (their routes apply finer rules).
 */
export function requireKey(
  auth: AuthService,
  options: {
    role?: "ops";
    unless?: (path: string) => boolean;
    /** Failed attempts per client; past the limit, 429 with Retry-After before any key is checked. */
    failures?: { limiter: RateLimiter; clientKey: (c: Context) => string };
  } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const client = options.failures?.clientKey(c);
    if (options.failures && client !== undefined) {
      const state = options.failures.limiter.peek(client);
      if (!state.ok) {
        throw new ApiError("RATE_LIMITED", "too many failed authentication attempts; try again later", undefined, { "Retry-After": String(state.retryAfterSeconds) });
      }
    }
    const principal = await auth.authenticate(c.req.header("authorization"));
    if (!principal) {
      if (options.failures && client !== undefined) options.failures.limiter.hit(client);
      throw new ApiError("UNAUTHENTICATED", "a valid API key is required (Authorization: Bearer <key>)");
    }
    if (options.role === "ops" && principal.role !== "ops" && !options.unless?.(c.req.path)) {
      throw new ApiError("FORBIDDEN", "this key may not do that");
    }
    c.set("principal", principal);
    await next();
  };
}

/** The advertiser an advertiser key is bound to (undefined for ops keys: they see everything). */
export function scopeOf(principal: Principal): string | undefined {
  return principal.role === "advertiser" ? (principal.advertiserId ?? "\u0000none") : undefined;
}
