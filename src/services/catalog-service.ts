/**
 * The catalog: admin CRUD with validation, and the compiled snapshot decisions read.
 *
 * Writes are serialised within a process, validated against the freshest catalog, stored, and
 * followed by a rebuild of the snapshot before the response, so a write is visible to decisions on
 * the accepting instance as soon as it answers. Other instances notice the version change by
 * polling (`start()`), and rebuild off the request path, swapping in one reference.
 */
import { z } from "zod";
import {
  ENTITY_SCHEMAS,
  type CatalogDocument,
  type EntityByKind,
  type EntityKind,
} from "../domain/catalog-schema.js";
import { compileCatalog, type CatalogSnapshot } from "../domain/catalog-snapshot.js";
import { documentProblems, lookupOf, referenceProblems, referencesTo } from "../domain/catalog-validation.js";
import { ApiError, issuesToDetails } from "../errors.js";
import type { Logger } from "../telemetry/logger.js";
import type { CatalogStore } from "../store/ports.js";

const PLURAL = { advertiser: "advertisers", placement: "placements", campaign: "campaigns", unit: "units" } as const;

export interface ListQuery {
  cursor?: string | undefined;
  limit?: number | undefined;
  /** Only entities visible to this advertiser (advertiser keys). */
  advertiserId?: string | undefined;
  /** Filter units by campaign. */
  campaignId?: string | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CatalogService {
  /** The compiled snapshot decisions read (never awaits). */
  current(): CatalogSnapshot;
  /** The catalog as stored, as one document. */
  document(): CatalogDocument;
  /** Reloads and recompiles if the stored version moved; true when it did. */
  refresh(force?: boolean): Promise<boolean>;
  list<K extends EntityKind>(kind: K, query: ListQuery): Page<EntityByKind[K]>;
  get<K extends EntityKind>(kind: K, id: string, advertiserId?: string): EntityByKind[K];
  create<K extends EntityKind>(kind: K, body: unknown): Promise<EntityByKind[K]>;
  update<K extends EntityKind>(kind: K, id: string, patch: unknown): Promise<{ before: EntityByKind[K]; after: EntityByKind[K] }>;
  remove<K extends EntityKind>(kind: K, id: string): Promise<EntityByKind[K]>;
  /** Validates a whole document; throws a 400 listing every problem. */
  validateDocument(body: unknown): CatalogDocument;
  /** Replaces the whole catalog (validated first). */
  replace(document: CatalogDocument): Promise<number>;
  /** Starts the background version check (every `pollMs`). */
  start(pollMs: number): void;
  stop(): void;
}

function entitiesOf<K extends EntityKind>(doc: CatalogDocument, kind: K): EntityByKind[K][] {
  return doc[PLURAL[kind]] as unknown as EntityByKind[K][];
}

function ownerAdvertiser(kind: EntityKind, entity: { id: string }, doc: CatalogDocument): string | undefined {
  switch (kind) {
    case "advertiser":
      return entity.id;
    case "campaign":
      return (entity as EntityByKind["campaign"]).advertiserId;
    case "unit": {
      const campaignId = (entity as EntityByKind["unit"]).campaignId;
      return doc.campaigns.find((c) => c.id === campaignId)?.advertiserId;
    }
    case "placement":
      return undefined;
  }
}

const CatalogDocumentInput = z
  .object({
    advertisers: z.array(ENTITY_SCHEMAS.advertiser).default([]),
    placements: z.array(ENTITY_SCHEMAS.placement).default([]),
    campaigns: z.array(ENTITY_SCHEMAS.campaign).default([]),
    units: z.array(ENTITY_SCHEMAS.unit).default([]),
    version: z.number().int().optional(),
  })
  .strict();

export function createCatalogService(deps: { store: CatalogStore; logger: Logger }): CatalogService {
  const { store, logger } = deps;
  let doc: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };
  let snapshot: CatalogSnapshot = compileCatalog(doc, 0);
  let timer: NodeJS.Timeout | undefined;
  let writeChain: Promise<unknown> = Promise.resolve();
  let refreshing: Promise<boolean> | undefined;

  const reload = async (): Promise<void> => {
    const state = await store.load();
    const started = performance.now();
    const next = compileCatalog(state.document, state.version);
    doc = state.document;
    snapshot = next;
    logger.debug({ version: state.version, campaigns: state.document.campaigns.length, ms: Math.round(performance.now() - started) }, "catalog snapshot rebuilt");
  };

  const refresh = async (force = false): Promise<boolean> => {
    if (refreshing && !force) return refreshing;
    const run = (async () => {
      const version = await store.version();
      if (!force && version === snapshot.version) return false;
      await reload();
      return true;
    })();
    refreshing = run;
    try {
      return await run;
    } finally {
      if (refreshing === run) refreshing = undefined;
    }
  };

