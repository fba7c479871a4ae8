/**
 * Goals and pacing: the pure arithmetic (`pacingFigures`), then simulated flights driven through the
 * real decision service with a fake clock and in-process stores: an `even` goal follows its line
 * within the tolerance and ends at the goal; an `asap` goal stops exactly at the goal; explain shows
 * the verdicts with their figures.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pacingFigures, toleranceUnits, type GoalSpec } from "../../src/domain/pacing.js";
import type { CatalogDocument } from "../../src/domain/catalog-schema.js";
import type { DecisionRequest } from "../../src/routes/decisions.schema.js";
import { auth, buildTestService, fakeClock, type TestService } from "../helpers/app.js";
import { compileCatalog } from "../../src/domain/catalog-snapshot.js";
import { createPacingService } from "../../src/services/pacing-service.js";
import type { ReportStore } from "../../src/store/ports.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { aCampaign, aCatalog, compiledCampaign } from "../helpers/builders.js";


const HOUR = 3_600_000;
const MINUTE = 60_000;

describe("pacingFigures", () => {
  const asap = (impressions: number): GoalSpec => ({ impressions, pacing: "asap", startMs: -Infinity, endMs: Infinity });
  const even = (impressions: number, startMs: number, endMs: number): GoalSpec => ({ impressions, pacing: "even", startMs, endMs });

  it("lets an asap goal serve until the goal, then says GOAL_REACHED, with no line", () => {
    expect(pacingFigures(asap(100), 0, 0, 0.01)).toEqual({ goal: 100, pacing: "asap", delivered: 0, expected: null, tolerance: 1, verdict: "ok" });
    expect(pacingFigures(asap(100), 99, 0, 0.01).verdict).toBe("ok");
    expect(pacingFigures(asap(100), 100, 0, 0.01)).toEqual({ goal: 100, pacing: "asap", delivered: 100, expected: null, tolerance: 1, verdict: "GOAL_REACHED" });
    expect(pacingFigures(asap(100), 140, 0, 0.01).verdict).toBe("GOAL_REACHED");
  });

  it("ignores the flight dates of an asap goal: no line even inside a bounded flight", () => {
    const f = pacingFigures({ impressions: 1000, pacing: "asap", startMs: 0, endMs: 1000 }, 900, 10, 0.01);
    expect(f.expected).toBeNull();
    expect(f.verdict).toBe("ok");
  });

  it("computes the even line from 0 at the start to the goal at the end, and says PACING_AHEAD at line + tolerance", () => {
    const goal = even(1000, 0, 1000);
    expect(pacingFigures(goal, 0, 250, 0.01)).toEqual({ goal: 1000, pacing: "even", delivered: 0, expected: 250, tolerance: 10, verdict: "ok" });
    expect(pacingFigures(goal, 259, 250, 0.01).verdict).toBe("ok");
    expect(pacingFigures(goal, 260, 250, 0.01)).toEqual({ goal: 1000, pacing: "even", delivered: 260, expected: 250, tolerance: 10, verdict: "PACING_AHEAD" });
    expect(pacingFigures(goal, 500, 500, 0.01).verdict).toBe("ok");
    expect(pacingFigures(goal, 510, 500, 0.01).verdict).toBe("PACING_AHEAD");
  });

  it("clamps the line to 0 before the flight and to the goal after it", () => {
    const goal = even(1000, 1000, 2000);
    expect(pacingFigures(goal, 0, 0, 0.01).expected).toBe(0);
    expect(pacingFigures(goal, 10, 0, 0.01).verdict).toBe("PACING_AHEAD");
    expect(pacingFigures(goal, 999, 5000, 0.01).expected).toBe(1000);
    expect(pacingFigures(goal, 999, 5000, 0.01).verdict).toBe("ok");
    expect(pacingFigures(goal, 1000, 5000, 0.01).verdict).toBe("GOAL_REACHED");
  });

  it("says GOAL_REACHED rather than PACING_AHEAD once the goal is met, even far above the line", () => {
    expect(pacingFigures(even(100, 0, 1000), 100, 1, 0.01).verdict).toBe("GOAL_REACHED");
  });

  it("rounds the expected figure to two decimals", () => {
    expect(pacingFigures(even(1000, 0, 3), 0, 1, 0.01).expected).toBe(333.33);
  });

  it("allows at least one unit of tolerance, however small the goal or the fraction", () => {
    expect(toleranceUnits(50, 0.01)).toBe(1);
    expect(toleranceUnits(1000, 0)).toBe(1);
    expect(toleranceUnits(1, 0.5)).toBe(1);
    expect(toleranceUnits(1000, 0.01)).toBe(10);
    expect(toleranceUnits(1001, 0.01)).toBe(11);
    expect(pacingFigures(even(1000, 0, 1000), 0, 500, 0).tolerance).toBe(1);
    // A zero fraction still allows one unit above the line: ahead only at line + 1.
    expect(pacingFigures(even(1000, 0, 1000), 501, 500, 0).verdict).toBe("PACING_AHEAD");
    expect(pacingFigures(even(1000, 0, 1000), 500, 500, 0).verdict).toBe("ok");
  });

  it("paces an even goal without both flight dates like asap", () => {
    for (const [startMs, endMs] of [
      [-Infinity, Infinity],
      [0, Infinity],
      [-Infinity, 1000],
    ] as const) {
      const f = pacingFigures(even(100, startMs, endMs), 99, 500, 0.01);
      expect(f.expected).toBeNull();
      expect(f.verdict).toBe("ok");
      expect(pacingFigures(even(100, startMs, endMs), 100, 500, 0.01).verdict).toBe("GOAL_REACHED");
    }
  });

  it("treats a flight that ends when it starts as having no line", () => {
    const f = pacingFigures(even(100, 1000, 1000), 50, 1000, 0.01);
    expect(f.expected).toBeNull();
    expect(f.verdict).toBe("ok");
  });
});

// ---------------------------------------------------------------------------------------------
// Simulations through the decision service.

const PLACEMENT = "paced-slot";
const FLIGHT_START = "2026-12-01T00:00:00Z";
const FLIGHT_END = "2026-12-11T00:00:00Z";
const FLIGHT_MS = Date.parse(FLIGHT_END) - Date.parse(FLIGHT_START);

/** A catalog of one placement and one campaign (one unit) with the given goal and flight. */
function pacedCatalog(campaign: { id: string; goal: { impressions: number; pacing: "even" | "asap" }; startAt?: string; endAt?: string }): CatalogDocument {
  return {
    advertisers: [{ id: "acme", name: "Acme" }],
    placements: [{ id: PLACEMENT, formats: ["native-card"], maxUnits: 1 }],
    campaigns: [
      {
        id: campaign.id,
        advertiserId: "acme",
        name: `Paced ${campaign.id}`,
        status: "active",
        tier: "standard",
        weight: 1,
        placements: [PLACEMENT],
        goal: campaign.goal,
        ...(campaign.startAt ? { startAt: campaign.startAt } : {}),
        ...(campaign.endAt ? { endAt: campaign.endAt } : {}),
      },
    ],
    units: [
      {
        id: `${campaign.id}-unit`,
        campaignId: campaign.id,
        format: "native-card",
        headline: "A paced headline",
        body: "A paced body",
        cta: { text: "More", url: "https://acme.example/paced" },
        disclosureLabel: "Sponsored",
      },
    ],
  } as CatalogDocument;
}

