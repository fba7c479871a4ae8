/**
 * The compiled, indexed, immutable view of the catalog that decisions read. Built once per catalog
 * version (targeting compiled to closures, caps resolved, units grouped by format) and swapped in
 * as one reference, so decisions never see a half-built catalog.
 *
 * Index: per placement, the active campaigns that have a unit of an accepted format, bucketed by
 * the section/topic/keyword keys their targeting requires (see `requiredIndexKeys`); campaigns whose
 * targeting needs no such key sit in `open`. A decision looks only at `open` plus the buckets of its
 * page's keys, so its cost follows the number of campaigns that could match, not the catalog size.
 */
import type { Advertiser, Campaign, CatalogDocument, Placement, Unit } from "./catalog-schema.js";
import { isSortedById, type EntityChange } from "./catalog-diff.js";
import { compileCaps, type CompiledCap } from "./caps.js";
import { clearInterners, HashInterner, hashStrings, Interner, sameItems } from "./intern.js";
import { runInSlices, runToEnd } from "./slices.js";
import { lowerBound } from "./by-id.js";
import type { PageContext } from "./context.js";
import { TIER_RANK } from "./selection.js";
import { compileTargeting, findFailingNode, matchesTargeting, requiredIndexKeys, type CompiledTargeting, pageIndexKeys, type TargetingMemo } from "./targeting.js";
import { normalizeWord } from "./context.js";
import { LayeredMap } from "./layered-map.js";
import type { TargetingNode } from "./catalog-schema.js";

export interface CompiledCampaign {
  readonly id: string;
  readonly source: Campaign;
  readonly advertiserId: string;
  readonly advertiserName: string;
  readonly labels: readonly string[];
  readonly tierRank: number;
  readonly weight: number;
  readonly active: boolean;
  readonly startMs: number;
  readonly endMs: number;
  readonly placements: ReadonlySet<string>;
  readonly targeting: CompiledTargeting;
  readonly excludedTopics: ReadonlySet<string>;
  readonly excludedKeywords: ReadonlySet<string>;
  readonly caps: readonly CompiledCap[];
  /** Whether the campaign has a delivery goal (only then is pacing asked about it). */
  readonly hasGoal: boolean;
  readonly units: readonly Unit[];
  /** The index keys its targeting requires (see `requiredIndexKeys`); undefined: the open list. */
  readonly indexKeys: readonly string[] | undefined;
  /** Scratch mark used to de-duplicate candidates within one request without allocating a Set. */
  seen: number;
  /**
   * The campaign itself: a compiled campaign is its own index entry in every placement where all
   * its units fit (most of them), so the index holds no entry object per campaign and placement
   * (at 100k campaigns, ~150k objects fewer for every major collection to mark, and one pointer
   * fewer to chase per draw).
   */
  readonly campaign: CompiledCampaign;
}

/**
 * A campaign as a candidate of one placement: the units it may show there. The compiled campaign
 * itself when they are all its units, else an object of its own.
 */
export interface PlacementEntry {
  readonly campaign: CompiledCampaign;
  readonly units: readonly Unit[];
  /** The index keys whose buckets hold this entry; undefined for an entry of the `open` list. */
  readonly indexKeys?: readonly string[];
}

/** A list of index entries with the running sum of their campaigns' weights, for weighted draws. */
export interface WeightedList {
  readonly entries: readonly PlacementEntry[];
  /** cumulative[i] = the weights of entries[0..i], summed. */
  readonly cumulative: Float64Array;
  readonly total: number;
}

/** One tier's part of a placement's index. */
export interface TierIndex {
  readonly open: WeightedList;
  readonly byKey: ReadonlyMap<string, WeightedList>;
}

export interface CompiledPlacement {
  readonly source: Placement;
  readonly formats: ReadonlySet<string>;
  /** Active campaigns listing this placement, with or without a unit of an accepted format. */
  readonly activeCampaignCount: number;
  /** The index, one part per tier (sponsorship, standard, house), for tier-by-tier selection. */
  readonly tiers: readonly TierIndex[];
}

/** A placement's campaigns whose targeting needs no index key, tier by tier. */
export function openEntries(placement: CompiledPlacement): PlacementEntry[] {
  return placement.tiers.flatMap((t) => t.open.entries);
}

/** A placement's index buckets with every tier's entries for each key (tier by tier). */
export function keyedEntries(placement: CompiledPlacement): Map<string, PlacementEntry[]> {
  const out = new Map<string, PlacementEntry[]>();
  for (const t of placement.tiers) {
    for (const [k, list] of t.byKey) out.set(k, [...(out.get(k) ?? []), ...list.entries]);
  }
  return out;
}

