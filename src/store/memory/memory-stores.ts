/**
 * In-process adapters of the store ports: the embedded default for `npm start` without
 * `REDIS_URL`, one instance only. Same behaviour as Redis, held to the same contract suite; the
 * cap walk is the domain's `walkPlan`, never a copy. Single-threaded JavaScript makes each method
 * atomic as long as it does not await in the middle.
 */
import { ENTITY_KINDS, type CatalogDocument, type EntityKind } from "../../domain/catalog-schema.js";
import { walkPlan, type CandidateOutcome } from "../../domain/selection.js";
import type { Keys } from "../keys.js";
import type { AuditEntry, AuditStore, CapStore, CatalogStore, KeyRecord, KeyStore, MetaStore, ServeRequest, Stores } from "../ports.js";

const PLURAL: Record<EntityKind, keyof CatalogDocument> = {
  advertiser: "advertisers",
  placement: "placements",
  campaign: "campaigns",
  unit: "units",
};

export function createMemoryCatalogStore(): CatalogStore {
  const entities = new Map<EntityKind, Map<string, unknown>>(ENTITY_KINDS.map((k) => [k, new Map()]));
  let version = 0;
  const table = (kind: EntityKind): Map<string, unknown> => entities.get(kind) as Map<string, unknown>;
  return {
    async load() {
      const document: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };
      for (const kind of ENTITY_KINDS) {
        const list = [...table(kind).entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, v]) => structuredClone(v));
        (document[PLURAL[kind]] as unknown[]) = list;
      }
      return { version, document };
    },
    async version() {
      return version;
    },
    async put(kind, entity) {
      table(kind).set(entity.id, structuredClone(entity));
      return ++version;
    },
    async remove(kind, id) {
      table(kind).delete(id);
      return ++version;
    },
    async replace(document) {
      for (const kind of ENTITY_KINDS) {
        const t = table(kind);
        t.clear();
        for (const e of document[PLURAL[kind]] as { id: string }[]) t.set(e.id, structuredClone(e));
      }
      return ++version;
    },
  };
}

interface Counter {
  count: number;
  /** Infinity for lifetime windows. */
  expiresAtMs: number;
}

export function createMemoryCapStore(keys: Keys, clock: () => number): CapStore {
  const counters = new Map<string, Counter>();
  const sweepEvery = 10_000;
  let writes = 0;
  const sweep = (now: number): void => {
    for (const [k, c] of counters) if (c.expiresAtMs <= now) counters.delete(k);
  };
  const run = (request: ServeRequest, write: boolean): { outcomes: CandidateOutcome[]; counts: number[] } => {
    const { plan, userHash } = request;
    if (plan.counters.length > 0 && !userHash) throw new Error("a plan with cap counters needs a user hash");
    const now = clock();
    const counterKeys = plan.counters.map((c) => keys.cap(userHash ?? "", c.campaignId, c.windowSeconds));
    const live = (i: number): Counter | undefined => {
      const c = counters.get(counterKeys[i] as string);
      return c && c.expiresAtMs > now ? c : undefined;
    };
    const { outcomes, increments } = walkPlan(plan, (i) => live(i)?.count ?? 0);
    if (write) {
      for (const i of increments) {
        const current = live(i);
        if (current) current.count++;
        else {
          const seconds = plan.counters[i]?.windowSeconds ?? 0;
          counters.set(counterKeys[i] as string, { count: 1, expiresAtMs: seconds > 0 ? now + seconds * 1000 : Infinity });
        }
      }
      writes += increments.length;
      if (writes > sweepEvery) {
        writes = 0;
        sweep(now);
      }
    }
    return { outcomes, counts: plan.counters.map((_, i) => live(i)?.count ?? 0) };
  };
  return {
    async serve(request) {
      return run(request, true).outcomes;
    },
    async counts(request) {
      return run(request, false).counts;
    },
  };
}

export function createMemoryKeyStore(): KeyStore {
  const byId = new Map<string, KeyRecord>();
  return {
    async create(record) {
      byId.set(record.id, { ...record });
    },
    async get(id) {
      const r = byId.get(id);
      return r && { ...r };
    },
    async findByHash(keyHash) {
      for (const r of byId.values()) if (r.keyHash === keyHash) return { ...r };
      return undefined;
    },
    async list() {
      return [...byId.values()].map((r) => ({ ...r }));
    },
    async revoke(id, atIso) {
      const r = byId.get(id);
      if (!r) return false;
      byId.set(id, { ...r, revokedAt: r.revokedAt ?? atIso });
      return true;
    },
  };
}

export function createMemoryMetaStore(): MetaStore {
  const secrets = new Map<string, string>();
  return {
    async getOrCreateSecret(name, candidate) {
      if (!secrets.has(name)) secrets.set(name, candidate);
      return secrets.get(name) as string;
    },
    async ping() {},
  };
}

export function createMemoryStores(keys: Keys, clock: () => number): Stores {
  return {
    kind: "memory",
    catalog: createMemoryCatalogStore(),
    caps: createMemoryCapStore(keys, clock),
    keys: createMemoryKeyStore(),
    meta: createMemoryMetaStore(),
    audit: createMemoryAuditStore(),
    async close() {},
  };
}

export function createMemoryAuditStore(): AuditStore {
  const entries: AuditEntry[] = [];
  return {
    async append(entry) {
      entries.push(structuredClone(entry));
    },
    async list(query) {
      // Cursor: the index (from the oldest) below which to continue.
      let i = query.cursor ? Number.parseInt(query.cursor, 36) - 1 : entries.length - 1;
      const items: AuditEntry[] = [];
      for (; i >= 0 && items.length < query.limit; i--) {
        const e = entries[i] as AuditEntry;
        if (query.entity && e.entity !== query.entity) continue;
        if (query.id && e.id !== query.id) continue;
        items.push(structuredClone(e));
      }
      return { items, nextCursor: i >= 0 && items.length === query.limit ? (i + 1).toString(36) : null };
    },
  };
}
