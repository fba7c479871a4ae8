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
import { compileCaps, type CompiledCap } from "./caps.js";
import type { PageContext } from "./context.js";
import { TIER_RANK } from "./selection.js";
import { compileTargeting, findFailingNode, requiredIndexKeys, type CompiledTargeting, pageIndexKeys } from "./targeting.js";
import { normalizeWord } from "./context.js";
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
  readonly units: readonly Unit[];
  /** The index keys its targeting requires (see `requiredIndexKeys`); undefined: the open list. */
  readonly indexKeys: readonly string[] | undefined;
  /** Scratch mark used to de-duplicate candidates within one request without allocating a Set. */
  seen: number;
}

/** A campaign as a candidate of one placement: the units it may show there. */
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
  readonly open: readonly PlacementEntry[];
  readonly byKey: ReadonlyMap<string, readonly PlacementEntry[]>;
  /** The same index split by tier (sponsorship, standard, house), for tier-by-tier selection. */
  readonly tiers: readonly TierIndex[];
}

export interface CatalogSnapshot {
  readonly version: number;
  readonly advertisers: ReadonlyMap<string, Advertiser>;
  readonly placements: ReadonlyMap<string, CompiledPlacement>;
  readonly campaigns: ReadonlyMap<string, CompiledCampaign>;
  readonly units: ReadonlyMap<string, Unit>;
}

const NO_WORDS: ReadonlySet<string> = new Set<string>();

/** Normalised words as a set; campaigns without any share one empty set. */
function wordSet(words: readonly string[] | undefined): ReadonlySet<string> {
  return words && words.length > 0 ? new Set(words.map(normalizeWord)) : NO_WORDS;
}

function compileCampaign(c: Campaign, advertiser: Advertiser | undefined, units: readonly Unit[]): CompiledCampaign {
  return {
    id: c.id,
    source: c,
    advertiserId: c.advertiserId,
    advertiserName: advertiser?.name ?? c.advertiserId,
    labels: [...new Set((advertiser?.competitiveLabels ?? []).map(normalizeWord))],
    tierRank: TIER_RANK[c.tier],
    weight: c.weight,
    active: c.status === "active",
    startMs: c.startAt ? Date.parse(c.startAt) : -Infinity,
    endMs: c.endAt ? Date.parse(c.endAt) : Infinity,
    placements: new Set(c.placements),
    targeting: compileTargeting(c.targeting),
    excludedTopics: wordSet(c.exclusions?.topics),
    excludedKeywords: wordSet(c.exclusions?.keywords),
    caps: compileCaps(c.frequencyCaps),
    units,
    indexKeys: requiredIndexKeys(c.targeting),
    seen: 0,
  };
}

/**
 * Compiles a catalog document. With `previous`, a campaign whose source object, advertiser object
 * and units are the very same objects as in `previous` keeps its compiled form (targeting
 * closures, sets, index keys): after a single-entity change only that entity is compiled again;
 * the indexes are rebuilt, which is cheap.
 */