export interface CatalogSnapshot {
  readonly version: number;
  readonly advertisers: ReadonlyMap<string, Advertiser>;
  readonly placements: ReadonlyMap<string, CompiledPlacement>;
  readonly campaigns: ReadonlyMap<string, CompiledCampaign>;
  /**
   * The active campaigns with a delivery goal (what pacing reads counts for), in no particular
   * order: kept with the snapshot so that pacing never walks every campaign of a new version.
   */
  readonly goalCampaignIds: readonly string[];
}

/**
 * A unit by its campaign and id (a tracking token names both), or undefined. Units are reached
 * through their campaign: a map of every unit by id cost ~3.5 MB at 100k campaigns and was used
 * only for click redirects.
 */
export function findUnit(snapshot: CatalogSnapshot, campaignId: string, unitId: string): Unit | undefined {
  const units = snapshot.campaigns.get(campaignId)?.units;
  if (units) for (const u of units) if (u.id === unitId) return u;
  return undefined;
}

const NO_WORDS: ReadonlySet<string> = new Set<string>();
const NO_CAPS: readonly CompiledCap[] = Object.freeze([]) as readonly CompiledCap[];

/** Normalised words as a set; campaigns with the same words share one set, those without any the empty set. */
function wordSet(words: readonly string[] | undefined): ReadonlySet<string> {
  if (!words || words.length === 0) return NO_WORDS;
  const normalized = words.map(normalizeWord);
  return wordSets.get(JSON.stringify(normalized), () => new Set(normalized));
}

/** Equal placement sets, label lists, caps and index keys are shared between campaigns. */
const placementSets = new Interner<ReadonlySet<string>>();
const labelLists = new Interner<readonly string[]>();
const capLists = new Interner<readonly CompiledCap[]>();
const indexKeyLists = new HashInterner<readonly string[]>();
const wordSets = new Interner<ReadonlySet<string>>();

type CampaignParts = Omit<CompiledCampaign, "startMs" | "endMs" | "seen" | "campaign">;

/**
 * A compiled campaign. Its flight bounds are kept as whole seconds and the milliseconds left over
 * (small integers, stored in the object itself) and read as `startMs`/`endMs`: V8 keeps a number
 * field that holds fractional or large values, such as a date in milliseconds, as a separate boxed
 * number per object, which at 100k campaigns was 200k objects for every major collection to mark.
 * Dates after 2038 (seconds past 2^31) are stored boxed again, with the same values.
 *
 * The fields are declared and assigned one by one rather than copied in with `Object.assign`:
 * V8 sizes an instance for the fields its class declares, and properties added beyond them go to
 * a separate property array per object (measured: one more object per campaign).
 */
class CompiledCampaignObject implements CompiledCampaign {
  readonly id: string;
  readonly source: Campaign;
  readonly advertiserId: string;
  readonly advertiserName: string;
  readonly labels: readonly string[];
  readonly tierRank: number;
  readonly weight: number;
  readonly active: boolean;
  readonly placements: ReadonlySet<string>;
  readonly targeting: CompiledTargeting;
  readonly excludedTopics: ReadonlySet<string>;
  readonly excludedKeywords: ReadonlySet<string>;
  readonly caps: readonly CompiledCap[];
  readonly hasGoal: boolean;
  readonly units: readonly Unit[];
  readonly indexKeys: readonly string[] | undefined;
  seen = 0;
  readonly campaign: CompiledCampaign;
  private readonly hasStart: boolean;
  private readonly startS: number;
  private readonly startRest: number;
  private readonly hasEnd: boolean;
  private readonly endS: number;
  private readonly endRest: number;

  constructor(parts: CampaignParts, startMs: number | undefined, endMs: number | undefined) {
    this.id = parts.id;
    this.source = parts.source;
    this.advertiserId = parts.advertiserId;
    this.advertiserName = parts.advertiserName;
    this.labels = parts.labels;
    this.tierRank = parts.tierRank;
    this.weight = parts.weight;
    this.active = parts.active;
    this.placements = parts.placements;
    this.targeting = parts.targeting;
    this.excludedTopics = parts.excludedTopics;
    this.excludedKeywords = parts.excludedKeywords;
    this.caps = parts.caps;
    this.hasGoal = parts.hasGoal;
    this.units = parts.units;
    this.indexKeys = parts.indexKeys;
    this.campaign = this;
    this.hasStart = startMs !== undefined;
    this.startS = startMs === undefined ? 0 : Math.floor(startMs / 1000);
    this.startRest = startMs === undefined ? 0 : startMs - this.startS * 1000;
    this.hasEnd = endMs !== undefined;
    this.endS = endMs === undefined ? 0 : Math.floor(endMs / 1000);
    this.endRest = endMs === undefined ? 0 : endMs - this.endS * 1000;
  }