  /** Runs admin writes one at a time, each against the freshest catalog. */
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = writeChain.then(async () => {
      await refresh();
      return fn();
    });
    writeChain = next.catch(() => undefined);
    return next;
  };

  const parseEntity = <K extends EntityKind>(kind: K, body: unknown): EntityByKind[K] => {
    const result = ENTITY_SCHEMAS[kind].safeParse(body);
    if (!result.success) throw new ApiError("BAD_REQUEST", `invalid ${kind}`, issuesToDetails(result.error.issues));
    return result.data as EntityByKind[K];
  };

  const checkReferences = <K extends EntityKind>(kind: K, entity: EntityByKind[K]): void => {
    const problems = referenceProblems(kind, entity, lookupOf(doc));
    if (problems.length > 0) throw new ApiError("BAD_REQUEST", `${kind} refers to objects that do not exist`, problems);
  };

  const find = <K extends EntityKind>(kind: K, id: string): EntityByKind[K] | undefined =>
    entitiesOf(doc, kind).find((e) => e.id === id);

  const afterWrite = async (): Promise<void> => {
    await reload();
  };

  const service: CatalogService = {
    current: () => snapshot,
    document: () => doc,
    refresh,

    list(kind, query) {
      const limit = query.limit ?? 50;
      let items = entitiesOf(doc, kind);
      if (query.advertiserId !== undefined) items = items.filter((e) => ownerAdvertiser(kind, e, doc) === query.advertiserId);
      if (query.campaignId !== undefined && kind === "unit") {
        items = items.filter((e) => (e as EntityByKind["unit"]).campaignId === query.campaignId);
      }
      const after = query.cursor ? Buffer.from(query.cursor, "base64url").toString("utf8") : undefined;
      const start = after === undefined ? 0 : items.findIndex((e) => e.id > after);
      const page = start < 0 ? [] : items.slice(start, start + limit);
      const last = page[page.length - 1];
      const more = start >= 0 && start + limit < items.length;
      return { items: page, nextCursor: more && last ? Buffer.from(last.id).toString("base64url") : null };
    },

    get(kind, id, advertiserId) {
      const entity = find(kind, id);
      if (!entity || (advertiserId !== undefined && ownerAdvertiser(kind, entity, doc) !== advertiserId)) {
        throw new ApiError("NOT_FOUND", `${kind} "${id}" not found`);
      }
      return entity;
    },

    create(kind, body) {
      return serialised(async () => {
        const entity = parseEntity(kind, body);
        if (find(kind, entity.id)) throw new ApiError("CONFLICT", `${kind} "${entity.id}" already exists`);
        checkReferences(kind, entity);
        await store.put(kind, entity);
        await afterWrite();
        return entity;
      });
    },

    update(kind, id, patch) {
      return serialised(async () => {
        const before = find(kind, id);
        if (!before) throw new ApiError("NOT_FOUND", `${kind} "${id}" not found`);
        if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
          throw new ApiError("BAD_REQUEST", "the body must be a JSON object");
        }
        const patchObj = patch as Record<string, unknown>;
        if ("id" in patchObj && patchObj.id !== id) {
          throw new ApiError("BAD_REQUEST", "id cannot be changed", [{ path: "id", message: "id cannot be changed" }]);
        }
        // Merge, with null removing an optional field; the merged object is validated whole.
        const merged: Record<string, unknown> = { ...before };
        for (const [k, v] of Object.entries(patchObj)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        const after = parseEntity(kind, merged);
        checkReferences(kind, after);
        await store.put(kind, after);
        await afterWrite();
        return { before, after };
      });
    },

    remove(kind, id) {
      return serialised(async () => {
        const existing = find(kind, id);
        if (!existing) throw new ApiError("NOT_FOUND", `${kind} "${id}" not found`);
        const refs = referencesTo(kind, id, doc);
        if (refs.length > 0) {
          throw new ApiError(
            "CONFLICT",
            `${kind} "${id}" is still referenced; delete or change these first`,
            refs.slice(0, 50).map((r) => ({ path: r, message: `refers to ${kind} "${id}"` })),
          );
        }
        await store.remove(kind, id);
        await afterWrite();
        return existing;
      });
    },

    validateDocument(body) {
      const parsed = CatalogDocumentInput.safeParse(body);
      if (!parsed.success) throw new ApiError("BAD_REQUEST", "invalid catalog document", issuesToDetails(parsed.error.issues));
      const { version: _version, ...document } = parsed.data;
      const problems = documentProblems(document);
      if (problems.length > 0) throw new ApiError("BAD_REQUEST", "invalid catalog document", problems.slice(0, 50));
      return document;
    },

    replace(document) {
      return serialised(async () => {
        const version = await store.replace(document);
        await afterWrite();
        return version;
      });
    },

    start(pollMs) {
      if (timer) return;
      timer = setInterval(() => {
        refresh().catch((err: unknown) => logger.warn({ err }, "catalog refresh failed"));
      }, pollMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return service;
}
