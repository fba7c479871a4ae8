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
  ENTITY_KINDS,
  ENTITY_SCHEMAS,
  type CatalogDocument,
  type EntityByKind,
  type EntityKind,
} from "../domain/catalog-schema.js";
import { compileCatalog, compileCatalogInSlices, type CatalogSnapshot } from "../domain/catalog-snapshot.js";
import { documentProblems, referenceProblems, referencesTo, roughDocument } from "../domain/catalog-validation.js";
import { ApiError, issuesToDetails } from "../errors.js";
import { newId } from "../domain/ids.js";
import type { Logger } from "../telemetry/logger.js";
import { CATCH_UP_MAX_RECORD_BYTES, type CatalogStore, type CatalogWrite, type CatalogWriteMeta } from "../store/ports.js";
import { APPLY_IN_PLACE_MAX_CHANGES, applyChanges, diffOfChanges, entityChanges, entityChangeSteps, type CatalogDiff } from "../domain/catalog-diff.js";
import { runInSlices } from "../domain/slices.js";
import { plainEntity } from "../domain/packed-unit.js";

/** Past this many versions behind, a refresh reads the whole catalog instead of the changes. */
const INCREMENTAL_MAX_VERSIONS = 50;

const ID_PREFIX: Record<EntityKind, string> = { advertiser: "adv", placement: "plc", campaign: "cmp", unit: "unit" };

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

/** A version in the history list: who, when, what (ids, not whole entities). */
export interface VersionSummary {
  version: number;
  at: string;
  actor: string;
  action: string;
  changes: { entity: EntityKind; id: string; change: "added" | "changed" | "removed" }[];
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
  create<K extends EntityKind>(kind: K, body: unknown, actor?: string): Promise<EntityByKind[K]>;
  update<K extends EntityKind>(kind: K, id: string, patch: unknown, actor?: string): Promise<{ before: EntityByKind[K]; after: EntityByKind[K] }>;
  remove<K extends EntityKind>(kind: K, id: string, actor?: string): Promise<EntityByKind[K]>;
  /** Validates a whole document; throws a 400 listing every problem. */
  validateDocument(body: unknown): CatalogDocument;
  /** Replaces the whole catalog (validated first); with `dryRun`, only returns the diff. */
  importDocument(
    body: unknown,
    options: { dryRun: boolean; actor: string; ifVersion?: number | undefined },
  ): Promise<{ version: number; previousVersion: number; diff: CatalogDiff }>;
  /** Replaces the whole catalog with an already validated document. */
  replace(document: CatalogDocument, actor?: string): Promise<number>;
  versions(query: { before?: number | undefined; limit: number }): Promise<{ items: VersionSummary[]; nextCursor: string | null }>;
  /** Restores the catalog as it was at `version` (a new version); 404 unknown, 409 too old. */
  restore(version: number, actor: string): Promise<{ version: number; restoredFrom: number; previousVersion: number; diff: CatalogDiff }>;
  /** Starts the background version check (every `pollMs`). */
  start(pollMs: number): void;
  stop(): Promise<void>;
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

/** The top-level keys of a catalog document (the sliced validation's first check). */
const DOCUMENT_KEYS: ReadonlySet<string> = new Set(Object.keys(CatalogDocumentInput.shape));

export function createCatalogService(deps: { store: CatalogStore; logger: Logger; clock?: () => number }): CatalogService {
  const { store, logger } = deps;
  const clock = deps.clock ?? Date.now;
  let unsubscribe: (() => Promise<void>) | undefined;
  let doc: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };
  let snapshot: CatalogSnapshot = compileCatalog(doc, 0);
  let timer: NodeJS.Timeout | undefined;
  let writeChain: Promise<unknown> = Promise.resolve();
  let refreshing: Promise<boolean> | undefined;
  let reloadInFlight: Promise<void> | undefined;
  let storeBehindLogged = false;