  /** The flight's start in epoch ms; -Infinity without one. */
  get startMs(): number {
    return this.hasStart ? this.startS * 1000 + this.startRest : -Infinity;
  }

  /** The flight's end in epoch ms; Infinity without one. */
  get endMs(): number {
    return this.hasEnd ? this.endS * 1000 + this.endRest : Infinity;
  }
}

function compileCampaign(c: Campaign, advertiser: Advertiser | undefined, units: readonly Unit[], trees: TargetingMemo): CompiledCampaign {
  const labels = [...new Set((advertiser?.competitiveLabels ?? []).map(normalizeWord))];
  const indexKeys = requiredIndexKeys(c.targeting);
  const parts: CampaignParts = {
    id: c.id,
    source: c,
    advertiserId: c.advertiserId,
    advertiserName: advertiser?.name ?? c.advertiserId,
    labels: labelLists.get(JSON.stringify(labels), () => labels),
    tierRank: TIER_RANK[c.tier],
    weight: c.weight,
    active: c.status === "active",
    placements: placementSets.get(JSON.stringify(c.placements), () => new Set(c.placements)),
    targeting: compileTargeting(c.targeting, trees),
    excludedTopics: wordSet(c.exclusions?.topics),
    excludedKeywords: wordSet(c.exclusions?.keywords),
    caps: c.frequencyCaps ? capLists.get(JSON.stringify(c.frequencyCaps), () => compileCaps(c.frequencyCaps)) : NO_CAPS,
    hasGoal: c.goal !== undefined,
    units,
    indexKeys: indexKeys ? indexKeyLists.get(hashStrings(indexKeys), (k) => sameItems(k, indexKeys), () => indexKeys) : undefined,
  };
  return new CompiledCampaignObject(parts, c.startAt ? Date.parse(c.startAt) : undefined, c.endAt ? Date.parse(c.endAt) : undefined);
}

/**
 * Compiles a catalog document. With `previous`, a campaign whose source object, advertiser object
 * and units are the very same objects as in `previous` keeps its compiled form (targeting
 * closures, sets, index keys), and when few campaigns changed the previous indexes are patched
 * rather than rebuilt. With `changes` too (the changes that lead from `previous` to `doc`), only
 * the campaigns they touch are looked at at all (`changedSteps`).
 */
export function compileCatalog(doc: CatalogDocument, version: number, previous?: CatalogSnapshot, changes?: readonly EntityChange[]): CatalogSnapshot {
  return runToEnd(compileSteps(doc, version, previous, changes));
}

/**
 * `compileCatalog` in slices of about `sliceMs` of work, yielding to the event loop between them
 * (setImmediate), so decisions keep being served on the current snapshot while a large catalog is
 * compiled; the caller swaps the result in as one reference.
 */
export async function compileCatalogInSlices(
  doc: CatalogDocument,
  version: number,
  previous?: CatalogSnapshot,
  options: { changes?: readonly EntityChange[]; sliceMs?: number } = {},
): Promise<CatalogSnapshot> {
  return runInSlices(compileSteps(doc, version, previous, options.changes), options.sliceMs);
}

/** Items handled between two checks of the slice clock. */
const STEP = 512;

