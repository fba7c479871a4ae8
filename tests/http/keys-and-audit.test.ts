/**
 * GET /v1/admin/audit: every admin write, newest first, with before/after, the acting key's id
 * (never the key), filters and cursor paging.
 */
import { describe, expect, it } from "vitest";
import { buildTestService, fakeClock, OPS_KEY } from "../helpers/app.js";
import { adminCall, adminOk, expectError, issueAdvertiserKey, issueOpsKey, unitBody, type App } from "./support.js";

interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  entity: string;
  id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

async function audit(app: App, query = ""): Promise<AuditPage> {
  return adminOk<AuditPage>(app, "GET", `/v1/admin/audit${query}`);
}

describe("audit trail", () => {
  it("starts empty on a freshly seeded service", async () => {
    const { app } = await buildTestService();
    const page = await audit(app);
    expect(page.items.filter((e) => e.action !== "import")).toEqual([]);
  });

  it("records a patch with before and after, the bootstrap key's id as actor, newest first", async () => {
    const clock = fakeClock();
    const { app } = await buildTestService({ clock: clock.now });
    await adminOk(app, "POST", "/v1/admin/advertisers", { id: "acme", name: "Acme" }, 201);
    clock.advance(1000);
    await adminOk(app, "PATCH", "/v1/admin/advertisers/acme", { name: "Acme Corp", category: "tools" });
    const page = await audit(app);
    const [latest, earlier] = page.items;
    expect(latest).toMatchObject({
      actor: "ops-bootstrap",
      action: "update",
      entity: "advertiser",
      id: "acme",
      before: { id: "acme", name: "Acme" },
      after: { id: "acme", name: "Acme Corp", category: "tools" },
    });
    expect(earlier).toMatchObject({ actor: "ops-bootstrap", action: "create", entity: "advertiser", id: "acme", before: null, after: { id: "acme", name: "Acme" } });
    expect(latest?.at).toBe("2026-11-27T12:00:01.000Z");
    expect(earlier?.at).toBe("2026-11-27T12:00:00.000Z");
  });

  it("records creates, updates and deletes of every entity kind in order", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/placements", { id: "side", formats: ["native-card"], maxUnits: 1 }, 201);
    await adminOk(app, "POST", "/v1/admin/campaigns", { id: "c1", advertiserId: "walmart", name: "C1", tier: "house", placements: ["side"] }, 201);
    await adminOk(app, "POST", "/v1/admin/units", unitBody("u1", "c1"), 201);
    await adminOk(app, "PATCH", "/v1/admin/campaigns/c1", { status: "paused" });
    await adminOk(app, "DELETE", "/v1/admin/units/u1", undefined, 204);
    const page = await audit(app);
    expect(page.items.map((e) => [e.action, e.entity, e.id])).toEqual([
      ["delete", "unit", "u1"],
      ["update", "campaign", "c1"],
      ["create", "unit", "u1"],
      ["create", "campaign", "c1"],
      ["create", "placement", "side"],
    ]);
    const deleted = page.items[0];
    expect(deleted?.before).toMatchObject({ id: "u1", campaignId: "c1" });
    expect(deleted?.after).toBeNull();
    const updated = page.items[1];
    expect(updated?.before).toMatchObject({ status: "active" });
    expect(updated?.after).toMatchObject({ status: "paused" });
  });

  it("records nothing for a rejected write", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", { id: "walmart", name: "Dup" }), 409, "CONFLICT");
    await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", { id: "x" }), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "DELETE", "/v1/admin/advertisers/walmart"), 409, "CONFLICT");
    const { key } = await issueAdvertiserKey(app, "walmart");
    await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", { name: "X" }, key), 403, "FORBIDDEN");
    const page = await audit(app);
    expect(page.items.map((e) => e.entity)).toEqual(["key"]);
  });

  it("names the acting key's id as actor and never records key material", async () => {
    const { app } = await buildTestService();
    const ops = await issueOpsKey(app);
    await adminOk(app, "PATCH", "/v1/admin/campaigns/microsoft-quantum", { weight: 9 }, 200, ops.key);
    const page = await audit(app);
    const patch = page.items[0];
    expect(patch).toMatchObject({ actor: ops.id, action: "update", entity: "campaign", id: "microsoft-quantum" });
    expect(patch?.before).toMatchObject({ weight: 3 });
    expect(patch?.after).toMatchObject({ weight: 9 });
    const keyEntry = page.items[1];
    expect(keyEntry).toMatchObject({ actor: "ops-bootstrap", action: "create", entity: "key", id: ops.id });
    const text = JSON.stringify(page);
    expect(text).not.toContain(ops.key);
    expect(text).not.toContain(OPS_KEY);
    expect(text.toLowerCase()).not.toContain("keyhash");
  });

  it("records key issue and revocation without the key", async () => {
    const { app } = await buildTestService();
    const issued = await issueAdvertiserKey(app, "walmart");
    await adminOk(app, "DELETE", `/v1/admin/keys/${issued.id}`, undefined, 204);
    const page = await audit(app, "?entity=key");
    expect(page.items.map((e) => [e.action, e.id])).toEqual([
      ["delete", issued.id],
      ["create", issued.id],
    ]);
    expect(page.items[0]?.after).toMatchObject({ id: issued.id, role: "advertiser", advertiserId: "walmart" });
    expect(page.items[0]?.after?.revokedAt).toBeTruthy();
    expect(JSON.stringify(page)).not.toContain(issued.key);
  });

  it("filters by entity", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "PATCH", "/v1/admin/advertisers/walmart", { name: "W1" });
    await adminOk(app, "PATCH", "/v1/admin/campaigns/microsoft-quantum", { weight: 4 });
    await adminOk(app, "PATCH", "/v1/admin/advertisers/microsoft", { name: "MS" });
    const page = await audit(app, "?entity=advertiser");
    expect(page.items.map((e) => e.id)).toEqual(["microsoft", "walmart"]);
    for (const e of page.items) expect(e.entity).toBe("advertiser");
  });

  it("filters by id", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "PATCH", "/v1/admin/advertisers/walmart", { name: "W1" });
    await adminOk(app, "PATCH", "/v1/admin/advertisers/microsoft", { name: "MS" });
    await adminOk(app, "PATCH", "/v1/admin/advertisers/walmart", { name: "W2" });
    const page = await audit(app, "?id=walmart");
    expect(page.items.map((e) => (e.after as { name: string }).name)).toEqual(["W2", "W1"]);
  });

  it("filters by entity and id together", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/placements", { id: "same-id", formats: ["native-card"], maxUnits: 1 }, 201);
    await adminOk(app, "POST", "/v1/admin/advertisers", { id: "same-id", name: "Same" }, 201);
    const page = await audit(app, "?entity=placement&id=same-id");
    expect(page.items.map((e) => [e.entity, e.id])).toEqual([["placement", "same-id"]]);
  });

  it("pages newest first with a cursor, each entry once", async () => {
    const { app } = await buildTestService();
    for (let i = 1; i <= 7; i++) await adminOk(app, "PATCH", "/v1/admin/campaigns/microsoft-quantum", { weight: i });
    const weights: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: AuditPage = await audit(app, `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      weights.push(...page.items.map((e) => (e.after as { weight: number }).weight));
      cursor = page.nextCursor;
      pages++;
      if (pages > 10) throw new Error("audit paging does not end");
    } while (cursor !== null);
    expect(weights).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it("pages a filtered trail with a cursor", async () => {
    const { app } = await buildTestService();
    for (let i = 1; i <= 4; i++) {
      await adminOk(app, "PATCH", "/v1/admin/advertisers/walmart", { name: `W${i}` });
      await adminOk(app, "PATCH", "/v1/admin/advertisers/microsoft", { name: `M${i}` });
    }
    const first = await audit(app, "?id=walmart&limit=2");
    expect(first.items.map((e) => (e.after as { name: string }).name)).toEqual(["W4", "W3"]);
    expect(first.nextCursor).not.toBeNull();
    const second = await audit(app, `?id=walmart&limit=2&cursor=${encodeURIComponent(first.nextCursor ?? "")}`);
    expect(second.items.map((e) => (e.after as { name: string }).name)).toEqual(["W2", "W1"]);
  });

  it.each(["?entity=widget", "?limit=0", "?limit=500", "?cursor=NOT%20A%20CURSOR"])("rejects the audit query %s with 400", async (query) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "GET", `/v1/admin/audit${query}`), 400, "BAD_REQUEST");
  });
});
