/** Advertiser reports: JSON, or CSV by `Accept: text/csv` or `?format=csv`. Ops see all; advertisers their own. */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { scopeOf } from "../http/auth.js";
import type { AppEnv } from "../http/types.js";
import { toCsv, type ReportService } from "../services/report-service.js";
import { errorResponses } from "./common.schema.js";

const RangeQuerySchema = z.object({
  from: z.string().openapi({ example: "2026-11-01" }),
  to: z.string().openapi({ example: "2026-11-27" }),
  granularity: z.enum(["day", "hour"]).optional(),
  format: z.enum(["json", "csv"]).optional(),
});
const MetricsSchema = z.object({ served: z.number(), impressions: z.number(), viewable: z.number(), clicks: z.number(), ctr: z.number(), reach: z.number() });
const FilteredSchema = z.object({ duplicate: z.number(), expired: z.number(), bot: z.number(), rate_limited: z.number() });

const METRIC_COLUMNS = ["served", "impressions", "viewable", "clicks", "ctr", "reach"] as const;

function wantsCsv(c: Context): boolean {
  return c.req.query("format") === "csv" || (c.req.header("accept") ?? "").toLowerCase().includes("text/csv");
}

function csvResponse(c: Context, filename: string, body: string): Response {
  c.header("Content-Type", "text/csv; charset=utf-8");
  c.header("Content-Disposition", `attachment; filename="${filename}"`);
  return c.body(body);
}

export function registerReportRoutes(app: OpenAPIHono<AppEnv>, reports: ReportService): void {
  const security = [{ bearer: [] as string[] }];
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/reports/campaigns/{campaignId}", tags: ["reports"], security, summary: "A campaign's report per day or hour",
    request: { params: z.object({ campaignId: z.string() }), query: RangeQuerySchema },
    responses: { 200: { description: "Report (JSON or CSV)", content: {
      "application/json": { schema: z.object({ campaignId: z.string(), from: z.string(), to: z.string(), granularity: z.enum(["day", "hour"]),
        rows: z.array(MetricsSchema.extend({ period: z.string() })), totals: MetricsSchema, filtered: FilteredSchema }).openapi("CampaignReport") },
      "text/csv": { schema: z.string() } } }, ...errorResponses(400, 401, 404) } });
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/reports/advertisers/{advertiserId}", tags: ["reports"], security, summary: "An advertiser's report, one row per campaign",
    request: { params: z.object({ advertiserId: z.string() }), query: RangeQuerySchema },
    responses: { 200: { description: "Report (JSON or CSV)", content: {
      "application/json": { schema: z.object({ advertiserId: z.string(), from: z.string(), to: z.string(),
        rows: z.array(MetricsSchema.extend({ campaignId: z.string(), name: z.string() })), totals: MetricsSchema, filtered: FilteredSchema }).openapi("AdvertiserReport") },
      "text/csv": { schema: z.string() } } }, ...errorResponses(400, 401, 404) } });

  app.get("/v1/reports/campaigns/:campaignId", async (c) => {
    const id = c.req.param("campaignId");
    const report = await reports.campaign(id, c.req.query(), scopeOf(c.get("principal")));
    if (wantsCsv(c)) return csvResponse(c, `${id}_${report.from}_${report.to}.csv`, toCsv(report.rows, ["period", ...METRIC_COLUMNS]));
    return c.json(report);
  });

  app.get("/v1/reports/advertisers/:advertiserId", async (c) => {
    const id = c.req.param("advertiserId");
    const report = await reports.advertiser(id, c.req.query(), scopeOf(c.get("principal")));
    if (wantsCsv(c)) return csvResponse(c, `${id}_${report.from}_${report.to}.csv`, toCsv(report.rows, ["campaignId", "name", ...METRIC_COLUMNS]));
    return c.json(report);
  });
}