function* compileSteps(doc: CatalogDocument, version: number, previous?: CatalogSnapshot, changes?: readonly EntityChange[]): Generator<void, CatalogSnapshot> {
  if (previous && changes && canApplyChanges(previous, changes)) return yield* changedSteps(doc, version, previous, changes);
  clearInterners();
  let n = 0;
  const advertisers = new Map<string, Advertiser>();
  for (const a of doc.advertisers) {
    advertisers.set(a.id, a);
    if (++n % STEP === 0) yield;
  }
  const unitsByCampaign = new Map<string, Unit[]>();
  for (const u of doc.units) {
    const list = unitsByCampaign.get(u.campaignId);
    if (list) list.push(u);
    else unitsByCampaign.set(u.campaignId, [u]);
    if (++n % STEP === 0) yield;
  }
  const campaigns = new Map<string, CompiledCampaign>();
  const goalCampaignIds: string[] = [];
  /** Targeting subtrees that campaigns share (as a catalog read from Redis shares them) compile once. */
  const trees: TargetingMemo = new Map();
  /** Campaigns compiled anew (added or changed) and, below, those removed since `previous`. */
  const changed: string[] = [];
  let reused = 0;
  for (const c of doc.campaigns) {
    const advertiser = advertisers.get(c.advertiserId);
    const campaignUnits = unitsByCampaign.get(c.id) ?? NO_UNITS;
    const before = previous?.campaigns.get(c.id);
    const reusable =
      before !== undefined &&
      before.source === c &&
      previous?.advertisers.get(c.advertiserId) === advertiser &&
      sameUnits(before.units, campaignUnits);
    if (reusable) reused++;
    else changed.push(c.id);
    const compiled = reusable ? before : compileCampaign(c, advertiser, campaignUnits, trees);
    campaigns.set(c.id, compiled);
    if (compiled.active && compiled.hasGoal) goalCampaignIds.push(c.id);
    if (++n % STEP === 0) yield;
  }
  if (previous) {
    let existing = reused;
    for (const id of changed) if (previous.campaigns.has(id)) existing++;
    if (existing < previous.campaigns.size) {
      for (const id of previous.campaigns.keys()) {
        if (!campaigns.has(id)) changed.push(id);
        if (++n % STEP === 0) yield;
      }
    }
  }
  // A few changed campaigns: the previous indexes are patched (only the buckets those campaigns
  // leave or join are rebuilt), which needs the index lists in id order, as a sorted catalog gives.
  const patchable = previous !== undefined && changed.length <= PATCH_MAX_CAMPAIGNS && isSortedById(doc.campaigns);

  const placements = new Map<string, CompiledPlacement>();
  for (const p of doc.placements) {
    const before = previous?.placements.get(p.id);
    const compiled =
      patchable && previous && before && before.source === p
        ? patchPlacement(before, changed, previous.campaigns, campaigns)
        : yield* buildPlacement(p, campaigns);
    placements.set(p.id, compiled);
    yield;
  }
  return { version, advertisers, placements, campaigns, goalCampaignIds };
}

/**
 * Whether `changedSteps` can build the next snapshot from `previous` and the changes alone: a few
 * changes, none to placements, and no campaign added (an added campaign would sit at the end of
 * the campaigns map instead of in catalog order).
 */
function canApplyChanges(previous: CatalogSnapshot, changes: readonly EntityChange[]): boolean {
  if (changes.length > PATCH_MAX_CAMPAIGNS) return false;
  for (const c of changes) {
    if (c.kind === "placement") return false;
    if (c.kind === "campaign" && !previous.campaigns.has(c.id)) return false;
  }
  return true;
}

/**
 * The next snapshot from the previous one and a few changes: the maps are copied and only the
 * campaigns the changes touch (changed themselves, or their units or advertiser) are compiled and
 * re-indexed. `doc` is the catalog with the changes applied (`applyChanges`), whose entity objects
 * are the changes' own `after` objects.
 */
function* changedSteps(doc: CatalogDocument, version: number, previous: CatalogSnapshot, changes: readonly EntityChange[]): Generator<void, CatalogSnapshot> {
  const advertisers = new Map(previous.advertisers);
  const affected = new Set<string>();
  const changedAdvertisers = new Set<string>();
  const campaignSource = new Map<string, Campaign | null>();
  for (const c of changes) {
    if (c.kind === "advertiser") {
      if (c.after) advertisers.set(c.id, c.after as Advertiser);
      else advertisers.delete(c.id);
      changedAdvertisers.add(c.id);
    } else if (c.kind === "unit") {
      for (const u of [c.before, c.after] as (Unit | null | undefined)[]) if (u) affected.add(u.campaignId);
    } else if (c.kind === "campaign") {
      campaignSource.set(c.id, (c.after as Campaign | null | undefined) ?? null);
      affected.add(c.id);
    }
  }
  yield;
  let n = 0;
  if (changedAdvertisers.size > 0) {
    for (const c of previous.campaigns.values()) {
      if (changedAdvertisers.has(c.advertiserId)) affected.add(c.id);
      if (++n % STEP === 0) yield;
    }
  }
  const unitsOf = new Map<string, Unit[]>();
  for (const id of affected) unitsOf.set(id, []);
  // An indexed loop: `for…of` over an array inside a generator allocates an iterator result per
  // item (130k of them, ~5 MB, per edit at 100k campaigns).
  const units = doc.units;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as Unit;
    unitsOf.get(u.campaignId)?.push(u);
    if (++n % STEP === 0) yield;
  }
  const overrides = new Map<string, CompiledCampaign | undefined>();
  const changed: string[] = [];
  for (const id of affected) {
    const source = campaignSource.has(id) ? campaignSource.get(id) : previous.campaigns.get(id)?.source;
    if (source === undefined) continue; // a unit of a campaign that does not exist
    changed.push(id);
    overrides.set(id, source === null ? undefined : compileCampaign(source, advertisers.get(source.advertiserId), unitsOf.get(id) ?? NO_UNITS, new Map()));
  }
  // The previous campaigns with the changed ones laid over them, not a copy: at 100k campaigns a
  // copy per edit was a new 100k-entry table (most of the 24 MB an edit allocated) for the old
  // generation to take.
  const layered = LayeredMap.over(previous.campaigns, overrides);
  const campaigns = layered.layerSize > CAMPAIGN_LAYER_MAX ? yield* copyMap(layered) : layered;
  const changedIds = new Set(changed);
  const goalCampaignIds = previous.goalCampaignIds.filter((id) => !changedIds.has(id));
  for (const id of changed) {
    const c = overrides.get(id);
    if (c && c.active && c.hasGoal) goalCampaignIds.push(id);
  }
  yield;
  const placements = new Map<string, CompiledPlacement>();
  for (const [id, before] of previous.placements) {
    placements.set(id, changed.length === 0 ? before : patchPlacement(before, changed, previous.campaigns, campaigns));
    yield;
  }
  return { version, advertisers, placements, campaigns, goalCampaignIds };
}

