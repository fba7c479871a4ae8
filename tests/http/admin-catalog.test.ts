/**
 * Admin CRUD under /v1/admin/{advertisers,placements,campaigns,units}: create, read, list with
 * pagination, partial update, delete, validation, references and conflicts.
 */
import { describe, expect, it } from "vitest";
import { buildTestService, OPS_KEY } from "../helpers/app.js";
import { adminCall, adminOk, expectError, readBody, unitBody, type App, type ListPage } from "./support.js";

interface Entity {
  id: string;
  [field: string]: unknown;
}

const campaignBody = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  advertiserId: "walmart",
  name: `Campaign ${id}`,
  tier: "standard",
  placements: ["article-end"],
  ...extra,
});

/** Reads every page of a list, following nextCursor. */
async function listAll(app: App, path: string, limit: number, startCursor: string | null = null): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = startCursor;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const url: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: ListPage<Entity> = await adminOk<ListPage<Entity>>(app, "GET", url);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((e) => e.id));
    cursor = page.nextCursor;
    pages++;
    if (pages > 100) throw new Error("pagination does not end");
  } while (cursor !== null);
  return { ids, pages };
}

describe("advertisers", () => {
  it("creates an advertiser with 201 and answers the object", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "POST", "/v1/admin/advertisers", { id: "acme", name: "Acme", category: "tools", competitiveLabels: ["hardware"] });
    expect(res.status).toBe(201);
    expect(await readBody<Entity>(res)).toEqual({ id: "acme", name: "Acme", category: "tools", competitiveLabels: ["hardware"] });
    expect(await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/acme")).toEqual({ id: "acme", name: "Acme", category: "tools", competitiveLabels: ["hardware"] });
  });

  it("reads one advertiser of the sample catalog", async () => {
    const { app } = await buildTestService();
    const walmart = await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart");
    expect(walmart).toEqual({ id: "walmart", name: "Walmart", category: "retail", competitiveLabels: ["retail"] });
  });

  it("answers 404 in the envelope for an advertiser that does not exist", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/nobody"), 404, "NOT_FOUND");
  });

  it("lists advertisers as items with a null nextCursor when everything fits", async () => {
    const { app } = await buildTestService();
    const page = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/advertisers");
    expect(page.items.map((a) => a.id).sort()).toEqual(["microsoft", "newsroom", "walmart"]);
    expect(page.nextCursor).toBeNull();
  });

  it("pages through advertisers with limit and cursor, each once", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 7; i++) await adminOk(app, "POST", "/v1/admin/advertisers", { id: `adv-${i}`, name: `Advertiser ${i}` }, 201);
    const first = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/advertisers?limit=4");
    expect(first.items).toHaveLength(4);
    expect(typeof first.nextCursor).toBe("string");
    const { ids, pages } = await listAll(app, "/v1/admin/advertisers", 4);
    expect(pages).toBe(3);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect([...ids].sort()).toEqual(["adv-0", "adv-1", "adv-2", "adv-3", "adv-4", "adv-5", "adv-6", "microsoft", "newsroom", "walmart"]);
  });

  it("answers 50 items per page when limit is left out", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 55; i++) await adminOk(app, "POST", "/v1/admin/advertisers", { id: `bulk-${String(i).padStart(2, "0")}`, name: `Bulk ${i}` }, 201);
    const first = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/advertisers");
    expect(first.items).toHaveLength(50);
    expect(first.nextCursor).not.toBeNull();
    const second = await adminOk<ListPage<Entity>>(app, "GET", `/v1/admin/advertisers?cursor=${encodeURIComponent(first.nextCursor ?? "")}`);
    expect(second.items).toHaveLength(8);
    expect(second.nextCursor).toBeNull();
  });

  it("keeps paging correct when an item is deleted between pages", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 5; i++) await adminOk(app, "POST", "/v1/admin/advertisers", { id: `p-${i}`, name: `P ${i}` }, 201);
    const first = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/advertisers?limit=3");
    const lastSeen = first.items[first.items.length - 1]?.id ?? "";
    await adminOk(app, "DELETE", `/v1/admin/advertisers/${lastSeen}`, undefined, 204);
    const rest = await listAll(app, "/v1/admin/advertisers", 3, first.nextCursor);
    const all = [...first.items.map((e) => e.id), ...rest.ids];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(8);
  });

  it("answers an exact last page with a null nextCursor", async () => {
    const { app } = await buildTestService();
    const { ids, pages } = await listAll(app, "/v1/admin/advertisers", 3);
    expect(ids).toHaveLength(3);
    expect(pages).toBe(1);
  });

  it.each(["0", "201", "abc", "-1", "1.5"])("rejects limit=%s with 400", async (limit) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "GET", `/v1/admin/advertisers?limit=${limit}`), 400, "BAD_REQUEST");
  });

  it("rejects a cursor that no page returned with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "GET", `/v1/admin/advertisers?cursor=${encodeURIComponent("not a cursor!")}`), 400, "BAD_REQUEST");
  });

  it("patches one field and answers the whole object", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", { name: "Walmart Inc." });
    expect(res.status).toBe(200);
    expect(await readBody<Entity>(res)).toEqual({ id: "walmart", name: "Walmart Inc.", category: "retail", competitiveLabels: ["retail"] });
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart")).name).toBe("Walmart Inc.");
  });

  it("removes an optional field patched to null", async () => {
    const { app } = await buildTestService();
    const after = await adminOk<Entity>(app, "PATCH", "/v1/admin/advertisers/walmart", { category: null });
    expect(after).toEqual({ id: "walmart", name: "Walmart", competitiveLabels: ["retail"] });
    expect("category" in (await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart"))).toBe(false);
  });

  it("rejects patching a required field to null with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", { name: null }), 400, "BAD_REQUEST");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart")).name).toBe("Walmart");
  });

  it("rejects changing the id with 400 and leaves the object as it was", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", { id: "walmart2" }), 400, "BAD_REQUEST");
    expect((err.error.details ?? []).map((d) => d.path)).toContain("id");
    await adminOk(app, "GET", "/v1/admin/advertisers/walmart");
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/walmart2"), 404, "NOT_FOUND");
  });

  it("accepts a patch that repeats the same id", async () => {
    const { app } = await buildTestService();
    const after = await adminOk<Entity>(app, "PATCH", "/v1/admin/advertisers/walmart", { id: "walmart", name: "W" });
    expect(after.name).toBe("W");
  });

  it("answers 404 when patching or deleting an advertiser that does not exist", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/ghost", { name: "Ghost" }), 404, "NOT_FOUND");
    await expectError(await adminCall(app, "DELETE", "/v1/admin/advertisers/ghost"), 404, "NOT_FOUND");
  });

  it("deletes an unreferenced advertiser with 204 and then answers 404 for it", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/advertisers", { id: "temp", name: "Temp" }, 201);
    const res = await adminCall(app, "DELETE", "/v1/admin/advertisers/temp");
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/temp"), 404, "NOT_FOUND");
  });

  it("refuses with 409 to delete an advertiser that campaigns refer to", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await adminCall(app, "DELETE", "/v1/admin/advertisers/walmart"), 409, "CONFLICT");
    expect(JSON.stringify(err.error.details ?? [])).toContain("walmart-us-manufacturing");
    await adminOk(app, "GET", "/v1/admin/advertisers/walmart");
  });

  it("answers 409 for a duplicate id and keeps the original", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", { id: "walmart", name: "Impostor" }), 409, "CONFLICT");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/advertisers/walmart")).name).toBe("Walmart");
  });

  it("rejects unknown fields on create with 400 naming the field", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", { id: "acme", name: "Acme", website: "https://acme.example" }), 400, "BAD_REQUEST");
    expect(JSON.stringify(err.error.details ?? [])).toContain("website");
    await expectError(await adminCall(app, "GET", "/v1/admin/advertisers/acme"), 404, "NOT_FOUND");
  });

  it("rejects unknown fields on patch with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", { website: "https://walmart.example" }), 400, "BAD_REQUEST");
  });

  it.each([
    ["an id with capitals", { id: "Acme", name: "Acme" }],
    ["an id with a slash", { id: "ac/me", name: "Acme" }],
    ["an id of 65 characters", { id: "a".repeat(65), name: "Acme" }],
    ["an empty name", { id: "acme", name: "" }],
    ["a name that is a number", { id: "acme", name: 7 }],
    ["competitiveLabels as a string", { id: "acme", name: "Acme", competitiveLabels: "retail" }],
  ])("rejects an advertiser with %s with 400", async (_name, body) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", body), 400, "BAD_REQUEST");
  });

  it("generates an id when the client does not supply one", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "POST", "/v1/admin/advertisers", { name: "No Id Inc." });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = await readBody<Entity>(res);
    expect(created.id).toMatch(/^[a-z0-9][a-z0-9_-]{0,63}$/);
    expect((await adminOk<Entity>(app, "GET", `/v1/admin/advertisers/${created.id}`)).name).toBe("No Id Inc.");
  });
});