  /** Reads the whole catalog and compiles it. */
  const fullReload = async (allowOlder: boolean): Promise<void> => {
    const state = await store.load();
    // A slower, concurrent reload must not replace a newer snapshot with an older one.
    if (state.version < snapshot.version && !allowOlder) return;
    const started = performance.now();
    const next = await compileCatalogInSlices(state.document, state.version, snapshot);
    doc = state.document;
    snapshot = next;
    logger.debug({ version: state.version, campaigns: state.document.campaigns.length, ms: Math.round(performance.now() - started) }, "catalog snapshot rebuilt");
  };

  /**
   * Brings the snapshot to the stored version. When the versions in between are still recorded
   * (and few), only their changes are read and applied, and only the changed entities are compiled
   * again; otherwise the whole catalog is read.
   */
  const reload = async (allowOlder = false): Promise<void> => {
    // One reload at a time: a change notice and an admin write's own reload would otherwise both
    // rebuild; the later one finds nothing left to apply.
    while (reloadInFlight) await reloadInFlight.catch(() => undefined);
    const run = reloadOnce(allowOlder);
    reloadInFlight = run;
    try {
      await run;
    } finally {
      if (reloadInFlight === run) reloadInFlight = undefined;
    }
  };

  const reloadOnce = async (allowOlder: boolean): Promise<void> => {
    const current = snapshot.version;
    // Caught up from the version records unless they are too many, too large or hold too many
    // changes: the whole catalog is read instead, parsed, sorted and compiled in slices, while a
    // record is parsed in one block and many changes are applied by rebuilding every list (a
    // 100k-campaign import's record stalled each following instance ~2 s).
    const records = current > 0 ? await store.changesAfter(current, { maxBytes: CATCH_UP_MAX_RECORD_BYTES }) : undefined;
    // Nothing after this version: another reload (a change notice racing an admin write's own
    // reload) already brought the snapshot here.
    if (records && records.length === 0) return;
    if (!records || records.length > INCREMENTAL_MAX_VERSIONS) return fullReload(allowOlder);
    const changes = records.flatMap((r) => r.changes);
    if (changes.length > APPLY_IN_PLACE_MAX_CHANGES) return fullReload(allowOlder);
    const last = records[records.length - 1] as (typeof records)[number];
    const started = performance.now();
    const next = applyChanges(doc, changes, "forward");
    snapshot = await compileCatalogInSlices(next, last.version, snapshot, { changes });
    doc = next;
    logger.debug({ version: last.version, versions: records.length, ms: Math.round(performance.now() - started) }, "catalog snapshot updated");
  };

  /**
   * Background refreshes (`acceptOlder` false) keep the current snapshot when the stored version
   * went backwards — the store lost data (a Redis restarted without persistence): serving the last
   * good catalog beats serving an empty one. Admin writes accept the store as it is.
   */
  const refresh = async (force = false, acceptOlder = force): Promise<boolean> => {
    if (refreshing && !force) return refreshing;
    const run = (async () => {
      const version = await store.version();
      if (!force && version === snapshot.version) return false;
      if (!acceptOlder && version < snapshot.version) {
        if (!storeBehindLogged) logger.error({ stored: version, serving: snapshot.version }, "catalog version went backwards in the store; keeping the current snapshot");
        storeBehindLogged = true;
        return false;
      }
      storeBehindLogged = false;
      await reload(acceptOlder);
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
      await refresh(false, true);
      return fn();
    });
    // The chain keeps neither the answer nor the error: an import's answer lists every entity it
    // added (at 100k campaigns, a second catalog's worth of objects), and `catch` alone would
    // pass that value on and hold it until the next admin write.
    writeChain = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  };

  const parseEntity = <K extends EntityKind>(kind: K, body: unknown): EntityByKind[K] => {
    const result = ENTITY_SCHEMAS[kind].safeParse(body);
    if (!result.success) throw new ApiError("BAD_REQUEST", `invalid ${kind}`, issuesToDetails(result.error.issues));
    return result.data as EntityByKind[K];
  };

