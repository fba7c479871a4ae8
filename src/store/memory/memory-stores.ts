/**
 * In-process adapters of the store ports: the embedded default for `npm start` without
 * `REDIS_URL`, one instance only. Same behaviour as Redis, held to the same contract suite; the
 * cap walk is the domain's `walkPlan`, never a copy. Single-threaded JavaScript makes each method
 * atomic as long as it does not await in the middle.
 */
import { ENTITY_KINDS, type CatalogDocument, type EntityKind, type Unit } from "../../domain/catalog-schema.js";
import { packUnit, plainEntity } from "../../domain/packed-unit.js";
import { walkPlan, type CandidateOutcome, type SelectionPlan } from "../../domain/selection.js";
import { PLURAL } from "../../domain/catalog-diff.js";
import { convenienceWrites } from "../catalog-writes.js";
import type { Keys } from "../keys.js";
import type {
  AuditEntry,
  AuditStore,
  CapStore,
  CatalogStore,
  CatalogVersionRecord,
  CounterHash,
  EventStore,
  KeyRecord,
  KeyStore,
  MetaStore,
  ReportStore,
  RetentionPolicy,
  ServeRequest,
  Stores,
} from "../ports.js";
import { CATALOG_VERSIONS_KEPT } from "../ports.js";


export function createMemoryCatalogStore(): CatalogStore {
  const entities = new Map<EntityKind, Map<string, unknown>>(ENTITY_KINDS.map((k) => [k, new Map()]));
  const records = new Map<number, CatalogVersionRecord>();
  /** Size of each record as JSON (what `changesAfter` checks against `maxBytes`). */
  const recordBytes = new Map<number, number>();
  const listeners = new Set<(version: number) => void>();
  let version = 0;
  const table = (kind: EntityKind): Map<string, unknown> => entities.get(kind) as Map<string, unknown>;
  const store: CatalogStore = {
    async load() {
      const document: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };
      for (const kind of ENTITY_KINDS) {
        const list = [...table(kind).entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, v]) => structuredClone(v));
        // Units packed as the Redis store's load packs them (`PackedUnit`): the same objects either way.
        (document[PLURAL[kind]] as unknown[]) = kind === "unit" ? list.map((u) => packUnit(u as Unit)) : list;
      }
      return { version, document };
    },
    async version() {
      return version;
    },
    async apply(writes, m, expectedVersion) {
      if (expectedVersion !== undefined && expectedVersion !== version) return undefined;
      const changes = writes.map((w) => {
        const t = table(w.kind);
        const before = t.get(w.id) ?? null;
        if (w.after === null || w.after === undefined) t.delete(w.id);
        else t.set(w.id, structuredClone(plainEntity(w.after)));
        return { kind: w.kind, id: w.id, before: before === null ? null : structuredClone(before), after: plainEntity(w.after ?? null) };
      });
      version++;
      const record = { version, at: m.at, actor: m.actor, action: m.action, changes };
      records.set(version, structuredClone(record));
      recordBytes.set(version, JSON.stringify(record).length);
      records.delete(version - CATALOG_VERSIONS_KEPT);
      recordBytes.delete(version - CATALOG_VERSIONS_KEPT);
      const v = version;
      for (const l of listeners) queueMicrotask(() => l(v));
      return version;
    },
    put: (kind, entity) => writes.put(kind, entity),
    remove: (kind, id) => writes.remove(kind, id),
    replace: (document) => writes.replace(document),
    async versions({ before, limit }) {
      const out: CatalogVersionRecord[] = [];
      for (let v = before === undefined ? version : before - 1; v >= 1 && out.length < limit; v--) {
        const r = records.get(v);
        if (r) out.push(structuredClone(r));
      }
      return out;
    },
    async changesAfter(after, options) {
      if (options?.maxBytes !== undefined) {
        let bytes = 0;
        for (let v = after + 1; v <= version; v++) bytes += recordBytes.get(v) ?? 0;
        if (bytes > options.maxBytes) return undefined;
      }
      const out: CatalogVersionRecord[] = [];
      for (let v = after + 1; v <= version; v++) {
        const r = records.get(v);
        if (!r) return undefined;
        out.push(structuredClone(r));
      }
      return out;
    },
    async subscribe(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
  };
  const writes = convenienceWrites(store);
  return store;
}

interface Counter {
  count: number;
  /** Infinity for lifetime windows. */
  expiresAtMs: number;
}

const DEFAULT_RETENTION: RetentionPolicy = { hourlyDays: 14, dailyDays: 800, streamMaxLen: 1_000_000 };

/**
 * Counter hashes, reach sets, seen tokens and the event log, keyed exactly as on Redis, with
 * expiry. Shared by the cap, event and report adapters (the serve call writes served counters).
 */
export class MemoryCounters {
  private readonly hashes = new Map<string, { fields: Map<string, number>; expiresAtMs: number }>();
  private readonly sets = new Map<string, { members: Set<string>; expiresAtMs: number }>();
  private readonly seenKeys = new Map<string, number>();
  private readonly stream: Record<string, unknown>[] = [];
  private streamSeq = 0;

