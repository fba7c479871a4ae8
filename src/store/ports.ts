/**
 * Store ports: the narrow interfaces the services depend on. Each has a Redis adapter (the store of
 * record) and an in-process adapter (the embedded default), held to one contract test suite.
 * Adapters store; the domain decides.
 */
import type { CatalogDocument, EntityByKind, EntityKind } from "../domain/catalog-schema.js";
import type { EntityChange } from "../domain/catalog-diff.js";
import type { CandidateOutcome, SelectionPlan } from "../domain/selection.js";

export interface CatalogState {
  readonly version: number;
  readonly document: CatalogDocument;
}

/** Who made a catalog write, when, and how (recorded with the version). */
export interface CatalogWriteMeta {
  readonly at: string;
  /** The key id (never key material); `system` for seeding. */
  readonly actor: string;
  readonly action: "create" | "update" | "delete" | "import" | "restore";
}

/** One catalog version: the write that produced it, with each entity's before and after. */
export interface CatalogVersionRecord {
  readonly version: number;
  readonly at: string;
  readonly actor: string;
  readonly action: CatalogWriteMeta["action"];
  readonly changes: EntityChange[];
}

/** A write: the entities' new values (`null` deletes). */
export interface CatalogWrite {
  readonly kind: EntityKind;
  readonly id: string;
  readonly after: unknown;
}

export interface CatalogStore {
  /** The whole catalog and its version, read consistently. */
  load(): Promise<CatalogState>;
  /** The current catalog version (cheap; used to detect changes). */
  version(): Promise<number>;
  /**
   * Applies writes atomically, bumps the version, records the version (with each entity's stored
   * `before`), and publishes a change notice. With `expectedVersion`, nothing is written and
   * `undefined` returned when the stored version differs (optimistic concurrency).
   */
  apply(writes: readonly CatalogWrite[], meta: CatalogWriteMeta, expectedVersion?: number): Promise<number | undefined>;
  /** Creates or replaces one entity; returns the new catalog version. */
  put<K extends EntityKind>(kind: K, entity: EntityByKind[K]): Promise<number>;
  /** Removes one entity; returns the new catalog version. */
  remove(kind: EntityKind, id: string): Promise<number>;
  /** Replaces the whole catalog atomically; returns the new catalog version. */
  replace(document: CatalogDocument): Promise<number>;
  /** Version records, newest first, starting below `before` (exclusive) when given. */
  versions(query: { before?: number | undefined; limit: number }): Promise<CatalogVersionRecord[]>;
  /**
   * The records of every version after `version`, oldest first; `undefined` if some were trimmed,
   * or if with `maxBytes` their JSON adds up to more than that (checked before they are read: the
   * record of a whole-catalog import is as large as the catalog, and reading the catalog itself
   * is then the better way to catch up).
   */
  changesAfter(version: number, options?: { maxBytes?: number }): Promise<CatalogVersionRecord[] | undefined>;
  /** Calls `listener` with the new version when any instance writes (pub/sub); returns a stop function. */
  subscribe(listener: (version: number) => void): Promise<() => Promise<void>>;
}

/** How many version records are kept for restore and history. */
export const CATALOG_VERSIONS_KEPT = 500;

/**
 * Version records up to this much JSON are read to catch up with the writes after a version; past
 * it the catalog itself is read (a record is parsed in one block, and the record of a whole-catalog
 * import at 100k campaigns is ~100 MB).
 */
export const CATCH_UP_MAX_RECORD_BYTES = 1024 * 1024;

/** How long counters and the event log are kept (configuration). */
export interface RetentionPolicy {
  /** Hourly counter buckets and hourly reach, in days (default 14). */
  readonly hourlyDays: number;
  /** Daily counter buckets and daily reach, in days (default 800). */
  readonly dailyDays: number;
  /** Approximate cap on the event stream's length (`XADD MAXLEN ~`). */
  readonly streamMaxLen: number;
}

export const FILTER_REASONS = ["duplicate", "expired", "bot", "rate_limited"] as const;
export type FilterReason = (typeof FILTER_REASONS)[number];

/** The part of a served decision's record the store writes with the caps (same round trip). */
export interface ServeRecord {
  /** Hour and day buckets of the decision (`YYYYMMDDHH`, `YYYYMMDD`). */
  readonly hour: string;
  readonly day: string;
  /** Decision facts for the event log entry (no raw user key, no IP). */
  readonly entry: Readonly<Record<string, unknown>>;
}

export interface ServeRequest {
  readonly plan: SelectionPlan;
  /** Keyed hash of the user key; required when the plan has counters. */
  readonly userHash: string | undefined;
  readonly decisionId: string;
  readonly nowMs: number;
  /** Slot ids by slot index, for the event log. */
  readonly slotIds?: readonly string[];
  /** When set, served counters, reach and the event log entry are written in the same round trip. */
  readonly record?: ServeRecord;
  /**
   * Hash of the page view id: when set, campaigns and competitive labels served earlier in this page
   * view are read (and this decision's winners remembered for `pageViewTtlSeconds`) in the same
   * round trip, so separation holds across the calls of one page view.
   */
  readonly pageView?: string | undefined;
  readonly pageViewTtlSeconds?: number;
}

