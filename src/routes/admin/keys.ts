/** `POST /v1/admin/keys` issues a key (shown once), `GET` lists them (hashes never leave), `DELETE` revokes. */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "../../errors.js";
import { DEFAULT_BODY_LIMIT, parseBody } from "../../http/body.js";
import type { AppEnv } from "../../http/types.js";
import type { AuditService } from "../../services/audit-service.js";
import type { AuthService } from "../../services/auth-service.js";
import type { CatalogService } from "../../services/catalog-service.js";
import type { KeyRecord } from "../../store/ports.js";
import { errorResponses } from "../common.schema.js";
import { IdSchema } from "../../domain/catalog-schema.js";

const KeyRequestSchema = z
  .object({ role: z.enum(["advertiser", "ops"]), advertiserId: IdSchema.optional() })
  .strict()
  .superRefine((k, ctx) => {
    if (k.role === "advertiser" && !k.advertiserId) ctx.addIssue({ code: "custom", path: ["advertiserId"], message: "required for advertiser keys" });
    if (k.role === "ops" && k.advertiserId) ctx.addIssue({ code: "custom", path: ["advertiserId"], message: "ops keys are not bound to an advertiser" });
  })
  .openapi("KeyRequest");

const KeyViewSchema = z
  .object({ id: z.string(), role: z.enum(["advertiser", "ops"]), advertiserId: z.string().optional(), createdAt: z.string(), revokedAt: z.string().optional() })
  .openapi("Key");

/** A key record as shown to ops: no hash. */
function view(r: KeyRecord): z.infer<typeof KeyViewSchema> {
  return { id: r.id, role: r.role, ...(r.advertiserId ? { advertiserId: r.advertiserId } : {}), createdAt: r.createdAt, ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}) };
}

export function registerKeyRoutes(app: OpenAPIHono<AppEnv>, auth: AuthService, catalog: CatalogService, audit: AuditService): void {
  const security = [{ bearer: [] as string[] }];
  app.openAPIRegistry.registerPath({ method: "post", path: "/v1/admin/keys", tags: ["admin"], security, summary: "Issue an API key (shown once)",
    request: { body: { content: { "application/json": { schema: KeyRequestSchema } }, required: true } },
    responses: { 201: { description: "The key", content: { "application/json": { schema: KeyViewSchema.extend({ key: z.string() }) } } }, ...errorResponses(400, 401, 403, 415) } });
  app.openAPIRegistry.registerPath({ method: "get", path: "/v1/admin/keys", tags: ["admin"], security, summary: "List API keys",
    responses: { 200: { description: "Keys", content: { "application/json": { schema: z.object({ items: z.array(KeyViewSchema), nextCursor: z.null() }) } } }, ...errorResponses(401, 403) } });
  app.openAPIRegistry.registerPath({ method: "delete", path: "/v1/admin/keys/{id}", tags: ["admin"], security, summary: "Revoke an API key at once",
    request: { params: z.object({ id: z.string() }) }, responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) } });

  app.post("/v1/admin/keys", async (c) => {
    const body = await parseBody(c, KeyRequestSchema, { maxBytes: DEFAULT_BODY_LIMIT });
    if (body.advertiserId && !catalog.document().advertisers.some((a) => a.id === body.advertiserId)) {
      throw new ApiError("BAD_REQUEST", `unknown advertiser "${body.advertiserId}"`, [{ path: "advertiserId", message: "unknown advertiser" }]);
    }
    const { record, key } = await auth.issue(body.role, body.advertiserId);
    await audit.record({ actor: c.get("principal").keyId, action: "create", entity: "key", id: record.id, before: null, after: view(record) });
    return c.json({ ...view(record), key }, 201);
  });

  app.get("/v1/admin/keys", async (c) => {
    const items = (await auth.list()).map(view).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    return c.json({ items, nextCursor: null });
  });

  app.delete("/v1/admin/keys/:id", async (c) => {
    const before = (await auth.list()).find((k) => k.id === c.req.param("id"));
    const record = await auth.revoke(c.req.param("id"));
    await audit.record({ actor: c.get("principal").keyId, action: "delete", entity: "key", id: record.id, before: before ? view(before) : null, after: view(record) });
    return c.body(null, 204);
  });
}
