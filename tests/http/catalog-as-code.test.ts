/**
 * Catalog as code: export the whole catalog as one document, preview an edited document's diff
 * (`PUT /v1/admin/catalog?dryRun=true`), push it, list versions and restore one; invalid pushes
 * and advertiser keys change nothing.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { buildTestService } from "../helpers/app.js";
import {
  adminCall,
  adminOk,
  decide,
  expectError,
  issueAdvertiserKey,
  servedCampaigns,
  type App,
  type ListPage,
  type TestService,
} from "./support.js";

const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";

interface Entity {
  id: string;
  [field: string]: unknown;
}

interface CatalogExport {
  version: number;
  advertisers: Entity[];
  placements: Entity[];
  campaigns: Entity[];
  units: Entity[];
}

type Kind = "advertisers" | "placements" | "campaigns" | "units";

interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

interface CatalogDiff {
  added: { entity: string; id: string; value: unknown }[];
  changed: { entity: string; id: string; fields: FieldChange[] }[];
  removed: { entity: string; id: string; value: unknown }[];
}

interface ImportResult {
  dryRun: boolean;
  version: number;
  previousVersion: number;
  diff: CatalogDiff;
}

interface RestoreResult {
  version: number;
  restoredFrom: number;
  previousVersion: number;
  diff: CatalogDiff;
}

interface VersionSummary {
  version: number;
  at: string;
  actor: string;
  action: string;
  changes: { entity: string; id: string; change: string }[];
}

interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  entity: string;
  id: string;
  before: unknown;
  after: unknown;
}

const fixtureCatalog = JSON.parse(readFileSync(new URL("../fixtures/catalog.json", import.meta.url), "utf8")) as Omit<CatalogExport, "version">;

const opened: TestService[] = [];
async function service(): Promise<TestService> {
  const s = await buildTestService();
  opened.push(s);
  return s;
}

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

function byId(list: readonly Entity[]): Entity[] {
  return [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function entity(doc: CatalogExport, kind: Kind, id: string): Entity {
  const found = doc[kind].find((e) => e.id === id);
  if (!found) throw new Error(`no ${kind} ${id} in the document`);
  return found;
}

async function exportCatalog(app: App): Promise<CatalogExport> {
  return adminOk<CatalogExport>(app, "GET", "/v1/admin/catalog");
}

/** The catalog without its version, every list sorted by id: equal catalogs give equal values. */
function contents(doc: CatalogExport): Record<Kind, Entity[]> {
  return { advertisers: byId(doc.advertisers), placements: byId(doc.placements), campaigns: byId(doc.campaigns), units: byId(doc.units) };
}

/** An economy page (Walmart's targeting) for a fresh reader, so no cap is in the way. */
let readerSeq = 0;
function economyPage(): unknown {
  return {
    page: { url: "https://news.example/economy/india-trade-war-winner", section: "economy", topics: ["trade", "india"], language: "en" },
    user: { key: `catalog-as-code-reader-${++readerSeq}` },
    slots: [
      { id: "mid-1", placement: "article-mid", count: 1 },
      { id: "end-1", placement: "article-end", count: 3 },
    ],
  };
}

async function walmartServes(app: App): Promise<boolean> {
  return servedCampaigns(await decide(app, economyPage())).includes(WALMART);
}

const NEW_UNIT: Entity = {
  id: "microsoft-quantum-2",
  campaignId: MICROSOFT,
  format: "native-card",
  headline: "A second quantum story",
  body: "More on quantum leadership.",
  cta: { text: "Read", url: "https://blogs.microsoft.example/quantum-2" },
};

/**
 * The export edited by hand: Microsoft's weight 3 -> 7, Walmart paused and excluded from
 * elections pages, a new Microsoft unit, the newsroom's card unit removed.
 */
function editedExport(exported: CatalogExport): CatalogExport {
  const doc = structuredClone(exported);
  entity(doc, "campaigns", MICROSOFT).weight = 7;
  const walmart = entity(doc, "campaigns", WALMART);
  walmart.status = "paused";
  walmart.exclusions = { topics: ["military-conflict", "terrorism", "elections"], keywords: ["boko haram"] };
  doc.units = doc.units.filter((u) => u.id !== "newsroom-daily-card");
  doc.units.push(structuredClone(NEW_UNIT));
  return doc;
}

