/**
 * Authentication and roles on /v1/admin: missing and wrong keys, advertiser keys' read-only view of
 * their own objects, and revocation taking effect at once.
 */
import { describe, expect, it } from "vitest";
import { createKeys } from "../../src/store/keys.js";
import { createMemoryStores } from "../../src/store/memory/memory-stores.js";
import { buildTestService, fakeClock, OPS_KEY } from "../helpers/app.js";
import { adminCall, adminOk, decisionBody, expectError, issueAdvertiserKey, postDecision, unitBody, type ListPage } from "./support.js";

interface Entity {
  id: string;
  [field: string]: unknown;
}

const ADMIN_READS = [
  "/v1/admin/advertisers",
  "/v1/admin/advertisers/walmart",
  "/v1/admin/placements",
  "/v1/admin/campaigns",
  "/v1/admin/campaigns/walmart-us-manufacturing",
  "/v1/admin/units",
  "/v1/admin/keys",
  "/v1/admin/audit",
];

describe("missing and wrong keys", () => {
  it.each(ADMIN_READS)("answers GET %s without a key with 401", async (path) => {
    const { app } = await buildTestService();
    await expectError(await app.request(path), 401, "UNAUTHENTICATED");
  });

  it.each([
    ["an unknown key", `Bearer ${OPS_KEY}x`],
    ["a key with a different case", `Bearer ${OPS_KEY.toUpperCase()}`],
    ["the Basic scheme", `Basic ${Buffer.from(`ops:${OPS_KEY}`).toString("base64")}`],
    ["a bare key without a scheme", OPS_KEY],
    ["an empty bearer", "Bearer "],
    ["a very long key", `Bearer ${"k".repeat(5000)}`],
  ])("answers a request with %s with 401", async (_name, header) => {
    const { app } = await buildTestService();
    await expectError(await app.request("/v1/admin/advertisers", { headers: { authorization: header } }), 401, "UNAUTHENTICATED");
  });

  it("answers writes without a key with 401 and changes nothing", async () => {
    const { app } = await buildTestService();
    const json = { "content-type": "application/json" };
    await expectError(await app.request("/v1/admin/advertisers", { method: "POST", headers: json, body: JSON.stringify({ id: "acme", name: "Acme" }) }), 401, "UNAUTHENTICATED");
    await expectError(await app.request("/v1/admin/advertisers/walmart", { method: "PATCH", headers: json, body: JSON.stringify({ name: "X" }) }), 401, "UNAUTHENTICATED");
    await expectError(await app.request("/v1/admin/units/walmart-proud-source", { method: "DELETE" }), 401, "UNAUTHENTICATED");
    await expectError(await app.request("/v1/admin/explain", { method: "POST", headers: json, body: JSON.stringify(decisionBody("canada-carney")) }), 401, "UNAUTHENTICATED");
    await expectError(await app.request("/v1/admin/keys", { method: "POST", headers: json, body: JSON.stringify({ role: "ops" }) }), 401, "UNAUTHENTICATED");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart")).name).toBe("Walmart");
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/acme"), 404, "NOT_FOUND");
  });

  it("answers 401 before looking at the body of an unauthenticated write", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/v1/admin/advertisers", { method: "POST", headers: { "content-type": "application/xml" }, body: "<x/>" });
    await expectError(res, 401, "UNAUTHENTICATED");
  });

  it("needs no key for decisions", async () => {
    const { app } = await buildTestService();
    expect((await postDecision(app, decisionBody("canada-carney", "public-reader"))).status).toBe(200);
  });

  it("accepts the bootstrap ops key with a lower-case bearer scheme", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/v1/admin/advertisers", { headers: { authorization: `bearer ${OPS_KEY}` } });
    expect(res.status).toBe(200);
  });
});

