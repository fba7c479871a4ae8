/**
 * Redis adapters of the store ports. Catalog entities live in one hash per kind; writes bump the
 * catalog version and publish it in the same MULTI, so a reader never sees an entity without its
 * version change.
 */
import { ENTITY_KINDS, type Campaign, type CatalogDocument, type EntityKind, type Unit } from "../../domain/catalog-schema.js";
import { packUnit } from "../../domain/packed-unit.js";
import { APPLY_IN_PLACE_MAX_CHANGES, applyChanges, PLURAL } from "../../domain/catalog-diff.js";
import { convenienceWrites } from "../catalog-writes.js";
import { decodeOutcomes, type CandidateOutcome } from "../../domain/selection.js";
import type { Keys } from "../keys.js";
import { recordArgs, serveScriptArgs } from "../lua/serve.js";
import type {
  AuditEntry,
  AuditStore,
  CapStore,
  CatalogState,
  CatalogStore,
  CatalogVersionRecord,
  CounterHash,
  EventStore,
  KeyRecord,
  KeyStore,
  MetaStore,
  PageViewMemory,
  ReportStore,
  RetentionPolicy,
  ServeRequest,
  Stores,
} from "../ports.js";
import { CATALOG_VERSIONS_KEPT, CATCH_UP_MAX_RECORD_BYTES } from "../ports.js";
import { runInSlices, sortById } from "../../domain/slices.js";
import { withoutRepeats } from "../../domain/by-id.js";
import { shareStrings, ValueSharer } from "../../domain/intern.js";
import type { SpRedis } from "./client.js";

type ExecResult = [Error | null, unknown][] | null;

function execOrThrow(result: ExecResult): unknown[] {
  if (!result) throw new Error("redis transaction aborted");
  return result.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}


/** Reads of the whole catalog before giving up when writes keep landing in between. */
const LOAD_ATTEMPTS = 5;
/** Entities asked for per HSCAN page when the whole catalog is read (a hint to Redis). */
const LOAD_PAGE = 1000;

/**
 * The values of one HSCAN page (field, value, field, value, …) as the text of one JSON array: one
 * string per page, which the garbage collector neither copies nor scans.
 */
function pageOf(flat: readonly string[]): string {
  const values: string[] = [];
  for (let i = 1; i < flat.length; i += 2) values.push(flat[i] as string);
  return `[${values.join(",")}]`;
}

/**
 * The catalog from the scanned pages, parsed one page per slice. Equal short strings are shared
 * (`shareStrings`), so are the parts campaigns repeat (placement lists, caps, exclusions, goals,
 * targeting subtrees: `ValueSharer`), and a unit's campaign id is its campaign's id string; hashes
 * have no order, so every list is sorted by id (the snapshot and selection ties are then
 * reproducible), and an entry a scan returned twice is kept once.
 */
async function parsePages(pages: Map<EntityKind, string[]>): Promise<CatalogDocument> {
  const document: CatalogDocument = { advertisers: [], placements: [], campaigns: [], units: [] };
  const strings = new Map<string, string>();
  /** Campaign ids, so that a unit's `campaignId` is its campaign's own id string (not one more copy). */
  const campaignIds = new Map<string, string>();
  const values = new ValueSharer();
  await runInSlices(
    (function* () {
      for (const kind of ENTITY_KINDS) {
        const list: { id: string; campaignId?: string }[] = [];
        for (const page of pages.get(kind) ?? []) {
          for (const entity of JSON.parse(page) as { id: string; campaignId?: string }[]) {
            shareStrings(entity, strings);
            if (kind === "campaign") {
              campaignIds.set(entity.id, entity.id);
              values.campaign(entity as unknown as Campaign);
            } else if (kind === "unit" && entity.campaignId !== undefined) {
              entity.campaignId = campaignIds.get(entity.campaignId) ?? entity.campaignId;
              // One object and one string for the creative instead of three objects and its strings.
              list.push(packUnit(entity as unknown as Unit));
              continue;
            }
            list.push(entity);
          }
          yield;
        }
        pages.delete(kind);
        (document[PLURAL[kind]] as unknown[]) = withoutRepeats(yield* sortById(list));
      }
    })(),
  );
  return document;
}

