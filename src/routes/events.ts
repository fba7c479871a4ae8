/**
 * Beacons: `GET|POST /v1/events/impression` and `/v1/events/viewable` answer 204;
 * `GET /v1/events/click` answers 302 to the unit's stored landing URL. `?t=` carries the token.
 */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../errors.js";
import type { AppEnv } from "../http/types.js";
import type { EventService } from "../services/event-service.js";
import { clientKey, type RateLimiter } from "../services/rate-limiter.js";
import { errorResponses } from "./common.schema.js";

export interface EventRouteDeps {
  readonly events: EventService;
  /** The client's address, however the platform exposes it (never stored). */
  readonly clientIp: (c: Context) => string | undefined;
  /** Hard per-client ceiling on beacons: beyond it, 429 with Retry-After. */
  readonly floodLimiter: RateLimiter;
}

const TokenQuery = z.object({ t: z.string().min(1).max(1024).openapi({ description: "Signed tracking token from the decision" }) });

export function registerEventRoutes(app: OpenAPIHono<AppEnv>, deps: EventRouteDeps): void {
  for (const type of ["impression", "viewable"] as const) {
    for (const method of ["get", "post"] as const) {
      app.openAPIRegistry.registerPath({ method, path: `/v1/events/${type}`, tags: ["page"], summary: `Count a ${type} (once per token)`,
        request: { query: TokenQuery }, responses: { 204: { description: "Accepted (counted, or filtered by reason)" }, ...errorResponses(400, 429) } });
    }
  }
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/events/click", tags: ["page"], summary: "Count a click and redirect to the unit's landing URL",
    request: { query: TokenQuery }, responses: { 302: { description: "Redirect to the stored landing URL" }, ...errorResponses(400, 404, 429) } });

  const facts = (c: Context) => {
    const key = clientKey(deps.clientIp(c));
    const flood = deps.floodLimiter.hit(key);
    if (!flood.ok) throw new ApiError("RATE_LIMITED", "too many beacons from this client", undefined, { "Retry-After": String(flood.retryAfterSeconds) });
    return { userAgent: c.req.header("user-agent"), clientKey: key };
  };

  const beacon = (type: "impression" | "viewable") => async (c: Context<AppEnv>) => {
    await deps.events.track(type, c.req.query("t"), facts(c));
    c.header("Cache-Control", "no-store");
    return c.body(null, 204);
  };
  app.get("/v1/events/impression", beacon("impression"));
  app.post("/v1/events/impression", beacon("impression"));
  app.get("/v1/events/viewable", beacon("viewable"));
  app.post("/v1/events/viewable", beacon("viewable"));

  app.get("/v1/events/click", async (c) => {
    const result = await deps.events.track("click", c.req.query("t"), facts(c));
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer-when-downgrade");
    return c.redirect(result.location as string, 302);
  });
}
