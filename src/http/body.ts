/**
 * Request bodies: size limits (413 without tearing down the connection), media types (415) and
 * JSON parsing (400), then validation with a zod schema (400 with a detail per issue).
 */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, issuesToDetails } from "../errors.js";
import { nestsDeeperThan } from "../domain/json-depth.js";

/** Past the limit the rest of a body is still read and discarded up to this many bytes, so the
 * keep-alive connection stays usable; beyond it the connection is given up. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

export const DECISION_BODY_LIMIT = 64 * 1024;
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface BodyOptions {
  maxBytes: number;
  /** Accept `text/plain` bodies holding JSON (sendBeacon, CORS-simple requests). */
  textPlain?: boolean;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("PAYLOAD_TOO_LARGE", `the body is larger than ${maxBytes} bytes`);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError("BAD_REQUEST", "the body is not valid UTF-8");
  }
}

async function readText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  // Fast path: a declared length within the limit (the HTTP parser holds the body to it) is read
  // whole, without a web stream reader; chunked or oversized bodies take the counting path below.
  if (Number.isFinite(declared) && declared <= maxBytes) {
    const buf = new Uint8Array(await req.arrayBuffer());
    if (buf.byteLength > maxBytes) throw tooLarge(maxBytes);
    return decodeUtf8(buf);
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = Number.isFinite(declared) && declared > maxBytes;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) over = true;
    if (over) {
      if (total > DRAIN_LIMIT_BYTES) {
        await reader.cancel().catch(() => undefined);
        break;
      }
      continue;
    }
    chunks.push(value);
  }
  if (over) throw tooLarge(maxBytes);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return decodeUtf8(bytes);
}

/** Nesting deeper than this is rejected before validation (recursive schemas must not recurse unboundedly). */
export const MAX_JSON_DEPTH = 32;

/** Reads and parses a JSON body (without validating its shape). */
export async function readJson(c: Context, options: BodyOptions): Promise<unknown> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const isJson = type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
  if (!isJson && !(options.textPlain && (type === "text/plain" || type === ""))) {
    throw new ApiError(
      "UNSUPPORTED_MEDIA_TYPE",
      options.textPlain ? "send the body as application/json or text/plain holding JSON" : "send the body as application/json",
    );
  }
  const text = await readText(c.req.raw, options.maxBytes);
  if (text.trim() === "") throw new ApiError("BAD_REQUEST", "the body is empty; a JSON object is expected");
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new ApiError("BAD_REQUEST", "the body is not valid JSON");
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new ApiError("BAD_REQUEST", `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

/** Validates a value with a schema, turning zod issues into a 400 with details. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what = "request"): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError("BAD_REQUEST", `invalid ${what}`, issuesToDetails(result.error.issues));
  return result.data;
}

export async function parseBody<S extends z.ZodType>(c: Context, schema: S, options: BodyOptions): Promise<z.infer<S>> {
  return validate(schema, await readJson(c, options), "body");
}
