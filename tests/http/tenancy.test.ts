/**
 * Tenancy: advertiser keys for walmart and microsoft, checked against every endpoint. An
 * advertiser key reads its own advertiser, campaigns, units and reports (and lists hold nothing
 * else), gets 404 for another advertiser's objects (the same answer as for an id that does not
 * exist), 403 for ops-only reads, 403 for every write, and 401 at once after revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestService, fakeClock, OPS_KEY } from "../helpers/app.js";
import {
  type App,
  decide,
  decisionBody,
  economyPage,
  END_SLOT,
  expectError,
  fire204,
  MID_SLOT,
  type TestService,
  unitOf,
} from "../helpers/tracking.js";

/** What the sample catalog holds per advertiser (checked against the catalog first). */
const SAMPLE = {
  walmart: { campaigns: ["walmart-us-manufacturing"], units: ["walmart-proud-source"] },
  microsoft: { campaigns: ["microsoft-quantum"], units: ["microsoft-quantum-leadership"] },
  newsroom: { campaigns: ["newsroom-daily"], units: ["newsroom-daily-card", "newsroom-daily-signup"] },
} as const;
type AdvertiserId = keyof typeof SAMPLE;

const DAY = "2026-11-27";
const RANGE = `from=${DAY}&to=${DAY}`;

let service: TestService;
let app: App;
const keys: Record<string, { id: string; key: string }> = {};