describe("placements", () => {
  it("creates, reads, patches and deletes a placement", async () => {
    const { app } = await buildTestService();
    const created = await adminOk<Entity>(app, "POST", "/v1/admin/placements", { id: "sidebar", formats: ["native-card"], maxUnits: 2 }, 201);
    expect(created).toEqual({ id: "sidebar", formats: ["native-card"], maxUnits: 2 });
    expect(await adminOk<Entity>(app, "GET", "/v1/admin/placements/sidebar")).toEqual(created);
    expect(await adminOk<Entity>(app, "PATCH", "/v1/admin/placements/sidebar", { maxUnits: 4 })).toEqual({ id: "sidebar", formats: ["native-card"], maxUnits: 4 });
    await adminOk(app, "DELETE", "/v1/admin/placements/sidebar", undefined, 204);
    await expectError(await adminCall(app, "GET", "/v1/admin/placements/sidebar"), 404, "NOT_FOUND");
  });

  it.each([0, 6])("rejects maxUnits %i with 400", async (maxUnits) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/placements", { id: "sidebar", formats: ["native-card"], maxUnits }), 400, "BAD_REQUEST");
  });

  it("rejects an unknown format with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/placements", { id: "sidebar", formats: ["banner-728x90"], maxUnits: 1 }), 400, "BAD_REQUEST");
  });

  it("refuses with 409 to delete a placement that campaigns run on", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "DELETE", "/v1/admin/placements/article-mid"), 409, "CONFLICT");
  });

  it("lists placements in pages", async () => {
    const { app } = await buildTestService();
    const { ids, pages } = await listAll(app, "/v1/admin/placements", 1);
    expect(ids.sort()).toEqual(["article-end", "article-mid"]);
    expect(pages).toBe(2);
  });
});

