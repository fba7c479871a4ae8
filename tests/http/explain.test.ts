/**
 * POST /v1/admin/explain: the would-be decision with a reason for every campaign considered, and no
 * side effects (no cap counted).
 */
import { describe, expect, it } from "vitest";
import { buildTestService } from "../helpers/app.js";
import { adminCall, decide, decisionBody, expectError, readBody, servedCampaigns, type App, type UnitPayload } from "./support.js";

interface Reason {
  code: string;
  detail?: unknown;
}

interface Candidate {
  campaignId: string;
  eligible: boolean;
  reasons: Reason[];
}

interface ExplainSlot {
  id: string;
  placement: string;
  units: UnitPayload[];
  noFillReason?: string;
  candidates: Candidate[];
}

interface ExplainResponse {
  slots: ExplainSlot[];
}

async function explain(app: App, body: unknown): Promise<ExplainResponse> {
  const res = await adminCall(app, "POST", "/v1/admin/explain", body);
  if (res.status !== 200) throw new Error(`explain answered ${res.status}: ${await res.text()}`);
  return readBody<ExplainResponse>(res);
}

function candidate(slot: ExplainSlot | undefined, campaignId: string): Candidate {
  const c = slot?.candidates.find((x) => x.campaignId === campaignId);
  if (!c) throw new Error(`no candidate ${campaignId} in ${JSON.stringify(slot)}`);
  return c;
}

describe("explain", () => {
  it("lists Walmart as ineligible on the war story with an EXCLUDED_TOPIC reason naming military-conflict", async () => {
    const { app } = await buildTestService();
    const result = await explain(app, decisionBody("ukraine-north-korea", "explain-reader"));
    expect(result.slots.map((s) => s.id)).toEqual(["mid-1", "end-1"]);
    for (const slot of result.slots) {
      const walmart = candidate(slot, "walmart-us-manufacturing");
      expect(walmart.eligible).toBe(false);
      expect(walmart.reasons).toContainEqual({ code: "EXCLUDED_TOPIC", detail: "military-conflict" });
      for (const u of slot.units) expect(u.campaignId).not.toBe("walmart-us-manufacturing");
    }
  });

  it("says Microsoft is eligible on the war story and shows the units that would serve", async () => {
    const { app } = await buildTestService();
    const result = await explain(app, decisionBody("ukraine-north-korea", "explain-reader"));
    const mid = result.slots.find((s) => s.id === "mid-1");
    expect(candidate(mid, "microsoft-quantum")).toEqual({ campaignId: "microsoft-quantum", eligible: true, reasons: [] });
    expect(mid?.units[0]?.campaignId).toBe("microsoft-quantum");
  });

  it("excludes Walmart and Microsoft on the Boko Haram story for the right reasons", async () => {
    const { app } = await buildTestService();
    const result = await explain(app, decisionBody("nigeria-boko-haram", "explain-reader"));
    const mid = result.slots[0];
    const walmart = candidate(mid, "walmart-us-manufacturing");
    expect(walmart.eligible).toBe(false);
    expect(walmart.reasons).toContainEqual({ code: "EXCLUDED_TOPIC", detail: "terrorism" });
    expect(walmart.reasons).toContainEqual({ code: "EXCLUDED_KEYWORD", detail: "boko haram" });
    const microsoft = candidate(mid, "microsoft-quantum");
    expect(microsoft.eligible).toBe(false);
    expect(microsoft.reasons).toContainEqual({ code: "EXCLUDED_TOPIC", detail: "terrorism" });
  });

  it("reports NO_USER_KEY for capped campaigns when the request has no user key", async () => {
    const { app } = await buildTestService();
    const result = await explain(app, decisionBody("canada-carney"));
    const walmart = candidate(result.slots[0], "walmart-us-manufacturing");
    expect(walmart.eligible).toBe(false);
    expect(walmart.reasons.map((r) => r.code)).toContain("NO_USER_KEY");
  });

  it("reports INACTIVE for a paused campaign", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "PATCH", "/v1/admin/campaigns/walmart-us-manufacturing", { status: "paused" });
    expect(res.status).toBe(200);
    const result = await explain(app, decisionBody("canada-carney", "explain-reader"));
    expect(candidate(result.slots[0], "walmart-us-manufacturing").reasons.map((r) => r.code)).toContain("INACTIVE");
  });

  it("reports FREQUENCY_CAPPED once a user has reached Walmart's cap", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 3; i++) await decide(app, decisionBody("india-trade-wars", "capped-explain-reader"));
    const result = await explain(app, decisionBody("india-trade-wars", "capped-explain-reader"));
    const walmart = candidate(result.slots[0], "walmart-us-manufacturing");
    expect(walmart.eligible).toBe(false);
    expect(walmart.reasons.map((r) => r.code)).toContain("FREQUENCY_CAPPED");
  });

  it("counts no caps, however often it is called", async () => {
    const { app } = await buildTestService();
    const user = "explained-many-times";
    for (let i = 0; i < 10; i++) {
      const result = await explain(app, decisionBody("india-trade-wars", user));
      expect(result.slots[0]?.units[0]?.campaignId).toBe("walmart-us-manufacturing");
    }
    let walmartServes = 0;
    for (let i = 0; i < 4; i++) {
      const d = await decide(app, decisionBody("india-trade-wars", user));
      walmartServes += servedCampaigns(d).filter((c) => c === "walmart-us-manufacturing").length;
    }
    expect(walmartServes).toBe(3);
  });

  it("limits the candidates to the campaigns named in ?campaignId=", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "POST", "/v1/admin/explain?campaignId=walmart-us-manufacturing", decisionBody("ukraine-north-korea", "filter-reader"));
    expect(res.status).toBe(200);
    const result = await readBody<ExplainResponse>(res);
    for (const slot of result.slots) expect(slot.candidates.map((c) => c.campaignId)).toEqual(["walmart-us-manufacturing"]);
  });

  it("takes the same body as decisions and rejects bad ones with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/explain", { page: { url: "x" }, slots: [] }), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "POST", "/v1/admin/explain", "{"), 400, "BAD_REQUEST");
  });
});
