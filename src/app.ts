/**
 * `createApp(deps)`: the HTTP surface, shared by the Node server and the Workers entry. Routes are
 * thin; everything they call comes in through `deps` (see compose.ts).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError, errorBody, statusOf } from "./errors.js";
import { requireKey } from "./http/auth.js";
import type { AppEnv } from "./http/types.js";
import { registerAuditRoutes } from "./routes/admin/audit.js";
import { registerCatalogEntityRoutes } from "./routes/admin/catalog-entities.js";
import { registerCatalogDocumentRoutes } from "./routes/admin/catalog-document.js";
import { registerExplainRoutes } from "./routes/admin/explain.js";
import { registerKeyRoutes } from "./routes/admin/keys.js";
import { registerDecisionRoutes } from "./routes/decisions.js";
import { registerHealthRoutes } from "./routes/health.js";
import type { AuditService } from "./services/audit-service.js";
import type { AuthService } from "./services/auth-service.js";
import type { CatalogService } from "./services/catalog-service.js";
import type { DecisionService } from "./services/decision-service.js";
import type { EventService } from "./services/event-service.js";
import { clientKey, type RateLimiter } from "./services/rate-limiter.js";
import { secureHeaders } from "hono/secure-headers";
import type { ReportService } from "./services/report-service.js";
import { registerEventRoutes } from "./routes/events.js";
import { registerReportRoutes } from "./routes/reports.js";
import { REPORTS_HTML, REPORTS_JS } from "./web/reports-page.js";
import { DEMO_ARTICLE_JS, renderDemoArticle, type DemoStory } from "./web/demo-article.js";
import type { EmbedAsset } from "./web/embed-asset.js";
import type { Context } from "hono";
import type { Stores } from "./store/ports.js";
import type { Logger } from "./telemetry/logger.js";
import { newId } from "./domain/ids.js";
import { HTTPException } from "hono/http-exception";
import { pageCors } from "./http/cors.js";
import { serverSpan, type Telemetry } from "./telemetry/telemetry.js";

export interface AppDeps {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly stores: Stores;
  readonly catalog: CatalogService;
  readonly decisions: DecisionService;
  readonly auth: AuthService;
  readonly audit: AuditService;
  readonly events: EventService;
  readonly reports: ReportService;
  /** The client's address as the platform reports it (used hashed for rate limits, never stored). */
  readonly clientIp: (c: Context) => string | undefined;
  /** Failed authentications per client (429 beyond it). */
  readonly authFailureLimiter: RateLimiter;
  /** True until the start-up store work is done: /readyz answers 503. */
  readonly storeDegraded: () => boolean;
  /** Pings the store for readiness (through the circuit breaker). */
  readonly storePing?: () => Promise<void>;
  /** Per-client ceiling on beacons (429 beyond it). */
  readonly beaconFloodLimiter: RateLimiter;
  readonly clock: () => number;
  /** The built page script (embed.js). */
  readonly embed: EmbedAsset;
  /** Fixture stories for the demo article page. */
  readonly demoStories: readonly DemoStory[];
  /** Page origins allowed to call decisions and beacons from a browser (`*`: any). */
  readonly allowedOrigins: "*" | readonly string[];
  /** Deadline for readiness probes and admin store calls. */
  readonly adminTimeoutMs: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ADVERTISER_READABLE_PATHS = /^\/v1\/admin\/(advertisers|campaigns|units)(\/[^/]*)?$/;

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const { logger } = deps;

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : newId("req", deps.clock(), 10);
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    await serverSpan(deps.telemetry, `${c.req.method} ${c.req.path}`, c.req.raw.headers, { "http.request.method": c.req.method, "url.path": c.req.path, "sp.request_id": requestId }, async (span) => {
      await next();
      span.setAttribute("http.response.status_code", c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: 2 });
    });
  });

  // Publishers load embed.js and beacons from other origins: resources are cross-origin readable;
  // HTML pages set their own Content-Security-Policy. A header a route sets itself (the report
  // page's and the click redirect's Referrer-Policy) is kept: these are defaults, not overrides.
  app.use(
    "*",
    secureHeaders({
      crossOriginResourcePolicy: "cross-origin",
      crossOriginEmbedderPolicy: false,
      crossOriginOpenerPolicy: false,
      referrerPolicy: "strict-origin-when-cross-origin",
      overwrite: false,
    }),
  );

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    c.header("X-Request-Id", requestId);
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      return c.json(errorBody(err.code, err.message, requestId, err.details), statusOf(err.code));
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = err.status === 413 ? "PAYLOAD_TOO_LARGE" : err.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : err.status === 404 ? "NOT_FOUND" : "BAD_REQUEST";
      return c.json(errorBody(code, code === "BAD_REQUEST" ? "bad request" : code.toLowerCase().replace(/_/g, " "), requestId), statusOf(code));
    }
    logger.error({ err, requestId, path: c.req.path }, "unhandled error");
    return c.json(errorBody("INTERNAL", "internal error", requestId), 500);
  });

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`, c.get("requestId") ?? "unknown"), 404));

  // Pages on other origins call decisions and beacons from the browser.
  const corsForPages = pageCors({
    origin: (origin) => (deps.allowedOrigins === "*" ? origin || "*" : deps.allowedOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type"],
    maxAgeSeconds: 86400,
  });
  app.use("/v1/decisions", corsForPages);
  app.use("/v1/events/*", corsForPages);

  const failures = { limiter: deps.authFailureLimiter, clientKey: (c: Context) => clientKey(deps.clientIp(c)) };
  registerHealthRoutes(app, deps.storePing ?? (() => deps.stores.meta.ping()), deps.adminTimeoutMs, deps.storeDegraded);
  registerDecisionRoutes(app, deps.decisions);
  registerEventRoutes(app, { events: deps.events, clientIp: deps.clientIp, floodLimiter: deps.beaconFloodLimiter });

  app.use("/v1/reports/*", requireKey(deps.auth, { failures }));
  registerReportRoutes(app, deps.reports);
  const pageCsp = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";
  app.get("/reports", (c) => {
    c.header("Content-Security-Policy", pageCsp);
    c.header("Referrer-Policy", "no-referrer");
    return c.html(REPORTS_HTML);
  });
  app.get("/embed.js", (c) => {
    c.header("ETag", deps.embed.etag);
    c.header("Cache-Control", "public, max-age=86400, stale-while-revalidate=604800");
    c.header("Access-Control-Allow-Origin", "*");
    if (c.req.header("if-none-match") === deps.embed.etag) return c.body(null, 304);
    c.header("Content-Type", "text/javascript; charset=utf-8");
    return c.body(deps.embed.code);
  });
  app.get("/demo/article", (c) => {
    const slug = c.req.query("story") ?? "ukraine-north-korea";
    const story = deps.demoStories.find((s) => s.slug === slug);
    if (!story) throw new ApiError("NOT_FOUND", `no demo story "${slug}"`, [{ path: "story", message: `one of ${deps.demoStories.map((s) => s.slug).join(", ")}` }]);
    c.header("Content-Security-Policy", `default-src 'self'; img-src * data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'`);
    return c.html(renderDemoArticle(story, deps.demoStories));
  });
  app.get("/demo/article.js", (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    return c.body(DEMO_ARTICLE_JS);
  });
  app.get("/reports/app.js", (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "public, max-age=300");
    return c.body(REPORTS_JS);
  });

  // Admin: every route needs a key. Advertiser keys reach only the entity routes, which let them
  // read their own advertiser, campaigns and units; everything else under /v1/admin is ops-only.
  app.use("/v1/admin/*", requireKey(deps.auth, { role: "ops", unless: (path) => ADVERTISER_READABLE_PATHS.test(path), failures }));
  registerCatalogEntityRoutes(app, deps.catalog, deps.audit);
  registerCatalogDocumentRoutes(app, deps.catalog, deps.audit);
  registerKeyRoutes(app, deps.auth, deps.catalog, deps.audit);
  registerAuditRoutes(app, deps.audit);
  registerExplainRoutes(app, deps.decisions);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  // Built once, on first request: the document does not change while the process runs.
  let openApiDocument: string | undefined;
  app.get("/openapi.json", (c) => {
    openApiDocument ??= JSON.stringify(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "Sponsored Placements", version: "1.0.0", description: "Fills the sponsored slots of news article pages." },
      }),
    );
    c.header("Content-Type", "application/json; charset=utf-8");
    c.header("Cache-Control", "public, max-age=300");
    return c.body(openApiDocument);
  });
  return app;
}
