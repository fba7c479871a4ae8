/**
 * CRUD under `/v1/admin/{advertisers,placements,campaigns,units}`. Ops keys do everything;
 * advertiser keys may read their own advertiser, campaigns and units (404 for anyone else's) and
 * write nothing (403).
 */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { ENTITY_SCHEMAS, type EntityKind } from "../../domain/catalog-schema.js";
import { ApiError } from "../../errors.js";
import { scopeOf } from "../../http/auth.js";
import { DEFAULT_BODY_LIMIT, readJson, validate } from "../../http/body.js";
import type { AppEnv } from "../../http/types.js";
import type { CatalogService } from "../../services/catalog-service.js";
import { errorResponses, ListQuerySchema, pageSchema } from "../common.schema.js";
import type { AuditService } from "../../services/audit-service.js";

const PATHS: Record<EntityKind, string> = {
  advertiser: "advertisers",
  placement: "placements",
  campaign: "campaigns",
  unit: "units",
};

/** Kinds an advertiser key may read. */
const ADVERTISER_READABLE: ReadonlySet<EntityKind> = new Set(["advertiser", "campaign", "unit"]);

const IdParam = z.string().min(1).max(64);

export function registerCatalogEntityRoutes(
  app: OpenAPIHono<AppEnv>,
  catalog: CatalogService,
  audit: AuditService,
): void {
  for (const kind of Object.keys(PATHS) as EntityKind[]) {
    const base = `/v1/admin/${PATHS[kind]}`;
    const schema = ENTITY_SCHEMAS[kind];
    const named = kind.charAt(0).toUpperCase() + kind.slice(1);
    const security = [{ bearer: [] as string[] }];
    const json = { "application/json": { schema } };
    const reg = app.openAPIRegistry;
    reg.registerPath({ method: "post", path: base, tags: ["admin"], security, summary: `Create a ${kind}`,
      request: { body: { content: json, required: true } },
      responses: { 201: { description: `The ${kind}`, content: json }, ...errorResponses(400, 401, 403, 409, 413, 415) } });
    reg.registerPath({ method: "get", path: base, tags: ["admin"], security, summary: `List ${PATHS[kind]}`,
      request: { query: ListQuerySchema },
      responses: { 200: { description: `A page of ${PATHS[kind]}`, content: { "application/json": { schema: pageSchema(schema) } } }, ...errorResponses(400, 401, 403) } });
    for (const method of ["get", "patch", "delete"] as const) {
      reg.registerPath({ method, path: `${base}/{id}`, tags: ["admin"], security, summary: `${method === "get" ? "Read" : method === "patch" ? "Change part of" : "Delete"} a ${kind}`,
        request: { params: z.object({ id: IdParam }), ...(method === "patch" ? { body: { content: { "application/json": { schema: z.object({}).passthrough().openapi(`${named}Patch`) } } } } : {}) },
        responses: method === "delete"
          ? { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 409) }
          : { 200: { description: `The ${kind}`, content: json }, ...errorResponses(400, 401, 403, 404, 413, 415) } });
    }

    const requireOps = (c: { get(k: "principal"): { role: string } }): void => {
      if (c.get("principal").role !== "ops") throw new ApiError("FORBIDDEN", "advertiser keys are read-only");
    };
    const scopeFor = (c: Parameters<typeof scopeOf>[0]): string | undefined => {
      const scope = scopeOf(c);
      if (scope !== undefined && !ADVERTISER_READABLE.has(kind)) throw new ApiError("FORBIDDEN", `advertiser keys cannot read ${PATHS[kind]}`);
      return scope;
    };

    app.post(base, async (c) => {
      requireOps(c);
      const body = await readJson(c, { maxBytes: DEFAULT_BODY_LIMIT });
      const created = await catalog.create(kind, body, c.get("principal").keyId);
      await audit.record({ actor: c.get("principal").keyId, action: "create", entity: kind, id: created.id, before: null, after: created });
      return c.json(created, 201);
    });

    app.get(base, (c) => {
      const advertiserId = scopeFor(c.get("principal"));
      const query = validate(ListQuerySchema, c.req.query(), "query");
      const campaignId = kind === "unit" ? c.req.query("campaignId") : undefined;
      // Ops may filter campaigns and units by advertiser; an advertiser key is always filtered to its own.
      const byAdvertiser = kind === "campaign" || kind === "unit" ? c.req.query("advertiserId") : undefined;
      return c.json(catalog.list(kind, { cursor: query.cursor, limit: query.limit, advertiserId: advertiserId ?? byAdvertiser, campaignId }));
    });

    app.get(`${base}/:id`, (c) => c.json(catalog.get(kind, c.req.param("id"), scopeFor(c.get("principal")))));

    app.patch(`${base}/:id`, async (c) => {
      requireOps(c);
      const body = await readJson(c, { maxBytes: DEFAULT_BODY_LIMIT });
      const { before, after } = await catalog.update(kind, c.req.param("id"), body, c.get("principal").keyId);
      await audit.record({ actor: c.get("principal").keyId, action: "update", entity: kind, id: after.id, before, after });
      return c.json(after);
    });

    app.delete(`${base}/:id`, async (c) => {
      requireOps(c);
      const removed = await catalog.remove(kind, c.req.param("id"), c.get("principal").keyId);
      await audit.record({ actor: c.get("principal").keyId, action: "delete", entity: kind, id: removed.id, before: removed, after: null });
      return c.body(null, 204);
    });
  }
}
