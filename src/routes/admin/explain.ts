/** `POST /v1/admin/explain`: the would-be decision and, per slot, why each campaign can or cannot serve. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { DECISION_BODY_LIMIT, parseBody } from "../../http/body.js";
import type { AppEnv } from "../../http/types.js";
import type { DecisionService } from "../../services/decision-service.js";
import { errorResponses } from "../common.schema.js";
import { DecisionRequestSchema } from "../decisions.schema.js";
import { requestFacts } from "../decisions.js";

export function registerExplainRoutes(app: OpenAPIHono<AppEnv>, decisions: DecisionService): void {
  app.openAPIRegistry.registerPath({ method: "post", path: "/v1/admin/explain", tags: ["admin"], security: [{ bearer: [] }],
    summary: "Explain a decision without side effects (no cap counted, nothing logged as served)",
    request: { body: { content: { "application/json": { schema: DecisionRequestSchema } }, required: true } },
    responses: { 200: { description: "Units and candidates with reasons per slot" }, ...errorResponses(400, 401, 403, 413, 415) } });
  app.post("/v1/admin/explain", async (c) => {
    const body = await parseBody(c, DecisionRequestSchema, { maxBytes: DECISION_BODY_LIMIT });
    const only = c.req.query("campaignId");
    const filter = only ? new Set(only.split(",").map((s) => s.trim()).filter(Boolean)) : undefined;
    return c.json(await decisions.explain(body, requestFacts(c), filter));
  });
}