describe("advertiser keys", () => {
  it("issues an advertiser key with 201 answering its id and the key", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId: "walmart" });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as { id: string; key: string; role: string; advertiserId: string };
    expect(issued.id.length).toBeGreaterThan(0);
    expect(issued.key.length).toBeGreaterThanOrEqual(32);
    expect(issued.role).toBe("advertiser");
    expect(issued.advertiserId).toBe("walmart");
  });

  it("rejects an advertiser key without an advertiserId, or for an unknown advertiser, with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "advertiser" }), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId: "nobody" }), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "superuser" }), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "ops", extra: true }), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "ops", advertiserId: "walmart" }), 400, "BAD_REQUEST");
  });

  it("reads its own advertiser, campaigns and units", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart", undefined, 200, key)).name).toBe("Walmart");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/campaigns/walmart-us-manufacturing", undefined, 200, key)).advertiserId).toBe("walmart");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/units/walmart-proud-source", undefined, 200, key)).campaignId).toBe("walmart-us-manufacturing");
  });

  it("lists only its own advertiser, campaigns and units", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    const advertisers = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/advertisers", undefined, 200, key);
    expect(advertisers.items.map((a) => a.id)).toEqual(["walmart"]);
    const campaigns = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/campaigns", undefined, 200, key);
    expect(campaigns.items.map((c) => c.id)).toEqual(["walmart-us-manufacturing"]);
    const units = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/units", undefined, 200, key);
    expect(units.items.map((u) => u.id)).toEqual(["walmart-proud-source"]);
  });

  it("cannot widen its list to another advertiser with a query filter", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    const campaigns = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/campaigns?advertiserId=microsoft", undefined, 200, key);
    expect(campaigns.items.map((c) => c.id)).toEqual(["walmart-us-manufacturing"]);
    const units = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/units?advertiserId=microsoft&campaignId=microsoft-quantum", undefined, 200, key);
    expect(units.items).toEqual([]);
  });

  it("answers 404 for another advertiser's advertiser, campaign and unit", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/microsoft", undefined, key), 404, "NOT_FOUND");
    await expectError(await adminCall(app, "GET", "/v1/admin/campaigns/microsoft-quantum", undefined, key), 404, "NOT_FOUND");
    await expectError(await adminCall(app, "GET", "/v1/admin/units/microsoft-quantum-leadership", undefined, key), 404, "NOT_FOUND");
  });

  it("answers 404 alike for another advertiser's object and for one that does not exist", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    const other = await expectError(await adminCall(app, "GET", "/v1/admin/campaigns/microsoft-quantum", undefined, key), 404, "NOT_FOUND");
    const missing = await expectError(await adminCall(app, "GET", "/v1/admin/campaigns/no-such-campaign", undefined, key), 404, "NOT_FOUND");
    expect(other.error.message.replace("microsoft-quantum", "X")).toBe(missing.error.message.replace("no-such-campaign", "X"));
  });

  it.each([
    ["POST", "/v1/admin/advertisers", { id: "acme", name: "Acme" }],
    ["PATCH", "/v1/admin/advertisers/walmart", { name: "Walmart!" }],
    ["DELETE", "/v1/admin/advertisers/walmart", undefined],
    ["POST", "/v1/admin/campaigns", { id: "mine", advertiserId: "walmart", name: "Mine", tier: "standard", placements: ["article-end"] }],
    ["PATCH", "/v1/admin/campaigns/walmart-us-manufacturing", { status: "paused" }],
    ["DELETE", "/v1/admin/campaigns/walmart-us-manufacturing", undefined],
    ["POST", "/v1/admin/units", unitBody("mine", "walmart-us-manufacturing")],
    ["PATCH", "/v1/admin/units/walmart-proud-source", { headline: "Mine" }],
    ["DELETE", "/v1/admin/units/walmart-proud-source", undefined],
    ["POST", "/v1/admin/placements", { id: "mine", formats: ["native-card"], maxUnits: 1 }],
    ["PATCH", "/v1/admin/placements/article-mid", { maxUnits: 2 }],
    ["DELETE", "/v1/admin/placements/article-mid", undefined],
    ["PATCH", "/v1/admin/campaigns/microsoft-quantum", { status: "paused" }],
  ])("answers %s %s with an advertiser key with 403 and changes nothing", async (method, path, body) => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    const before = await adminOk<unknown>(app, "GET", "/v1/admin/campaigns?limit=200");
    await expectError(await adminCall(app, method, path, body, key), 403, "FORBIDDEN");
    expect(await adminOk<unknown>(app, "GET", "/v1/admin/campaigns?limit=200")).toEqual(before);
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart")).name).toBe("Walmart");
  });

  it("answers a placements list or read with an advertiser key with 403", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    await expectError(await adminCall(app, "GET", "/v1/admin/placements", undefined, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "GET", "/v1/admin/placements/article-mid", undefined, key), 403, "FORBIDDEN");
  });

  it("answers keys, audit and explain with an advertiser key with 403", async () => {
    const { app } = await buildTestService();
    const { id, key } = await issueAdvertiserKey(app, "walmart");
    await expectError(await adminCall(app, "GET", "/v1/admin/keys", undefined, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "ops" }, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId: "walmart" }, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "DELETE", `/v1/admin/keys/${id}`, undefined, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "GET", "/v1/admin/audit", undefined, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "POST", "/v1/admin/explain", decisionBody("canada-carney", "u"), key), 403, "FORBIDDEN");
    // The key still works for what it may do.
    await adminOk(app, "GET", "/v1/admin/advertisers/walmart", undefined, 200, key);
  });

  it("keys of two advertisers each see only their own objects", async () => {
    const { app } = await buildTestService();
    const walmart = await issueAdvertiserKey(app, "walmart");
    const microsoft = await issueAdvertiserKey(app, "microsoft");
    await adminOk(app, "GET", "/v1/admin/campaigns/microsoft-quantum", undefined, 200, microsoft.key);
    await expectError(await adminCall(app, "GET", "/v1/admin/campaigns/walmart-us-manufacturing", undefined, microsoft.key), 404, "NOT_FOUND");
    await adminOk(app, "GET", "/v1/admin/campaigns/walmart-us-manufacturing", undefined, 200, walmart.key);
  });

  it("sees a campaign ops just created for its advertiser", async () => {
    const { app } = await buildTestService();
    const { key } = await issueAdvertiserKey(app, "walmart");
    await adminOk(app, "POST", "/v1/admin/campaigns", { id: "walmart-holiday", advertiserId: "walmart", name: "Holiday", tier: "standard", placements: ["article-end"] }, 201);
    await adminOk(app, "POST", "/v1/admin/units", unitBody("walmart-holiday-unit", "walmart-holiday"), 201);
    await adminOk(app, "GET", "/v1/admin/campaigns/walmart-holiday", undefined, 200, key);
    await adminOk(app, "GET", "/v1/admin/units/walmart-holiday-unit", undefined, 200, key);
  });
});

