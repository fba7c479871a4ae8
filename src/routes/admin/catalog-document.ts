/**
 * Catalog as code: export the whole catalog, replace it atomically from a document (or preview
 * the diff with `?dryRun=true`), list versions, and restore one.
 */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "../../errors.js";
import { DEFAULT_BODY_LIMIT, readJson, validate } from "../../http/body.js";
import type { AppEnv } from "../../http/types.js";
import type { AuditService } from "../../services/audit-service.js";
import type { CatalogService } from "../../services/catalog-service.js";
import { errorResponses } from "../common.schema.js";
import { CatalogDocumentSchema } from "../../domain/catalog-schema.js";

/** Catalog documents can be large; imports get more room than other admin writes. */
const CATALOG_BODY_LIMIT = 256 * 1024 * 1024;

const VersionsQuery = z.object({
  cursor: z.string().regex(/^\d{1,15}$/, "must be a cursor returned by a previous page").optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function registerCatalogDocumentRoutes(app: OpenAPIHono<AppEnv>, catalog: CatalogService, audit: AuditService, maxImportBytes = CATALOG_BODY_LIMIT): void {
  const security = [{ bearer: [] as string[] }];
  const reg = app.openAPIRegistry;
  reg.registerPath({ method: "get", path: "/v1/admin/catalog", tags: ["admin"], security, summary: "Export the whole catalog as one document",
    responses: { 200: { description: "The catalog with its version", content: { "application/json": { schema: CatalogDocumentSchema } } }, ...errorResponses(401, 403) } });
  reg.registerPath({ method: "put", path: "/v1/admin/catalog", tags: ["admin"], security, summary: "Replace the catalog atomically (dryRun=true: only the diff; If-Match: VERSION refuses a stale push)",
    request: { headers: z.object({ "if-match": z.string().optional() }), query: z.object({ dryRun: z.enum(["true", "false"]).optional() }), body: { content: { "application/json": { schema: CatalogDocumentSchema } }, required: true } },
    responses: { 200: { description: "The diff and the new version" }, ...errorResponses(400, 401, 403, 409, 413, 415) } });
  reg.registerPath({ method: "get", path: "/v1/admin/catalog/versions", tags: ["admin"], security, summary: "Catalog versions, newest first",
    request: { query: VersionsQuery }, responses: { 200: { description: "A page of versions" }, ...errorResponses(400, 401, 403) } });
  reg.registerPath({ method: "post", path: "/v1/admin/catalog/versions/{version}/restore", tags: ["admin"], security, summary: "Restore the catalog as it was at a version",
    request: { params: z.object({ version: z.string() }) }, responses: { 200: { description: "The diff and the new version" }, ...errorResponses(401, 403, 404, 409) } });

  app.get("/v1/admin/catalog", (c) => c.json({ version: catalog.current().version, ...catalog.document() }));

  app.put("/v1/admin/catalog", async (c) => {
    const dryRun = c.req.query("dryRun");
    if (dryRun !== undefined && dryRun !== "true" && dryRun !== "false") {
      throw new ApiError("BAD_REQUEST", "dryRun must be true or false", [{ path: "dryRun", message: "must be true or false" }]);
    }
    // Optimistic concurrency: `If-Match: <version>` refuses the push when the catalog moved on.
    const ifMatch = c.req.header("if-match")?.replace(/"/g, "").trim();
    if (ifMatch !== undefined && !/^\d{1,15}$/.test(ifMatch)) {
      throw new ApiError("BAD_REQUEST", "If-Match must be a catalog version number", [{ path: "If-Match", message: "a version number" }]);
    }
    const body = await readJson(c, { maxBytes: Math.max(DEFAULT_BODY_LIMIT, maxImportBytes) });
    const actor = c.get("principal").keyId;
    const result = await catalog.importDocument(body, { dryRun: dryRun === "true", actor, ifVersion: ifMatch === undefined ? undefined : Number(ifMatch) });
    const changed = result.diff.added.length + result.diff.changed.length + result.diff.removed.length;
    if (dryRun !== "true" && changed > 0) {
      await audit.record({ actor, action: "import", entity: "catalog", id: "catalog", before: { version: result.previousVersion }, after: { version: result.version, diff: result.diff } });
    }
    return c.json({ dryRun: dryRun === "true", ...result });
  });

  app.get("/v1/admin/catalog/versions", async (c) => {
    const q = validate(VersionsQuery, c.req.query(), "query");
    return c.json(await catalog.versions({ before: q.cursor === undefined ? undefined : Number(q.cursor), limit: q.limit }));
  });

  app.post("/v1/admin/catalog/versions/:version/restore", async (c) => {
    const raw = c.req.param("version");
    if (!/^\d{1,15}$/.test(raw)) throw new ApiError("NOT_FOUND", `catalog version "${raw}" not found`);
    const actor = c.get("principal").keyId;
    const result = await catalog.restore(Number(raw), actor);
    await audit.record({ actor, action: "restore", entity: "catalog", id: "catalog", before: { version: result.previousVersion }, after: { version: result.version, restoredFrom: result.restoredFrom, diff: result.diff } });
    return c.json(result);
  });
}
