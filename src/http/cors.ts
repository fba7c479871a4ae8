/**
 * CORS for the page-facing routes (decisions and beacons), which pages on publishers' origins call
 * from the browser.
 *
 * Same headers as `hono/cors` with a function origin, but every header is set before the handler
 * runs, on the context's prepared headers. `hono/cors` sets them on `c.res` before the handler and
 * appends `Vary` after it; on `@hono/node-server` either turns the handler's lightweight response
 * into a full web `Response` whose body is then written through a stream, which cost the decision
 * route about a third of its throughput in the benchmark's floor route (docs/performance.md).
 */
import type { MiddlewareHandler } from "hono";

export interface PageCorsOptions {
  /** The value of `Access-Control-Allow-Origin` for a request's `Origin` (`""` when absent), or null to allow none. */
  readonly origin: (origin: string) => string | null;
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  /** Seconds a browser may cache a preflight answer. */
  readonly maxAgeSeconds: number;
}

export function pageCors(options: PageCorsOptions): MiddlewareHandler {
  const preflight: Record<string, string> = {
    "Access-Control-Allow-Methods": options.allowMethods.join(","),
    "Access-Control-Allow-Headers": options.allowHeaders.join(","),
    "Access-Control-Max-Age": String(options.maxAgeSeconds),
    Vary: "Origin, Access-Control-Request-Headers",
  };
  return async (c, next) => {
    const allowed = options.origin(c.req.header("origin") ?? "");
    if (c.req.method === "OPTIONS") {
      return c.body(null, 204, allowed ? { ...preflight, "Access-Control-Allow-Origin": allowed } : preflight);
    }
    if (allowed) c.header("Access-Control-Allow-Origin", allowed);
    // The answer depends on the Origin header, so caches must key on it.
    c.header("Vary", "Origin", { append: true });
    await next();
  };
}
