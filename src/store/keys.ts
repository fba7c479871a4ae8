/**
 * Every Redis key the service uses, built here and nowhere else. All keys start with
 * `<prefix>:v1:` (the prefix is configurable so several deployments can share a Redis; `v1` is the
 * layout version, bumped on an incompatible change). Keys that one script touches together share a
 * `{hash tag}` so they stay in one Redis Cluster slot: `{u:<userHash>}` a reader's caps and page
 * views, `{c:<campaignId>}` a campaign's counters, `{a:<advertiserId>}` its reach, `{catalog}` the
 * catalog, `{keys}` the API keys.
 */
export interface Keys {
  /** Hash `id -> JSON entity` for one kind of catalog entity. */
  catalogEntities(kind: string): string;
  /** String: the catalog version, incremented by every catalog write. */
  readonly catalogVersion: string;
  /** Hash `version -> JSON CatalogVersionRecord` (the last CATALOG_VERSIONS_KEPT versions). */
  readonly catalogVersions: string;
  /** Pub/sub channel: a catalog write publishes the new version here. */
  readonly catalogChannel: string;
  /**
   * String counter with a TTL of the window: serves of one campaign to one user in the current
   * window. `{u:<userHash>}` keeps all of one user's cap counters in one cluster slot.
   */
  cap(userHash: string, campaignId: string, windowSeconds: number): string;
  /**
   * Hash of what one page view was served: `c:<campaignId>` -> advertiserId, `l:<label>` ->
   * advertiserId; a short TTL. With a reader, it sits under the reader's `{u:<hash>}` tag, beside
   * the cap counters the same serve script touches (one cluster slot); without one, under `{pv:…}`.
   */
  pageView(pageViewHash: string, userHash?: string): string;
  /** Hash `keyId -> JSON KeyRecord` of API keys (hashes only, never key material). */
  readonly apiKeys: string;
  /** Hash `sha256(key) -> keyId`. */
  readonly apiKeyByHash: string;
  /**
   * Prefix of every key of one campaign's counters: `<p>{c:<campaignId>}:`. The serve script builds
   * the same keys from `counterPrefix` (see lua/serve.ts), so the formats below must stay in step:
   * `h:<YYYYMMDDHH>` hourly counter hash, `d:<YYYYMMDD>` daily counter hash (fields `served`,
   * `impression`, `viewable`, `click`, `f:<reason>` and per unit `u:<unitId>:<field>`),
   * `rh:<hour>` / `r:<day>` HyperLogLogs of user hashes (reach).
   */
  campaignTag(campaignId: string): string;
  /** What the serve script prepends to `{c:<campaignId>}:`. */
  readonly counterPrefix: string;
  /**
   * Hash `campaignId -> served units, all time`, no expiry: goals and pacing read every campaign's
   * count in one HMGET. `{pacing}` is its own slot (on a cluster it is written beside the serve script).
   */
  readonly servedTotals: string;
  hourCounters(campaignId: string, hour: string): string;
  dayCounters(campaignId: string, day: string): string;
  hourReach(campaignId: string, hour: string): string;
  dayReach(campaignId: string, day: string): string;
  /** HyperLogLog of user-key hashes served any campaign of an advertiser on a day (advertiser reach). */
  advertiserDayReach(advertiserId: string, day: string): string;
  /** String set-if-absent with a TTL past the token's expiry: one tracking token counted once. */
  seen(campaignId: string, type: string, decisionId: string, slotId: string, unitId: string): string;
  /** Capped stream of served decisions and counted events (`XADD MAXLEN ~`), field `e` = JSON. */
  readonly events: string;
  /** Stream of audit entries (`XADD`, one JSON field `e` per entry), newest last. */
  readonly audit: string;
  /** String: a generated, persisted secret (e.g. the user-key hashing secret). */
  meta(name: string): string;
}

export function createKeys(prefix = "sp"): Keys {
  const p = `${prefix}:v1:`;
  return {
    catalogEntities: (kind) => `${p}{catalog}:${kind}`,
    catalogVersion: `${p}{catalog}:version`,
    catalogChannel: `${p}catalog:changed`,
    catalogVersions: `${p}{catalog}:versions`,
    cap: (userHash, campaignId, windowSeconds) => `${p}{u:${userHash}}:cap:${campaignId}:${windowSeconds}`,
    pageView: (hash, userHash) => (userHash ? `${p}{u:${userHash}}:pv:${hash}` : `${p}{pv:${hash}}:served`),
    apiKeys: `${p}{keys}:records`,
    apiKeyByHash: `${p}{keys}:byhash`,
    audit: `${p}audit`,
    campaignTag: (id) => `${p}{c:${id}}:`,
    counterPrefix: p,
    servedTotals: `${p}{pacing}:served`,
    hourCounters: (id, hour) => `${p}{c:${id}}:h:${hour}`,
    dayCounters: (id, day) => `${p}{c:${id}}:d:${day}`,
    hourReach: (id, hour) => `${p}{c:${id}}:rh:${hour}`,
    dayReach: (id, day) => `${p}{c:${id}}:r:${day}`,
    advertiserDayReach: (id, day) => `${p}{a:${id}}:r:${day}`,
    seen: (id, type, decisionId, slotId, unitId) => `${p}{c:${id}}:seen:${type}:${decisionId}:${slotId}:${unitId}`,
    events: `${p}events`,
    meta: (name) => `${p}meta:${name}`,
  };
}