let readerSeq = 0;
function request(): DecisionRequest {
  return {
    page: { url: "https://news.example/paced/page", section: "economy", language: "en" },
    user: { key: `paced-reader-${++readerSeq}` },
    slots: [{ id: "s1", placement: PLACEMENT, count: 1 }],
  };
}

const opened: TestService[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function pacedService(catalog: CatalogDocument, startIso: string): Promise<{ service: TestService; clock: ReturnType<typeof fakeClock> }> {
  const clock = fakeClock(startIso);
  const service = await buildTestService({ seed: false, clock: clock.now });
  opened.push(service);
  await service.catalog.replace(catalog);
  await service.pacing.refresh();
  return { service, clock };
}

/** One decision through the real decision service; true when the paced campaign served. */
async function decideOnce(service: TestService, campaignId: string): Promise<boolean> {
  const { response } = await service.decisions.decide(request(), { optOut: false });
  return response.slots.some((s) => s.units.some((u) => u.campaignId === campaignId));
}

async function storedServed(service: TestService, campaignId: string): Promise<number> {
  const [totals] = await service.stores.reports.totals([campaignId]);
  return totals?.served ?? 0;
}

interface Reason {
  code: string;
  detail?: unknown;
}
interface ExplainCandidate {
  campaignId: string;
  eligible: boolean;
  reasons: Reason[];
  pacing?: { goal: number; pacing: string; delivered: number; expected: number | null; tolerance: number; verdict: string };
}
interface ExplainResponse {
  slots: { id: string; units: { campaignId: string }[]; noFillReason?: string; candidates: ExplainCandidate[] }[];
}

async function explainCandidate(service: TestService, campaignId: string): Promise<{ candidate: ExplainCandidate; servedUnits: number; noFillReason: string | undefined }> {
  const res = await service.app.request("/v1/admin/explain", { method: "POST", headers: auth(), body: JSON.stringify(request()) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as ExplainResponse;
  const slot = body.slots[0];
  const candidate = slot?.candidates.find((c) => c.campaignId === campaignId);
  if (!slot || !candidate) throw new Error(`no candidate ${campaignId} in ${JSON.stringify(body)}`);
  return { candidate, servedUnits: slot.units.length, noFillReason: slot.noFillReason };
}

describe("an even goal of 1,000 over a 10-day flight, with more demand than the line allows", () => {
  const GOAL = 1000;
  const TOLERANCE = toleranceUnits(GOAL, 0.01); // PACING_TOLERANCE defaults to 1%: 10 units.
  /**
   * The margin allowed above line + tolerance at a checkpoint. The verdict is taken before a serve,
   * so one serve may land just past the line; single-instance counting is otherwise exact (serves
   * since the last refresh are counted locally).
   */
  const MARGIN = 1;
  const DECISIONS_PER_INTERVAL = 4; // 24 decisions an hour against a line of ~4.17 an hour
  const INTERVAL_MS = 10 * MINUTE; // pacing.refresh() every 10 simulated minutes

  it("stays at or below line + tolerance at every hour, never starves far below it, and ends within tolerance of the goal", async () => {
    const id = "even-1000";
    const { service, clock } = await pacedService(pacedCatalog({ id, goal: { impressions: GOAL, pacing: "even" }, startAt: FLIGHT_START, endAt: FLIGHT_END }), FLIGHT_START);
    const start = Date.parse(FLIGHT_START);
    const line = (t: number): number => GOAL * Math.min(1, Math.max(0, (t - start) / FLIGHT_MS));

    let served = 0;
    let decisions = 0;
    let worstAbove = -Infinity;
    const hours = FLIGHT_MS / HOUR;
    for (let hour = 0; hour < hours; hour++) {
      for (let interval = 0; interval < HOUR / INTERVAL_MS; interval++) {
        await service.pacing.refresh();
        for (let d = 0; d < DECISIONS_PER_INTERVAL; d++) {
          if (await decideOnce(service, id)) served++;
          decisions++;
          clock.advance(INTERVAL_MS / DECISIONS_PER_INTERVAL);
        }
      }
      // Checkpoint at the end of every simulated hour.
      const expected = line(clock.now());
      worstAbove = Math.max(worstAbove, served - expected);
      expect(served, `hour ${hour + 1}: served ${served}, line ${expected.toFixed(2)}`).toBeLessThanOrEqual(expected + TOLERANCE + MARGIN);
      if (hour >= 1) expect(served, `hour ${hour + 1}: served ${served}, line ${expected.toFixed(2)}`).toBeGreaterThanOrEqual(expected - TOLERANCE);
    }
    expect(decisions).toBe(5760);
    expect(clock.now()).toBe(Date.parse(FLIGHT_END));
    expect(Math.abs(served - GOAL)).toBeLessThanOrEqual(TOLERANCE);
    expect(served).toBeLessThanOrEqual(GOAL);
    expect(await storedServed(service, id)).toBe(served);
    expect(worstAbove).toBeLessThanOrEqual(TOLERANCE + MARGIN);
  });

  it("stops at line + tolerance within an hour of the start, and explain says PACING_AHEAD with the figures", async () => {
    const id = "even-ahead";
    const { service, clock } = await pacedService(pacedCatalog({ id, goal: { impressions: GOAL, pacing: "even" }, startAt: FLIGHT_START, endAt: FLIGHT_END }), FLIGHT_START);
    clock.advance(HOUR);
    const expected = Math.round(((GOAL * HOUR) / FLIGHT_MS) * 100) / 100; // 4.17
    let served = 0;
    for (let i = 0; i < 40; i++) {
      if (await decideOnce(service, id)) served++;
      if (i % 5 === 4) await service.pacing.refresh();
    }
    // Serves while delivered < 4.1667 + 10: the 15th serve is the last.
    expect(served).toBe(15);

    const { candidate, servedUnits, noFillReason } = await explainCandidate(service, id);
    expect(servedUnits).toBe(0);
    expect(noFillReason).toBe("NO_ELIGIBLE_UNITS");
    expect(candidate.eligible).toBe(false);
    const reason = candidate.reasons.find((r) => r.code === "PACING_AHEAD");
    expect(reason, JSON.stringify(candidate.reasons)).toBeDefined();
    expect(reason?.detail).toMatchObject({ goal: GOAL, delivered: 15, expected, tolerance: TOLERANCE });
    expect(candidate.pacing).toEqual({ goal: GOAL, pacing: "even", delivered: 15, expected, tolerance: TOLERANCE, verdict: "PACING_AHEAD" });

    // An hour later the line has moved on: it serves again, and explain shows it eligible with the figures.
    clock.advance(HOUR);
    const later = await explainCandidate(service, id);
    expect(later.candidate.eligible).toBe(true);
    expect(later.candidate.reasons).toEqual([]);
    expect(later.candidate.pacing).toMatchObject({ goal: GOAL, delivered: 15, verdict: "ok" });
    expect(later.servedUnits).toBe(1);
  });
});

describe("an asap goal", () => {
  it("stops exactly at its goal when pacing is refreshed between decisions, and explain says GOAL_REACHED with the figures", async () => {
    const id = "asap-50";
    const { service } = await pacedService(pacedCatalog({ id, goal: { impressions: 50, pacing: "asap" }, startAt: FLIGHT_START, endAt: FLIGHT_END }), "2026-12-02T00:00:00Z");
    let served = 0;
    for (let i = 0; i < 120; i++) {
      await service.pacing.refresh();
      if (await decideOnce(service, id)) served++;
    }
    expect(served).toBe(50);
    expect(await storedServed(service, id)).toBe(50);

    const { candidate, servedUnits } = await explainCandidate(service, id);
    expect(servedUnits).toBe(0);
    expect(candidate.eligible).toBe(false);
    const reason = candidate.reasons.find((r) => r.code === "GOAL_REACHED");
    expect(reason, JSON.stringify(candidate.reasons)).toBeDefined();
    expect(reason?.detail).toMatchObject({ goal: 50, delivered: 50, expected: null, tolerance: 1 });
    expect(candidate.pacing).toEqual({ goal: 50, pacing: "asap", delivered: 50, expected: null, tolerance: 1, verdict: "GOAL_REACHED" });
  });

  it("also stops exactly at its goal with no refresh at all (serves are counted locally)", async () => {
    const id = "asap-local";
    const { service } = await pacedService(pacedCatalog({ id, goal: { impressions: 30, pacing: "asap" } }), "2026-12-02T00:00:00Z");
    let served = 0;
    for (let i = 0; i < 60; i++) if (await decideOnce(service, id)) served++;
    expect(served).toBe(30);
  });

  it("an even goal without flight dates serves its whole goal at once, like asap", async () => {
    const id = "even-unbounded";
    const { service } = await pacedService(pacedCatalog({ id, goal: { impressions: 40, pacing: "even" } }), "2026-12-02T00:00:00Z");
    let served = 0;
    for (let i = 0; i < 80; i++) {
      if (i % 10 === 0) await service.pacing.refresh();
      if (await decideOnce(service, id)) served++;
    }
    expect(served).toBe(40);
    const { candidate } = await explainCandidate(service, id);
    expect(candidate.pacing).toMatchObject({ goal: 40, pacing: "even", delivered: 40, expected: null, verdict: "GOAL_REACHED" });
  });
});

describe("the pacing refresh", () => {
  it("reads the delivered counts of the active campaigns with a goal in the snapshot current at each refresh", async () => {
    const goal = { impressions: 100, pacing: "asap" as const };
    const first = compileCatalog(aCatalog({ campaigns: [aCampaign({ id: "a", goal }), aCampaign({ id: "b" }), aCampaign({ id: "c", goal, status: "paused" })] }), 1);
    const second = compileCatalog(aCatalog({ campaigns: [aCampaign({ id: "a", goal }), aCampaign({ id: "b", goal })] }), 2);
    let current = first;
    const asked: string[][] = [];
    const served: Record<string, number> = { a: 7, b: 3 };
    const pacing = createPacingService({
      catalog: { current: () => current },
      reports: { totals: async (ids: readonly string[]) => (asked.push([...ids]), ids.map((id) => ({ served: served[id] ?? 0 }))) } as unknown as ReportStore,
      refreshMs: 60_000,
      toleranceFraction: 0.05,
      logger: createLogger("silent"),
    });
    await pacing.refresh();
    await pacing.refresh();
    current = second;
    await pacing.refresh();
    expect(asked).toEqual([["a"], ["a"], ["a", "b"]]);
    expect(pacing.figures(compiledCampaign(second, "b"), Date.now())?.delivered).toBe(3);
  });
});
