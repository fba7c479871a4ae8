/** Schemas shared by routes: the error envelope and list pages, for validation and the OpenAPI document. */
import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum([
        "BAD_REQUEST",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "CONFLICT",
        "PAYLOAD_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "RATE_LIMITED",
        "INTERNAL",
        "UNAVAILABLE",
      ]),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

export const ListQuerySchema = z
  .object({
    cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]*$/, "must be a cursor returned by a previous page").optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .passthrough();

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Standard error responses for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }> {
  const descriptions: Record<number, string> = {
    400: "Invalid input",
    401: "Missing, unknown or revoked key",
    403: "The key may not do this",
    404: "Not found (or not visible to this key)",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    429: "Rate limited",
  };
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s] ?? "Error", content: { "application/json": { schema: ErrorSchema } } }]),
  );
}