export function createRedisCatalogStore(redis: SpRedis, keys: Keys): CatalogStore {
  const kindIndex = (kind: EntityKind): number => ENTITY_KINDS.indexOf(kind) + 1;
  const parseRecord = (json: string | null): CatalogVersionRecord | undefined => (json ? (JSON.parse(json) as CatalogVersionRecord) : undefined);
  /** Every entity hash scanned, side by side (one kind's next page is asked for while another's is copied). */
  const scanPages = async (): Promise<Map<EntityKind, string[]>> => {
    const pages = new Map<EntityKind, string[]>();
    await Promise.all(
      ENTITY_KINDS.map(async (kind) => {
        const list: string[] = [];
        let cursor = "0";
        do {
          // As strings: values taken as Buffers are slices of the socket's 64 KB chunks, which then
          // outlive the read in the allocator's heap (~50 MB of RSS kept after a 100k read, against
          // ~7 MB as strings, which ioredis decodes straight from the chunks).
          const [next, flat] = await redis.hscan(keys.catalogEntities(kind), cursor, "COUNT", LOAD_PAGE);
          if (flat.length > 0) list.push(pageOf(flat));
          cursor = next;
        } while (cursor !== "0");
        pages.set(kind, list);
      }),
    );
    return pages;
  };
  const store: CatalogStore = {
    async load(): Promise<CatalogState> {
      // Read page by page (HSCAN): one reply of a 100k-campaign catalog (~100 MB) stayed in the
      // socket's chunks until every value was decoded, and the allocator kept those chunks after
      // they were freed (~75 MB of RSS on every instance). Each page's values become the text of
      // one JSON array as it arrives, parsed in slices once the read is done.
      for (let attempt = 1; ; attempt++) {
        const before = Number((await redis.get(keys.catalogVersion)) ?? 0);
        const pages = await scanPages();
        const after = Number((await redis.get(keys.catalogVersion)) ?? 0);
        // Catalog writes are atomic and bump the version. Those that landed during the scan may
        // have been seen in part: every entity they touched is set to its last recorded state,
        // which gives the catalog exactly as at the last recorded version. Without those records
        // (trimmed, or too large to be worth it) the read starts over.
        const records = before === after ? [] : await store.changesAfter(before, { maxBytes: CATCH_UP_MAX_RECORD_BYTES });
        const changes = records?.flatMap((r) => r.changes) ?? [];
        const usable = records !== undefined && (before === after || (records.length > 0 && changes.length <= APPLY_IN_PLACE_MAX_CHANGES));
        if (!usable) {
          if (attempt >= LOAD_ATTEMPTS) throw new Error(`the catalog changed during each of ${LOAD_ATTEMPTS} reads`);
          continue;
        }
        const document = await parsePages(pages);
        const last = records[records.length - 1];
        return last ? { version: last.version, document: applyChanges(document, changes, "forward") } : { version: after, document };
      }
    },
    async version() {
      return Number((await redis.get(keys.catalogVersion)) ?? 0);
    },
    async apply(writes, meta, expectedVersion) {
      const v = await redis.spCatalogWrite(
        2 + ENTITY_KINDS.length,
        keys.catalogVersion,
        keys.catalogVersions,
        ...ENTITY_KINDS.map((k) => keys.catalogEntities(k)),
        expectedVersion === undefined ? "" : String(expectedVersion),
        JSON.stringify(meta),
        CATALOG_VERSIONS_KEPT,
        keys.catalogChannel,
        JSON.stringify(writes.map((w) => [kindIndex(w.kind), w.id, w.after === null || w.after === undefined ? false : JSON.stringify(w.after)])),
      );
      return v < 0 ? undefined : v;
    },
    put: (kind, entity) => writes.put(kind, entity),
    remove: (kind, id) => writes.remove(kind, id),
    replace: (document) => writes.replace(document),
    async versions({ before, limit }) {
      const top = before === undefined ? await store.version() : before - 1;
      const wanted: number[] = [];
      for (let v = top; v >= 1 && wanted.length < limit; v--) wanted.push(v);
      if (wanted.length === 0) return [];
      const records = await redis.hmget(keys.catalogVersions, ...wanted.map(String));
      return records.map(parseRecord).filter((r): r is CatalogVersionRecord => r !== undefined);
    },
    async changesAfter(version, options) {
      const current = await store.version();
      if (version >= current) return [];
      const wanted: string[] = [];
      for (let v = version + 1; v <= current; v++) wanted.push(String(v));
      if (options?.maxBytes !== undefined) {
        // Sizes first (HSTRLEN, auto-pipelined): a record too large is never read.
        const sizes = await Promise.all(wanted.map((v) => redis.hstrlen(keys.catalogVersions, v)));
        if (sizes.some((n) => n === 0)) return undefined;
        if (sizes.reduce((a, b) => a + b, 0) > options.maxBytes) return undefined;
      }
      const records = (await redis.hmget(keys.catalogVersions, ...wanted)).map(parseRecord);
      return records.every((r) => r !== undefined) ? (records as CatalogVersionRecord[]) : undefined;
    },
    async subscribe(listener) {
      const sub = redis.duplicate();
      sub.on("error", () => undefined);
      sub.on("message", (_channel: string, message: string) => listener(Number(message)));
      await sub.connect();
      await sub.subscribe(keys.catalogChannel);
      return async () => {
        await sub.quit().catch(() => sub.disconnect());
      };
    },
  };
  const writes = convenienceWrites(store);
  return store;
}

