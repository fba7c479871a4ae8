import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  AdvertiserSchema,
  CampaignSchema,
  CatalogDocumentSchema,
  IdSchema,
  PlacementSchema,
  TargetingSchema,
  UnitSchema,
  type CampaignInput,
  type TargetingNode,
} from "../../src/domain/catalog-schema.js";
import { documentProblems, lookupOf, referenceProblems, referencesTo } from "../../src/domain/catalog-validation.js";
import { aCampaign, aCatalog, anAdvertiser, aPlacement, aUnit, fixtureCatalog, leaf } from "../helpers/builders.js";

/** The paths of the issues a schema reports for `input` (empty when it parses). */
function issuePaths(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => i.path.join("."));
}

const accepts = (schema: z.ZodType, input: unknown): boolean => schema.safeParse(input).success;

const minimalCampaign: CampaignInput = { id: "c1", advertiserId: "acme", name: "C1", tier: "standard", placements: ["article-mid"] };
const minimalUnit = { id: "u1", campaignId: "c1", format: "native-card", headline: "H", body: "B", cta: { text: "Go", url: "https://acme.example" } };

describe("IdSchema", () => {
  it.each(["a", "walmart-us-manufacturing", "0_9", "a".repeat(64)])("accepts the id %s", (id) => {
    expect(accepts(IdSchema, id)).toBe(true);
  });

  it.each(["", "Walmart", "-leading-dash", "_leading", "has space", "a".repeat(65), "ünïcode"])("rejects the id %j", (id) => {
    expect(accepts(IdSchema, id)).toBe(false);
  });
});

describe("CampaignSchema", () => {
  it("defaults status to active and weight to 1", () => {
    const parsed = CampaignSchema.parse(minimalCampaign);
    expect(parsed.status).toBe("active");
    expect(parsed.weight).toBe(1);
  });

  it("rejects unknown fields", () => {
    expect(issuePaths(CampaignSchema, { ...minimalCampaign, budget: 100 })).toEqual([""]);
  });

  it("rejects unknown fields inside exclusions and caps", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, exclusions: { topics: ["war"], urls: ["x"] } })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, frequencyCaps: [{ limit: 1, window: "1d", scope: "user" }] })).toBe(false);
  });

  it.each(["id", "advertiserId", "name", "tier", "placements"] as const)("requires %s", (field) => {
    const input: Record<string, unknown> = { ...minimalCampaign };
    delete input[field];
    expect(accepts(CampaignSchema, input)).toBe(false);
  });

  it("rejects an unknown tier or status", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, tier: "premium" })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, status: "deleted" })).toBe(false);
  });

  it("accepts weights from 1 to 1000 only, as integers", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, weight: 1000 })).toBe(true);
    expect(accepts(CampaignSchema, { ...minimalCampaign, weight: 0 })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, weight: 1001 })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, weight: 1.5 })).toBe(false);
  });

  it("requires at least one placement", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, placements: [] })).toBe(false);
  });

  it("accepts a flight whose end is after its start", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, startAt: "2026-11-01T00:00:00Z", endAt: "2026-11-01T00:00:01Z" })).toBe(true);
  });

  it("rejects a flight whose end is at or before its start, on endAt", () => {
    expect(issuePaths(CampaignSchema, { ...minimalCampaign, startAt: "2026-11-01T00:00:00Z", endAt: "2026-11-01T00:00:00Z" })).toEqual(["endAt"]);
    expect(issuePaths(CampaignSchema, { ...minimalCampaign, startAt: "2026-12-01T00:00:00Z", endAt: "2026-11-01T00:00:00Z" })).toEqual(["endAt"]);
  });

  it("compares flight bounds as instants across offsets", () => {
    // 10:00+02:00 is 08:00Z: before 09:00Z, so this flight is valid.
    expect(accepts(CampaignSchema, { ...minimalCampaign, startAt: "2026-11-01T10:00:00+02:00", endAt: "2026-11-01T09:00:00Z" })).toBe(true);
    expect(accepts(CampaignSchema, { ...minimalCampaign, startAt: "2026-11-01T10:00:00-02:00", endAt: "2026-11-01T09:00:00Z" })).toBe(false);
  });

  it("accepts an open-ended flight and a flight already over", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, startAt: "2026-11-01T00:00:00Z" })).toBe(true);
    expect(accepts(CampaignSchema, { ...minimalCampaign, endAt: "2020-01-01T00:00:00Z" })).toBe(true);
    expect(accepts(CampaignSchema, { ...minimalCampaign, startAt: "2019-01-01T00:00:00Z", endAt: "2020-01-01T00:00:00Z" })).toBe(true);
  });

  it("rejects a flight bound that is not an ISO-8601 date-time", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, startAt: "2026-11-01" })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, endAt: "tomorrow" })).toBe(false);
  });

  it("accepts every cap window of the contract", () => {
    const frequencyCaps = [
      { limit: 1, window: "1h" },
      { limit: 3, window: "1d" },
      { limit: 8, window: "7d" },
      { limit: 20, window: "30d" },
      { limit: 50, window: "lifetime" },
      { limit: 2, window: { seconds: 90 } },
    ];
    expect(accepts(CampaignSchema, { ...minimalCampaign, frequencyCaps })).toBe(true);
  });

  it("rejects an unknown cap window, a window of 0 seconds and a limit of 0", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, frequencyCaps: [{ limit: 1, window: "2d" }] })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, frequencyCaps: [{ limit: 1, window: { seconds: 0 } }] })).toBe(false);
    expect(accepts(CampaignSchema, { ...minimalCampaign, frequencyCaps: [{ limit: 0, window: "1d" }] })).toBe(false);
  });

  it("rejects blank exclusion words", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, exclusions: { topics: ["  "] } })).toBe(false);
  });
});