export function compileCatalog(doc: CatalogDocument, version: number, previous?: CatalogSnapshot): CatalogSnapshot {
  const steps = compileSteps(doc, version, previous);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `compileCatalog` in slices of about `sliceMs` of work, yielding to the event loop between them
 * (setImmediate), so decisions keep being served on the current snapshot while a large catalog is
 * compiled; the caller swaps the result in as one reference.
 */
export async function compileCatalogInSlices(doc: CatalogDocument, version: number, previous?: CatalogSnapshot, sliceMs = 10): Promise<CatalogSnapshot> {
  const steps = compileSteps(doc, version, previous);
  let until = performance.now() + sliceMs;
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() >= until) {
      await new Promise<void>((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
      until = performance.now() + sliceMs;
    }
  }
}

/** Items handled between two checks of the slice clock. */
const STEP = 512;

function* compileSteps(doc: CatalogDocument, version: number, previous?: CatalogSnapshot): Generator<void, CatalogSnapshot> {
  let n = 0;
  const advertisers = new Map<string, Advertiser>();
  for (const a of doc.advertisers) {
    advertisers.set(a.id, a);
    if (++n % STEP === 0) yield;
  }
  const units = new Map<string, Unit>();
  const unitsByCampaign = new Map<string, Unit[]>();
  for (const u of doc.units) {
    units.set(u.id, u);
    const list = unitsByCampaign.get(u.campaignId);
    if (list) list.push(u);
    else unitsByCampaign.set(u.campaignId, [u]);
    if (++n % STEP === 0) yield;
  }
  const campaigns = new Map<string, CompiledCampaign>();
  for (const c of doc.campaigns) {
    const advertiser = advertisers.get(c.advertiserId);
    const campaignUnits = unitsByCampaign.get(c.id) ?? NO_UNITS;
    const before = previous?.campaigns.get(c.id);
    const reusable =
      before !== undefined &&
      before.source === c &&
      previous?.advertisers.get(c.advertiserId) === advertiser &&
      sameUnits(before.units, campaignUnits);
    campaigns.set(c.id, reusable ? before : compileCampaign(c, advertiser, campaignUnits));
    if (++n % STEP === 0) yield;
  }

  const placements = new Map<string, CompiledPlacement>();
  for (const p of doc.placements) {
    const formats = new Set<string>(p.formats);
    const open: PlacementEntry[] = [];
    const byKey = new Map<string, PlacementEntry[]>();
    const tierLists = [0, 1, 2].map(() => ({ open: [] as PlacementEntry[], byKey: new Map<string, PlacementEntry[]>() }));
    const push = (map: Map<string, PlacementEntry[]>, k: string, e: PlacementEntry): void => {
      const bucket = map.get(k);
      if (bucket) bucket.push(e);
      else map.set(k, [e]);
    };
    let activeCampaignCount = 0;
    for (const c of campaigns.values()) {
      if (++n % STEP === 0) yield;
      if (!c.active || !c.placements.has(p.id)) continue;
      activeCampaignCount++;
      const fitting = fittingUnits(c.units, formats);
      if (fitting.length === 0) continue;
      const keys = c.indexKeys;
      const entry: PlacementEntry = keys ? { campaign: c, units: fitting, indexKeys: keys } : { campaign: c, units: fitting };
      const tier = tierLists[c.tierRank] as (typeof tierLists)[number];
      if (!keys) {
        open.push(entry);
        tier.open.push(entry);
        continue;
      }
      for (const k of keys) {
        push(byKey, k, entry);
        push(tier.byKey, k, entry);
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
    placements.set(p.id, { source: p, formats, activeCampaignCount, open, byKey, tiers });
  }
  return { version, advertisers, placements, campaigns, units };
}

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
 * The entries of a placement that could match this page: `open` plus the buckets of the page's
 * keys, each campaign once, in catalog order within each source.
 */
export function candidateEntries(placement: CompiledPlacement, ctx: PageContext): PlacementEntry[] {
  const stamp = (stampCounter = (stampCounter + 1) % 0x3fffffff) + 1;
  const out: PlacementEntry[] = [];
  for (const e of placement.open) {
    e.campaign.seen = stamp;
    out.push(e);
  }
  if (placement.byKey.size === 0) return out;
  for (const key of pageIndexKeys(ctx)) {
    const bucket = placement.byKey.get(key);
    if (!bucket) continue;
    for (const e of bucket) {
      if (e.campaign.seen === stamp) continue;
      e.campaign.seen = stamp;
      out.push(e);
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
  pageKeys: readonly string[],
  isEligible: (entry: PlacementEntry) => boolean,
  random: () => number,
  limits: CollectLimits,
): CollectedTier[] {
  const stamp = (stampCounter = (stampCounter + 1) % 0x3fffffff) + 1;
  const keySet = pageKeys.length > 0 ? new Set(pageKeys) : undefined;
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
          let m = 0;
          for (const k of e.indexKeys) if (keySet.has(k)) m++;
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
  /** Pacing verdict for a campaign, if any (goals and pacing). */
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
  if (!c.targeting.matches(input.ctx)) {
    const failing: TargetingNode | undefined = all ? findFailingNode(c.targeting.source, input.ctx) : undefined;
    if (stop({ code: "TARGETING_MISMATCH", detail: failing })) return reasons as Reason[];
  }
  if (c.caps.length > 0 && !input.hasUserKey && stop({ code: "NO_USER_KEY" })) return reasons as Reason[];
  const pacing = input.pacing?.(c, input.nowMs);
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
  if (c.excludedTopics.size > 0) {
    for (const t of input.ctx.topics) if (c.excludedTopics.has(t)) return "EXCLUDED_TOPIC";
  }
  if (c.excludedKeywords.size > 0) {
    for (const k of input.ctx.keywords) if (c.excludedKeywords.has(k)) return "EXCLUDED_KEYWORD";
  }
  if (!c.targeting.matches(input.ctx)) return "TARGETING_MISMATCH";
  if (c.caps.length > 0 && !input.hasUserKey) return "NO_USER_KEY";
  return input.pacing?.(c, input.nowMs)?.code;
}

/** The shared answer for an eligible campaign on the decision path (never mutated). */
const ELIGIBLE: Reason[] = Object.freeze([]) as unknown as Reason[];

function hasUnitIn(units: readonly Unit[], formats: ReadonlySet<string>): boolean {
  for (const u of units) if (formats.has(u.format)) return true;
  return false;
}