export const DEFAULT_RETENTION: RetentionPolicy = { hourlyDays: 14, dailyDays: 800, streamMaxLen: 1_000_000 };

/**
 * On a single Redis the serve script also writes the decision's record (one round trip). On a
 * Redis Cluster (`cluster: true`) a script may touch one slot only, so the serve script keeps to
 * the reader's slot (caps and page view) and each winning campaign's counters follow in a second,
 * parallel step (one small script per campaign slot, plus the advertiser's reach and the stream).
 */
export interface RedisStoreOptions {
  /** Redis Cluster mode (see createRedisCapStore). */
  readonly cluster?: boolean;
  /**
   * The serve call's timeout (ms): the script refuses to run after it (plus SERVE_CLOCK_SKEW_MS),
   * so a stalled Redis never counts serves the caller already gave up on.
   */
  readonly serveDeadlineMs?: number;
}

/** Allowance for clock differences between this host and Redis in the serve deadline. */
export const SERVE_CLOCK_SKEW_MS = 100;

export function createRedisCapStore(redis: SpRedis, keys: Keys, retention: RetentionPolicy = DEFAULT_RETENTION, options: RedisStoreOptions = {}): CapStore {
  const counterKeys = ({ plan, userHash }: ServeRequest): string[] => {
    if (plan.counters.length > 0 && !userHash) throw new Error("a plan with cap counters needs a user hash");
    return plan.counters.map((c) => keys.cap(userHash ?? "", c.campaignId, c.windowSeconds));
  };
  const hourlyTtl = retention.hourlyDays * 86400;
  const dailyTtl = retention.dailyDays * 86400;

  /** Cluster mode: the record, written per campaign slot after the walk. */
  const writeRecord = async (request: ServeRequest, outcomes: CandidateOutcome[]): Promise<void> => {
    const r = request.record;
    if (!r) return;
    const user = request.userHash ?? "";
    const served: Record<string, string>[] = [];
    const writes: Promise<unknown>[] = [];
    request.plan.candidates.forEach((c, i) => {
      if (outcomes[i] !== "won") return;
      writes.push(
        redis.spServed(4, keys.hourCounters(c.campaignId, r.hour), keys.dayCounters(c.campaignId, r.day),
          keys.hourReach(c.campaignId, r.hour), keys.dayReach(c.campaignId, r.day), c.unitId, user, hourlyTtl, dailyTtl),
        redis.hincrby(keys.servedTotals, c.campaignId, 1),
      );
      if (user) {
        const ad = keys.advertiserDayReach(c.advertiserId, r.day);
        writes.push(redis.pfadd(ad, user).then(() => redis.expire(ad, dailyTtl, "NX")));
      }
      served.push({ slotId: request.slotIds?.[c.slot] ?? String(c.slot), campaignId: c.campaignId, advertiserId: c.advertiserId, unitId: c.unitId });
    });
    if (served.length > 0) writes.push(redis.xadd(keys.events, "MAXLEN", "~", retention.streamMaxLen, "*", "e", JSON.stringify({ ...r.entry, units: served })));
    await Promise.all(writes);
  };

  return {
    async serve(request): Promise<CandidateOutcome[]> {
      if (request.plan.candidates.length === 0) return [];
      const k = counterKeys(request);
      if (request.pageView) k.push(keys.pageView(request.pageView, request.userHash));
      const args = serveScriptArgs(request.plan, {
        write: true,
        pageViewTtlSeconds: request.pageView ? (request.pageViewTtlSeconds ?? 1800) : undefined,
        // Real time, not the service's clock: this is about the I/O deadline, not business time.
        deadlineMs: options.serveDeadlineMs === undefined ? undefined : Date.now() + options.serveDeadlineMs + SERVE_CLOCK_SKEW_MS,
        // On a Redis Cluster the record goes after the script (`writeRecord`): its keys sit in other slots.
        record: options.cluster ? undefined : recordArgs(request, keys, retention),
      });
      const reply = await redis.spServe(k.length, ...k, ...args);
      if (reply === "LATE") throw new Error("the serve script started after its deadline; nothing was written");
      const outcomes = decodeOutcomes(reply);
      if (options.cluster) await writeRecord(request, outcomes);
      return outcomes;
    },
    async pageView(pageView, userHash) {
      const fields = await redis.hgetall(keys.pageView(pageView, userHash));
      const memory: PageViewMemory = { campaigns: [], labels: {} };
      for (const [f, v] of Object.entries(fields)) {
        if (f.startsWith("c:")) memory.campaigns.push(f.slice(2));
        else if (f.startsWith("l:")) memory.labels[f.slice(2)] = v;
      }
      return memory;
    },
    async counts(request) {
      const k = counterKeys(request);
      if (k.length === 0) return [];
      return (await redis.mget(...k)).map((v) => Number(v ?? 0));
    },
  };
}

