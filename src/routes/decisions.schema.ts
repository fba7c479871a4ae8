/**
 * Request and response schemas of `POST /v1/decisions` (and `POST /v1/admin/explain`, which takes
 * the same body). Unknown fields are ignored here, never rejected: pages send extra context.
 */
import { z } from "@hono/zod-openapi";

const PageString = z.string().max(2048);
const Words = z.array(z.string().max(2048)).max(50);

export const SlotIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/, "must be 1-64 letters, digits, _ . : or -");

export const DecisionRequestSchema = z
  .object({
    page: z.object({
      url: z.string().min(1).max(2048).url(),
      section: PageString.optional(),
      topics: Words.optional(),
      keywords: Words.optional(),
      title: PageString.optional(),
      language: z.string().max(35).optional(),
      pageViewId: z.string().min(1).max(128).optional(),
    }),
    user: z.object({ key: z.string().min(1).max(256) }).optional(),
    slots: z
      .array(
        z.object({
          id: SlotIdSchema,
          placement: z.string().min(1).max(64),
          count: z.number().int().min(1).max(5).default(1),
        }),
      )
      .min(1)
      .max(10),
    geo: z.object({ country: z.string().regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code").optional() }).optional(),
    device: z.object({ type: z.string().min(1).max(32).optional() }).optional(),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.slots.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: "custom", path: ["slots", i, "id"], message: "duplicate slot id" });
      seen.add(s.id);
    });
  })
  .openapi("DecisionRequest");
export type DecisionRequest = z.infer<typeof DecisionRequestSchema>;

export const NO_FILL_REASONS = [
  "UNKNOWN_PLACEMENT",
  "NO_CAMPAIGNS",
  "NO_ELIGIBLE_UNITS",
  "ALL_FREQUENCY_CAPPED",
  "STORE_UNAVAILABLE",
] as const;
export type NoFillReason = (typeof NO_FILL_REASONS)[number];

export const UnitPayloadSchema = z
  .object({
    unitId: z.string(),
    campaignId: z.string(),
    advertiserId: z.string(),
    format: z.string(),
    disclosure: z.object({ label: z.string().min(1), sponsor: z.string().min(1) }),
    headline: z.string(),
    body: z.string(),
    image: z.object({ url: z.string(), width: z.number(), height: z.number(), alt: z.string() }).optional(),
    cta: z.object({ text: z.string(), url: z.string() }),
    tracking: z.object({ impression: z.string(), viewable: z.string() }),
    html: z.string(),
  })
  .openapi("UnitPayload");

export const DecisionResponseSchema = z
  .object({
    decisionId: z.string(),
    slots: z.array(
      z.object({
        id: z.string(),
        placement: z.string(),
        units: z.array(UnitPayloadSchema),
        noFillReason: z.enum(NO_FILL_REASONS).optional(),
      }),
    ),
  })
  .openapi("DecisionResponse");
