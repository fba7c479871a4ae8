/**
 * Decisions and probes when the in-process store is made to fail: decisions still answer (only
 * uncapped campaigns, never exceeding a cap), readiness reports 503.
 */
import { describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createMemoryStores } from "../../src/store/memory/memory-stores.js";
import type { Stores } from "../../src/store/ports.js";
import { buildTestService, fakeClock } from "../helpers/app.js";
import { decisionBody, postDecision, readBody, servedCampaigns, slot, type DecisionResponse } from "./support.js";

function storesWith(overrides: { capsDown?: boolean; pingDown?: "throws" | "hangs" }): Stores {
  const clock = fakeClock();
  const base = createMemoryStores(createKeys("test"), clock.now);
  const fail = async (): Promise<never> => {
    throw new Error("store is down");
  };
  return {
    ...base,
    ...(overrides.capsDown ? { caps: { ...base.caps, serve: fail, counts: fail } } : {}),
    ...(overrides.pingDown
      ? { meta: { ...base.meta, ping: overrides.pingDown === "throws" ? fail : () => new Promise<void>(() => undefined) } }
      : {}),
  };
}

describe("cap store unavailable", () => {
  it("still answers 200, serves only uncapped campaigns and marks the response degraded", async () => {
    const { app } = await buildTestService({ stores: storesWith({ capsDown: true }) });
    const res = await postDecision(app, decisionBody("canada-carney", "degraded-reader"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-degraded")).toBe("store");
    const d = await readBody<DecisionResponse>(res);
    const served = servedCampaigns(d);
    expect(served).not.toContain("walmart-us-manufacturing");
    expect(served).not.toContain("microsoft-quantum");
    expect(served).toContain("newsroom-daily");
  });

  it("answers STORE_UNAVAILABLE for a slot whose only candidates are capped", async () => {
    const { app } = await buildTestService({ stores: storesWith({ capsDown: true }) });
    const d = await readBody<DecisionResponse>(await postDecision(app, decisionBody("canada-carney", "degraded-reader")));
    // The house campaign fills mid-1; Walmart and Microsoft are withheld from end-1.
    expect(slot(d, "end-1").units).toEqual([]);
    expect(slot(d, "end-1").noFillReason).toBe("STORE_UNAVAILABLE");
  });
});

describe("readiness", () => {
  it("answers /readyz with 503 when the store fails, while /healthz stays 200", async () => {
    const { app } = await buildTestService({ stores: storesWith({ pingDown: "throws" }) });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.headers.get("x-request-id")).toBeTruthy();
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it("answers /readyz with 503 within the deadline when the store does not answer", async () => {
    const { app } = await buildTestService({ stores: storesWith({ pingDown: "hangs" }), env: { ADMIN_TIMEOUT_MS: "50" } });
    const started = Date.now();
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