export function createRedisKeyStore(redis: SpRedis, keys: Keys): KeyStore {
  const parse = (json: string | null): KeyRecord | undefined => (json ? (JSON.parse(json) as KeyRecord) : undefined);
  return {
    async create(record) {
      execOrThrow(
        await redis.multi().hset(keys.apiKeys, record.id, JSON.stringify(record)).hset(keys.apiKeyByHash, record.keyHash, record.id).exec(),
      );
    },
    async get(id) {
      return parse(await redis.hget(keys.apiKeys, id));
    },
    async findByHash(keyHash) {
      const id = await redis.hget(keys.apiKeyByHash, keyHash);
      return id ? parse(await redis.hget(keys.apiKeys, id)) : undefined;
    },
    async list() {
      return (await redis.hvals(keys.apiKeys)).map((json) => JSON.parse(json) as KeyRecord);
    },
    async revoke(id, atIso) {
      // Read-modify-write in one script: concurrent revokes keep the first revokedAt.
      const result = await redis.eval(
        `local r = redis.call('HGET', KEYS[1], ARGV[1])
         if not r then return 0 end
         local rec = cjson.decode(r)
         if rec.revokedAt == nil then rec.revokedAt = ARGV[2]; redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec)) end
         return 1`,
        1,
        keys.apiKeys,
        id,
        atIso,
      );
      return result === 1;
    },
  };
}

