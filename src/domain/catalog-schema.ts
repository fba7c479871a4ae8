/**
 * Catalog entities (advertisers, placements, campaigns, units) as zod schemas: the single source of
 * the admin API's validation, the OpenAPI document, and the domain's types.
 *
 * Create schemas are `.strict()` (unknown fields are a 400 on admin writes). Patch schemas are the
 * same fields, all optional, without `id`.
 */
import { z } from "zod";
import { nestsDeeperThan } from "./json-depth.js";

/** Client-supplied ids: `[a-z0-9][a-z0-9_-]{0,63}`. */
export const IdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must match [a-z0-9][a-z0-9_-]{0,63}");

const Word = z.string().trim().min(1).max(200);
/** An https URL, stored in its normalised form (`new URL(u).href`: percent-encoded, no raw markup). */
const HttpsUrl = z
  .string()
  .max(2048)
  .url()
  .refine((u) => u.startsWith("https://"), "must be an https URL")
  .transform((u) => new URL(u).href);

export const AdvertiserSchema = z
  .object({
    id: IdSchema,
    name: z.string().trim().min(1).max(200),
    category: z.string().trim().min(1).max(100).optional(),
    competitiveLabels: z.array(Word).max(20).optional(),
  })
  .strict()
  .meta({ id: "Advertiser" });
export type Advertiser = z.infer<typeof AdvertiserSchema>;

export const FORMATS = ["native-card", "native-inline"] as const;
export const FormatSchema = z.enum(FORMATS);

export const PlacementSchema = z
  .object({
    id: IdSchema,
    formats: z.array(FormatSchema).min(1).max(FORMATS.length),
    maxUnits: z.number().int().min(1).max(5),
  })
  .strict()
  .meta({ id: "Placement" });
export type Placement = z.infer<typeof PlacementSchema>;

export const TARGETING_FIELDS = [
  "section",
  "topics",
  "keywords",
  "url",
  "language",
  "geo.country",
  "device.type",
  "daypart",
] as const;
export type TargetingField = (typeof TARGETING_FIELDS)[number];
export const TARGETING_OPS = ["in", "notIn", "contains", "prefix"] as const;
export type TargetingOp = (typeof TARGETING_OPS)[number];

/** A leaf compares one page field with a list of values. `daypart` values are UTC hours 0..23. */
export const TargetingLeafSchema = z
  .object({
    field: z.enum(TARGETING_FIELDS),
    op: z.enum(TARGETING_OPS),
    values: z.array(z.union([z.string().trim().min(1).max(2048), z.number().int()])).min(1).max(1000),
  })
  .strict()
  .superRefine((leaf, ctx) => {
    if (leaf.field === "daypart") {
      if (leaf.op !== "in" && leaf.op !== "notIn") {
        ctx.addIssue({ code: "custom", path: ["op"], message: "daypart supports only in and notIn" });
      }
      leaf.values.forEach((v, i) => {
        const h = typeof v === "number" ? v : Number(v);
        if (!Number.isInteger(h) || h < 0 || h > 23) {
          ctx.addIssue({ code: "custom", path: ["values", i], message: "daypart hours are integers 0..23" });
        }
      });
    } else {
      leaf.values.forEach((v, i) => {
        if (typeof v !== "string") {
          ctx.addIssue({ code: "custom", path: ["values", i], message: `${leaf.field} values are strings` });
        }
      });
    }
  });
export type TargetingLeaf = z.infer<typeof TargetingLeafSchema>;

export type TargetingNode =
  | TargetingLeaf
  | { all: TargetingNode[] }
  | { any: TargetingNode[] }
  | { not: TargetingNode };

const MAX_TREE_DEPTH = 8;

function treeDepth(node: TargetingNode): number {
  if ("all" in node) return 1 + Math.max(0, ...node.all.map(treeDepth));
  if ("any" in node) return 1 + Math.max(0, ...node.any.map(treeDepth));
  if ("not" in node) return 1 + treeDepth(node.not);
  return 1;
}

/** A targeting tree: one leaf or `all` / `any` / `not` nodes, at most 8 levels deep. */
export const TargetingSchema: z.ZodType<TargetingNode> = z
  .lazy(() =>
    z.union([
      TargetingLeafSchema,
      z.object({ all: z.array(TargetingSchema).min(1).max(50) }).strict(),
      z.object({ any: z.array(TargetingSchema).min(1).max(50) }).strict(),
      z.object({ not: TargetingSchema }).strict(),
    ]),
  )
  .meta({ id: "TargetingNode" });

/**
 * The tree with its depth limit. The raw input's nesting is measured first, without recursion, so
 * hostile input thousands of levels deep is rejected before the recursive schema walks it.
 */