describe("revocation", () => {
  it("revokes a key with 204 and answers its next request with 401 at once", async () => {
    const { app } = await buildTestService();
    const { id, key } = await issueAdvertiserKey(app, "walmart");
    await adminOk(app, "GET", "/v1/admin/advertisers/walmart", undefined, 200, key);
    const res = await adminCall(app, "DELETE", `/v1/admin/keys/${id}`);
    expect(res.status).toBe(204);
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/walmart", undefined, key), 401, "UNAUTHENTICATED");
    await expectError(await adminCall(app, "GET", "/v1/admin/campaigns", undefined, key), 401, "UNAUTHENTICATED");
  });

  it("revokes an ops key at once", async () => {
    const { app } = await buildTestService();
    const { id, key } = await adminOk<{ id: string; key: string }>(app, "POST", "/v1/admin/keys", { role: "ops" }, 201);
    await adminOk(app, "GET", "/v1/admin/keys", undefined, 200, key);
    await adminOk(app, "DELETE", `/v1/admin/keys/${id}`, undefined, 204);
    await expectError(await adminCall(app, "GET", "/v1/admin/keys", undefined, key), 401, "UNAUTHENTICATED");
  });

  it("leaves other keys working when one is revoked", async () => {
    const { app } = await buildTestService();
    const a = await issueAdvertiserKey(app, "walmart");
    const b = await issueAdvertiserKey(app, "walmart");
    await adminOk(app, "DELETE", `/v1/admin/keys/${a.id}`, undefined, 204);
    await adminOk(app, "GET", "/v1/admin/advertisers/walmart", undefined, 200, b.key);
  });

  it("revokes a key on another instance sharing the store within 2 seconds", async () => {
    const clock = fakeClock();
    const stores = createMemoryStores(createKeys("test"), clock.now);
    const a = await buildTestService({ stores, clock: clock.now });
    const b = await buildTestService({ stores, clock: clock.now });
    const { id, key } = await issueAdvertiserKey(a.app, "walmart");
    // Instance b has seen (and may cache) the key before it is revoked on a.
    await adminOk(b.app, "GET", "/v1/admin/advertisers/walmart", undefined, 200, key);
    await adminOk(a.app, "DELETE", `/v1/admin/keys/${id}`, undefined, 204);
    await expectError(await adminCall(a.app, "GET", "/v1/admin/advertisers/walmart", undefined, key), 401, "UNAUTHENTICATED");
    clock.advance(2000);
    await expectError(await adminCall(b.app, "GET", "/v1/admin/advertisers/walmart", undefined, key), 401, "UNAUTHENTICATED");
  });

  it("answers revoking an unknown key with 404", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "DELETE", "/v1/admin/keys/key_nope"), 404, "NOT_FOUND");
  });

  it("lists keys without key material or hashes, showing revocation", async () => {
    const { app } = await buildTestService();
    const issued = await issueAdvertiserKey(app, "walmart");
    await adminOk(app, "DELETE", `/v1/admin/keys/${issued.id}`, undefined, 204);
    const res = await adminCall(app, "GET", "/v1/admin/keys");
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(issued.key);
    expect(text).not.toContain(OPS_KEY);
    expect(text.toLowerCase()).not.toContain("hash");
    const list = JSON.parse(text) as ListPage<{ id: string; revokedAt?: string }>;
    const listed = list.items.find((k) => k.id === issued.id);
    expect(listed?.revokedAt).toBeTruthy();
  });
});