/**
 * Campaigns changed since the last full copy of the campaigns map, past which the next edit copies
 * it (in slices): a layer this size costs a lookup in a small map per read.
 */
const CAMPAIGN_LAYER_MAX = 1024;

/** A copy of a map, in slices (a 100k-entry map copied in one go blocks for tens of ms). */
function* copyMap<K, V>(source: ReadonlyMap<K, V>): Generator<void, Map<K, V>> {
  const out = new Map<K, V>();
  let n = 0;
  for (const [k, v] of source) {
    out.set(k, v);
    if (++n % (STEP * 4) === 0) yield;
  }
  return out;
}

/** Past this many changed campaigns, indexes are rebuilt rather than patched. */
const PATCH_MAX_CAMPAIGNS = 256;

/** The campaign's index entry in a placement, or undefined when it is not indexed there. */
function entryIn(c: CompiledCampaign, placementId: string, formats: ReadonlySet<string>): PlacementEntry | undefined {
  if (!c.active || !c.placements.has(placementId)) return undefined;
  const fitting = fittingUnits(c.units, formats);
  if (fitting.length === 0) return undefined;
  if (fitting === c.units) return c;
  return c.indexKeys ? { campaign: c, units: fitting, indexKeys: c.indexKeys } : { campaign: c, units: fitting };
}

function* buildPlacement(p: Placement, campaigns: ReadonlyMap<string, CompiledCampaign>): Generator<void, CompiledPlacement> {
  const formats = new Set<string>(p.formats);
  const tierLists = [0, 1, 2].map(() => ({ open: [] as PlacementEntry[], byKey: new Map<string, PlacementEntry[]>() }));
  let activeCampaignCount = 0;
  let n = 0;
  for (const c of campaigns.values()) {
    if (++n % STEP === 0) yield;
    if (c.active && c.placements.has(p.id)) activeCampaignCount++;
    const entry = entryIn(c, p.id, formats);
    if (!entry) continue;
    const tier = tierLists[c.tierRank] as (typeof tierLists)[number];
    if (!entry.indexKeys) {
      tier.open.push(entry);
      continue;
    }
    for (const k of entry.indexKeys) {
      const bucket = tier.byKey.get(k);
      if (bucket) bucket.push(entry);
      else tier.byKey.set(k, [entry]);
    }
  }
  const tiers: TierIndex[] = [];
  for (const t of tierLists) {
    const weighted = new Map<string, WeightedList>();
    for (const [k, list] of t.byKey) {
      weighted.set(k, weightedList(list));
      n += list.length;
      if (n >= STEP) {
        n = 0;
        yield;
      }
    }
    tiers.push({ open: weightedList(t.open), byKey: weighted });
  }
  return { source: p, formats, activeCampaignCount, tiers };
}

/**
 * The previous index of a placement with the changed campaigns taken out of the lists they were
 * in and put into the lists they belong to now, in id order: the same index `buildPlacement`
 * gives, with work proportional to the lists touched. Untouched lists are shared with `previous`.
 */