describe("campaigns", () => {
  it("creates a campaign from the required fields only and applies the defaults", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "POST", "/v1/admin/campaigns", { id: "minimal", advertiserId: "walmart", name: "Minimal", tier: "house", placements: ["article-end"] });
    expect(res.status).toBe(201);
    const created = await readBody<Entity>(res);
    expect(created).toMatchObject({ id: "minimal", advertiserId: "walmart", name: "Minimal", tier: "house", placements: ["article-end"], status: "active", weight: 1 });
    expect(await adminOk<Entity>(app, "GET", "/v1/admin/campaigns/minimal")).toEqual(created);
  });

  it("creates a full campaign and answers it as sent", async () => {
    const { app } = await buildTestService();
    const full = {
      id: "full",
      advertiserId: "microsoft",
      name: "Full",
      status: "paused",
      tier: "sponsorship",
      weight: 7,
      startAt: "2026-11-01T00:00:00Z",
      endAt: "2026-12-31T23:59:59Z",
      placements: ["article-mid", "article-end"],
      targeting: { all: [{ field: "section", op: "in", values: ["economy"] }, { not: { field: "geo.country", op: "in", values: ["RU"] } }] },
      exclusions: { topics: ["terrorism"], keywords: ["boko haram"] },
      frequencyCaps: [{ limit: 3, window: "1d" }, { limit: 5, window: { seconds: 600 } }],
      goal: { impressions: 1000, pacing: "asap" },
    };
    const created = await adminOk<Entity>(app, "POST", "/v1/admin/campaigns", full, 201);
    expect(created).toEqual(full);
  });

  it("accepts a campaign whose flight is already over", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/campaigns", campaignBody("old", { startAt: "2020-01-01T00:00:00Z", endAt: "2020-01-31T00:00:00Z" }), 201);
  });

  it("rejects a flight that ends before it starts with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/campaigns", campaignBody("backwards", { startAt: "2026-12-01T00:00:00Z", endAt: "2026-11-01T00:00:00Z" })), 400, "BAD_REQUEST");
  });

  it("rejects a campaign whose advertiser does not exist with 400 naming advertiserId", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await adminCall(app, "POST", "/v1/admin/campaigns", campaignBody("orphan", { advertiserId: "nobody" })), 400, "BAD_REQUEST");
    expect((err.error.details ?? []).map((d) => d.path)).toContain("advertiserId");
    await expectError(await adminCall(app, "GET", "/v1/admin/campaigns/orphan"), 404, "NOT_FOUND");
  });

  it("rejects a campaign on a placement that does not exist with 400 naming the placement", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await adminCall(app, "POST", "/v1/admin/campaigns", campaignBody("lost", { placements: ["article-end", "nowhere"] })), 400, "BAD_REQUEST");
    expect((err.error.details ?? []).map((d) => d.path)).toContain("placements.1");
  });

  it("rejects a patch that points a campaign at an unknown advertiser with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/campaigns/microsoft-quantum", { advertiserId: "nobody" }), 400, "BAD_REQUEST");
    expect((await adminOk<Entity>(app, "GET", "/v1/admin/campaigns/microsoft-quantum")).advertiserId).toBe("microsoft");
  });

  it.each([
    ["an unknown tier", { tier: "premium" }],
    ["an unknown status", { status: "running" }],
    ["weight 0", { weight: 0 }],
    ["weight 1001", { weight: 1001 }],
    ["no placements", { placements: [] }],
    ["a targeting leaf with an unknown field", { targeting: { field: "weather", op: "in", values: ["rain"] } }],
    ["a targeting leaf with an unknown op", { targeting: { field: "section", op: "equals", values: ["x"] } }],
    ["a daypart hour of 24", { targeting: { field: "daypart", op: "in", values: [24] } }],
    ["an unknown cap window", { frequencyCaps: [{ limit: 1, window: "2w" }] }],
    ["a startAt that is not a date", { startAt: "tomorrow" }],
  ])("rejects a campaign with %s with 400", async (_name, extra) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/campaigns", campaignBody("bad", extra)), 400, "BAD_REQUEST");
  });

  it("patches part of a campaign and answers the whole updated object", async () => {
    const { app } = await buildTestService();
    const before = await adminOk<Entity>(app, "GET", "/v1/admin/campaigns/walmart-us-manufacturing");
    const after = await adminOk<Entity>(app, "PATCH", "/v1/admin/campaigns/walmart-us-manufacturing", { weight: 5, name: "Renamed" });
    expect(after).toEqual({ ...before, weight: 5, name: "Renamed" });
  });

  it("removes optional campaign fields patched to null", async () => {
    const { app } = await buildTestService();
    const after = await adminOk<Entity>(app, "PATCH", "/v1/admin/campaigns/walmart-us-manufacturing", { goal: null, endAt: null, exclusions: null });
    expect("goal" in after).toBe(false);
    expect("endAt" in after).toBe(false);
    expect("exclusions" in after).toBe(false);
    expect(after.startAt).toBe("2026-01-01T00:00:00Z");
  });

  it("rejects changing a campaign's id with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/campaigns/walmart-us-manufacturing", { id: "walmart-renamed" }), 400, "BAD_REQUEST");
  });

  it("refuses with 409 to delete a campaign that still has units", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "DELETE", "/v1/admin/campaigns/walmart-us-manufacturing"), 409, "CONFLICT");
  });

  it("deletes a campaign once its units are gone", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "DELETE", "/v1/admin/units/walmart-proud-source", undefined, 204);
    await adminOk(app, "DELETE", "/v1/admin/campaigns/walmart-us-manufacturing", undefined, 204);
    await expectError(await adminCall(app, "GET", "/v1/admin/campaigns/walmart-us-manufacturing"), 404, "NOT_FOUND");
    // Now nothing refers to the advertiser either.
    await adminOk(app, "DELETE", "/v1/admin/advertisers/walmart", undefined, 204);
  });

  it("answers 409 for a duplicate campaign id", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/campaigns", campaignBody("microsoft-quantum")), 409, "CONFLICT");
  });

  it("pages through campaigns with limit and cursor", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 4; i++) await adminOk(app, "POST", "/v1/admin/campaigns", campaignBody(`extra-${i}`), 201);
    const { ids, pages } = await listAll(app, "/v1/admin/campaigns", 2);
    expect(pages).toBe(4);
    expect(new Set(ids).size).toBe(7);
  });

  it("filters campaigns by advertiserId for ops", async () => {
    const { app } = await buildTestService();
    const page = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/campaigns?advertiserId=microsoft");
    expect(page.items.map((c) => c.id)).toEqual(["microsoft-quantum"]);
  });
});