async function issue(advertiserId: string): Promise<{ id: string; key: string }> {
  const res = await app.request("/v1/admin/keys", {
    method: "POST",
    headers: { authorization: `Bearer ${OPS_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ role: "advertiser", advertiserId }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const body = JSON.parse(text) as { id: string; key: string; role: string; advertiserId: string };
  expect(body).toMatchObject({ role: "advertiser", advertiserId });
  return { id: body.id, key: body.key };
}

async function call(method: string, path: string, key: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

/**
 * Strings that identify an advertiser's data: its id and name, and its campaigns' and units' ids,
 * names, headlines and landing URLs.
 */
function markersOf(advertiserId: string): string[] {
  const doc = service.catalog.document();
  const advertiser = doc.advertisers.find((a) => a.id === advertiserId);
  const campaigns = doc.campaigns.filter((c) => c.advertiserId === advertiserId);
  const ids = new Set(campaigns.map((c) => c.id));
  const units = doc.units.filter((u) => ids.has(u.campaignId));
  return [advertiserId, advertiser?.name ?? advertiserId, ...campaigns.flatMap((c) => [c.id, c.name]), ...units.flatMap((u) => [u.id, u.headline, u.cta.url])];
}

/** Every other sample advertiser's markers. */
function foreignMarkers(self: AdvertiserId): string[] {
  return (Object.keys(SAMPLE) as AdvertiserId[]).filter((a) => a !== self).flatMap(markersOf);
}

function expectNoForeignData(text: string, self: AdvertiserId, context: string): void {
  const leaked = foreignMarkers(self).filter((m) => text.includes(m));
  expect(leaked, `${context}: ${text.slice(0, 500)}`).toEqual([]);
}

beforeAll(async () => {
  service = await buildTestService({ clock: fakeClock().now });
  app = service.app;
  keys.walmart = await issue("walmart");
  keys.microsoft = await issue("microsoft");
  // Some traffic, so each advertiser's reports have numbers of their own.
  const d = await decide(app, decisionBody(economyPage(), "tenancy-user", [MID_SLOT, END_SLOT]));
  await fire204(app, unitOf(d, "walmart-us-manufacturing").tracking.impression);
  await fire204(app, unitOf(d, "microsoft-quantum").tracking.impression);
});

afterAll(async () => {
  await service.close();
});

it("starts from the sample catalog the matrix assumes", () => {
  const doc = service.catalog.document();
  for (const [advertiserId, own] of Object.entries(SAMPLE)) {
    const campaigns = doc.campaigns.filter((c) => c.advertiserId === advertiserId).map((c) => c.id);
    expect(campaigns).toEqual([...own.campaigns]);
    expect(doc.units.filter((u) => campaigns.includes(u.campaignId)).map((u) => u.id).sort()).toEqual([...own.units]);
  }
  // The markers must tell the advertisers apart: none of walmart's appears in microsoft's data and back.
  for (const self of ["walmart", "microsoft"] as const) {
    const ownData = JSON.stringify({
      advertiser: doc.advertisers.find((a) => a.id === self),
      campaigns: doc.campaigns.filter((c) => c.advertiserId === self),
      units: doc.units.filter((u) => (SAMPLE[self].campaigns as readonly string[]).includes(u.campaignId)),
    });
    expectNoForeignData(ownData, self, `${self}'s own data`);
  }
});

interface ReadCase {
  name: string;
  path: string;
  check: (body: unknown, text: string) => void;
}

function ownReads(self: AdvertiserId, other: AdvertiserId): ReadCase[] {
  const own = SAMPLE[self];
  const ids = (body: unknown): string[] => (body as { items: { id: string }[] }).items.map((x) => x.id);
  return [
    { name: "its own advertiser", path: `/v1/admin/advertisers/${self}`, check: (b) => expect((b as { id: string }).id).toBe(self) },
    { name: "the advertiser list, holding only itself", path: "/v1/admin/advertisers", check: (b) => expect(ids(b)).toEqual([self]) },
    { name: "the campaign list, holding only its campaigns", path: "/v1/admin/campaigns", check: (b) => expect(ids(b)).toEqual([...own.campaigns]) },
    {
      name: "the campaign list filtered by another advertiser, still holding only its campaigns",
      path: `/v1/admin/campaigns?advertiserId=${other}`,
      check: (b) => expect(ids(b)).toEqual([...own.campaigns]),
    },
    { name: "its campaign", path: `/v1/admin/campaigns/${own.campaigns[0]}`, check: (b) => expect((b as { advertiserId: string }).advertiserId).toBe(self) },
    { name: "the unit list, holding only its units", path: "/v1/admin/units", check: (b) => expect(ids(b)).toEqual([...own.units]) },
    {
      name: "the unit list filtered by another advertiser's campaign, empty",
      path: `/v1/admin/units?campaignId=${SAMPLE[other].campaigns[0]}`,
      check: (b) => expect(ids(b)).toEqual([]),
    },
    { name: "its unit", path: `/v1/admin/units/${own.units[0]}`, check: (b) => expect((b as { campaignId: string }).campaignId).toBe(own.campaigns[0]) },
    {
      name: "its campaign's report",
      path: `/v1/reports/campaigns/${own.campaigns[0]}?${RANGE}`,
      check: (b) => expect(b).toMatchObject({ campaignId: own.campaigns[0], totals: { served: 1, impressions: 1 } }),
    },
    {
      name: "its advertiser report, one row per campaign of its own",
      path: `/v1/reports/advertisers/${self}?${RANGE}`,
      check: (b) => {
        const r = b as { rows: { campaignId: string }[]; totals: { served: number; impressions: number } };
        expect(r.rows.map((x) => x.campaignId)).toEqual([...own.campaigns]);
        expect(r.totals).toMatchObject({ served: 1, impressions: 1 });
      },
    },
    {
      name: "its advertiser report as CSV",
      path: `/v1/reports/advertisers/${self}?${RANGE}&format=csv`,
      check: (_b, text) => expect(text.trim().split("\r\n").slice(1).map((l) => l.split(",")[0])).toEqual([...own.campaigns]),
    },
  ];
}

interface DeniedCase {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  /** The foreign id the path names: a 404 must read exactly like one for an id that does not exist. */
  id?: string;
}

function othersObjects(other: AdvertiserId): DeniedCase[] {
  const them = SAMPLE[other];
  const objects = (adv: AdvertiserId, campaign: string, unit: string): DeniedCase[] => [
    { name: `${adv}'s advertiser`, method: "GET", path: `/v1/admin/advertisers/${adv}`, id: adv },
    { name: `${adv}'s campaign`, method: "GET", path: `/v1/admin/campaigns/${campaign}`, id: campaign },
    { name: `${adv}'s unit`, method: "GET", path: `/v1/admin/units/${unit}`, id: unit },
    { name: `${adv}'s campaign report`, method: "GET", path: `/v1/reports/campaigns/${campaign}?${RANGE}`, id: campaign },
    { name: `${adv}'s campaign report as CSV`, method: "GET", path: `/v1/reports/campaigns/${campaign}?${RANGE}&format=csv`, id: campaign },
    { name: `${adv}'s advertiser report`, method: "GET", path: `/v1/reports/advertisers/${adv}?${RANGE}`, id: adv },
  ];
  return [...objects(other, them.campaigns[0], them.units[0]), ...objects("newsroom", SAMPLE.newsroom.campaigns[0], SAMPLE.newsroom.units[0])];
}

const OPS_ONLY_READS: DeniedCase[] = [
  { name: "the placement list", method: "GET", path: "/v1/admin/placements" },
  { name: "a placement", method: "GET", path: "/v1/admin/placements/article-mid" },
  { name: "the key list", method: "GET", path: "/v1/admin/keys" },
  { name: "the audit log", method: "GET", path: "/v1/admin/audit" },
  { name: "the audit log of a campaign", method: "GET", path: "/v1/admin/audit?entity=campaign&id=microsoft-quantum" },
  { name: "explain", method: "POST", path: "/v1/admin/explain", body: decisionBody(economyPage(), "explain-user", [MID_SLOT, END_SLOT]) },
  { name: "the whole catalog", method: "GET", path: "/v1/admin/catalog" },
  { name: "the catalog versions", method: "GET", path: "/v1/admin/catalog/versions" },
];

function writes(self: AdvertiserId, other: AdvertiserId): DeniedCase[] {
  const own = SAMPLE[self];
  const them = SAMPLE[other];
  const unit = { id: "tenancy-unit", campaignId: own.campaigns[0], format: "native-card", headline: "H", body: "B", cta: { text: "Go", url: "https://example.com/x" } };
  return [
    { name: "create an advertiser", method: "POST", path: "/v1/admin/advertisers", body: { id: "tenancy-adv", name: "New" } },
    { name: "change its own advertiser", method: "PATCH", path: `/v1/admin/advertisers/${self}`, body: { name: "Renamed" } },
    { name: "change another advertiser", method: "PATCH", path: `/v1/admin/advertisers/${other}`, body: { name: "Renamed" } },
    { name: "delete its own advertiser", method: "DELETE", path: `/v1/admin/advertisers/${self}` },
    { name: "delete another advertiser", method: "DELETE", path: `/v1/admin/advertisers/${other}` },
    {
      name: "create a campaign of its own",
      method: "POST",
      path: "/v1/admin/campaigns",
      body: { id: "tenancy-camp", advertiserId: self, name: "Mine", tier: "sponsorship", placements: ["article-mid"] },
    },
    { name: "change its own campaign", method: "PATCH", path: `/v1/admin/campaigns/${own.campaigns[0]}`, body: { status: "paused" } },
    { name: "change another advertiser's campaign", method: "PATCH", path: `/v1/admin/campaigns/${them.campaigns[0]}`, body: { status: "paused" } },
    { name: "delete its own campaign", method: "DELETE", path: `/v1/admin/campaigns/${own.campaigns[0]}` },
    { name: "delete another advertiser's campaign", method: "DELETE", path: `/v1/admin/campaigns/${them.campaigns[0]}` },
    { name: "create a unit in its own campaign", method: "POST", path: "/v1/admin/units", body: unit },
    { name: "change its own unit", method: "PATCH", path: `/v1/admin/units/${own.units[0]}`, body: { headline: "Changed" } },
    { name: "change another advertiser's unit", method: "PATCH", path: `/v1/admin/units/${them.units[0]}`, body: { headline: "Changed" } },
    { name: "delete its own unit", method: "DELETE", path: `/v1/admin/units/${own.units[0]}` },
    { name: "create a placement", method: "POST", path: "/v1/admin/placements", body: { id: "tenancy-slot", formats: ["native-card"], maxUnits: 1 } },
    { name: "change a placement", method: "PATCH", path: "/v1/admin/placements/article-mid", body: { maxUnits: 2 } },
    { name: "delete a placement", method: "DELETE", path: "/v1/admin/placements/article-mid" },
    { name: "issue a key for itself", method: "POST", path: "/v1/admin/keys", body: { role: "advertiser", advertiserId: self } },
    { name: "issue a key for another advertiser", method: "POST", path: "/v1/admin/keys", body: { role: "advertiser", advertiserId: other } },
    { name: "issue an ops key", method: "POST", path: "/v1/admin/keys", body: { role: "ops" } },
    { name: "revoke its own key", method: "DELETE", path: "/v1/admin/keys/{self}" },
    { name: "revoke another advertiser's key", method: "DELETE", path: "/v1/admin/keys/{other}" },
    { name: "replace the catalog", method: "PUT", path: "/v1/admin/catalog", body: { advertisers: [], placements: [], campaigns: [], units: [] } },
    { name: "preview a catalog import", method: "PUT", path: "/v1/admin/catalog?dryRun=true", body: { advertisers: [], placements: [], campaigns: [], units: [] } },
    { name: "restore a catalog version", method: "POST", path: "/v1/admin/catalog/versions/1/restore" },
  ];
}

const PAIRS: { self: AdvertiserId; other: AdvertiserId }[] = [
  { self: "walmart", other: "microsoft" },
  { self: "microsoft", other: "walmart" },
];

for (const { self, other } of PAIRS) describe(`an advertiser key for ${self}`, () => {
  const key = (): string => (keys[self] as { key: string }).key;

  for (const { name, path, check } of ownReads(self, other)) it(`reads ${name}, with nothing of another advertiser's`, async () => {
    const res = await call("GET", path, key());
    const text = await res.text();
    expect(res.status, text).toBe(200);
    check(res.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : undefined, text);
    expectNoForeignData(text, self, path);
  });

  for (const { name, method, path, id } of othersObjects(other)) it(`gets 404 for ${name}, just as for an id that does not exist`, async () => {
    const res = await call(method, path, key());
    const body = await expectError(res.clone(), 404, "NOT_FOUND");
    const text = await res.text();
    const requested = id as string;
    // The body names the id asked for and nothing else of the other advertiser's.
    expectNoForeignData(text.split(requested).join("<id>"), self, path);
    const missing = await call(method, path.replace(requested, "zz-no-such-id"), key());
    const missingBody = await expectError(missing, 404, "NOT_FOUND");
    expect(body.error.message.split(requested).join("<id>")).toBe(missingBody.error.message.split("zz-no-such-id").join("<id>"));
    expect(body.error.details).toEqual(missingBody.error.details);
  });

  for (const { name, method, path, body } of OPS_ONLY_READS) it(`gets 403 for ${name}, with no data in the body`, async () => {
    const res = await call(method, path, key(), body);
    const text = await res.clone().text();
    await expectError(res, 403, "FORBIDDEN");
    expectNoForeignData(text, self, path);
    expect(text).not.toContain(SAMPLE[self].campaigns[0]);
  });

  for (const { name, method, path, body } of writes(self, other)) it(`gets 403 when it tries to ${name}`, async () => {
    const resolved = path.replace("{self}", (keys[self] as { id: string }).id).replace("{other}", (keys[other] as { id: string }).id);
    const before = JSON.stringify(service.catalog.document());
    await expectError(await call(method, resolved, key(), body), 403, "FORBIDDEN");
    expect(JSON.stringify(service.catalog.document())).toBe(before);
  });

  it("has changed nothing and left no audit entry after all those attempts, and still works", async () => {
    const audit = await call("GET", "/v1/admin/audit?limit=200", OPS_KEY);
    expect(audit.status).toBe(200);
    const entries = ((await audit.json()) as { items: { actor: string; entity: string; id: string }[] }).items;
    const advertiserKeyIds = Object.values(keys).map((k) => k.id);
    expect(entries.filter((e) => advertiserKeyIds.includes(e.actor))).toEqual([]);
    const listed = await call("GET", "/v1/admin/keys", OPS_KEY);
    const records = ((await listed.json()) as { items: { id: string; revokedAt?: string }[] }).items;
    for (const k of Object.values(keys)) expect(records.find((r) => r.id === k.id)?.revokedAt).toBeUndefined();
    expect((await call("GET", `/v1/admin/advertisers/${self}`, key())).status).toBe(200);
  });
});

describe("revocation", () => {
  it("answers 401 to a revoked advertiser key at once, everywhere it was allowed before", async () => {
    const { id, key } = await issue("walmart");
    const allowed = ["/v1/admin/advertisers/walmart", "/v1/admin/campaigns", "/v1/admin/units/walmart-proud-source", `/v1/reports/campaigns/walmart-us-manufacturing?${RANGE}`, `/v1/reports/advertisers/walmart?${RANGE}`];
    // Used first, so any lookup cache holds it as valid.
    for (const path of allowed) expect((await call("GET", path, key)).status, path).toBe(200);
    const revoke = await call("DELETE", `/v1/admin/keys/${id}`, OPS_KEY);
    expect(revoke.status).toBe(204);
    for (const path of allowed) await expectError(await call("GET", path, key), 401, "UNAUTHENTICATED");
    await expectError(await call("PATCH", "/v1/admin/campaigns/walmart-us-manufacturing", key, { status: "paused" }), 401, "UNAUTHENTICATED");
    // The other keys are untouched.
    expect((await call("GET", "/v1/admin/campaigns", (keys.walmart as { key: string }).key)).status).toBe(200);
    expect((await call("GET", "/v1/admin/campaigns", (keys.microsoft as { key: string }).key)).status).toBe(200);
  });
});