function sortedChanged(diff: CatalogDiff): CatalogDiff["changed"] {
  return [...diff.changed].sort((a, b) => (a.id < b.id ? -1 : 1)).map((c) => ({ ...c, fields: [...c.fields].sort((a, b) => (a.path < b.path ? -1 : 1)) }));
}

function expectEditedDiff(diff: CatalogDiff, exported: CatalogExport): void {
  expect(sortedChanged(diff)).toEqual([
    { entity: "campaign", id: MICROSOFT, fields: [{ path: "weight", before: 3, after: 7 }] },
    {
      entity: "campaign",
      id: WALMART,
      fields: [
        { path: "exclusions.topics", before: ["military-conflict", "terrorism"], after: ["military-conflict", "terrorism", "elections"] },
        { path: "status", before: "active", after: "paused" },
      ],
    },
  ]);
  expect(diff.added).toEqual([{ entity: "unit", id: NEW_UNIT.id, value: { ...NEW_UNIT, disclosureLabel: "Sponsored" } }]);
  expect(diff.removed).toEqual([{ entity: "unit", id: "newsroom-daily-card", value: entity(exported, "units", "newsroom-daily-card") }]);
}

async function listAllVersions(app: App, limit: number): Promise<{ pages: number; items: VersionSummary[] }> {
  const items: VersionSummary[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor === null ? `?limit=${limit}` : `?limit=${limit}&cursor=${encodeURIComponent(cursor)}`;
    const page: ListPage<VersionSummary> = await adminOk<ListPage<VersionSummary>>(app, "GET", `/v1/admin/catalog/versions${query}`);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
    if (pages > 50) throw new Error("versions paging does not end");
  } while (cursor !== null);
  return { pages, items };
}

describe("exporting the catalog", () => {
  it("exports every advertiser, placement, campaign and unit with the catalog version", async () => {
    const { app } = await service();
    const doc = await exportCatalog(app);
    expect(doc.version).toBe(1);
    expect(Object.keys(doc).sort()).toEqual(["advertisers", "campaigns", "placements", "units", "version"]);
    expect(contents(doc)).toEqual({
      advertisers: byId(fixtureCatalog.advertisers),
      placements: byId(fixtureCatalog.placements),
      campaigns: byId(fixtureCatalog.campaigns),
      units: byId(fixtureCatalog.units),
    });
  });

  it("accepts its own export back unchanged as a no-op that keeps the version", async () => {
    const { app } = await service();
    const doc = await exportCatalog(app);
    const result = await adminOk<ImportResult>(app, "PUT", "/v1/admin/catalog", doc);
    expect(result.diff).toEqual({ added: [], changed: [], removed: [] });
    expect(result.version).toBe(1);
    expect((await exportCatalog(app)).version).toBe(1);
  });
});

describe("dry-running an edited export", () => {
  it("lists exactly the changed fields with before and after, and the added and removed entities", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    const result = await adminOk<ImportResult>(app, "PUT", "/v1/admin/catalog?dryRun=true", editedExport(exported));
    expect(result.dryRun).toBe(true);
    expect(result.version).toBe(1);
    expect(result.previousVersion).toBe(1);
    expectEditedDiff(result.diff, exported);
  });

  it("changes nothing: the version, the document, the history and decisions stay as they were", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    expect(await walmartServes(app)).toBe(true);
    await adminOk<ImportResult>(app, "PUT", "/v1/admin/catalog?dryRun=true", editedExport(exported));
    const after = await exportCatalog(app);
    expect(after.version).toBe(exported.version);
    expect(contents(after)).toEqual(contents(exported));
    expect((await adminOk<ListPage<VersionSummary>>(app, "GET", "/v1/admin/catalog/versions")).items.map((v) => v.version)).toEqual([1]);
    // Walmart is paused in the previewed document but still serves on an economy page.
    expect(await walmartServes(app)).toBe(true);
    const audit = await adminOk<ListPage<AuditEntry>>(app, "GET", "/v1/admin/audit?entity=catalog");
    expect(audit.items).toEqual([]);
  });

  it("rejects a dryRun value other than true or false with 400", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    await expectError(await adminCall(app, "PUT", "/v1/admin/catalog?dryRun=yes", exported), 400, "BAD_REQUEST");
    expect((await exportCatalog(app)).version).toBe(1);
  });
});

