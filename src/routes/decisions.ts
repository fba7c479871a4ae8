/** `POST /v1/decisions`: the page-side ad call. Thin: parse, decide, answer. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { DECISION_BODY_LIMIT, parseBody } from "../http/body.js";
import type { AppEnv } from "../http/types.js";
import type { DecisionService, RequestFacts } from "../services/decision-service.js";
import { errorResponses } from "./common.schema.js";
import { DecisionRequestSchema, DecisionResponseSchema } from "./decisions.schema.js";
import type { Context } from "hono";

/** Facts about the reader taken from request headers (used when the body does not say). */
export function requestFacts(c: Context): RequestFacts {
  const country = c.req.header("cf-ipcountry") ?? c.req.header("x-country-code");
  return {
    country: country && /^[A-Za-z]{2}$/.test(country) ? country : undefined,
    userAgent: c.req.header("user-agent"),
    optOut: c.req.header("sec-gpc")?.trim() === "1" || c.req.header("dnt")?.trim() === "1",
  };
}

export function registerDecisionRoutes(app: OpenAPIHono<AppEnv>, decisions: DecisionService): void {
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/v1/decisions",
    summary: "Fill every sponsored slot of a page view",
    tags: ["page"],
    request: {
      body: {
        content: { "application/json": { schema: DecisionRequestSchema }, "text/plain": { schema: DecisionRequestSchema } },
        required: true,
      },
    },
    responses: {
      200: { description: "Units per slot, or a no-fill reason", content: { "application/json": { schema: DecisionResponseSchema } } },
      ...errorResponses(400, 413, 415),
    },
  });

  app.post("/v1/decisions", async (c) => {
    const body = await parseBody(c, DecisionRequestSchema, { maxBytes: DECISION_BODY_LIMIT, textPlain: true });
    const { json, degraded } = await decisions.decide(body, requestFacts(c));
    c.header("Cache-Control", "no-store");
    if (degraded) c.header("X-Degraded", "store");
    // The same text as c.json(response), joined from each unit's JSON made while rendering it.
    c.header("Content-Type", "application/json");
    return c.body(json);
  });
}