  constructor(
    private readonly clock: () => number,
    readonly retention: RetentionPolicy,
  ) {}

  private alive<T extends { expiresAtMs: number }>(map: Map<string, T>, key: string): T | undefined {
    const v = map.get(key);
    if (v && v.expiresAtMs <= this.clock()) {
      map.delete(key);
      return undefined;
    }
    return v;
  }

  hincr(key: string, field: string, ttlSeconds: number): void {
    let h = this.alive(this.hashes, key);
    if (!h) {
      h = { fields: new Map(), expiresAtMs: this.clock() + ttlSeconds * 1000 };
      this.hashes.set(key, h);
    }
    h.fields.set(field, (h.fields.get(field) ?? 0) + 1);
  }

  hgetall(key: string): CounterHash {
    const h = this.alive(this.hashes, key);
    return h ? Object.fromEntries(h.fields) : {};
  }

  sadd(key: string, member: string, ttlSeconds: number): void {
    let s = this.alive(this.sets, key);
    if (!s) {
      s = { members: new Set(), expiresAtMs: this.clock() + ttlSeconds * 1000 };
      this.sets.set(key, s);
    }
    s.members.add(member);
  }

  members(key: string): ReadonlySet<string> {
    return this.alive(this.sets, key)?.members ?? new Set();
  }

  isSet(key: string): boolean {
    const exp = this.seenKeys.get(key);
    return exp !== undefined && exp > this.clock();
  }

  /** Set-if-absent with a TTL; true when it was absent. */
  setNx(key: string, ttlSeconds: number): boolean {
    const exp = this.seenKeys.get(key);
    const now = this.clock();
    if (exp !== undefined && exp > now) return false;
    this.seenKeys.set(key, now + ttlSeconds * 1000);
    if (this.seenKeys.size % 10_000 === 0) for (const [k, e] of this.seenKeys) if (e <= now) this.seenKeys.delete(k);
    return true;
  }

  append(entry: Record<string, unknown>): void {
    this.stream.push({ id: `${this.clock()}-${this.streamSeq++}`, ...entry });
    if (this.stream.length > this.retention.streamMaxLen) this.stream.splice(0, this.stream.length - this.retention.streamMaxLen);
  }

  recent(count: number): Record<string, unknown>[] {
    return this.stream.slice(-count).map((e) => structuredClone(e));
  }
}