describe("pushing and restoring", () => {
  it("applies a pushed document as a new version, and decisions follow it (a paused Walmart stops serving)", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    expect(await walmartServes(app)).toBe(true);

    const result = await adminOk<ImportResult>(app, "PUT", "/v1/admin/catalog", editedExport(exported));
    expect(result.dryRun).toBe(false);
    expect(result.previousVersion).toBe(1);
    expect(result.version).toBe(2);
    expectEditedDiff(result.diff, exported);

    const after = await exportCatalog(app);
    expect(after.version).toBe(2);
    expect(entity(after, "campaigns", WALMART).status).toBe("paused");
    expect(entity(after, "campaigns", MICROSOFT).weight).toBe(7);
    expect(after.units.map((u) => u.id)).toContain(NEW_UNIT.id);
    expect(after.units.map((u) => u.id)).not.toContain("newsroom-daily-card");
    for (let i = 0; i < 5; i++) expect(await walmartServes(app)).toBe(false);
  });

  it("restoring the previous version brings the old catalog and the old behaviour back, as a new version", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    await adminOk<ImportResult>(app, "PUT", "/v1/admin/catalog", editedExport(exported));
    expect(await walmartServes(app)).toBe(false);

    const restored = await adminOk<RestoreResult>(app, "POST", "/v1/admin/catalog/versions/1/restore");
    expect(restored.restoredFrom).toBe(1);
    expect(restored.previousVersion).toBe(2);
    expect(restored.version).toBe(3);
    expect(sortedChanged(restored.diff).map((c) => c.id)).toEqual([MICROSOFT, WALMART]);
    expect(restored.diff.added.map((a) => a.id)).toEqual(["newsroom-daily-card"]);
    expect(restored.diff.removed.map((r) => r.id)).toEqual([NEW_UNIT.id]);

    const after = await exportCatalog(app);
    expect(after.version).toBe(3);
    expect(contents(after)).toEqual(contents(exported));
    expect(await walmartServes(app)).toBe(true);
  });

  it("answers 404 for restoring a version that does not exist, and changes nothing", async () => {
    const { app } = await service();
    await expectError(await adminCall(app, "POST", "/v1/admin/catalog/versions/999/restore"), 404, "NOT_FOUND");
    await expectError(await adminCall(app, "POST", "/v1/admin/catalog/versions/2/restore"), 404, "NOT_FOUND");
    await expectError(await adminCall(app, "POST", "/v1/admin/catalog/versions/abc/restore"), 404, "NOT_FOUND");
    expect((await exportCatalog(app)).version).toBe(1);
  });
});

