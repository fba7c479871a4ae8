/**
 * Decisions: from a page's context to render-ready units for every slot.
 *
 * 1. normalise the context (geo and device from headers when the body has none);
 * 2. per slot, take the placement's candidate campaigns from the snapshot's index and keep the
 *    eligible ones (status, flight, format, exclusions, targeting, user key for capped campaigns);
 * 3. rank them (tier, then weighted random) and pick a unit each: the selection plan;
 * 4. one store call walks the plan, checking caps and counting the winners atomically;
 * 5. render payloads with signed tracking URLs.
 *
 * `explain` runs the very same steps with every reason collected and the caps read, not counted.
 * When the store fails, decisions still answer: uncapped campaigns serve, capped ones do not
 * (a cap is never exceeded), and the response is marked degraded.
 */
import {
  collectCandidates,
  DEFAULT_COLLECT_LIMITS,
  entryIneligibility,
  ineligibility,
  type CatalogSnapshot,
  type CompiledCampaign,
  type CompiledPlacement,
  type PlacementEntry,
  type Reason,
} from "../domain/catalog-snapshot.js";
import { buildPageContext, deviceTypeFromUserAgent, type PageContext } from "../domain/context.js";
import { pageIndexKeys } from "../domain/targeting.js";

/**
 * Ranked candidates a slot hands to the walk beyond its capacity: spares for candidates that turn
 * out capped or separated. Past them a slot may stay short even though a lower-ranked campaign
 * could have served — a bound that keeps a decision's cost (eligibility checks, the plan sent to
 * Redis) flat as the catalog grows. A reader would have to be capped on more than this many of a
 * slot's best campaigns at once for it to matter.
 */
export const CANDIDATE_SPARES = 8;
import { newId } from "../domain/ids.js";
import { createHash } from "node:crypto";
import { dayBucket, hourBucket } from "../domain/periods.js";
import { decisionJson, renderUnitWithJson, type UnitPayload } from "../domain/payload.js";
import {
  rankCandidates,
  walkPlan,
  type CandidateOutcome,
  type PlanCandidate,
  type PlanCap,
  type PlanCounter,
  type Random,
  type SelectionPlan,
} from "../domain/selection.js";
import type { TokenSigner } from "../domain/tokens.js";
import type { Unit } from "../domain/catalog-schema.js";
import type { DecisionRequest, NoFillReason } from "../routes/decisions.schema.js";
import type { CapStore } from "../store/ports.js";
import type { PacingService } from "./pacing-service.js";
import type { PacingFigures } from "../domain/pacing.js";
import type { Span } from "@opentelemetry/api";
import { inSpan, type Telemetry } from "../telemetry/telemetry.js";
import type { Logger } from "../telemetry/logger.js";

/** What the route passes besides the body: facts taken from request headers. */
export interface RequestFacts {
  /** `CF-IPCountry` or `X-Country-Code`. */
  readonly country?: string | undefined;
  readonly userAgent?: string | undefined;
  /** `Sec-GPC: 1` or `DNT: 1`: the user key is neither used nor stored. */
  readonly optOut: boolean;
}

export interface SlotResult {
  id: string;
  placement: string;
  units: UnitPayload[];
  noFillReason?: NoFillReason;
}

export interface DecisionResult {
  decisionId: string;
  slots: SlotResult[];
}

export interface DecisionOutcome {
  readonly response: DecisionResult;
  /** The response as JSON (the text `JSON.stringify(response)` gives), joined from the units' renders. */
  readonly json: string;
  /** True when the cap store failed and capped campaigns were withheld. */
  readonly degraded: boolean;
}

export interface ExplainCandidate {
  campaignId: string;
  eligible: boolean;
  reasons: Reason[];
  /** Goal and pacing figures, for campaigns with a goal. */
  pacing?: PacingFigures;
}

export interface ExplainResult {
  decisionId: string;
  degraded: boolean;
  slots: (SlotResult & { candidates: ExplainCandidate[] })[];
}