function patchPlacement(
  previous: CompiledPlacement,
  changed: readonly string[],
  before: ReadonlyMap<string, CompiledCampaign>,
  after: ReadonlyMap<string, CompiledCampaign>,
): CompiledPlacement {
  const p = previous.source;
  const formats = previous.formats;
  const gone = new Set(changed);
  let activeCampaignCount = previous.activeCampaignCount;
  /** Lists to rebuild: tier and key ("" for the open list) -> entries to add. */
  const touched = new Map<string, { tier: number; key: string | undefined; add: PlacementEntry[] }>();
  const touch = (tier: number, key: string | undefined): PlacementEntry[] => {
    const id = `${tier}\u0000${key ?? ""}`;
    let t = touched.get(id);
    if (!t) touched.set(id, (t = { tier, key, add: [] }));
    return t.add;
  };
  for (const id of changed) {
    const old = before.get(id);
    if (old) {
      if (old.active && old.placements.has(p.id)) activeCampaignCount--;
      const e = entryIn(old, p.id, formats);
      if (e) for (const k of e.indexKeys ?? [undefined]) touch(old.tierRank, k);
    }
    const now = after.get(id);
    if (now) {
      if (now.active && now.placements.has(p.id)) activeCampaignCount++;
      const e = entryIn(now, p.id, formats);
      if (e) for (const k of e.indexKeys ?? [undefined]) touch(now.tierRank, k).push(e);
    }
  }
  const tiers = previous.tiers.map((t) => ({ open: t.open, byKey: new Map(t.byKey) }));
  for (const { tier, key, add } of touched.values()) {
    const t = tiers[tier] as (typeof tiers)[number];
    const current = key === undefined ? t.open.entries : (t.byKey.get(key)?.entries ?? []);
    const list = current.filter((e) => !gone.has(e.campaign.id));
    for (const e of add) list.splice(lowerBound(list, e.campaign.id, entryCampaignId), 0, e);
    if (key === undefined) t.open = weightedList(list);
    else if (list.length === 0) t.byKey.delete(key);
    else t.byKey.set(key, weightedList(list));
  }
  return { source: p, formats, activeCampaignCount, tiers };
}

const entryCampaignId = (e: PlacementEntry): string => e.campaign.id;

const NO_UNITS: readonly Unit[] = Object.freeze([]) as readonly Unit[];