describe("invalid pushes", () => {
  /** An export with four problems: a unit of a missing campaign, an http CTA, a duplicate id, an unknown field. */
  function brokenExport(exported: CatalogExport): CatalogExport {
    const doc = structuredClone(exported);
    doc.units.push({ ...structuredClone(NEW_UNIT), id: "orphan-unit", campaignId: "no-such-campaign" });
    const microsoftUnit = entity(doc, "units", "microsoft-quantum-leadership");
    microsoftUnit.cta = { text: "Learn more", url: "http://blogs.microsoft.example/quantum-leadership" };
    doc.advertisers.push(structuredClone(entity(doc, "advertisers", "walmart")));
    entity(doc, "campaigns", MICROSOFT).budget = 1000;
    return doc;
  }

  function indexOf(doc: CatalogExport, kind: Kind, predicate: (e: Entity) => boolean): number {
    const i = doc[kind].findIndex(predicate);
    if (i < 0) throw new Error(`nothing matches in ${kind}`);
    return i;
  }

  it("answers 400 listing every problem in details (missing campaign, http CTA, duplicate id, unknown field) and changes nothing", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    const doc = brokenExport(exported);
    const body = await expectError(await adminCall(app, "PUT", "/v1/admin/catalog", doc), 400, "BAD_REQUEST");
    const details = body.error.details ?? [];
    const paths = details.map((d) => d.path);
    const orphan = indexOf(doc, "units", (u) => u.id === "orphan-unit");
    const http = indexOf(doc, "units", (u) => u.id === "microsoft-quantum-leadership");
    const duplicate = doc.advertisers.length - 1;
    const unknown = indexOf(doc, "campaigns", (c) => c.id === MICROSOFT);
    // All four at once: the schema problems (http CTA, unknown field) and the reference problems
    // (missing campaign, duplicate id) in one answer, so one round of fixes is enough.
    expect(details.some((d) => d.path.startsWith(`campaigns.${unknown}`) && d.message.includes("budget")), JSON.stringify(details)).toBe(true);
    expect(paths).toEqual(expect.arrayContaining([`units.${http}.cta.url`, `units.${orphan}.campaignId`, `advertisers.${duplicate}.id`]));

    const after = await exportCatalog(app);
    expect(after.version).toBe(1);
    expect(contents(after)).toEqual(contents(exported));
  });

  it("lists every schema problem together (http CTA and unknown field) with 400", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    const doc = structuredClone(exported);
    const http = indexOf(doc, "units", (u) => u.id === "microsoft-quantum-leadership");
    entity(doc, "units", "microsoft-quantum-leadership").cta = { text: "Learn more", url: "http://blogs.microsoft.example/q" };
    const unknown = indexOf(doc, "campaigns", (c) => c.id === MICROSOFT);
    entity(doc, "campaigns", MICROSOFT).budget = 1000;
    const body = await expectError(await adminCall(app, "PUT", "/v1/admin/catalog", doc), 400, "BAD_REQUEST");
    const details = body.error.details ?? [];
    expect(details.map((d) => d.path)).toContain(`units.${http}.cta.url`);
    expect(details.some((d) => d.path.startsWith(`campaigns.${unknown}`) && d.message.includes("budget"))).toBe(true);
    expect((await exportCatalog(app)).version).toBe(1);
  });

  it("lists every reference problem together (missing campaign and duplicate id) with 400", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    const doc = structuredClone(exported);
    doc.units.push({ ...structuredClone(NEW_UNIT), id: "orphan-unit", campaignId: "no-such-campaign" });
    doc.advertisers.push(structuredClone(entity(doc, "advertisers", "walmart")));
    const body = await expectError(await adminCall(app, "PUT", "/v1/admin/catalog", doc), 400, "BAD_REQUEST");
    const paths = (body.error.details ?? []).map((d) => d.path);
    expect(paths).toContain(`units.${doc.units.length - 1}.campaignId`);
    expect(paths).toContain(`advertisers.${doc.advertisers.length - 1}.id`);
    expect((await exportCatalog(app)).version).toBe(1);
  });

  it("rejects an invalid document on a dry run the same way", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    const doc = structuredClone(exported);
    doc.units.push({ ...structuredClone(NEW_UNIT), id: "orphan-unit", campaignId: "no-such-campaign" });
    const body = await expectError(await adminCall(app, "PUT", "/v1/admin/catalog?dryRun=true", doc), 400, "BAD_REQUEST");
    expect((body.error.details ?? []).map((d) => d.path)).toContain(`units.${doc.units.length - 1}.campaignId`);
  });

  it("rejects an unknown top-level field and a document that is not an object with 400", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    const body = await expectError(await adminCall(app, "PUT", "/v1/admin/catalog", { ...exported, creatives: [] }), 400, "BAD_REQUEST");
    expect(JSON.stringify(body.error.details)).toContain("creatives");
    await expectError(await adminCall(app, "PUT", "/v1/admin/catalog", []), 400, "BAD_REQUEST");
    expect((await exportCatalog(app)).version).toBe(1);
  });
});