describe("TargetingSchema", () => {
  it("accepts a leaf of every field and operator the contract lists", () => {
    const tree: TargetingNode = {
      all: [
        leaf("section", "in", ["economy"]),
        leaf("topics", "notIn", ["war"]),
        leaf("keywords", "contains", ["korea"]),
        leaf("url", "prefix", ["https://news.example/world"]),
        leaf("language", "in", ["en"]),
        leaf("geo.country", "notIn", ["RU"]),
        leaf("device.type", "in", ["mobile"]),
        leaf("daypart", "in", [0, 12, 23]),
      ],
    };
    expect(accepts(TargetingSchema, tree)).toBe(true);
  });

  it("accepts daypart hours 0 to 23 as numbers or numeric strings", () => {
    expect(accepts(TargetingSchema, leaf("daypart", "notIn", ["0", "23", 7]))).toBe(true);
  });

  it.each([[24], [-1], [7.5], ["25"], ["noon"]])("rejects the daypart hour %j", (hour) => {
    expect(accepts(TargetingSchema, leaf("daypart", "in", [hour]))).toBe(false);
  });

  it.each(["contains", "prefix"] as const)("rejects daypart with the %s operator", (op) => {
    expect(issuePaths(TargetingSchema, leaf("daypart", op, [7]))).toContain("op");
  });

  it("rejects numbers as values of a word field", () => {
    expect(accepts(TargetingSchema, leaf("section", "in", [7]))).toBe(false);
  });

  it("rejects an unknown field or operator", () => {
    expect(accepts(TargetingSchema, { field: "title", op: "in", values: ["x"] })).toBe(false);
    expect(accepts(TargetingSchema, { field: "section", op: "equals", values: ["x"] })).toBe(false);
  });

  it("rejects a leaf without values, an empty value or an empty all / any", () => {
    expect(accepts(TargetingSchema, leaf("section", "in", []))).toBe(false);
    expect(accepts(TargetingSchema, leaf("section", "in", [""]))).toBe(false);
    expect(accepts(TargetingSchema, { all: [] })).toBe(false);
    expect(accepts(TargetingSchema, { any: [] })).toBe(false);
  });

  it("rejects unknown fields on leaves and nodes, and nodes mixing all and any", () => {
    expect(accepts(TargetingSchema, { ...leaf("section", "in", ["x"]), negate: true })).toBe(false);
    const economy = leaf("section", "in", ["economy"]);
    expect(accepts(TargetingSchema, { all: [economy], any: [economy] })).toBe(false);
  });

  const nest = (levels: number): TargetingNode => {
    let node: TargetingNode = leaf("section", "in", ["economy"]);
    for (let i = 1; i < levels; i++) node = { not: node };
    return node;
  };

  it("accepts a campaign targeting tree eight levels deep and rejects one nine levels deep", () => {
    expect(accepts(CampaignSchema, { ...minimalCampaign, targeting: nest(1) })).toBe(true);
    expect(accepts(CampaignSchema, { ...minimalCampaign, targeting: nest(8) })).toBe(true);
    expect(issuePaths(CampaignSchema, { ...minimalCampaign, targeting: nest(9) })).toEqual(["targeting"]);
  });

  it("rejects a targeting tree thousands of levels deep without throwing", () => {
    // A 1 MiB admin body holds ~150,000 levels of {"not":...}; validation must answer 400, not blow the stack.
    let result: ReturnType<typeof CampaignSchema.safeParse> | undefined;
    expect(() => {
      result = CampaignSchema.safeParse({ ...minimalCampaign, targeting: nest(5000) });
    }).not.toThrow();
    expect(result?.success).toBe(false);
  });
});

