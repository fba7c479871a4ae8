/**
 * Store ports: the narrow interfaces the services depend on. Each has a Redis adapter (the store of
 * record) and an in-process adapter (the embedded default), held to one contract test suite.
 * Adapters store; the domain decides.
 */
import type { CatalogDocument, EntityByKind, EntityKind } from "../domain/catalog-schema.js";
import type { CandidateOutcome, SelectionPlan } from "../domain/selection.js";

export interface CatalogState {
  readonly version: number;
  readonly document: CatalogDocument;
}

export interface CatalogStore {
  /** The whole catalog and its version, read consistently. */
  load(): Promise<CatalogState>;
  /** The current catalog version (cheap; used to detect changes). */
  version(): Promise<number>;
  /** Creates or replaces one entity; returns the new catalog version. */
  put<K extends EntityKind>(kind: K, entity: EntityByKind[K]): Promise<number>;
  /** Removes one entity; returns the new catalog version. */
  remove(kind: EntityKind, id: string): Promise<number>;
  /** Replaces the whole catalog atomically; returns the new catalog version. */
  replace(document: CatalogDocument): Promise<number>;
}

export interface ServeRequest {
  readonly plan: SelectionPlan;
  /** Keyed hash of the user key; required when the plan has counters. */
  readonly userHash: string | undefined;
  readonly decisionId: string;
  readonly nowMs: number;
}

export interface CapStore {
  /**
   * Atomically checks every candidate's caps, walks the plan (see `walkPlan`) and counts the
   * winners' caps: one round trip on Redis. Returns one outcome per plan candidate.
   */
  serve(request: ServeRequest): Promise<CandidateOutcome[]>;
  /** Current values of the plan's counters (0 when absent), read without writing (for explain). */
  counts(request: ServeRequest): Promise<number[]>;
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
  close(): Promise<void>;
}