describe("versions", () => {
  /** One write of every kind, each through the API: create, update, delete, import, restore. */
  async function writeEveryWay(app: App): Promise<number[]> {
    const seen: number[] = [(await exportCatalog(app)).version];
    const bump = async (): Promise<void> => {
      seen.push((await exportCatalog(app)).version);
    };
    await adminOk(app, "POST", "/v1/admin/advertisers", { id: "acme", name: "Acme" }, 201);
    await bump();
    await adminOk(app, "PATCH", "/v1/admin/advertisers/acme", { name: "Acme Corp" });
    await bump();
    await adminOk(app, "DELETE", "/v1/admin/advertisers/acme", undefined, 204);
    await bump();
    const exported = await exportCatalog(app);
    entity(exported, "campaigns", MICROSOFT).weight = 7;
    await adminOk(app, "PUT", "/v1/admin/catalog", exported);
    await bump();
    await adminOk(app, "POST", "/v1/admin/catalog/versions/1/restore");
    await bump();
    return seen;
  }

  it("bumps the version on every write: create, patch, delete, import and restore", async () => {
    const { app } = await service();
    expect(await writeEveryWay(app)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("lists versions newest first with actor, action and the entities changed", async () => {
    const { app } = await service();
    await writeEveryWay(app);
    const page = await adminOk<ListPage<VersionSummary>>(app, "GET", "/v1/admin/catalog/versions");
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((v) => [v.version, v.actor, v.action])).toEqual([
      [6, "ops-bootstrap", "restore"],
      [5, "ops-bootstrap", "import"],
      [4, "ops-bootstrap", "delete"],
      [3, "ops-bootstrap", "update"],
      [2, "ops-bootstrap", "create"],
      [1, "system", "import"],
    ]);
    for (const v of page.items) expect(Number.isNaN(Date.parse(v.at))).toBe(false);
    const byVersion = new Map(page.items.map((v) => [v.version, v.changes]));
    expect(byVersion.get(2)).toEqual([{ entity: "advertiser", id: "acme", change: "added" }]);
    expect(byVersion.get(3)).toEqual([{ entity: "advertiser", id: "acme", change: "changed" }]);
    expect(byVersion.get(4)).toEqual([{ entity: "advertiser", id: "acme", change: "removed" }]);
    expect(byVersion.get(5)).toEqual([{ entity: "campaign", id: MICROSOFT, change: "changed" }]);
    expect(byVersion.get(6)).toEqual([{ entity: "campaign", id: MICROSOFT, change: "changed" }]);
  });

  it("pages through versions with limit and cursor, each version once, newest first", async () => {
    const { app } = await service();
    await writeEveryWay(app);
    const { pages, items } = await listAllVersions(app, 2);
    expect(items.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
    const { items: byFour } = await listAllVersions(app, 4);
    expect(byFour.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("rejects a cursor that no page returned and a limit out of range with 400", async () => {
    const { app } = await service();
    await expectError(await adminCall(app, "GET", "/v1/admin/catalog/versions?cursor=not-a-cursor"), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "GET", "/v1/admin/catalog/versions?limit=0"), 400, "BAD_REQUEST");
    await expectError(await adminCall(app, "GET", "/v1/admin/catalog/versions?limit=201"), 400, "BAD_REQUEST");
  });
});

describe("the audit trail of catalog documents", () => {
  it("has import and restore entries for the catalog with actor ops-bootstrap and the versions", async () => {
    const { app } = await service();
    const exported = await exportCatalog(app);
    await adminOk(app, "PUT", "/v1/admin/catalog", editedExport(exported));
    await adminOk(app, "POST", "/v1/admin/catalog/versions/1/restore");
    const audit = await adminOk<ListPage<AuditEntry>>(app, "GET", "/v1/admin/audit?entity=catalog");
    expect(audit.items.map((e) => [e.action, e.entity, e.id, e.actor])).toEqual([
      ["restore", "catalog", "catalog", "ops-bootstrap"],
      ["import", "catalog", "catalog", "ops-bootstrap"],
    ]);
    const [restore, imported] = audit.items as [AuditEntry, AuditEntry];
    expect(imported.before).toEqual({ version: 1 });
    expect(imported.after).toMatchObject({ version: 2 });
    expect(restore.before).toEqual({ version: 2 });
    expect(restore.after).toMatchObject({ version: 3, restoredFrom: 1 });
    // The unfiltered trail has them too, newest first.
    const all = await adminOk<ListPage<AuditEntry>>(app, "GET", "/v1/admin/audit");
    expect(all.items.slice(0, 2).map((e) => e.action)).toEqual(["restore", "import"]);
  });
});

describe("advertiser keys", () => {
  it("get 403 on export, dry run, push, versions and restore, and change nothing", async () => {
    const { app } = await service();
    const { key } = await issueAdvertiserKey(app, "walmart");
    const exported = await exportCatalog(app);
    await expectError(await adminCall(app, "GET", "/v1/admin/catalog", undefined, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "PUT", "/v1/admin/catalog?dryRun=true", editedExport(exported), key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "PUT", "/v1/admin/catalog", editedExport(exported), key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "GET", "/v1/admin/catalog/versions", undefined, key), 403, "FORBIDDEN");
    await expectError(await adminCall(app, "POST", "/v1/admin/catalog/versions/1/restore", undefined, key), 403, "FORBIDDEN");
    const after = await exportCatalog(app);
    expect(after.version).toBe(1);
    expect(contents(after)).toEqual(contents(exported));
  });

  it("a request without any key gets 401 on export and push", async () => {
    const { app } = await service();
    const res = await app.request("/v1/admin/catalog");
    await expectError(res, 401, "UNAUTHENTICATED");
    const put = await app.request("/v1/admin/catalog", { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" });
    await expectError(put, 401, "UNAUTHENTICATED");
  });
});