  const checkReferences = <K extends EntityKind>(kind: K, entity: EntityByKind[K]): void => {
    // Looked up one id at a time: building maps of a 100k-campaign catalog for one write would
    // block the event loop longer than the write itself.
    const lookup = { advertiser: (id: string) => find("advertiser", id), placement: (id: string) => find("placement", id), campaign: (id: string) => find("campaign", id) };
    const problems = referenceProblems(kind, entity, lookup);
    if (problems.length > 0) throw new ApiError("BAD_REQUEST", `${kind} refers to objects that do not exist`, problems);
  };

  const find = <K extends EntityKind>(kind: K, id: string): EntityByKind[K] | undefined =>
    entitiesOf(doc, kind).find((e) => e.id === id);

  /**
   * Applies writes against `expectedVersion` (by default the version of this instance's snapshot;
   * 409 if another instance moved it meanwhile), then rebuilds.
   */
  const write = async (writes: CatalogWrite[], actor: string, action: CatalogWriteMeta["action"], expectedVersion = snapshot.version): Promise<number> => {
    const version = await store.apply(writes, { at: new Date(clock()).toISOString(), actor, action }, expectedVersion);
    if (version === undefined) throw new ApiError("CONFLICT", "the catalog changed on another instance meanwhile; retry the request");
    await reload();
    return version;
  };

  /**
   * `validateDocument` in slices: the top level checked first, then each entity with its own
   * schema, yielding between groups. Any problem falls back to `validateDocument` itself, so a
   * rejected document gets exactly the same answer (every problem listed).
   */
  const validateInSlices = async (body: unknown): Promise<CatalogDocument> => {
    const parsed = await runInSlices(
      (function* (): Generator<void, CatalogDocument | undefined> {
        if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
        const input = body as Record<string, unknown>;
        for (const key of Object.keys(input)) if (!DOCUMENT_KEYS.has(key)) return undefined;
        if (input.version !== undefined && !Number.isInteger(input.version)) return undefined;
        const out: Record<string, unknown[]> = {};
        let n = 0;
        for (const kind of ENTITY_KINDS) {
          const list = input[PLURAL[kind]] === undefined ? [] : input[PLURAL[kind]];
          if (!Array.isArray(list)) return undefined;
          const schema = ENTITY_SCHEMAS[kind];
          const items: unknown[] = [];
          for (const item of list) {
            const result = schema.safeParse(item);
            if (!result.success) return undefined;
            items.push(result.data);
            if (++n % 128 === 0) yield;
          }
          out[PLURAL[kind]] = items;
        }
        return out as unknown as CatalogDocument;
      })(),
    );
    if (!parsed) return service.validateDocument(body);
    const problems = documentProblems(parsed);
    if (problems.length > 0) throw new ApiError("BAD_REQUEST", "invalid catalog document", problems.slice(0, 1000));
    return parsed;
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

    create(kind, body, actor = "system") {
      return serialised(async () => {
        // Ids are server-generated unless the client supplies one.
        const withId =
          typeof body === "object" && body !== null && !Array.isArray(body) && !("id" in body)
            ? { id: newId(ID_PREFIX[kind], clock(), 10), ...body }
            : body;
        const entity = parseEntity(kind, withId);
        if (find(kind, entity.id)) throw new ApiError("CONFLICT", `${kind} "${entity.id}" already exists`);
        checkReferences(kind, entity);
        await write([{ kind, id: entity.id, after: entity }], actor, "create");
        return entity;
      });
    },

    update(kind, id, patch, actor = "system") {
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
        const merged: Record<string, unknown> = { ...plainEntity(before) };
        for (const [k, v] of Object.entries(patchObj)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        const after = parseEntity(kind, merged);
        checkReferences(kind, after);
        await write([{ kind, id, after }], actor, "update");
        return { before, after };
      });
    },