describe("units", () => {
  it("creates a unit and applies the default disclosure label", async () => {
    const { app } = await buildTestService();
    const res = await adminCall(app, "POST", "/v1/admin/units", unitBody("new-unit", "microsoft-quantum"));
    expect(res.status).toBe(201);
    const created = await readBody<Entity>(res);
    expect(created).toEqual({ ...unitBody("new-unit", "microsoft-quantum"), disclosureLabel: "Sponsored" });
    expect(await adminOk<Entity>(app, "GET", "/v1/admin/units/new-unit")).toEqual(created);
  });

  it("rejects a unit whose campaign does not exist with 400 naming campaignId", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await adminCall(app, "POST", "/v1/admin/units", unitBody("orphan-unit", "no-such-campaign")), 400, "BAD_REQUEST");
    expect((err.error.details ?? []).map((d) => d.path)).toContain("campaignId");
  });

  it("rejects an http CTA URL with 400", async () => {
    const { app } = await buildTestService();
    const err = await expectError(
      await adminCall(app, "POST", "/v1/admin/units", unitBody("plain-http", "microsoft-quantum", { cta: { text: "Go", url: "http://insecure.example" } })),
      400,
      "BAD_REQUEST",
    );
    expect((err.error.details ?? []).map((d) => d.path)).toContain("cta.url");
  });

  it.each([
    ["a javascript: CTA URL", { cta: { text: "Go", url: "javascript:alert(1)" } }],
    ["an http image URL", { image: { url: "http://cdn.example/a.jpg", width: 1, height: 1, alt: "" } }],
    ["an unknown format", { format: "banner" }],
    ["an empty headline", { headline: "" }],
    ["a missing cta", { cta: undefined }],
    ["an unknown field in cta", { cta: { text: "Go", url: "https://a.example", target: "_top" } }],
  ])("rejects a unit with %s with 400", async (_name, extra) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/units", unitBody("bad-unit", "microsoft-quantum", extra)), 400, "BAD_REQUEST");
  });

  it("rejects a patch to an http CTA URL with 400 and keeps the old one", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/units/walmart-proud-source", { cta: { text: "Go", url: "http://walmart.example" } }), 400, "BAD_REQUEST");
    const unit = await adminOk<{ cta: { url: string } }>(app, "GET", "/v1/admin/units/walmart-proud-source");
    expect(unit.cta.url).toBe("https://corporate.walmart.example/us-manufacturing");
  });

  it("patches a unit's headline and answers the whole unit", async () => {
    const { app } = await buildTestService();
    const before = await adminOk<Entity>(app, "GET", "/v1/admin/units/walmart-proud-source");
    const after = await adminOk<Entity>(app, "PATCH", "/v1/admin/units/walmart-proud-source", { headline: "New headline" });
    expect(after).toEqual({ ...before, headline: "New headline" });
  });

  it("removes a unit's image patched to null", async () => {
    const { app } = await buildTestService();
    const after = await adminOk<Entity>(app, "PATCH", "/v1/admin/units/walmart-proud-source", { image: null });
    expect("image" in after).toBe(false);
  });

  it("rejects moving a unit to an unknown campaign with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/units/walmart-proud-source", { campaignId: "nope" }), 400, "BAD_REQUEST");
  });

  it("deletes a unit with 204", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "DELETE", "/v1/admin/units/newsroom-daily-signup", undefined, 204);
    await expectError(await adminCall(app, "GET", "/v1/admin/units/newsroom-daily-signup"), 404, "NOT_FOUND");
  });

  it("answers 409 for a duplicate unit id", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/units", unitBody("walmart-proud-source", "walmart-us-manufacturing")), 409, "CONFLICT");
  });

  it("filters units by campaignId", async () => {
    const { app } = await buildTestService();
    const page = await adminOk<ListPage<Entity>>(app, "GET", "/v1/admin/units?campaignId=newsroom-daily");
    expect(page.items.map((u) => u.id).sort()).toEqual(["newsroom-daily-card", "newsroom-daily-signup"]);
  });
});