export interface DecisionServiceDeps {
  readonly catalog: { current(): CatalogSnapshot };
  readonly caps: CapStore;
  readonly signer: TokenSigner;
  readonly clock: () => number;
  readonly random: Random;
  /** Keyed hash of a user key (never stored raw); undefined while the hashing secret is unknown. */
  readonly hashUserKey: (key: string) => string | undefined;
  /** Origin put into tracking and click URLs, without a trailing slash. */
  readonly baseUrl: string;
  readonly tokenTtlSeconds: number;
  readonly logger: Logger;
  /** Spans and metrics (no-ops without an OpenTelemetry SDK). */
  readonly telemetry?: Telemetry;
  /** How long a page view remembers what it was served (separation across its calls). */
  readonly pageViewTtlSeconds?: number;
  /** Goals and pacing (verdicts read from memory; serves noted locally). */
  readonly pacing?: Pick<PacingService, "verdict" | "figures" | "noteServed">;
}

export interface DecisionService {
  decide(body: DecisionRequest, facts: RequestFacts): Promise<DecisionOutcome>;
  explain(body: DecisionRequest, facts: RequestFacts, campaignFilter?: ReadonlySet<string>): Promise<ExplainResult>;
}

/** One slot's part of the plan, with what explain needs to report. */
interface SlotPlan {
  readonly id: string;
  readonly placementId: string;
  readonly placement: CompiledPlacement | undefined;
  /** Plan candidates of this slot: [first, end) in `SelectionPlan.candidates`. */
  first: number;
  end: number;
  /** Candidates rejected only for lack of a user key (they count as capped for the no-fill reason). */
  noUserKey: number;
  readonly considered: ExplainCandidate[];
}

interface Planned {
  readonly decisionId: string;
  /** Hash of `page.pageViewId`, when the page sent one. */
  readonly pageView: string | undefined;
  readonly nowMs: number;
  readonly ctx: PageContext;
  readonly userHash: string | undefined;
  readonly slots: SlotPlan[];
  readonly plan: SelectionPlan;
  /** Chosen unit per plan candidate. */
  readonly units: Unit[];
  readonly entries: CompiledCampaign[];
  readonly snapshot: CatalogSnapshot;
}