export function createMemoryCapStore(
  keys: Keys,
  clock: () => number,
  counterState: MemoryCounters = new MemoryCounters(clock, DEFAULT_RETENTION),
): CapStore {
  const counters = new Map<string, Counter>();
  const pageViews = new Map<string, { campaigns: Map<string, string>; labels: Map<string, string>; expiresAtMs: number }>();
  const sweepEvery = 10_000;
  let writes = 0;
  const sweep = (now: number): void => {
    for (const [k, c] of counters) if (c.expiresAtMs <= now) counters.delete(k);
  };
  /** Mirrors the serve script's record section (lua/serve.ts). */
  const recordServed = (request: ServeRequest, outcomes: readonly CandidateOutcome[]): void => {
    const r = request.record;
    if (!r) return;
    const { hourlyDays, dailyDays } = counterState.retention;
    const served: Record<string, string>[] = [];
    request.plan.candidates.forEach((c, i) => {
      if (outcomes[i] !== "won") return;
      counterState.hincr(keys.servedTotals, c.campaignId, Number.POSITIVE_INFINITY);
      for (const [key, ttl] of [
        [keys.hourCounters(c.campaignId, r.hour), hourlyDays * 86400],
        [keys.dayCounters(c.campaignId, r.day), dailyDays * 86400],
      ] as const) {
        counterState.hincr(key, `u:${c.unitId}:served`, ttl);
      }
      if (request.userHash) {
        counterState.sadd(keys.hourReach(c.campaignId, r.hour), request.userHash, hourlyDays * 86400);
        counterState.sadd(keys.dayReach(c.campaignId, r.day), request.userHash, dailyDays * 86400);
        counterState.sadd(keys.advertiserDayReach(c.advertiserId, r.day), request.userHash, dailyDays * 86400);
      }
      served.push({ slotId: request.slotIds?.[c.slot] ?? String(c.slot), campaignId: c.campaignId, advertiserId: c.advertiserId, unitId: c.unitId });
    });
    if (served.length > 0) counterState.append({ ...r.entry, units: served });
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
    const pvKey = request.pageView ? keys.pageView(request.pageView, request.userHash) : undefined;
    const memory = pvKey ? pageViews.get(pvKey) : undefined;
    const seen = memory && memory.expiresAtMs > now ? memory : undefined;
    const walked: SelectionPlan = seen
      ? { ...plan, priorCampaigns: [...(plan.priorCampaigns ?? []), ...seen.campaigns.keys()], priorLabels: { ...plan.priorLabels, ...Object.fromEntries(seen.labels) } }
      : plan;
    const { outcomes, increments } = walkPlan(walked, (i) => live(i)?.count ?? 0);
    if (write && request.record) recordServed(request, outcomes);
    if (write && pvKey && outcomes.includes("won")) {
      const m = seen ?? { campaigns: new Map<string, string>(), labels: new Map<string, string>(), expiresAtMs: 0 };
      plan.candidates.forEach((c, i) => {
        if (outcomes[i] !== "won") return;
        m.campaigns.set(c.campaignId, c.advertiserId);
        for (const l of c.labels) m.labels.set(l, c.advertiserId);
      });
      m.expiresAtMs = now + (request.pageViewTtlSeconds ?? 1800) * 1000;
      pageViews.set(pvKey, m);
    }
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
        for (const [k, m] of pageViews) if (m.expiresAtMs <= now) pageViews.delete(k);
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
    async pageView(pageView, userHash) {
      const m = pageViews.get(keys.pageView(pageView, userHash));
      if (!m || m.expiresAtMs <= clock()) return { campaigns: [], labels: {} };
      return { campaigns: [...m.campaigns.keys()], labels: Object.fromEntries(m.labels) };
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

export function createMemoryEventStore(keys: Keys, counters: MemoryCounters): EventStore {
  const { hourlyDays, dailyDays } = counters.retention;
  const bump = (campaignId: string, hour: string, day: string, unitId: string, field: string): void => {
    for (const [key, ttl] of [
      [keys.hourCounters(campaignId, hour), hourlyDays * 86400],
      [keys.dayCounters(campaignId, day), dailyDays * 86400],
    ] as const) {
      counters.hincr(key, `u:${unitId}:${field}`, ttl);
    }
  };
  return {
    async track(r) {
      const seenKey = keys.seen(r.campaignId, r.type, r.decisionId, r.slotId, r.unitId);
      if (r.filterIfFirst && !counters.isSet(seenKey)) {
        bump(r.campaignId, r.hour, r.day, r.unitId, `f:${r.filterIfFirst}`);
        return "filtered";
      }
      const fresh = counters.setNx(seenKey, r.dedupeTtlSeconds);
      bump(r.campaignId, r.hour, r.day, r.unitId, fresh ? r.type : "f:duplicate");
      if (fresh) counters.append({ ...r.entry });
      return fresh ? "counted" : "duplicate";
    },
    async filtered(r, reason) {
      bump(r.campaignId, r.hour, r.day, r.unitId, `f:${reason}`);
    },
    async recent(count) {
      return counters.recent(count);
    },
  };
}

export function createMemoryReportStore(keys: Keys, counters: MemoryCounters): ReportStore {
  return {
    async counters(campaignId, granularity, buckets) {
      const key = granularity === "day" ? keys.dayCounters : keys.hourCounters;
      return buckets.map((b) => counters.hgetall(key(campaignId, b)));
    },
    async totals(campaignIds) {
      const all = counters.hgetall(keys.servedTotals);
      return campaignIds.map((id) => ({ served: all[id] ?? 0 }));
    },
    async advertiserReach(advertiserId, days) {
      const all = new Set<string>();
      for (const d of days) for (const x of counters.members(keys.advertiserDayReach(advertiserId, d))) all.add(x);
      return all.size;
    },
    async reach(campaignId, granularity, buckets) {
      const key = granularity === "day" ? keys.dayReach : keys.hourReach;
      const all = new Set<string>();
      const perBucket = buckets.map((b) => {
        const m = counters.members(key(campaignId, b));
        for (const x of m) all.add(x);
        return m.size;
      });
      return { perBucket, total: all.size };
    },
  };
}

export function createMemoryStores(keys: Keys, clock: () => number, retention: RetentionPolicy = DEFAULT_RETENTION): Stores {
  const counters = new MemoryCounters(clock, retention);
  return {
    kind: "memory",
    catalog: createMemoryCatalogStore(),
    caps: createMemoryCapStore(keys, clock, counters),
    events: createMemoryEventStore(keys, counters),
    reports: createMemoryReportStore(keys, counters),
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
      // Cursors look like Redis stream ids (`<n>-0`); an out-of-range one starts from the newest entry.
      const fromCursor = query.cursor ? Number.parseInt(query.cursor, 10) - 1 : NaN;
      let i = Number.isInteger(fromCursor) && fromCursor >= -1 && fromCursor < entries.length ? fromCursor : entries.length - 1;
      const items: AuditEntry[] = [];
      for (; i >= 0 && items.length < query.limit; i--) {
        const e = entries[i] as AuditEntry;
        if (query.entity && e.entity !== query.entity) continue;
        if (query.id && e.id !== query.id) continue;
        items.push(structuredClone(e));
      }
      return { items, nextCursor: i >= 0 && items.length === query.limit ? `${i + 1}-0` : null };
    },
  };
}