describe("write requests", () => {
  const writes: [string, string, unknown][] = [
    ["POST", "/v1/admin/advertisers", { id: "acme", name: "Acme" }],
    ["PATCH", "/v1/admin/advertisers/walmart", { name: "W" }],
    ["POST", "/v1/admin/campaigns", campaignBody("ct")],
    ["PATCH", "/v1/admin/units/walmart-proud-source", { headline: "H" }],
  ];

  it.each(writes)("answers %s %s without a content type with 415", async (method, path, body) => {
    const { app } = await buildTestService();
    // A byte body carries no default content type (a string body would become text/plain).
    const res = await app.request(path, { method, headers: { authorization: `Bearer ${OPS_KEY}` }, body: new TextEncoder().encode(JSON.stringify(body)) });
    await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it.each(writes)("answers %s %s with a text/plain body with 415", async (method, path, body) => {
    const { app } = await buildTestService();
    const res = await app.request(path, { method, headers: { authorization: `Bearer ${OPS_KEY}`, "content-type": "text/plain" }, body: JSON.stringify(body) });
    await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers broken JSON on an admin write with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", '{"id": "acme",'), 400, "BAD_REQUEST");
  });

  it.each(["null", "[]", '"acme"', "42"])("answers the body %s on an admin create with 400", async (text) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", text), 400, "BAD_REQUEST");
  });

  it.each(["null", "[]", '"acme"', "42"])("answers the body %s on an admin patch with 400", async (text) => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "PATCH", "/v1/admin/advertisers/walmart", text), 400, "BAD_REQUEST");
  });

  it("answers an admin body over 1 MiB with 413", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "POST", "/v1/admin/advertisers", { id: "big", name: "x".repeat(1100 * 1024) }), 413, "PAYLOAD_TOO_LARGE");
  });

  it("accepts an admin body over 64 KiB (the decisions limit does not apply)", async () => {
    const { app } = await buildTestService();
    const values = Array.from({ length: 900 }, (_, i) => `section-${i}-${"x".repeat(80)}`);
    const res = await adminCall(app, "POST", "/v1/admin/campaigns", campaignBody("big-targeting", { targeting: { field: "section", op: "in", values } }));
    expect(res.status, await res.clone().text()).toBe(201);
  });
});