/** What a page view has been served so far. */
export interface PageViewMemory {
  readonly campaigns: string[];
  /** Competitive label -> the advertiser holding it. */
  readonly labels: Record<string, string>;
}

export interface TrackRequest {
  readonly type: "impression" | "viewable" | "click";
  readonly campaignId: string;
  readonly unitId: string;
  readonly decisionId: string;
  readonly slotId: string;
  readonly hour: string;
  readonly day: string;
  /** How long to remember the token (past its expiry). */
  readonly dedupeTtlSeconds: number;
  /** Event log entry for a counted event. */
  readonly entry: Readonly<Record<string, unknown>>;
  /**
   * Count an unspent token under this filter reason instead (e.g. a client over its click rate),
   * leaving it unspent; a spent token is still a `duplicate`.
   */
  readonly filterIfFirst?: "rate_limited";
}

export interface EventStore {
  /**
   * One round trip: remembers the token (set-if-absent) and counts the event, or counts it as a
   * `duplicate` when the token was already seen; a counted event is appended to the event log.
   */
  track(request: TrackRequest): Promise<"counted" | "duplicate" | "filtered">;
  /** Counts an event that is not counted for another reason (bot, expired, rate limited). */
  filtered(request: Omit<TrackRequest, "dedupeTtlSeconds" | "entry">, reason: Exclude<FilterReason, "duplicate">): Promise<void>;
  /** The newest `count` entries of the event log, oldest first. */
  recent(count: number): Promise<Record<string, unknown>[]>;
}

/** Counter fields of a campaign bucket: `served`, `impression`, `viewable`, `click`, `f:<reason>`, `u:<unitId>:<field>`. */
export type CounterHash = Record<string, number>;

export interface ReportStore {
  /** The counter hash of each bucket (empty object when none). */
  counters(campaignId: string, granularity: "day" | "hour", buckets: readonly string[]): Promise<CounterHash[]>;
  /** Lifetime counters of each campaign (`served`), for goals and pacing. */
  totals(campaignIds: readonly string[]): Promise<CounterHash[]>;
  /** Distinct users served any campaign of the advertiser over these days (approximate on Redis). */
  advertiserReach(advertiserId: string, days: readonly string[]): Promise<number>;
  /** Distinct users per bucket and over all the buckets together (approximate on Redis). */
  reach(campaignId: string, granularity: "day" | "hour", buckets: readonly string[]): Promise<{ perBucket: number[]; total: number }>;
}

export interface CapStore {
  /**
   * Atomically checks every candidate's caps, walks the plan (see `walkPlan`) and counts the
   * winners' caps: one round trip on Redis. Returns one outcome per plan candidate.
   */
  serve(request: ServeRequest): Promise<CandidateOutcome[]>;
  /** Current values of the plan's counters (0 when absent), read without writing (for explain). */
  counts(request: ServeRequest): Promise<number[]>;
  /** What a page view has been served so far (read-only, for explain). */
  pageView(pageView: string, userHash?: string): Promise<PageViewMemory>;
}

export type Role = "ops" | "advertiser";

export interface KeyRecord {
  readonly id: string;
  readonly role: Role;
  readonly advertiserId?: string | undefined;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  readonly keyHash: string;
  readonly createdAt: string;
  readonly revokedAt?: string | undefined;
}

export interface KeyStore {
  create(record: KeyRecord): Promise<void>;
  get(id: string): Promise<KeyRecord | undefined>;
  findByHash(keyHash: string): Promise<KeyRecord | undefined>;
  list(): Promise<KeyRecord[]>;
  /** Marks a key revoked; false when there is no such key. */
  revoke(id: string, atIso: string): Promise<boolean>;
}

export interface MetaStore {
  /** Returns the stored secret `name`, storing `candidate` first if none exists (set-if-absent). */
  getOrCreateSecret(name: string, candidate: string): Promise<string>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
}

export type AuditAction = "create" | "update" | "delete" | "import" | "restore";
export type AuditEntity = "advertiser" | "campaign" | "unit" | "placement" | "key" | "catalog";

/** One admin write. `actor` is the key's id, never key material. */
export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly action: AuditAction;
  readonly entity: AuditEntity;
  readonly id: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditQuery {
  readonly cursor?: string | undefined;
  readonly limit: number;
  readonly entity?: string | undefined;
  readonly id?: string | undefined;
}

export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first; `nextCursor` continues after the last entry returned. */
  list(query: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }>;
}

export interface Stores {
  readonly kind: "memory" | "redis";
  readonly catalog: CatalogStore;
  readonly caps: CapStore;
  readonly keys: KeyStore;
  readonly meta: MetaStore;
  readonly audit: AuditStore;
  readonly events: EventStore;
  readonly reports: ReportStore;
  close(): Promise<void>;
}