    remove(kind, id, actor = "system") {
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
        await write([{ kind, id, after: null }], actor, "delete");
        return existing;
      });
    },

    validateDocument(body) {
      const parsed = CatalogDocumentInput.safeParse(body);
      if (!parsed.success) {
        // Every problem in one answer: schema issues and, as far as they can be read, references.
        const problems = [...issuesToDetails(parsed.error.issues, 1000), ...documentProblems(roughDocument(body))];
        throw new ApiError("BAD_REQUEST", "invalid catalog document", problems.slice(0, 1000));
      }
      const { version: _version, ...document } = parsed.data;
      const problems = documentProblems(document);
      if (problems.length > 0) throw new ApiError("BAD_REQUEST", "invalid catalog document", problems.slice(0, 1000));
      return document;
    },

    async importDocument(body, { dryRun, actor, ifVersion }) {
      // Validated and compared in slices: at 100k campaigns each is seconds of work, which in one
      // block would stall this instance's decisions.
      const document = await validateInSlices(body);
      return serialised(async () => {
        const previousVersion = snapshot.version;
        const base = doc;
        if (ifVersion !== undefined && ifVersion !== previousVersion) {
          throw new ApiError("CONFLICT", `the catalog is at version ${previousVersion}, not ${ifVersion}; export it again and reapply your changes`);
        }
        // Entities compared once for the diff and the writes, against the catalog of previousVersion
        // (written against that version: a change landing meanwhile makes it a 409, not a lost update).
        const changes = await runInSlices(entityChangeSteps(base, document));
        const diff = diffOfChanges(changes);
        if (dryRun) return { version: previousVersion, previousVersion, diff };
        const writes = changes.map((c) => ({ kind: c.kind, id: c.id, after: c.after }));
        const version = writes.length === 0 ? previousVersion : await write(writes, actor, "import", previousVersion);
        return { version, previousVersion, diff };
      });
    },

    replace(document, actor = "system") {
      return serialised(async () => {
        const writes = entityChanges(doc, document).map((c) => ({ kind: c.kind, id: c.id, after: c.after }));
        return write(writes, actor, "import");
      });
    },

    async versions({ before, limit }) {
      const records = await store.versions({ before, limit });
      const items = records.map((r) => ({
        version: r.version,
        at: r.at,
        actor: r.actor,
        action: r.action,
        changes: r.changes.map((c) => ({
          entity: c.kind,
          id: c.id,
          change: c.before === null ? ("added" as const) : c.after === null ? ("removed" as const) : ("changed" as const),
        })),
      }));
      const last = items[items.length - 1];
      return { items, nextCursor: items.length === limit && last && last.version > 1 ? String(last.version) : null };
    },

    restore(version, actor) {
      return serialised(async () => {
        const previousVersion = snapshot.version;
        // Version 0 is the empty store before any write: not a version anyone can restore to.
        if (!Number.isInteger(version) || version < 1 || version > previousVersion) throw new ApiError("NOT_FOUND", `catalog version ${version} not found`);
        const records = await store.changesAfter(version);
        if (!records) throw new ApiError("CONFLICT", `catalog version ${version} is too old to restore; its history has been trimmed`);
        const target = applyChanges(doc, records.flatMap((r) => r.changes), "backward");
        const problems = documentProblems(target);
        if (problems.length > 0) throw new ApiError("CONFLICT", `catalog version ${version} cannot be restored`, problems.slice(0, 50));
        const changes = entityChanges(doc, target);
        const diff = diffOfChanges(changes);
        const writes = changes.map((c) => ({ kind: c.kind, id: c.id, after: c.after }));
        const newVersion = await write(writes, actor, "restore");
        return { version: newVersion, restoredFrom: version, previousVersion, diff };
      });
    },

    start(pollMs) {
      if (timer) return;
      const onChange = (): void => {
        refresh().catch((err: unknown) => logger.warn({ err }, "catalog refresh failed"));
      };
      // A change notice refreshes at once; the poll catches notices missed during a disconnect.
      store
        .subscribe((version) => {
          if (version !== snapshot.version) onChange();
        })
        .then((stop) => {
          if (timer) unsubscribe = stop;
          else void stop();
        })
        .catch((err: unknown) => logger.warn({ err }, "catalog change notices unavailable; relying on the poll"));
      timer = setInterval(onChange, pollMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      const stop = unsubscribe;
      unsubscribe = undefined;
      await stop?.();
    },
  };
  return service;
}