export function createRedisMetaStore(redis: SpRedis, keys: Keys): MetaStore {
  return {
    async getOrCreateSecret(name, candidate) {
      const key = keys.meta(name);
      await redis.set(key, candidate, "NX");
      const value = await redis.get(key);
      if (!value) throw new Error(`meta secret ${name} missing after SET NX`);
      return value;
    },
    async ping() {
      await redis.ping();
    },
  };
}

const U64_MAX = 2n ** 64n - 1n;

/** `<ms>-<seq>` with both parts within 64 bits, and not 0-0 (nothing sorts before it). */
function isExclusiveStreamId(id: string): boolean {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  if (!m) return false;
  const ms = BigInt(m[1] as string);
  const seq = BigInt(m[2] as string);
  return ms <= U64_MAX && seq <= U64_MAX && (ms > 0n || seq > 0n);
}

export function createRedisAuditStore(redis: SpRedis, keys: Keys): AuditStore {
  const SCAN_BATCH = 200;
  const MAX_SCANNED = 5000;
  return {
    async append(entry) {
      await redis.xadd(keys.audit, "*", "e", JSON.stringify(entry));
    },
    async list(query) {
      // Newest first; the cursor is the stream id of the last entry examined (exclusive). A cursor
      // that is no stream id Redis accepts (0-0, past 2^64) has nothing before it.
      if (query.cursor !== undefined && !isExclusiveStreamId(query.cursor)) return { items: [], nextCursor: null };
      let end = query.cursor ? `(${query.cursor}` : "+";
      const items: AuditEntry[] = [];
      let scanned = 0;
      let lastId: string | null = null;
      let exhausted = false;
      while (items.length < query.limit && scanned < MAX_SCANNED) {
        const batch = await redis.xrevrange(keys.audit, end, "-", "COUNT", SCAN_BATCH);
        if (batch.length === 0) {
          exhausted = true;
          break;
        }
        for (const [id, fields] of batch) {
          scanned++;
          lastId = id;
          const entry = JSON.parse(fields[1] ?? "null") as AuditEntry | null;
          if (!entry || (query.entity && entry.entity !== query.entity) || (query.id && entry.id !== query.id)) continue;
          items.push(entry);
          if (items.length >= query.limit) break;
        }
        if (batch.length < SCAN_BATCH && items.length < query.limit) {
          exhausted = true;
          break;
        }
        end = `(${lastId}`;
      }
      if (!exhausted && lastId) {
        // A full page may end exactly at the oldest entry: look ahead for a next matching entry.
        let from = `(${lastId}`;
        let found = false;
        for (let looked = 0; !found && looked < MAX_SCANNED; ) {
          const more = await redis.xrevrange(keys.audit, from, "-", "COUNT", SCAN_BATCH);
          if (more.length === 0) break;
          for (const [id, fields] of more) {
            const entry = JSON.parse(fields[1] ?? "null") as AuditEntry | null;
            if (entry && (!query.entity || entry.entity === query.entity) && (!query.id || entry.id === query.id)) {
              found = true;
              break;
            }
            from = `(${id}`;
          }
          looked += more.length;
          if (more.length < SCAN_BATCH) break;
        }
        if (!found) exhausted = true;
      }
      return { items, nextCursor: exhausted || !lastId ? null : lastId };
    },
  };
}

