/** `GET /v1/admin/audit`: admin writes, newest first, filtered by entity and id. */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { validate } from "../../http/body.js";
import type { AppEnv } from "../../http/types.js";
import type { AuditService } from "../../services/audit-service.js";
import { errorResponses } from "../common.schema.js";

const AuditQuerySchema = z.object({
  cursor: z.string().regex(/^\d{1,20}-\d{1,20}$/, "must be a cursor returned by a previous page").optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  entity: z.enum(["advertiser", "campaign", "unit", "placement", "key", "catalog"]).optional(),
  id: z.string().max(128).optional(),
});

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>, audit: AuditService): void {
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/admin/audit", tags: ["admin"], security: [{ bearer: [] }], summary: "The audit trail, newest first",
    request: { query: AuditQuerySchema }, responses: { 200: { description: "A page of audit entries" }, ...errorResponses(400, 401, 403) } });
  app.get("/v1/admin/audit", async (c) => {
    const q = validate(AuditQuerySchema, c.req.query(), "query");
    return c.json(await audit.list(q));
  });
}