const TargetingRootSchema = z
  .unknown()
  .refine((v) => !nestsDeeperThan(v, 3 * MAX_TREE_DEPTH + 3), `targeting trees are at most ${MAX_TREE_DEPTH} levels deep`)
  .pipe(TargetingSchema)
  .refine((t) => treeDepth(t) <= MAX_TREE_DEPTH, `targeting trees are at most ${MAX_TREE_DEPTH} levels deep`);

export const CAP_WINDOWS = ["1h", "1d", "7d", "30d", "lifetime"] as const;
export const CapWindowSchema = z.union([
  z.enum(CAP_WINDOWS),
  z.object({ seconds: z.number().int().min(1).max(400 * 86400) }).strict(),
]);
export type CapWindow = z.infer<typeof CapWindowSchema>;

export const FrequencyCapSchema = z
  .object({ limit: z.number().int().min(1).max(1_000_000), window: CapWindowSchema })
  .strict();
export type FrequencyCap = z.infer<typeof FrequencyCapSchema>;

export const TIERS = ["sponsorship", "standard", "house"] as const;
export type Tier = (typeof TIERS)[number];
export const CAMPAIGN_STATUSES = ["active", "paused", "archived"] as const;

export const GoalSchema = z
  .object({
    impressions: z.number().int().min(1).max(1e12),
    pacing: z.enum(["even", "asap"]).default("even"),
  })
  .strict();

const IsoDateTime = z.iso.datetime({ offset: true });

const CampaignFields = {
  id: IdSchema,
  advertiserId: IdSchema,
  name: z.string().trim().min(1).max(200),
  status: z.enum(CAMPAIGN_STATUSES).default("active"),
  tier: z.enum(TIERS),
  weight: z.number().int().min(1).max(1000).default(1),
  startAt: IsoDateTime.optional(),
  endAt: IsoDateTime.optional(),
  placements: z.array(IdSchema).min(1).max(50),
  targeting: TargetingRootSchema.optional(),
  exclusions: z
    .object({
      topics: z.array(Word).max(500).optional(),
      keywords: z.array(Word).max(500).optional(),
    })
    .strict()
    .optional(),
  frequencyCaps: z.array(FrequencyCapSchema).max(10).optional(),
  goal: GoalSchema.optional(),
};

function checkFlight(c: { startAt?: string | undefined; endAt?: string | undefined }, ctx: z.RefinementCtx): void {
  if (c.startAt && c.endAt && Date.parse(c.startAt) >= Date.parse(c.endAt)) {
    ctx.addIssue({ code: "custom", path: ["endAt"], message: "endAt must be after startAt" });
  }
}

export const CampaignSchema = z.object(CampaignFields).strict().superRefine(checkFlight).meta({ id: "Campaign" });
export type Campaign = z.infer<typeof CampaignSchema>;
export type CampaignInput = z.input<typeof CampaignSchema>;

export const UnitSchema = z
  .object({
    id: IdSchema,
    campaignId: IdSchema,
    format: FormatSchema,
    headline: z.string().trim().min(1).max(300),
    body: z.string().trim().min(1).max(2000),
    image: z
      .object({
        url: HttpsUrl,
        width: z.number().int().min(1).max(10000),
        height: z.number().int().min(1).max(10000),
        alt: z.string().max(500).default(""),
      })
      .strict()
      .optional(),
    cta: z.object({ text: z.string().trim().min(1).max(200), url: HttpsUrl }).strict(),
    disclosureLabel: z.string().trim().min(1).max(50).default("Sponsored"),
  })
  .strict()
  .meta({ id: "Unit" });
export type Unit = z.infer<typeof UnitSchema>;

export const ENTITY_KINDS = ["advertiser", "placement", "campaign", "unit"] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export interface EntityByKind {
  advertiser: Advertiser;
  placement: Placement;
  campaign: Campaign;
  unit: Unit;
}

/** Schemas used to validate a create (`POST`) and the merged result of a `PATCH`. */
export const ENTITY_SCHEMAS = {
  advertiser: AdvertiserSchema,
  placement: PlacementSchema,
  campaign: CampaignSchema,
  unit: UnitSchema,
} as const;

/** The whole catalog as one document (the sample catalog, an export, an import). */
export const CatalogDocumentSchema = z
  .object({
    advertisers: z.array(AdvertiserSchema).default([]),
    placements: z.array(PlacementSchema).default([]),
    campaigns: z.array(CampaignSchema).default([]),
    units: z.array(UnitSchema).default([]),
  })
  .strict();
export type CatalogDocument = z.infer<typeof CatalogDocumentSchema>;