describe("UnitSchema", () => {
  it("defaults the disclosure label to Sponsored", () => {
    expect(UnitSchema.parse(minimalUnit).disclosureLabel).toBe("Sponsored");
  });

  it("rejects a blank disclosure label", () => {
    expect(issuePaths(UnitSchema, { ...minimalUnit, disclosureLabel: "   " })).toEqual(["disclosureLabel"]);
  });

  it.each(["http://acme.example", "javascript:alert(1)", "ftp://acme.example/x", "//acme.example", "acme.example"])(
    "rejects the CTA URL %s",
    (url) => {
      expect(issuePaths(UnitSchema, { ...minimalUnit, cta: { text: "Go", url } })).toContain("cta.url");
    },
  );

  it("accepts an https CTA URL", () => {
    expect(accepts(UnitSchema, { ...minimalUnit, cta: { text: "Go", url: "https://acme.example/landing?a=1" } })).toBe(true);
  });

  it("requires an https image URL and defaults its alt text to empty", () => {
    const image = { url: "https://cdn.example/i.jpg", width: 1200, height: 628 };
    expect(UnitSchema.parse({ ...minimalUnit, image }).image?.alt).toBe("");
    expect(accepts(UnitSchema, { ...minimalUnit, image: { ...image, url: "http://cdn.example/i.jpg" } })).toBe(false);
  });

  it("rejects unknown fields on the unit, its CTA and its image", () => {
    expect(accepts(UnitSchema, { ...minimalUnit, landingUrl: "https://x.example" })).toBe(false);
    expect(accepts(UnitSchema, { ...minimalUnit, cta: { ...minimalUnit.cta, target: "_top" } })).toBe(false);
    expect(accepts(UnitSchema, { ...minimalUnit, image: { url: "https://cdn.example/i.jpg", width: 1, height: 1, srcset: "x" } })).toBe(false);
  });

  it("rejects an unknown format", () => {
    expect(accepts(UnitSchema, { ...minimalUnit, format: "banner" })).toBe(false);
  });

  it("rejects a blank headline and body", () => {
    expect(accepts(UnitSchema, { ...minimalUnit, headline: " " })).toBe(false);
    expect(accepts(UnitSchema, { ...minimalUnit, body: "" })).toBe(false);
  });
});

describe("AdvertiserSchema and PlacementSchema", () => {
  it("accepts an advertiser with competitive labels and rejects unknown fields", () => {
    expect(accepts(AdvertiserSchema, { id: "acme", name: "Acme", competitiveLabels: ["retail"] })).toBe(true);
    expect(accepts(AdvertiserSchema, { id: "acme", name: "Acme", website: "https://acme.example" })).toBe(false);
  });

  it("accepts maxUnits from 1 to 5 only", () => {
    expect(accepts(PlacementSchema, { id: "p", formats: ["native-card"], maxUnits: 5 })).toBe(true);
    expect(accepts(PlacementSchema, { id: "p", formats: ["native-card"], maxUnits: 0 })).toBe(false);
    expect(accepts(PlacementSchema, { id: "p", formats: ["native-card"], maxUnits: 6 })).toBe(false);
  });

  it("requires at least one known format on a placement", () => {
    expect(accepts(PlacementSchema, { id: "p", formats: [], maxUnits: 1 })).toBe(false);
    expect(accepts(PlacementSchema, { id: "p", formats: ["banner"], maxUnits: 1 })).toBe(false);
  });
});

describe("CatalogDocumentSchema", () => {
  it("defaults missing lists to empty", () => {
    expect(CatalogDocumentSchema.parse({})).toEqual({ advertisers: [], placements: [], campaigns: [], units: [] });
  });

  it("rejects unknown top-level fields", () => {
    expect(accepts(CatalogDocumentSchema, { advertisers: [], version: 3 })).toBe(false);
  });

  it("parses the fixture catalog", () => {
    expect(fixtureCatalog().campaigns.map((c) => c.id)).toEqual(["walmart-us-manufacturing", "microsoft-quantum", "newsroom-daily"]);
  });
});