export function createDecisionService(deps: DecisionServiceDeps): DecisionService {
  const { catalog, caps, signer, clock, random, hashUserKey, baseUrl, tokenTtlSeconds, logger } = deps;
  const pacingService = deps.pacing;
  const pacingVerdict = pacingService && ((c: CompiledCampaign, t: number): Reason | undefined => pacingService.verdict(c, t));

  /** Steps 1-3: context, eligibility, ranking. `explain` collects every reason for every campaign. */
  const planDecision = (body: DecisionRequest, facts: RequestFacts, explain: boolean, filter?: ReadonlySet<string>): Planned => {
    const nowMs = clock();
    const snapshot = catalog.current();
    const ctx = buildPageContext(
      {
        url: body.page.url,
        section: body.page.section,
        topics: body.page.topics,
        keywords: body.page.keywords,
        language: body.page.language,
        country: body.geo?.country ?? facts.country,
        deviceType: body.device?.type ?? deviceTypeFromUserAgent(facts.userAgent),
      },
      nowMs,
    );
    const userKey = facts.optOut ? undefined : body.user?.key;
    const userHash = userKey === undefined ? undefined : hashUserKey(userKey);
    const counterBase = new Map<CompiledCampaign, number>();
    const counters: PlanCounter[] = [];
    const candidates: PlanCandidate[] = [];
    const units: Unit[] = [];
    const entries: CompiledCampaign[] = [];
    const slotCapacity: number[] = [];
    const slots: SlotPlan[] = [];

    const pageKeys = new Set(pageIndexKeys(ctx));
    body.slots.forEach((slot, slotIndex) => {
      const placement = snapshot.placements.get(slot.placement);
      const slotPlan: SlotPlan = {
        id: slot.id,
        placementId: slot.placement,
        placement,
        first: candidates.length,
        end: candidates.length,
        noUserKey: 0,
        considered: [],
      };
      slots.push(slotPlan);
      slotCapacity.push(placement ? Math.min(slot.count, placement.source.maxUnits) : 0);
      if (!placement) return;

      const input = { ctx, nowMs, hasUserKey: userHash !== undefined, placement, pacing: pacingVerdict };
      const evaluate = (entry: PlacementEntry): boolean => {
        if (!explain) {
          const code = entryIneligibility(entry, input);
          if (code === "NO_USER_KEY") slotPlan.noUserKey++;
          return code === undefined;
        }
        const reasons = ineligibility(entry.campaign, input, true);
        if (reasons.length === 1 && reasons[0]?.code === "NO_USER_KEY") slotPlan.noUserKey++;
        const figures = deps.pacing?.figures(entry.campaign, nowMs);
        slotPlan.considered.push({ campaignId: entry.campaign.id, eligible: reasons.length === 0, reasons, ...(figures ? { pacing: figures } : {}) });
        return reasons.length === 0;
      };
      const rank = (list: readonly PlacementEntry[]): PlacementEntry[] =>
        rankCandidates(list.map((e) => ({ tierRank: e.campaign.tierRank, weight: e.campaign.weight, e })), random).map((r) => r.e);
      // The walk needs the slot's capacity plus spares (for caps and separation), best ranked first.
      const want = (slotCapacity[slotIndex] ?? 0) + CANDIDATE_SPARES;
      const ranked = explain
        ? rank(explainPool(snapshot, placement, filter).filter(evaluate))
        : collectCandidates(placement, pageKeys, evaluate, random, { want, ...DEFAULT_COLLECT_LIMITS }).flatMap((t) => (t.ranked ? t.entries : rank(t.entries)));
      if (explain && ranked.length > want) {
        const beyond = new Set(ranked.slice(want).map((e) => e.campaign.id));
        for (const c of slotPlan.considered) {
          if (!beyond.has(c.campaignId)) continue;
          c.eligible = false;
          c.reasons.push({ code: "LOST_PRIORITY", detail: `ranked below the slot's top ${want} candidates` });
        }
      }
      for (const entry of ranked.slice(0, want)) {
        const c = entry.campaign;
        const unit = entry.units.length === 1 ? entry.units[0] : entry.units[Math.floor(random() * entry.units.length)];
        if (!unit) continue;
        // A campaign's counters (one per cap window; its compiled caps have distinct windows) are
        // listed once per decision, side by side, even when it is a candidate of several slots.
        let base = counterBase.get(c);
        if (base === undefined) {
          base = counters.length;
          for (const cap of c.caps) counters.push({ campaignId: c.id, windowSeconds: cap.windowSeconds });
          counterBase.set(c, base);
        }
        candidates.push({
          slot: slotIndex,
          campaignId: c.id,
          unitId: unit.id,
          advertiserId: c.advertiserId,
          labels: c.labels,
          caps: c.caps.length === 0 ? NO_PLAN_CAPS : c.caps.map((cap, k) => ({ counter: base + k, limit: cap.limit })),
        });
        units.push(unit);
        entries.push(c);
      }
      slotPlan.end = candidates.length;
    });

    return {
      decisionId: newId("d", nowMs),
      pageView: body.page.pageViewId === undefined ? undefined : createHash("sha256").update(body.page.pageViewId).digest("base64url").slice(0, 22),
      nowMs,
      ctx,
      userHash,
      slots,
      plan: { slotCapacity, counters, candidates },
      units,
      entries,
      snapshot,
    };
  };

  /** When the store cannot be reached: walk only the uncapped candidates; capped ones never serve. */
  const degradedOutcomes = (plan: SelectionPlan): CandidateOutcome[] => walkPlan(plan, () => Number.POSITIVE_INFINITY).outcomes;

  const eventUrl = {
    click: `${baseUrl}/v1/events/click?t=`,
    impression: `${baseUrl}/v1/events/impression?t=`,
    viewable: `${baseUrl}/v1/events/viewable?t=`,
  };
  /** Slots with their units; `unitJson[slot]` receives each unit's JSON, in order, when given. */
  const render = (p: Planned, outcomes: readonly CandidateOutcome[], degraded: boolean, unitJson?: string[][]): SlotResult[] => {
    const expiresAtSeconds = Math.floor(p.nowMs / 1000) + tokenTtlSeconds;
    return p.slots.map((s) => {
      const result: SlotResult = { id: s.id, placement: s.placementId, units: [] };
      const texts: string[] = [];
      unitJson?.push(texts);
      let capped = s.noUserKey;
      for (let i = s.first; i < s.end; i++) {
        const outcome = outcomes[i];
        if (outcome === "capped") capped++;
        if (outcome !== "won") continue;
        const unit = p.units[i] as Unit;
        const campaign = p.entries[i] as CompiledCampaign;
        const t = signer.signUnit({ decisionId: p.decisionId, slotId: s.id, campaignId: campaign.id, unitId: unit.id, expiresAtSeconds });
        const rendered = renderUnitWithJson(unit, campaign.advertiserId, campaign.advertiserName, {
          click: eventUrl.click + t.click,
          impression: eventUrl.impression + t.impression,
          viewable: eventUrl.viewable + t.viewable,
        });
        result.units.push(rendered.payload);
        texts.push(rendered.json);
      }
      if (result.units.length === 0) {
        const total = s.end - s.first + s.noUserKey;
        result.noFillReason = !s.placement
          ? "UNKNOWN_PLACEMENT"
          : s.placement.activeCampaignCount === 0
            ? "NO_CAMPAIGNS"
            : degraded && capped > 0
              ? "STORE_UNAVAILABLE"
              : capped > 0 && capped === total
                ? "ALL_FREQUENCY_CAPPED"
                : "NO_ELIGIBLE_UNITS";
      }
      return result;
    });
  };

  let lastDegradedLogMs = Number.NEGATIVE_INFINITY;
  let degradedSinceLog = 0;

  const decide = async (body: DecisionRequest, facts: RequestFacts, span?: Span): Promise<DecisionOutcome> => {
    const started = performance.now();
    const p = planDecision(body, facts, false);
    let outcomes: CandidateOutcome[];
    let degraded = false;
    try {
      outcomes = await caps.serve({
        plan: p.plan,
        userHash: p.userHash,
        decisionId: p.decisionId,
        nowMs: p.nowMs,
        slotIds: p.slots.map((s) => s.id),
        pageView: p.pageView,
        pageViewTtlSeconds: deps.pageViewTtlSeconds ?? 1800,
        record: {
          hour: hourBucket(p.nowMs),
          day: dayBucket(p.nowMs),
          entry: {
            type: "served",
            decisionId: p.decisionId,
            at: new Date(p.nowMs).toISOString(),
            pageUrl: body.page.url,
            section: p.ctx.section ?? null,
            pageViewId: body.page.pageViewId ?? null,
            country: p.ctx.country ?? null,
            device: p.ctx.deviceType ?? null,
          },
        },
      });
    } catch (err) {
      degraded = true;
      outcomes = degradedOutcomes(p.plan);
      // One line a second during an outage, with how many decisions it stands for: no log flood.
      degradedSinceLog++;
      const now = Date.now();
      if (now - lastDegradedLogMs >= 1000) {
        logger.warn({ err: err instanceof Error ? err.message : String(err), decisionId: p.decisionId, degradedDecisions: degradedSinceLog }, "cap store unavailable; serving uncapped campaigns only");
        lastDegradedLogMs = now;
        degradedSinceLog = 0;
      }
    }
    if (deps.pacing) {
      outcomes.forEach((o, i) => {
        if (o === "won" && p.entries[i]?.source.goal) deps.pacing?.noteServed(p.entries[i].id);
      });
    }
    const unitJson: string[][] = [];
    const slots = render(p, outcomes, degraded, unitJson);
    // The line's fields are only built when it is written (LOG_LEVEL at info or below).
    if (logger.isLevelEnabled("info")) {
      logger.info(
        {
          decisionId: p.decisionId,
          slots: slots.length,
          served: slots.flatMap((s) => s.units.map((u) => u.campaignId)),
          noFill: slots.filter((s) => s.noFillReason).map((s) => s.noFillReason),
          degraded,
          ms: Math.round((performance.now() - started) * 100) / 100,
        },
        "decision",
      );
    }
    const t = deps.telemetry;
    if (t) {
      t.decisions.add(1, degraded ? DEGRADED_ATTRS : SERVED_ATTRS);
      if (degraded) t.degraded.add(1, { path: "decision" });
      for (const slot of slots) {
        for (const u of slot.units) t.fills.add(1, tierAttrs(p.snapshot.campaigns.get(u.campaignId)?.source.tier));
        if (slot.noFillReason) t.noFills.add(1, { reason: slot.noFillReason });
      }
      // Attributes are built only for a span that records them (an SDK is installed and sampled it).
      if (span?.isRecording()) span.setAttributes({
        "sp.decision_id": p.decisionId,
        "sp.slots": slots.length,
        "sp.units": slots.reduce((n, s) => n + s.units.length, 0),
        "sp.no_fill_reasons": slots.flatMap((s) => (s.noFillReason ? [s.noFillReason] : [])),
        "sp.candidates": p.plan.candidates.length,
        "sp.degraded": degraded,
      });
    }
    const response = { decisionId: p.decisionId, slots };
    return { response, json: decisionJson(response, unitJson), degraded };
  };

  return {
    decide(body, facts) {
      return deps.telemetry ? inSpan(deps.telemetry.tracer, "decision.decide", { "sp.slots": body.slots.length }, (span) => decide(body, facts, span)) : decide(body, facts);
    },

    async explain(body, facts, filter) {
      const p = planDecision(body, facts, true, filter);
      let degraded = false;
      let counts: number[] = [];
      let plan = p.plan;
      try {
        const [read, memory] = await Promise.all([
          caps.counts({ plan: p.plan, userHash: p.userHash, decisionId: p.decisionId, nowMs: p.nowMs }),
          p.pageView ? caps.pageView(p.pageView, p.userHash) : undefined,
        ]);
        counts = read;
        if (memory) plan = { ...plan, priorCampaigns: memory.campaigns, priorLabels: memory.labels };
      } catch {
        degraded = true;
      }
      const walked = degraded ? degradedOutcomes(plan) : walkPlan(plan, (i) => counts[i] ?? 0).outcomes;
      const slots = render(p, walked, degraded);
      return {
        decisionId: p.decisionId,
        degraded,
        slots: slots.map((slot, si) => {
          const s = p.slots[si] as SlotPlan;
          const byCampaign = new Map(s.considered.map((c) => [c.campaignId, c]));
          for (let i = s.first; i < s.end; i++) {
            const c = p.plan.candidates[i] as PlanCandidate;
            const entry = byCampaign.get(c.campaignId);
            const outcome = walked[i];
            if (!entry || outcome === "won" || outcome === undefined) continue;
            entry.eligible = false;
            if (outcome === "capped") {
              entry.reasons.push({
                code: "FREQUENCY_CAPPED",
                detail: degraded
                  ? { storeUnavailable: true }
                  : c.caps
                      .filter((cap) => (counts[cap.counter] ?? 0) >= cap.limit)
                      .map((cap) => {
                        const counter = p.plan.counters[cap.counter] as PlanCounter;
                        const window = (p.entries[i] as CompiledCampaign).caps.find((x) => x.windowSeconds === counter.windowSeconds);
                        return { window: window?.label, limit: cap.limit, count: counts[cap.counter] ?? 0 };
                      }),
              });
            } else if (outcome === "separated") {
              entry.reasons.push({ code: "COMPETITIVE_EXCLUSION", detail: "this campaign or a competitor is already served in this decision or page view" });
            } else {
              entry.reasons.push({ code: "LOST_PRIORITY", detail: "the slot was filled by higher-ranked campaigns" });
            }
          }
          return { ...slot, candidates: s.considered };
        }),
      };
    },
  };
}