export function createRedisEventStore(redis: SpRedis, keys: Keys, retention: RetentionPolicy = DEFAULT_RETENTION, options: RedisStoreOptions = {}): EventStore {
  return {
    async track(r) {
      // On a cluster the stream is in another slot: the script counts, and the entry follows.
      const streamKeys = options.cluster ? [] : [keys.events];
      const counted = await redis.spTrack(
        3 + streamKeys.length,
        keys.seen(r.campaignId, r.type, r.decisionId, r.slotId, r.unitId),
        keys.hourCounters(r.campaignId, r.hour),
        keys.dayCounters(r.campaignId, r.day),
        ...streamKeys,
        r.type,
        r.unitId,
        r.dedupeTtlSeconds,
        retention.hourlyDays * 86400,
        retention.dailyDays * 86400,
        retention.streamMaxLen,
        JSON.stringify(r.entry),
        r.filterIfFirst ?? "",
      );
      if (options.cluster && counted === 1) await redis.xadd(keys.events, "MAXLEN", "~", retention.streamMaxLen, "*", "e", JSON.stringify(r.entry));
      return counted === 1 ? "counted" : counted === 2 ? "filtered" : "duplicate";
    },
    async filtered(r, reason) {
      await redis.spFiltered(
        2,
        keys.hourCounters(r.campaignId, r.hour),
        keys.dayCounters(r.campaignId, r.day),
        `f:${reason}`,
        r.unitId,
        retention.hourlyDays * 86400,
        retention.dailyDays * 86400,
      );
    },
    async recent(count) {
      const entries = await redis.xrevrange(keys.events, "+", "-", "COUNT", count);
      return entries.reverse().map(([id, fields]) => ({ id, ...(JSON.parse(fields[1] ?? "{}") as Record<string, unknown>) }));
    },
  };
}

export function createRedisReportStore(redis: SpRedis, keys: Keys): ReportStore {
  return {
    async counters(campaignId, granularity, buckets) {
      const key = granularity === "day" ? keys.dayCounters : keys.hourCounters;
      // Auto-pipelining sends these in one batch.
      const hashes = await Promise.all(buckets.map((b) => redis.hgetall(key(campaignId, b))));
      return hashes.map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)])) as CounterHash);
    },
    async totals(campaignIds) {
      // One HMGET per thousand campaigns, whatever the catalog size.
      const out: CounterHash[] = [];
      for (let i = 0; i < campaignIds.length; i += 1000) {
        const chunk = campaignIds.slice(i, i + 1000);
        const values = await redis.hmget(keys.servedTotals, ...chunk);
        for (const v of values) out.push({ served: Number(v ?? 0) });
      }
      return out;
    },
    async advertiserReach(advertiserId, days) {
      if (days.length === 0) return 0;
      return redis.pfcount(...days.map((d) => keys.advertiserDayReach(advertiserId, d)));
    },
    async reach(campaignId, granularity, buckets) {
      if (buckets.length === 0) return { perBucket: [], total: 0 };
      const key = granularity === "day" ? keys.dayReach : keys.hourReach;
      const reachKeys = buckets.map((b) => key(campaignId, b));
      const [perBucket, total] = await Promise.all([
        Promise.all(reachKeys.map((k) => redis.pfcount(k))),
        // One slot: every key carries the campaign's hash tag, so PFCOUNT can merge them.
        redis.pfcount(...reachKeys),
      ]);
      return { perBucket, total };
    },
  };
}

/**
 * The Redis stores. `hot` serves the request path (decisions, beacons) with its own tight
 * per-command deadline; `redis` everything else (catalog, keys, audit, reports) with a looser one.
 */
export function createRedisStores(
  redis: SpRedis,
  keys: Keys,
  retention: RetentionPolicy = DEFAULT_RETENTION,
  hot: SpRedis = redis,
  options: RedisStoreOptions = {},
): Stores {
  return {
    kind: "redis",
    catalog: createRedisCatalogStore(redis, keys),
    caps: createRedisCapStore(hot, keys, retention, options),
    events: createRedisEventStore(hot, keys, retention, options),
    reports: createRedisReportStore(redis, keys),
    keys: createRedisKeyStore(redis, keys),
    meta: createRedisMetaStore(redis, keys),
    audit: createRedisAuditStore(redis, keys),
    async close() {
      const clients = hot === redis ? [redis] : [redis, hot];
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
