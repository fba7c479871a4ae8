/**
 * Selection: rank a slot's eligible campaigns (tier first, weighted random inside a tier), then
 * walk the ranked lists of every slot to pick winners under competitive separation and caps.
 *
 * The walk is the one piece of selection that must run next to the cap counters, so that checking
 * and counting happen atomically in one round trip. `walkPlan` is the reference implementation:
 * the in-process store and `explain` call it directly, and the Redis store runs a line-by-line Lua
 * port of it (src/store/lua/serve.ts) that the shared store contract suite holds to the same results.
 */
import type { Tier } from "./catalog-schema.js";

export const TIER_RANK: Record<Tier, number> = { sponsorship: 0, standard: 1, house: 2 };

/** A source of uniform random numbers in [0, 1); injected so tests are deterministic. */
export type Random = () => number;

export interface Rankable {
  readonly tierRank: number;
  readonly weight: number;
}

/**
 * Orders candidates by tier, then by a weighted random permutation inside each tier
 * (Efraimidis–Spirakis: key u^(1/w), highest first), so a campaign of weight 3 leads a campaign
 * of weight 1 three times as often. Returns a new array.
 */
export function rankCandidates<T extends Rankable>(items: readonly T[], random: Random): T[] {
  if (items.length <= 1) return items.slice();
  const keyed = items.map((item) => ({ item, key: Math.pow(random(), 1 / item.weight) }));
  keyed.sort((a, b) => a.item.tierRank - b.item.tierRank || b.key - a.key);
  return keyed.map((k) => k.item);
}

/** One frequency-cap counter a plan refers to (per user, campaign and window length). */
export interface PlanCounter {
  readonly campaignId: string;
  /** 0 = lifetime. */
  readonly windowSeconds: number;
}

export interface PlanCap {
  /** Index into `SelectionPlan.counters`. */
  readonly counter: number;
  readonly limit: number;
}

/** One ranked candidate of one slot. Candidates are ordered by slot, then by rank. */
export interface PlanCandidate {
  readonly slot: number;
  readonly campaignId: string;
  readonly unitId: string;
  readonly advertiserId: string;
  readonly labels: readonly string[];
  readonly caps: readonly PlanCap[];
}

export interface SelectionPlan {
  /** Units wanted per slot (already limited by the placement's `maxUnits`). */
  readonly slotCapacity: readonly number[];
  readonly counters: readonly PlanCounter[];
  readonly candidates: readonly PlanCandidate[];
  /** Campaigns already served earlier in this page view (separation across calls). */
  readonly priorCampaigns?: readonly string[];
  /** Competitive labels already served earlier in this page view, with the advertiser holding each. */
  readonly priorLabels?: Readonly<Record<string, string>>;
}

/**
 * What happened to each candidate, in plan order:
 * `won` served; `capped` a cap reached its limit; `separated` its campaign already served in this
 * decision or a competitor holds one of its labels; `skipped` its slot was already full.
 */
export type CandidateOutcome = "won" | "capped" | "separated" | "skipped";

/** Outcomes encoded one digit per candidate, the form the Lua script returns. */
export const OUTCOME_CODES: readonly CandidateOutcome[] = ["skipped", "won", "capped", "separated"];

export function decodeOutcomes(digits: string): CandidateOutcome[] {
  const out: CandidateOutcome[] = new Array<CandidateOutcome>(digits.length);
  for (let i = 0; i < digits.length; i++) out[i] = OUTCOME_CODES[digits.charCodeAt(i) - 48] ?? "skipped";
  return out;
}

export interface WalkResult {
  readonly outcomes: CandidateOutcome[];
  /** Counter indexes to increment by one (the caps of every winner). */
  readonly increments: number[];
}

/**
 * Walks the plan: for each candidate in order, skip it if its slot is full, if its campaign has
 * already won, if another advertiser holds one of its competitive labels, or if any of its caps
 * has reached its limit; otherwise it wins and its caps are counted.
 * `countOf(i)` is the current value of counter i (0 when absent).
 */
export function walkPlan(plan: SelectionPlan, countOf: (counter: number) => number): WalkResult {
  const filled = new Array<number>(plan.slotCapacity.length).fill(0);
  const usedCampaigns = new Set(plan.priorCampaigns ?? []);
  const labelOwner = new Map(Object.entries(plan.priorLabels ?? {}));
  const outcomes: CandidateOutcome[] = [];
  const increments: number[] = [];
  for (const c of plan.candidates) {
    if ((filled[c.slot] ?? 0) >= (plan.slotCapacity[c.slot] ?? 0)) {
      outcomes.push("skipped");
      continue;
    }
    if (usedCampaigns.has(c.campaignId) || c.labels.some((l) => (labelOwner.get(l) ?? c.advertiserId) !== c.advertiserId)) {
      outcomes.push("separated");
      continue;
    }
    if (c.caps.some((cap) => countOf(cap.counter) >= cap.limit)) {
      outcomes.push("capped");
      continue;
    }
    outcomes.push("won");
    filled[c.slot] = (filled[c.slot] ?? 0) + 1;
    usedCampaigns.add(c.campaignId);
    for (const l of c.labels) labelOwner.set(l, c.advertiserId);
    for (const cap of c.caps) increments.push(cap.counter);
  }
  return { outcomes, increments };
}