const NO_PLAN_CAPS: readonly PlanCap[] = Object.freeze([]);

/** Metric attributes that every decision would otherwise allocate again. */
const SERVED_ATTRS = Object.freeze({ degraded: false });
const DEGRADED_ATTRS = Object.freeze({ degraded: true });
const TIER_ATTRS: Readonly<Record<string, Readonly<{ tier: string }>>> = Object.freeze({
  sponsorship: Object.freeze({ tier: "sponsorship" }),
  standard: Object.freeze({ tier: "standard" }),
  house: Object.freeze({ tier: "house" }),
});
const UNKNOWN_TIER = Object.freeze({ tier: "unknown" });
const tierAttrs = (tier: string | undefined): Readonly<{ tier: string }> =>
  (tier !== undefined && Object.hasOwn(TIER_ATTRS, tier) ? TIER_ATTRS[tier] : undefined) ?? UNKNOWN_TIER;

/**
 * What explain considers for a slot: every campaign of the catalog (or of the filter), so that it
 * can say why a campaign the index would skip does not serve; units are those fitting the
 * placement's formats.
 */
function explainPool(snapshot: CatalogSnapshot, placement: CompiledPlacement, filter?: ReadonlySet<string>): PlacementEntry[] {
  const pool: PlacementEntry[] = [];
  for (const campaign of snapshot.campaigns.values()) {
    if (filter && !filter.has(campaign.id)) continue;
    pool.push({ campaign, units: campaign.units.filter((u) => placement.formats.has(u.format)) });
  }
  return pool;
}
