/**
 * Catalog builders for unit tests. Every builder returns a complete, schema-valid entity (the
 * parsed shape, defaults filled in) and takes explicit overrides, so a test states only what
 * matters to it.
 */
import { readFileSync } from "node:fs";
import {
  CatalogDocumentSchema,
  type Advertiser,
  type Campaign,
  type CatalogDocument,
  type Placement,
  type TargetingField,
  type TargetingLeaf,
  type TargetingOp,
  type Unit,
} from "../../src/domain/catalog-schema.js";
import { compileCatalog, type CatalogSnapshot, type CompiledCampaign, type CompiledPlacement } from "../../src/domain/catalog-snapshot.js";
import { buildPageContext, type PageContext, type PageContextInput } from "../../src/domain/context.js";

/** The fixed "now" of unit tests: 2026-11-27T12:00:00Z (a Friday, noon UTC). */
export const NOW_ISO = "2026-11-27T12:00:00Z";
export const NOW_MS = Date.parse(NOW_ISO);
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function anAdvertiser(overrides: Partial<Advertiser> = {}): Advertiser {
  return { id: "acme", name: "Acme", ...overrides };
}

export function aPlacement(overrides: Partial<Placement> = {}): Placement {
  return { id: "article-mid", formats: ["native-card"], maxUnits: 1, ...overrides };
}

export function aCampaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: "acme-spring",
    advertiserId: "acme",
    name: "Spring sale",
    status: "active",
    tier: "standard",
    weight: 1,
    placements: ["article-mid"],
    ...overrides,
  };
}

export function aUnit(overrides: Partial<Unit> = {}): Unit {
  return {
    id: "acme-card",
    campaignId: "acme-spring",
    format: "native-card",
    headline: "A headline",
    body: "A body",
    cta: { text: "Learn more", url: "https://acme.example/landing" },
    disclosureLabel: "Sponsored",
    ...overrides,
  };
}

export function aCatalog(parts: Partial<CatalogDocument> = {}): CatalogDocument {
  return { advertisers: [], placements: [], campaigns: [], units: [], ...parts };
}

export function leaf(field: TargetingField, op: TargetingOp, values: (string | number)[]): TargetingLeaf {
  return { field, op, values };
}

/** A normalised page context; `url` defaults to a news article, the clock to `NOW_MS`. */
export function pageContext(input: Partial<PageContextInput> = {}, nowMs: number = NOW_MS): PageContext {
  return buildPageContext({ url: "https://news.example/world/article", ...input }, nowMs);
}

/** The fixture catalog of tests/fixtures (the sample catalog), parsed. */
export function fixtureCatalog(): CatalogDocument {
  const raw = JSON.parse(readFileSync(new URL("../fixtures/catalog.json", import.meta.url), "utf8")) as unknown;
  return CatalogDocumentSchema.parse(raw);
}

export function compiledPlacement(snapshot: CatalogSnapshot, id: string): CompiledPlacement {
  const p = snapshot.placements.get(id);
  if (!p) throw new Error(`no placement ${id} in the snapshot`);
  return p;
}

export function compiledCampaign(snapshot: CatalogSnapshot, id: string): CompiledCampaign {
  const c = snapshot.campaigns.get(id);
  if (!c) throw new Error(`no campaign ${id} in the snapshot`);
  return c;
}

/** Compiles a catalog made of the given parts (version 1). */
export function snapshotOf(parts: Partial<CatalogDocument>): CatalogSnapshot {
  return compileCatalog(aCatalog(parts), 1);
}