function sameUnits(a: readonly Unit[], b: readonly Unit[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The campaign's units of the accepted formats (the campaign's own array when all fit). */
function fittingUnits(units: readonly Unit[], formats: ReadonlySet<string>): readonly Unit[] {
  let all = true;
  for (const u of units) if (!formats.has(u.format)) all = false;
  return all ? units : units.filter((u) => formats.has(u.format));
}

function weightedList(entries: readonly PlacementEntry[]): WeightedList {
  const cumulative = new Float64Array(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) cumulative[i] = total += (entries[i] as PlacementEntry).campaign.weight;
  return { entries, cumulative, total };
}

/** The index of the first entry whose running weight exceeds `r` (0 <= r < list.total). */
function drawFrom(list: WeightedList, r: number): number {
  const cum = list.cumulative;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cum[mid] as number) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

let stampCounter = 0;

/**
 * The entries of a placement that could match this page: per tier, its open list plus the buckets
 * of the page's keys, each campaign once (what `collectCandidates` draws from).
 */
export function candidateEntries(placement: CompiledPlacement, ctx: PageContext): PlacementEntry[] {
  const stamp = (stampCounter = (stampCounter + 1) % 0x3fffffff) + 1;
  const out: PlacementEntry[] = [];
  const keys = pageIndexKeys(ctx);
  for (const tier of placement.tiers) {
    for (const e of tier.open.entries) {
      e.campaign.seen = stamp;
      out.push(e);
    }
    for (const key of keys) {
      const bucket = tier.byKey.get(key);
      if (!bucket) continue;
      for (const e of bucket.entries) {
        if (e.campaign.seen === stamp) continue;
        e.campaign.seen = stamp;
        out.push(e);
      }
    }
  }
  return out;
}

/** Limits of `collectCandidates` (see there). */
export interface CollectLimits {
  /** Eligible candidates wanted for the slot (its capacity plus spares for caps and separation). */
  readonly want: number;
  /** A tier with at most this many index entries is evaluated whole; a larger one is sampled. */
  readonly exhaustive: number;
  /** Random draws at most per sampled tier (a draw is cheap; only accepted draws are evaluated). */
  readonly maxDraws: number;
}

export const DEFAULT_COLLECT_LIMITS: Omit<CollectLimits, "want"> = { exhaustive: 16, maxDraws: 256 };

function isSet(keys: readonly string[] | ReadonlySet<string>): keys is ReadonlySet<string> {
  return keys instanceof Set;
}

/** One visited tier's eligible entries; `ranked` when they are already in weighted random order. */
export interface CollectedTier {
  readonly entries: PlacementEntry[];
  readonly ranked: boolean;
}

/**
 * The eligible candidates of a slot, tier by tier, with bounded work: tiers are visited from
 * sponsorship down, a lower tier only while fewer than `want` candidates are eligible. A tier's
 * entries (its open list plus the buckets of the page's keys) are evaluated whole when there are at
 * most `exhaustive` of them (the caller then ranks them). A larger tier is sampled by weight: each
 * draw picks an entry with probability proportional to its campaign's weight (running weight sums
 * and a binary search), each campaign once, until `want` are eligible or `maxDraws` draws were
 * made. A campaign that sits in several of the page's buckets is accepted with probability
 * 1 / (their number), so it is not favoured for matching more keys. Accepting in draw order is
 * successive weighted sampling without replacement, so the sample comes out already ranked
 * (a campaign of weight 3 leads one of weight 1 three times as often, as Efraimidis–Spirakis
 * ranking gives). A decision's cost is thus bounded whatever the catalog size.
 */
export function collectCandidates(
  placement: CompiledPlacement,
  pageKeys: readonly string[] | ReadonlySet<string>,
  isEligible: (entry: PlacementEntry) => boolean,
  random: () => number,
  limits: CollectLimits,
): CollectedTier[] {
  const stamp = (stampCounter = (stampCounter + 1) % 0x3fffffff) + 1;
  // A decision builds its page's key set once for all its slots.
  const keySet = isSet(pageKeys) ? (pageKeys.size > 0 ? pageKeys : undefined) : pageKeys.length > 0 ? new Set(pageKeys) : undefined;
  // How many of the page's keys a drawn multi-key entry sits under, counted once per entry.
  let keyHits: Map<PlacementEntry, number> | undefined;
  const perTier: CollectedTier[] = [];
  const lists: WeightedList[] = [];
  let found = 0;
  for (const tier of placement.tiers) {
    if (found >= limits.want) break;
    lists.length = 0;
    if (tier.open.entries.length > 0) lists.push(tier.open);
    if (keySet && tier.byKey.size > 0) {
      for (const k of keySet) {
        const bucket = tier.byKey.get(k);
        if (bucket) lists.push(bucket);
      }
    }
    let count = 0;
    let weight = 0;
    for (const l of lists) {
      count += l.entries.length;
      weight += l.total;
    }
    if (count === 0) continue;
    const eligible: PlacementEntry[] = [];
    const sampled = count > limits.exhaustive;
    if (!sampled) {
      for (const l of lists) {
        for (const e of l.entries) {
          if (e.campaign.seen === stamp) continue;
          e.campaign.seen = stamp;
          if (isEligible(e)) eligible.push(e);
        }
      }
    } else {
      for (let n = 0; n < limits.maxDraws && found + eligible.length < limits.want; n++) {
        let r = random() * weight;
        let list = lists[lists.length - 1] as WeightedList;
        for (const l of lists) {
          if (r < l.total) {
            list = l;
            break;
          }
          r -= l.total;
        }
        const e = list.entries[drawFrom(list, Math.min(r, list.total - 1e-9))] as PlacementEntry;
        if (e.campaign.seen === stamp) continue;
        if (e.indexKeys && keySet && e.indexKeys.length > 1) {
          // A rejected entry is drawn again m times as often as a single-key one: count once.
          let m = (keyHits ??= new Map()).get(e);
          if (m === undefined) {
            m = 0;
            for (const k of e.indexKeys) if (keySet.has(k)) m++;
            keyHits.set(e, m);
          }
          if (m > 1 && random() * m >= 1) continue;
        }
        e.campaign.seen = stamp;
        if (isEligible(e)) eligible.push(e);
      }
    }
    found += eligible.length;
    perTier.push({ entries: eligible, ranked: sampled });
  }
  return perTier;
}

/** Why a campaign can or cannot serve; the codes of API.md's explain. */
export type IneligibilityCode =
  | "INACTIVE"
  | "OUT_OF_FLIGHT"
  | "PLACEMENT_MISMATCH"
  | "FORMAT_MISMATCH"
  | "TARGETING_MISMATCH"
  | "EXCLUDED_TOPIC"
  | "EXCLUDED_KEYWORD"
  | "NO_USER_KEY"
  | "GOAL_REACHED"
  | "PACING_AHEAD";

export type ReasonCode = IneligibilityCode | "FREQUENCY_CAPPED" | "COMPETITIVE_EXCLUSION" | "LOST_PRIORITY";

export interface Reason {
  readonly code: ReasonCode;
  readonly detail?: unknown;
}

export interface EligibilityInput {
  readonly ctx: PageContext;
  readonly nowMs: number;
  readonly hasUserKey: boolean;
  readonly placement: CompiledPlacement;
  /** Pacing verdict for a campaign, if any (goals and pacing); asked only for campaigns with a goal. */
  readonly pacing?: (campaign: CompiledCampaign, nowMs: number) => Reason | undefined;
}

/**
 * Every reason this campaign cannot serve in this placement for this page (empty when eligible).
 * With `all` false it stops at the first reason: the decision path; `explain` asks for all of them
 * through the same function.
 */
export function ineligibility(c: CompiledCampaign, input: EligibilityInput, all: boolean): Reason[] {
  // Written to allocate nothing for an eligible campaign on the decision path (`all` false):
  // the reasons array is created on the first failure, and eligible answers share one empty array.
  let reasons: Reason[] | undefined;
  const stop = (r: Reason): boolean => {
    (reasons ??= []).push(r);
    return !all;
  };
  if (!c.active && stop({ code: "INACTIVE", detail: c.source.status })) return reasons as Reason[];
  if ((input.nowMs < c.startMs || input.nowMs > c.endMs) &&
    stop({ code: "OUT_OF_FLIGHT", detail: { startAt: c.source.startAt ?? null, endAt: c.source.endAt ?? null } })) return reasons as Reason[];
  if (!c.placements.has(input.placement.source.id) && stop({ code: "PLACEMENT_MISMATCH", detail: input.placement.source.id })) return reasons as Reason[];
  if (!hasUnitIn(c.units, input.placement.formats) &&
    stop({ code: "FORMAT_MISMATCH", detail: { accepted: input.placement.source.formats, available: [...new Set(c.units.map((u) => u.format))] } })) return reasons as Reason[];
  if (c.excludedTopics.size > 0) {
    for (const t of input.ctx.topics) {
      if (c.excludedTopics.has(t) && stop({ code: "EXCLUDED_TOPIC", detail: t })) return reasons as Reason[];
    }
  }
  if (c.excludedKeywords.size > 0) {
    for (const k of input.ctx.keywords) {
      if (c.excludedKeywords.has(k) && stop({ code: "EXCLUDED_KEYWORD", detail: k })) return reasons as Reason[];
    }
  }
  if (!matchesTargeting(c.targeting, input.ctx)) {
    const failing: TargetingNode | undefined = all ? findFailingNode(c.source.targeting, input.ctx) : undefined;
    if (stop({ code: "TARGETING_MISMATCH", detail: failing })) return reasons as Reason[];
  }
  if (c.caps.length > 0 && !input.hasUserKey && stop({ code: "NO_USER_KEY" })) return reasons as Reason[];
  const pacing = c.hasGoal ? input.pacing?.(c, input.nowMs) : undefined;
  if (pacing) stop(pacing);
  return reasons ?? (all ? [] : ELIGIBLE);
}

/**
 * The decision path's form of `ineligibility`: the code of the first reason, in the same order, or
 * undefined when the campaign is eligible. Allocates nothing (no reasons, no details).
 */
export function firstIneligibility(c: CompiledCampaign, input: EligibilityInput): ReasonCode | undefined {
  if (!c.active) return "INACTIVE";
  if (input.nowMs < c.startMs || input.nowMs > c.endMs) return "OUT_OF_FLIGHT";
  if (!c.placements.has(input.placement.source.id)) return "PLACEMENT_MISMATCH";
  if (!hasUnitIn(c.units, input.placement.formats)) return "FORMAT_MISMATCH";
  return laterIneligibility(c, input);
}

/**
 * `firstIneligibility` of an entry of `input.placement`'s own index, on the decision path. The
 * index lists only campaigns that are active, name the placement and have a unit of one of its
 * formats (`entryIn`; a snapshot never changes, a change builds a new one), so those checks are
 * left out: each reads memory of its own (the units, each unit), which with 100k campaigns is
 * mostly not in the CPU's caches.
 */
export function entryIneligibility(entry: PlacementEntry, input: EligibilityInput): ReasonCode | undefined {
  const c = entry.campaign;
  if (input.nowMs < c.startMs || input.nowMs > c.endMs) return "OUT_OF_FLIGHT";
  return laterIneligibility(c, input);
}

/** The checks of `firstIneligibility` after the format's, in the same order. */
function laterIneligibility(c: CompiledCampaign, input: EligibilityInput): ReasonCode | undefined {
  if (c.excludedTopics.size > 0) {
    for (const t of input.ctx.topics) if (c.excludedTopics.has(t)) return "EXCLUDED_TOPIC";
  }
  if (c.excludedKeywords.size > 0) {
    for (const k of input.ctx.keywords) if (c.excludedKeywords.has(k)) return "EXCLUDED_KEYWORD";
  }
  if (!matchesTargeting(c.targeting, input.ctx)) return "TARGETING_MISMATCH";
  if (c.caps.length > 0 && !input.hasUserKey) return "NO_USER_KEY";
  return c.hasGoal ? input.pacing?.(c, input.nowMs)?.code : undefined;
}

/** The shared answer for an eligible campaign on the decision path (never mutated). */
const ELIGIBLE: Reason[] = Object.freeze([]) as unknown as Reason[];

function hasUnitIn(units: readonly Unit[], formats: ReadonlySet<string>): boolean {
  for (const u of units) if (formats.has(u.format)) return true;
  return false;
}
