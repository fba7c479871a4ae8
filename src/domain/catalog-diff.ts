/**
 * Differences between two catalogs, entity by entity and field by field: what an import would
 * add, change and remove (the dry run), and the changes a write records in the version history.
 */
import { ENTITY_KINDS, type CatalogDocument, type EntityKind } from "./catalog-schema.js";
import { byId, lowerBound } from "./by-id.js";
import { runToEnd } from "./slices.js";
import { plainEntity } from "./packed-unit.js";

const entityId = (e: { id: string }): string => e.id;

export const PLURAL: Record<EntityKind, keyof CatalogDocument> = {
  advertiser: "advertisers",
  placement: "placements",
  campaign: "campaigns",
  unit: "units",
};

export interface FieldChange {
  /** Dotted path inside the entity (`exclusions.topics`). */
  path: string;
  before: unknown;
  after: unknown;
}

export interface CatalogDiff {
  added: { entity: EntityKind; id: string; value: unknown }[];
  changed: { entity: EntityKind; id: string; fields: FieldChange[] }[];
  removed: { entity: EntityKind; id: string; value: unknown }[];
}

/** One entity's change as stored in the version history (`null` = absent). */
export interface EntityChange {
  kind: EntityKind;
  id: string;
  before: unknown;
  after: unknown;
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Equal as JSON values, whatever the key order. Entities stored and pushed again usually have
 * their keys in the same (schema) order, and plain `JSON.stringify` is several times faster than
 * `canonicalJson`: it settles those at once, and only texts that differ are compared canonically
 * (a re-import of an unchanged 100k-campaign catalog compared in ~6 s before).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || canonicalJson(a) === canonicalJson(b);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Field-level differences; nested objects are descended into, arrays compared whole. */
export function fieldChanges(before: unknown, after: unknown, prefix = ""): FieldChange[] {
  // A packed unit's creative is not in its own properties.
  before = plainEntity(before);
  after = plainEntity(after);
  if (isPlainObject(before) && isPlainObject(after)) {
    const out: FieldChange[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) out.push(...fieldChanges(before[k], after[k], prefix ? `${prefix}.${k}` : k));
    return out;
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path: prefix, before: before ?? null, after: after ?? null }];
}

/** The entity changes that turn `from` into `to`. */
export function entityChanges(from: CatalogDocument, to: CatalogDocument): EntityChange[] {
  return runToEnd(entityChangeSteps(from, to));
}

/** `entityChanges` as steps, yielding every few hundred entities (for `runInSlices`). */
export function* entityChangeSteps(from: CatalogDocument, to: CatalogDocument): Generator<void, EntityChange[]> {
  const changes: EntityChange[] = [];
  let n = 0;
  for (const kind of ENTITY_KINDS) {
    const before = new Map((from[PLURAL[kind]] as { id: string }[]).map((e) => [e.id, e]));
    const after = new Map((to[PLURAL[kind]] as { id: string }[]).map((e) => [e.id, e]));
    yield;
    for (const [id, value] of after) {
      const prev = before.get(id);
      if (!prev) changes.push({ kind, id, before: null, after: value });
      else if (!sameJson(prev, value)) changes.push({ kind, id, before: prev, after: value });
      if (++n % 256 === 0) yield;
    }
    for (const [id, value] of before) if (!after.has(id)) changes.push({ kind, id, before: value, after: null });
  }
  return changes;
}

export function diffCatalogs(from: CatalogDocument, to: CatalogDocument): CatalogDiff {
  return diffOfChanges(entityChanges(from, to));
}

/** The diff that `changes` (from `entityChanges`) make: computed once for both the diff and the writes. */
export function diffOfChanges(changes: readonly EntityChange[]): CatalogDiff {
  const diff: CatalogDiff = { added: [], changed: [], removed: [] };
  for (const c of changes) {
    if (c.before === null) diff.added.push({ entity: c.kind, id: c.id, value: c.after });
    else if (c.after === null) diff.removed.push({ entity: c.kind, id: c.id, value: c.before });
    else diff.changed.push({ entity: c.kind, id: c.id, fields: fieldChanges(c.before, c.after) });
  }
  return diff;
}

/**
 * Past this many changes, `applyChanges` rebuilds the lists from maps (one block of work as long as
 * the catalog) instead of patching them: catching up with more than this from version records is
 * not worth it.
 */
export const APPLY_IN_PLACE_MAX_CHANGES = 256;

/**
 * Applies entity changes to a document (forward: `after`; backward: `before`), returning a new one
 * whose lists are sorted by id. A few changes to sorted lists are patched in (a copy of each changed
 * list, a binary search per change): O(n) copying instead of rebuilding and sorting every list.
 */
export function applyChanges(doc: CatalogDocument, changes: readonly EntityChange[], direction: "forward" | "backward"): CatalogDocument {
  const ordered = direction === "forward" ? changes : [...changes].reverse();
  const kinds = new Set(ordered.map((c) => c.kind));
  const sorted = [...kinds].every((k) => isSortedById(doc[PLURAL[k]] as readonly { id: string }[]));
  if (ordered.length > APPLY_IN_PLACE_MAX_CHANGES || !sorted) return rebuildWithChanges(doc, ordered, direction);
  const out: Record<string, unknown> = { ...doc };
  for (const kind of kinds) {
    const list = (doc[PLURAL[kind]] as { id: string }[]).slice();
    for (const c of ordered) {
      if (c.kind !== kind) continue;
      const value = (direction === "forward" ? c.after : c.before) as { id: string } | null | undefined;
      const i = lowerBound(list, c.id, entityId);
      const found = i < list.length && (list[i] as { id: string }).id === c.id;
      if (value === null || value === undefined) {
        if (found) list.splice(i, 1);
      } else if (found) list[i] = value;
      else list.splice(i, 0, value);
    }
    sortedLists.add(list);
    out[PLURAL[kind]] = list;
  }
  return out as unknown as CatalogDocument;
}

/** Lists known to be sorted by id: checked once, or made sorted here (a 100k check is ~15 ms). */
const sortedLists = new WeakSet<readonly unknown[]>();

export function isSortedById(list: readonly { id: string }[]): boolean {
  if (sortedLists.has(list)) return true;
  for (let i = 1; i < list.length; i++) if (!((list[i - 1] as { id: string }).id < (list[i] as { id: string }).id)) return false;
  sortedLists.add(list);
  return true;
}

function rebuildWithChanges(doc: CatalogDocument, ordered: readonly EntityChange[], direction: "forward" | "backward"): CatalogDocument {
  const tables = new Map(ENTITY_KINDS.map((k) => [k, new Map((doc[PLURAL[k]] as { id: string }[]).map((e) => [e.id, e]))]));
  for (const c of ordered) {
    const value = direction === "forward" ? c.after : c.before;
    const table = tables.get(c.kind) as Map<string, { id: string }>;
    if (value === null || value === undefined) table.delete(c.id);
    else table.set(c.id, value as { id: string });
  }
  const sorted = (k: EntityKind) => [...(tables.get(k) as Map<string, { id: string }>).values()].sort(byId);
  return {
    advertisers: sorted("advertiser"),
    placements: sorted("placement"),
    campaigns: sorted("campaign"),
    units: sorted("unit"),
  } as CatalogDocument;
}
