/**
 * Referential rules of the catalog: what each entity must point at, and who points at an entity.
 * Used for single writes and for whole-document imports alike, so both reject the same things.
 */
import type { Advertiser, Campaign, CatalogDocument, EntityByKind, EntityKind, Placement, Unit } from "./catalog-schema.js";

export interface Problem {
  path: string;
  message: string;
}

export interface CatalogLookup {
  advertiser(id: string): Advertiser | undefined;
  placement(id: string): Placement | undefined;
  campaign(id: string): Campaign | undefined;
}

export function lookupOf(doc: CatalogDocument): CatalogLookup {
  const a = new Map(doc.advertisers.map((x) => [x.id, x]));
  const p = new Map(doc.placements.map((x) => [x.id, x]));
  const c = new Map(doc.campaigns.map((x) => [x.id, x]));
  return { advertiser: (id) => a.get(id), placement: (id) => p.get(id), campaign: (id) => c.get(id) };
}

/** Ids an entity refers to that do not exist. `path` is prefixed to each problem's path. */
export function referenceProblems<K extends EntityKind>(kind: K, entity: EntityByKind[K], lookup: CatalogLookup, path = ""): Problem[] {
  const at = (field: string): string => (path ? `${path}.${field}` : field);
  const problems: Problem[] = [];
  // Tolerant of malformed entities (a document that also fails its schema): only string
  // references are checked, so every problem can be listed in one answer.
  if (kind === "campaign") {
    const c = entity as Partial<Campaign>;
    if (typeof c.advertiserId === "string" && !lookup.advertiser(c.advertiserId)) {
      problems.push({ path: at("advertiserId"), message: `unknown advertiser "${c.advertiserId}"` });
    }
    if (Array.isArray(c.placements)) {
      c.placements.forEach((p, i) => {
        if (typeof p === "string" && !lookup.placement(p)) problems.push({ path: at(`placements.${i}`), message: `unknown placement "${p}"` });
      });
    }
  } else if (kind === "unit") {
    const u = entity as Partial<Unit>;
    if (typeof u.campaignId === "string" && !lookup.campaign(u.campaignId)) problems.push({ path: at("campaignId"), message: `unknown campaign "${u.campaignId}"` });
  }
  return problems;
}

/** The ids of entities that refer to `kind`/`id` (what a delete would leave dangling). */
export function referencesTo(kind: EntityKind, id: string, doc: CatalogDocument): string[] {
  switch (kind) {
    case "advertiser":
      return doc.campaigns.filter((c) => c.advertiserId === id).map((c) => `campaign:${c.id}`);
    case "placement":
      return doc.campaigns.filter((c) => c.placements.includes(id)).map((c) => `campaign:${c.id}`);
    case "campaign":
      return doc.units.filter((u) => u.campaignId === id).map((u) => `unit:${u.id}`);
    case "unit":
      return [];
  }
}

/** Every duplicate id and dangling reference in a whole catalog document. */
export function documentProblems(doc: CatalogDocument): Problem[] {
  const problems: Problem[] = [];
  const lookup = lookupOf(doc);
  const lists: [EntityKind, keyof CatalogDocument][] = [
    ["advertiser", "advertisers"],
    ["placement", "placements"],
    ["campaign", "campaigns"],
    ["unit", "units"],
  ];
  for (const [kind, plural] of lists) {
    const seen = new Set<string>();
    (doc[plural] as EntityByKind[typeof kind][]).forEach((entity, i) => {
      if (typeof entity.id !== "string") return;
      if (seen.has(entity.id)) problems.push({ path: `${plural}.${i}.id`, message: `duplicate id "${entity.id}"` });
      seen.add(entity.id);
      problems.push(...referenceProblems(kind, entity, lookup, `${plural}.${i}`));
    });
  }
  return problems;
}

/**
 * The lists of a document that failed its schema, as far as they go (non-objects become `{}` so
 * indexes still match the input), for `documentProblems` to list reference problems too.
 */
export function roughDocument(body: unknown): CatalogDocument {
  const obj = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const list = (k: string): unknown[] => {
    const v = obj[k];
    return Array.isArray(v) ? v.map((e) => (typeof e === "object" && e !== null && !Array.isArray(e) ? e : {})) : [];
  };
  return { advertisers: list("advertisers"), placements: list("placements"), campaigns: list("campaigns"), units: list("units") } as unknown as CatalogDocument;
}