describe("documentProblems", () => {
  it("finds no problem in the fixture catalog", () => {
    expect(documentProblems(fixtureCatalog())).toEqual([]);
  });

  it("reports a duplicate id in each list at the later entry", () => {
    const doc = aCatalog({
      advertisers: [anAdvertiser(), anAdvertiser()],
      placements: [aPlacement(), aPlacement()],
      campaigns: [aCampaign(), aCampaign()],
      units: [aUnit(), aUnit()],
    });
    expect(documentProblems(doc)).toEqual([
      { path: "advertisers.1.id", message: 'duplicate id "acme"' },
      { path: "placements.1.id", message: 'duplicate id "article-mid"' },
      { path: "campaigns.1.id", message: 'duplicate id "acme-spring"' },
      { path: "units.1.id", message: 'duplicate id "acme-card"' },
    ]);
  });

  it("reports a campaign's unknown advertiser and unknown placements by path", () => {
    const doc = aCatalog({
      advertisers: [anAdvertiser()],
      placements: [aPlacement()],
      campaigns: [aCampaign({ advertiserId: "ghost", placements: ["article-mid", "nowhere", "gone"] })],
    });
    expect(documentProblems(doc)).toEqual([
      { path: "campaigns.0.advertiserId", message: 'unknown advertiser "ghost"' },
      { path: "campaigns.0.placements.1", message: 'unknown placement "nowhere"' },
      { path: "campaigns.0.placements.2", message: 'unknown placement "gone"' },
    ]);
  });

  it("reports a unit's unknown campaign", () => {
    const doc = aCatalog({ units: [aUnit({ campaignId: "ghost" })] });
    expect(documentProblems(doc)).toEqual([{ path: "units.0.campaignId", message: 'unknown campaign "ghost"' }]);
  });
});

describe("referenceProblems", () => {
  const lookup = lookupOf(aCatalog({ advertisers: [anAdvertiser()], placements: [aPlacement()], campaigns: [aCampaign()] }));

  it("finds no problem in an entity whose references exist", () => {
    expect(referenceProblems("campaign", aCampaign(), lookup)).toEqual([]);
    expect(referenceProblems("unit", aUnit(), lookup)).toEqual([]);
  });

  it("reports paths relative to the entity without a prefix", () => {
    expect(referenceProblems("unit", aUnit({ campaignId: "ghost" }), lookup)).toEqual([
      { path: "campaignId", message: 'unknown campaign "ghost"' },
    ]);
  });

  it("prefixes paths when given one", () => {
    expect(referenceProblems("campaign", aCampaign({ placements: ["nowhere"] }), lookup, "campaigns.4")).toEqual([
      { path: "campaigns.4.placements.0", message: 'unknown placement "nowhere"' },
    ]);
  });

  it("finds no references to check on advertisers and placements", () => {
    expect(referenceProblems("advertiser", anAdvertiser({ id: "other" }), lookup)).toEqual([]);
    expect(referenceProblems("placement", aPlacement({ id: "other" }), lookup)).toEqual([]);
  });
});

describe("referencesTo", () => {
  const doc = aCatalog({
    advertisers: [anAdvertiser({ id: "a" }), anAdvertiser({ id: "b" })],
    placements: [aPlacement({ id: "p1" }), aPlacement({ id: "p2" })],
    campaigns: [
      aCampaign({ id: "c1", advertiserId: "a", placements: ["p1"] }),
      aCampaign({ id: "c2", advertiserId: "a", placements: ["p1", "p2"] }),
      aCampaign({ id: "c3", advertiserId: "b", placements: ["p2"] }),
    ],
    units: [aUnit({ id: "u1", campaignId: "c1" }), aUnit({ id: "u2", campaignId: "c1" }), aUnit({ id: "u3", campaignId: "c3" })],
  });

  it("lists the campaigns of an advertiser", () => {
    expect(referencesTo("advertiser", "a", doc)).toEqual(["campaign:c1", "campaign:c2"]);
  });

  it("lists the campaigns running on a placement", () => {
    expect(referencesTo("placement", "p2", doc)).toEqual(["campaign:c2", "campaign:c3"]);
  });

  it("lists the units of a campaign", () => {
    expect(referencesTo("campaign", "c1", doc)).toEqual(["unit:u1", "unit:u2"]);
    expect(referencesTo("campaign", "c2", doc)).toEqual([]);
  });

  it("lists nothing for a unit or an unknown id", () => {
    expect(referencesTo("unit", "u1", doc)).toEqual([]);
    expect(referencesTo("advertiser", "ghost", doc)).toEqual([]);
  });
});
