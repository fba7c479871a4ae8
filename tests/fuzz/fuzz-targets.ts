/**
 * HTTP fuzzing with fast-check, shared by `tests/fuzz/fuzz.test.ts` (a few thousand cases in
 * `npm test`) and `scripts/fuzz.ts` (`npm run fuzz`, 100,000 cases).
 *
 * Every public and admin endpoint is a `FuzzTarget`: an arbitrary of whole HTTP requests (method,
 * path with query, headers, body) built from near-valid requests — valid bodies with a few
 * mutations (wrong types, huge or negative numbers, long and unicode strings, deep nesting, extra
 * fields, nulls, arrays for objects), random JSON, invalid JSON and bytes, oversized bodies —
 * with random query strings, header variants (content type, authorization, accept, request id,
 * country, Sec-GPC / DNT, user agent, client address, origin, traceparent) and, for beacons, real,
 * re-signed, mutated and random tracking tokens.
 *
 * The property (`runCase` / `fuzzProperty`), for any request, through `app.request()` on the
 * in-process store (`buildTestService`):
 *   - the status is below 500 and the response carries `X-Request-Id` (the one sent, when valid);
 *   - every 4xx/5xx body is exactly the envelope `{ error: { code, message, requestId, details? } }`
 *     with a code of the API whose status is the response's, and `requestId` = `X-Request-Id`;
 *   - a JSON success body parses, and a list answers `{ items: [objects], nextCursor: string | null }`;
 *   - the catalog is unchanged (version, stored version and document) after every rejected
 *     request, and after every read-only one (GETs, explain, `PUT /v1/admin/catalog?dryRun=true`);
 *     a rejected key write issues no key.
 * After an accepted catalog write the fuzzer puts the baseline catalog back, so cases stay
 * near-valid against a known catalog.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { buildTestService, fakeClock, OPS_KEY } from "../helpers/app.js";
import { asJson } from "../helpers/json.js";
import type { CatalogDocument } from "../../src/domain/catalog-schema.js";
import type { Stores } from "../../src/store/ports.js";
import { createTokenSigner, EVENT_TYPES, type EventType, type TokenClaims } from "../../src/domain/tokens.js";

export type FuzzService = Awaited<ReturnType<typeof buildTestService>>;

// ---------------------------------------------------------------------------------------------
// Requests and outcomes

export interface FuzzRequest {
  readonly method: string;
  /** Path and query, as sent (`app.request` puts `http://localhost` in front). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array<ArrayBuffer> | undefined;
}

export interface CaseOutcome {
  readonly status: number;
  /** The error code of a 4xx/5xx envelope, when there is one. */
  readonly code: string | undefined;
  /** Broken invariants; empty when the case passed. */
  readonly problems: readonly string[];
  /** The response body (truncated), for reports. */
  readonly responseText: string;
}

/** The error codes of API.md and their statuses. */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DECISION_LIMIT = 64 * 1024;
const ADMIN_LIMIT = 1024 * 1024;

/** `s` cut to `max` characters, with how much was left out. */
export function clip(s: string, max = 300): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(+${s.length - max} chars)`;
}

/** A request as text: what to replay it with (long values clipped). */
export function describeRequest(req: FuzzRequest, max = 400): string {
  const lines = [`${req.method} ${JSON.stringify(clip(req.path, max))}`];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`  ${k}: ${JSON.stringify(clip(v, 160))}`);
  if (typeof req.body === "string") lines.push(`  body (${req.body.length} chars): ${JSON.stringify(clip(req.body, max))}`);
  else if (req.body) lines.push(`  body (${req.body.byteLength} bytes): ${Buffer.from(req.body.subarray(0, 64)).toString("hex")}${req.body.byteLength > 64 ? "…" : ""}`);
  return lines.join("\n");
}

function request(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array<ArrayBuffer>): FuzzRequest {
  const bodiless = ["GET", "HEAD"].includes(method.toUpperCase());
  const req: FuzzRequest = { method, path, headers, body: bodiless ? undefined : body };
  // fast-check prints counterexamples through this (a 1 MiB body stays readable).
  Object.defineProperty(req, fc.toStringMethod, { value: () => describeRequest(req), enumerable: false });
  return req;
}

// ---------------------------------------------------------------------------------------------
// Context: one service on the in-process store, with what the arbitraries draw from

interface SamplePage {
  slug: string;
  page: Record<string, unknown>;
}

export interface FuzzContext {
  readonly service: FuzzService;
  readonly clock: { now: () => number; advance(ms: number): void };
  /** Fake milliseconds per case (rate-limit windows roll over during long runs). */
  readonly stepMs: number;
  readonly opsKey: string;
  /** An advertiser key bound to `advertiserId`. */
  readonly advertiserKey: string;
  readonly advertiserId: string;
  readonly revokedKey: string;
  /** Ids of keys the fuzzer may revoke (never the keys it authenticates with). */
  readonly revocableKeyIds: readonly string[];
  readonly ids: { readonly advertisers: readonly string[]; readonly placements: readonly string[]; readonly campaigns: readonly string[]; readonly units: readonly string[] };
  /** Tokens taken from real decisions, per event type. */
  readonly tokens: Readonly<Record<EventType, readonly string[]>>;
  /** Claims of real served units (re-signed with variations by the token arbitrary). */
  readonly claims: readonly TokenClaims[];
  readonly pages: readonly Record<string, unknown>[];
  readonly demoSlugs: readonly string[];
  readonly embedEtag: string;
  /** The catalog put back after an accepted write. */
  readonly baseline: CatalogDocument;
  close(): Promise<void>;
}

const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

function samplePages(): SamplePage[] {
  return JSON.parse(readFileSync(new URL("../../src/data/sample-pages.json", import.meta.url), "utf8")) as SamplePage[];
}

interface DecisionUnit {
  cta: { url: string };
  tracking: { impression: string; viewable: string };
}

export interface FuzzContextOptions {
  /** Fake milliseconds per case (default 20). */
  stepMs?: number;
  /** Stores to run on (default: the in-process store), built with the context's fake clock. */
  stores?: (clock: () => number) => Promise<Stores>;
}

/** A fresh service (sample catalog, fake clock) and what the arbitraries need from it. */
export async function createFuzzContext(options: FuzzContextOptions = {}): Promise<FuzzContext> {
  const clock = fakeClock();
  const service = await buildTestService({
    clock: clock.now,
    ...(options.stores ? { stores: await options.stores(clock.now) } : {}),
    // The clock is fake and moves slowly (stepMs a case): with the default limits (20 failed
    // authentications, 300 beacons a minute per client) most later cases would only hear 429.
    env: { AUTH_FAILURES_PER_MINUTE: "100000", CLICKS_PER_MINUTE: "10000", BEACONS_PER_MINUTE: "10000" },
  });
  const doc = service.catalog.document();
  const advertiserId = "walmart";
  const advertiserKey = (await service.auth.issue("advertiser", advertiserId)).key;
  const revocable = [await service.auth.issue("ops", undefined), await service.auth.issue("advertiser", "microsoft")];
  const revoked = await service.auth.issue("advertiser", "newsroom");
  await service.auth.revoke(revoked.record.id);

  const pages = samplePages();
  const tokens: Record<EventType, string[]> = { impression: [], viewable: [], click: [] };
  const tokenOf = (url: string): string => new URL(url).searchParams.get("t") ?? "";
  let n = 0;
  for (const p of pages) {
    for (const user of ["fuzz-reader-1", "fuzz-reader-2", undefined]) {
      const body = { page: { ...p.page, pageViewId: `pv-fuzz-${n++}` }, ...(user ? { user: { key: user } } : {}), slots: [{ id: "mid-1", placement: "article-mid" }, { id: "end-1", placement: "article-end", count: 3 }] };
      const res = await service.app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json", "user-agent": BROWSER_UA }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`fuzz set-up: decision answered ${res.status}: ${await res.text()}`);
      const decision = (await res.json()) as { slots: { units: DecisionUnit[] }[] };
      for (const unit of decision.slots.flatMap((s) => s.units)) {
        tokens.impression.push(tokenOf(unit.tracking.impression));
        tokens.viewable.push(tokenOf(unit.tracking.viewable));
        tokens.click.push(tokenOf(unit.cta.url));
      }
    }
  }
  if (tokens.click.length === 0) throw new Error("fuzz set-up: the sample catalog served nothing");
  const claims: TokenClaims[] = [];
  for (const t of tokens.impression) {
    const verified = service.signer.verify(t, "impression", clock.now());
    if (verified.ok) claims.push(verified.claims);
  }
  const embed = await service.app.request("/embed.js");
  await embed.arrayBuffer();

  return {
    service,
    clock,
    stepMs: options.stepMs ?? 20,
    opsKey: OPS_KEY,
    advertiserKey,
    advertiserId,
    revokedKey: revoked.key,
    revocableKeyIds: revocable.map((k) => k.record.id),
    ids: {
      advertisers: doc.advertisers.map((a) => a.id),
      placements: doc.placements.map((p) => p.id),
      campaigns: doc.campaigns.map((c) => c.id),
      units: doc.units.map((u) => u.id),
    },
    tokens,
    claims,
    pages: pages.map((p) => p.page),
    demoSlugs: pages.map((p) => p.slug),
    embedEtag: embed.headers.get("etag") ?? "",
    baseline: asJson(doc),
    close: () => service.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Running one case and checking it

const READ_ONLY_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Requests that must never change the catalog, whatever they answer. */
function isReadOnly(req: FuzzRequest, method: string): boolean {
  if (READ_ONLY_METHODS.has(method)) return true;
  const path = req.path.split("?")[0] ?? "";
  if (path === "/v1/decisions" || path.startsWith("/v1/events/") || path === "/v1/admin/explain") return true;
  if (method === "PUT" && path === "/v1/admin/catalog") return new URLSearchParams(req.path.split("?").slice(1).join("?")).get("dryRun") === "true";
  return false;
}

function isKeyWrite(req: FuzzRequest, method: string): boolean {
  return method === "POST" && req.path.split("?")[0] === "/v1/admin/keys";
}

interface CatalogState {
  version: number;
  storedVersion: number;
  doc: CatalogDocument;
}

async function catalogState(service: FuzzService): Promise<CatalogState> {
  return { version: service.catalog.current().version, storedVersion: await service.stores.catalog.version(), doc: service.catalog.document() };
}

function catalogChanges(before: CatalogState, after: CatalogState): string | undefined {
  if (before.version !== after.version) return `catalog version ${before.version} -> ${after.version}`;
  if (before.storedVersion !== after.storedVersion) return `stored catalog version ${before.storedVersion} -> ${after.storedVersion}`;
  if (before.doc !== after.doc && JSON.stringify(before.doc) !== JSON.stringify(after.doc)) return "catalog document changed";
  return undefined;
}

const ENVELOPE_KEYS = new Set(["code", "message", "requestId", "details"]);

/** Problems with a response (empty when it keeps every invariant). */
export function checkResponse(sent: Request, res: Response, text: string): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`status ${res.status}`);
  const requestId = res.headers.get("x-request-id");
  if (!requestId) problems.push("no X-Request-Id header");
  const sentId = sent.headers.get("x-request-id");
  if (sentId && VALID_REQUEST_ID.test(sentId) && requestId !== sentId) problems.push(`X-Request-Id ${JSON.stringify(requestId)}, sent ${JSON.stringify(sentId)}`);
  // A HEAD response has no body to check.
  if (sent.method === "HEAD") return problems;
  const type = res.headers.get("content-type") ?? "";
  if (res.status >= 400) {
    if (!/^application\/json/i.test(type)) problems.push(`error content-type ${JSON.stringify(type)}`);
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      problems.push("error body is not JSON");
      return problems;
    }
    if (typeof body !== "object" || body === null || Array.isArray(body) || Object.keys(body).join() !== "error") {
      problems.push("error body is not { error: ... } alone");
      return problems;
    }
    const error = (body as { error: unknown }).error;
    if (typeof error !== "object" || error === null || Array.isArray(error)) {
      problems.push("error is not an object");
      return problems;
    }
    const e = error as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!ENVELOPE_KEYS.has(k)) problems.push(`unexpected error field ${JSON.stringify(k)}`);
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code === undefined || !(code in ERROR_STATUS)) problems.push(`error code ${JSON.stringify(e.code)} is not an API code`);
    else if (ERROR_STATUS[code] !== res.status) problems.push(`error code ${code} with status ${res.status}`);
    if (typeof e.message !== "string" || e.message.length === 0) problems.push("error message missing or empty");
    if (e.requestId !== requestId) problems.push(`error.requestId ${JSON.stringify(e.requestId)} != X-Request-Id ${JSON.stringify(requestId)}`);
    if (e.details !== undefined) {
      const ok =
        Array.isArray(e.details) &&
        e.details.every((d: unknown) => typeof d === "object" && d !== null && typeof (d as { path?: unknown }).path === "string" && typeof (d as { message?: unknown }).message === "string");
      if (!ok) problems.push("error.details is not a list of { path, message }");
    }
  } else if (/^application\/json/i.test(type) && text !== "") {
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      problems.push("JSON success body does not parse");
      return problems;
    }
    if (res.status === 200 && LIST_PATH.test(new URL(sent.url).pathname)) problems.push(...listProblems(body));
  }
  return problems;
}

/** List endpoints: `{ items: [...], nextCursor: string | null }`. */
const LIST_PATH = /^\/v1\/admin\/(advertisers|placements|campaigns|units|keys|audit|catalog\/versions)$/;

function listProblems(body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return ["list body is not an object"];
  const { items, nextCursor } = body as { items?: unknown; nextCursor?: unknown };
  const problems: string[] = [];
  if (!Array.isArray(items)) problems.push("list body has no items array");
  else if (items.some((i) => typeof i !== "object" || i === null || Array.isArray(i))) problems.push("list items hold a non-object (e.g. null)");
  if (nextCursor !== null && typeof nextCursor !== "string") problems.push("list nextCursor is neither a string nor null");
  return problems;
}

function codeOf(status: number, text: string): string | undefined {
  if (status < 400) return undefined;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof body.error?.code === "string" ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one request and checks every invariant; puts the baseline catalog back after an accepted write. */
export async function runCase(ctx: FuzzContext, req: FuzzRequest): Promise<CaseOutcome> {
  ctx.clock.advance(ctx.stepMs);
  const { service } = ctx;
  let sent: Request;
  try {
    sent = new Request(`http://localhost${req.path}`, { method: req.method, headers: req.headers, ...(req.body === undefined ? {} : { body: req.body }) });
  } catch (err) {
    return { status: 0, code: undefined, problems: [`fuzzer bug: the request cannot be built: ${String(err)}`], responseText: "" };
  }
  const before = await catalogState(service);
  const keyWrite = isKeyWrite(req, sent.method);
  const keysBefore = keyWrite ? (await service.stores.keys.list()).length : 0;
  const res = await service.app.request(sent);
  const text = await res.text();
  const problems = checkResponse(sent, res, text);
  const after = await catalogState(service);
  const change = catalogChanges(before, after);
  const rejected = res.status >= 400;
  if (change !== undefined) {
    if (rejected || isReadOnly(req, sent.method)) problems.push(`${rejected ? `rejected (${res.status})` : "read-only"} request changed the catalog: ${change}`);
    await service.catalog.replace(ctx.baseline, "fuzz-reset");
  }
  if (keyWrite && rejected) {
    const keysAfter = (await service.stores.keys.list()).length;
    if (keysAfter !== keysBefore) problems.push(`rejected key write changed the key count ${keysBefore} -> ${keysAfter}`);
  }
  return { status: res.status, code: codeOf(res.status, text), problems, responseText: clip(text, 600) };
}

export class FuzzFailure extends Error {
  constructor(
    readonly req: FuzzRequest,
    readonly outcome: CaseOutcome,
  ) {
    super(`${outcome.problems.join("; ")}\n${describeRequest(req)}\n=> ${outcome.status} ${outcome.responseText}`);
    this.name = "FuzzFailure";
  }
}

/**
 * The fast-check property of a target: throws a `FuzzFailure` when a case breaks an invariant
 * (with `record`, it only reports cases to `onCase` and never fails, so a run goes to its end).
 */
export function fuzzProperty(
  ctx: FuzzContext,
  target: FuzzTarget,
  onCase?: (req: FuzzRequest, outcome: CaseOutcome) => void,
  options: { record?: boolean } = {},
): fc.IAsyncPropertyWithHooks<[FuzzRequest]> {
  return fc.asyncProperty(target.arbitrary(ctx), async (req) => {
    const outcome = await runCase(ctx, req);
    onCase?.(req, outcome);
    if (outcome.problems.length > 0 && !options.record) throw new FuzzFailure(req, outcome);
  });
}

// ---------------------------------------------------------------------------------------------
// Values: weird JSON, mutations of valid bodies

/** A JSON literal written as is (numbers JSON.stringify cannot produce: 1e999, -0, 1.0). */
export class RawJson {
  constructor(readonly text: string) {}
}

const RAW_NUMBERS = ["1e999", "-1e999", "1E400", "-0", "1.0", "1e2", "5.000000000000001", "123456789012345678901234567890", "0.1e-400", "1e-7"];

const SPECIAL_STRINGS = [
  "", " ", "  padded  ", "\u0000", "\ud800", "\udfff", "\u202e", "\ufeff", "\t", "\n", "\r\n", "null", "true", "1", "-1", "1e999", "NaN",
  "__proto__", "constructor", "toString", "https://", "https://news.example/x", "http://news.example/x", "javascript:alert(1)",
  "data:text/html,<b>x</b>", "//evil.example/x", "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "../../etc/passwd",
  "%00", "%zz", "a|b|c", "v1|i|d|s|c|u|1", "article-mid", "article-end", "walmart", "native-card", "native-inline", "sponsorship",
  "house", "active", "paused", "1d", "lifetime", "2026-11-27", "2026-11-27T12:00:00Z", "2026-02-30T00:00:00Z", "9999-12-31T23:59:59Z",
  "0000-01-01T00:00:00Z", "+275760-09-13T00:00:00Z", "US", "ZZ", "🙂", "ß", "İ", "ǅ", "$", "{}", "[]", "ops", "advertiser",
];

const longString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(33, 65, 129, 201, 257, 301, 501, 2001, 2049, 5000, 70_000), fc.constantFrom("x", "é", "🙂", " ", "a-", "\u0000"))
  .map(([n, c]) => c.repeat(n));

const weirdNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 2, 5, 6, 10, 11, 23, 24, 50, 51, 200, 201, 1000, 1001, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e12, 1e13, 1e21, 1e308, -1e308, 5e-324, 0.1, 1.5, 400 * 86400 + 1, 1_000_001),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...RAW_NUMBERS).map((t) => new RawJson(t)),
);

export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: longString },
);

export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 3, arbitrary: weirdNumber },
  { weight: 3, arbitrary: weirdString },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([], {}, [null], [[]], { "": null }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

export type MutationOp =
  | { readonly kind: "set"; readonly value: unknown }
  | { readonly kind: "delete" }
  | { readonly kind: "extra"; readonly key: string; readonly value: unknown }
  | { readonly kind: "wrapArray" }
  | { readonly kind: "wrapObject"; readonly key: string }
  | { readonly kind: "stringify" }
  | { readonly kind: "nest"; readonly depth: number; readonly shape: "array" | "object" | "not" }
  | { readonly kind: "repeat"; readonly times: number };

export interface Mutation {
  /** Which node (any object, array or value in the tree, the root included), modulo their count. */
  readonly at: number;
  readonly op: MutationOp;
}

const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("extra", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "id", "", " ", "page", "slots", "version", "role", "targeting", "🙂"),
  fc.string({ maxLength: 10 }),
);

const mutationOp: fc.Arbitrary<MutationOp> = fc.oneof(
  { weight: 6, arbitrary: weirdValue.map((value): MutationOp => ({ kind: "set", value })) },
  { weight: 2, arbitrary: fc.constant<MutationOp>({ kind: "delete" }) },
  { weight: 2, arbitrary: fc.tuple(keyArb, weirdValue).map(([key, value]): MutationOp => ({ kind: "extra", key, value })) },
  { weight: 1, arbitrary: fc.constant<MutationOp>({ kind: "wrapArray" }) },
  { weight: 1, arbitrary: keyArb.map((key): MutationOp => ({ kind: "wrapObject", key })) },
  { weight: 1, arbitrary: fc.constant<MutationOp>({ kind: "stringify" }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(2, 8, 9, 31, 33, 200), fc.constantFrom("array" as const, "object" as const, "not" as const)).map(([depth, shape]): MutationOp => ({ kind: "nest", depth, shape })) },
  { weight: 1, arbitrary: fc.constantFrom(2, 11, 21, 51, 101, 501, 1001).map((times): MutationOp => ({ kind: "repeat", times })) },
);

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), op: mutationOp });

type Container = Record<string, unknown> | unknown[];

interface Location {
  readonly parent: Container | undefined;
  readonly key: string | number;
  readonly value: unknown;
}

function isContainer(v: unknown): v is Container {
  return typeof v === "object" && v !== null && !(v instanceof RawJson);
}

function setOwn(target: Container, key: string | number, value: unknown): void {
  if (Array.isArray(target)) target[Number(key)] = value;
  // defineProperty: `__proto__` becomes an own key, as JSON.parse would make it.
  else Object.defineProperty(target, String(key), { value, enumerable: true, writable: true, configurable: true });
}

/** Every node of a JSON tree with where it hangs (breadth first, capped). */
function locations(root: unknown, max = 5000): Location[] {
  const out: Location[] = [{ parent: undefined, key: "", value: root }];
  for (let i = 0; i < out.length && out.length < max; i++) {
    const node = (out[i] as Location).value;
    if (!isContainer(node)) continue;
    if (Array.isArray(node)) node.forEach((v, k) => out.push({ parent: node, key: k, value: v }));
    else for (const [k, v] of Object.entries(node)) out.push({ parent: node, key: k, value: v });
  }
  return out;
}

function nest(value: unknown, depth: number, shape: "array" | "object" | "not"): unknown {
  let v = value;
  for (let i = 0; i < depth; i++) v = shape === "array" ? [v] : shape === "not" ? { not: v } : { a: v };
  return v;
}

/** Applies one mutation; returns the new root (the same object unless the root was replaced). */
export function applyMutation(root: unknown, m: Mutation): unknown {
  const locs = locations(root);
  const loc = locs[m.at % locs.length] as Location;
  const replace = (v: unknown): unknown => {
    if (!loc.parent) return v;
    setOwn(loc.parent, loc.key, v);
    return root;
  };
  const op = m.op;
  switch (op.kind) {
    case "set":
      // Values are cloned: fast-check hands out the same constant objects again and again.
      return replace(structuredCloneJson(op.value));
    case "delete":
      if (!loc.parent) return undefined;
      if (Array.isArray(loc.parent)) loc.parent.splice(Number(loc.key), 1);
      else delete loc.parent[String(loc.key)];
      return root;
    case "extra": {
      const node = loc.value;
      const value = structuredCloneJson(op.value);
      if (Array.isArray(node)) node.push(value);
      else if (isContainer(node)) setOwn(node, op.key, value);
      else return replace({ [op.key]: value });
      return root;
    }
    case "wrapArray":
      return replace([loc.value]);
    case "wrapObject": {
      const o: Record<string, unknown> = {};
      setOwn(o, op.key, loc.value);
      return replace(o);
    }
    case "stringify":
      return replace(loc.value === undefined ? "undefined" : loc.value instanceof RawJson ? loc.value.text : JSON.stringify(loc.value));
    case "nest":
      return replace(nest(loc.value, op.depth, op.shape));
    case "repeat": {
      const node = loc.value;
      if (Array.isArray(node) && node.length > 0) {
        const copy = [...node];
        while (node.length < op.times) node.push(structuredCloneJson(copy[node.length % copy.length]));
        return root;
      }
      return replace(Array.from({ length: op.times }, () => structuredCloneJson(node)));
    }
  }
}

function structuredCloneJson(v: unknown): unknown {
  if (v instanceof RawJson || !isContainer(v)) return v;
  if (Array.isArray(v)) return v.map(structuredCloneJson);
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) setOwn(o, k, structuredCloneJson(x));
  return o;
}

/** JSON text of a tree that may hold `RawJson` literals; `undefined` is the empty body. */
export function toJsonText(value: unknown): string {
  if (value === undefined) return "";
  const raws: string[] = [];
  const marker = (i: number): string => `__fuzz_raw_json_${i}__`;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return marker(raws.length - 1);
    }
    return v;
  });
  if (text === undefined) return "";
  return raws.length === 0 ? text : raws.reduce((t, raw, i) => t.replace(`"${marker(i)}"`, raw), text);
}

/** A valid body with 0..3 mutations (0: still valid, so the success paths run too). */
function mutated(base: fc.Arbitrary<unknown>, maxMutations = 3): fc.Arbitrary<unknown> {
  const mutations = fc.oneof(fc.constant<Mutation[]>([]), fc.array(mutationArb, { minLength: 1, maxLength: maxMutations }), fc.array(mutationArb, { minLength: 1, maxLength: 1 }));
  return fc.tuple(base, mutations).map(([b, ms]) => ms.reduce<unknown>((root, m) => applyMutation(root, m), structuredCloneJson(b)));
}

function deepText(depth: number, shape: "array" | "object"): string {
  return shape === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** `base` with a `pad` field making the JSON text exactly `bytes` long (ASCII). */
function padded(base: unknown, bytes: number): string {
  const obj = isContainer(base) && !Array.isArray(base) ? { ...base } : { value: base };
  const empty = toJsonText({ ...obj, pad: "" });
  return toJsonText({ ...obj, pad: "x".repeat(Math.max(0, bytes - empty.length)) });
}

/** Whole bodies for a JSON endpoint around a valid base, with `limit` its byte limit. */
function jsonBody(base: fc.Arbitrary<unknown>, limit: number): fc.Arbitrary<string | Uint8Array<ArrayBuffer> | undefined> {
  return fc.oneof(
    { weight: 14, arbitrary: mutated(base).map(toJsonText) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, "", " ", "\n", "null", "[]", "{}", "0", '""', "true", "{", "[", '{"a":}', "\ufeff{}", "{}{}", "[1,]", "{'a':1}", "NaN", "Infinity", "1e999", '{"__proto__":{"polluted":1}}') },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(31, 32, 33, 64, 1000, 100_000), fc.constantFrom("array" as const, "object" as const)).map(([d, s]) => deepText(d, s)) },
    { weight: 1, arbitrary: fc.tuple(base, fc.constantFrom(limit - 1, limit, limit + 1, limit * 2)).map(([b, bytes]) => padded(b, bytes)) },
    // Valid JSON whose UTF-8 is broken (a lone continuation byte inside a string).
    { weight: 1, arbitrary: base.map((b) => Buffer.concat([Buffer.from(toJsonText(b).slice(0, -1)), Buffer.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d])])).map((b) => new Uint8Array(b)) },
  );
}

// ---------------------------------------------------------------------------------------------
// Headers

/** Header values a `Request` accepts (Latin-1 with control characters, no NUL/CR/LF). */
const headerChar = fc
  .oneof({ weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) }, { weight: 1, arbitrary: fc.constantFrom(0x01, 0x09, 0x0b, 0x1b, 0x7f) })
  .map((c) => String.fromCharCode(c));
export const headerString: fc.Arbitrary<string> = fc.string({ unit: headerChar, maxLength: 40 });

function mutateString(s: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, s.length - 1) }).map((i) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1)),
    fc.nat({ max: s.length }).map((i) => s.slice(0, i)),
    fc.nat({ max: s.length }).map((i) => s.slice(0, i) + s.slice(i + 1)),
    headerString.map((x) => s + x),
    fc.constant(s.toUpperCase()),
    fc.constant(s.toLowerCase()),
    fc.constant(` ${s} `),
  );
}

type AuthMode = "public" | "admin" | "report";

function authorizationArb(ctx: FuzzContext, mode: AuthMode): fc.Arbitrary<string | undefined> {
  const good = fc.constantFrom(`Bearer ${ctx.opsKey}`, `bearer ${ctx.opsKey}`, `BEARER   ${ctx.opsKey}`, `Bearer ${ctx.opsKey}\t`);
  const advertiser = fc.constantFrom(`Bearer ${ctx.advertiserKey}`);
  const broken = fc.oneof(
    fc.constantFrom("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", `Token ${ctx.opsKey}`, `Bearer ${ctx.opsKey} extra`, `Bearer ${ctx.opsKey},Bearer ${ctx.opsKey}`, `Bearer ${"a".repeat(513)}`, `Bearer ${ctx.revokedKey}`, "Bearer spk_", "Bearer \u00ff\u00fe"),
    mutateString(ctx.opsKey).map((k) => `Bearer ${k}`),
    mutateString(ctx.advertiserKey).map((k) => `Bearer ${k}`),
    headerString,
  );
  switch (mode) {
    case "public":
      return fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: good }, { weight: 1, arbitrary: broken });
    case "admin":
      return fc.oneof({ weight: 14, arbitrary: good }, { weight: 3, arbitrary: advertiser }, { weight: 2, arbitrary: broken }, { weight: 1, arbitrary: fc.constant(undefined) });
    case "report":
      return fc.oneof({ weight: 8, arbitrary: good }, { weight: 6, arbitrary: advertiser }, { weight: 3, arbitrary: broken }, { weight: 1, arbitrary: fc.constant(undefined) });
  }
}

function contentTypeArb(json: number): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: json, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;charset=UTF-8") },
    { weight: 1, arbitrary: fc.constantFrom("text/plain", "text/plain;charset=UTF-8", "application/vnd.api+json", "application/merge-patch+json", "") },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html", "application/json5", "application/jsonx", ";", "application/", "json", "application/json, text/plain", "*/*", " application/json "),
        headerString,
      ),
    },
  );
}

function pick<T>(weightPresent: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: weightPresent, arbitrary: arb }, { weight: 10 - weightPresent, arbitrary: fc.constant(undefined) });
}

interface HeaderOptions {
  readonly auth: AuthMode;
  /** How often (of ~14) the content type is a JSON one; 0: no body, no content type. */
  readonly json: number;
  /** Extra headers specific to the target. */
  readonly extra?: fc.Arbitrary<Record<string, string>>;
}

function headersArb(ctx: FuzzContext, options: HeaderOptions): fc.Arbitrary<Record<string, string>> {
  const parts = fc.record({
    authorization: authorizationArb(ctx, options.auth),
    "content-type": options.json > 0 ? contentTypeArb(options.json) : pick(1, contentTypeArb(1)),
    accept: pick(3, fc.oneof(fc.constantFrom("application/json", "text/csv", "*/*", "text/csv;q=0.9, application/json", "text/html", "TEXT/CSV", "image/*"), headerString)),
    "x-request-id": pick(3, fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), fc.constantFrom("a".repeat(128), "a".repeat(129), "req with spaces", "", "req/1", "req\u00e9"), headerString)),
    "cf-ipcountry": pick(3, fc.oneof(fc.constantFrom("US", "us", "GB", "RU", "XX", "T1", "", "USA", "1", "U"), headerString)),
    "x-country-code": pick(1, fc.oneof(fc.constantFrom("DE", "de", "ZZZ"), headerString)),
    "sec-gpc": pick(2, fc.oneof(fc.constantFrom("1", "0", " 1", "true", ""), headerString)),
    dnt: pick(2, fc.oneof(fc.constantFrom("1", "0", "null"), headerString)),
    "user-agent": pick(6, fc.oneof(fc.constantFrom(BROWSER_UA, "Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", "", "Mozilla/5.0 " + "x".repeat(10_000)), headerString)),
    "cf-connecting-ip": pick(3, fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("::ffff:192.0.2.1", "unknown", "", "999.1.1.1"), headerString)),
    origin: pick(1, fc.oneof(fc.constantFrom("https://news.example", "null", "http://localhost"), headerString)),
    traceparent: pick(1, fc.oneof(fc.constantFrom("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-00000000000000000000000000000000-0000000000000000-00", "ff-x-y-z"), headerString)),
    "x-forwarded-for": pick(1, fc.oneof(fc.ipV4(), headerString)),
    "content-length": pick(options.json > 0 ? 1 : 0, fc.constantFrom("0", "1", "999999999", "-1", "abc", "1e3", "65537")),
  });
  const random = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), headerString) });
  const extra = options.extra ?? fc.constant<Record<string, string>>({});
  return fc.tuple(parts, random, extra).map(([p, r, e]) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) if (typeof v === "string") out[k] = v;
    if (r && !(r[0] in out)) out[r[0]] = r[1];
    Object.assign(out, e);
    if (options.json === 0) delete out["content-length"];
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Paths and query strings

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** encodeURIComponent that takes any string (lone surrogates become U+FFFD, as a URL parser does). */
export function encode(s: string): string {
  return encodeURIComponent(s.replace(LONE_SURROGATE, "\ufffd"));
}

/** `fc.constantFrom` that tolerates an empty list (then `fallback`). */
function oneOf(values: readonly string[], fallback = "none"): fc.Arbitrary<string> {
  return values.length > 0 ? fc.constantFrom(...values) : fc.constant(fallback);
}

const PERCENT_JUNK = ["%", "%zz", "%E0%A4%A", "%C0%AF", "%FF", "%00", "%2526", "a+b", "%2F", "%2e%2e", "%u0041", "%%", "%20"];

/** One path segment: real ids, id-shaped, encoded random text, or hostile spellings. */
function segmentArb(real: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: oneOf(real) },
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/) },
    { weight: 2, arbitrary: fc.string({ maxLength: 20 }).map(encode) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }).map(encode) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "", ".", "..", "%2e%2e", "a".repeat(64), "a".repeat(65), "x".repeat(5000), "WALMART", "walmart%20", "walmart/", "walmart/extra", "walmart;x=1", "walmart%00", "ops-bootstrap", "0", "-1", "__proto__", "constructor", ...PERCENT_JUNK,
      ),
    },
  );
}

type QueryArbs = Record<string, fc.Arbitrary<string>>;

/** A query string (with its `?`, or empty) from known keys with near-valid values and random pairs. */
function queryArb(known: QueryArbs): fc.Arbitrary<string> {
  const keys = Object.keys(known);
  const knownPair: fc.Arbitrary<[string, string]> =
    keys.length === 0 ? fc.tuple(fc.constant("x"), weirdString) : fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant(k), known[k] as fc.Arbitrary<string>));
  const randomPair = fc.tuple(fc.oneof(fc.constantFrom(...keys, "cursor", "limit", "t", "format", "dryRun", "callback", "__proto__", ""), fc.string({ maxLength: 8 })), weirdString.filter((s) => s.length < 3000));
  const pairs = fc.array(fc.oneof({ weight: 4, arbitrary: knownPair }, { weight: 1, arbitrary: randomPair }), { maxLength: 5 });
  const encoding = fc.constantFrom("encoded", "encoded", "encoded", "raw" as const);
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(pairs, encoding).map(([ps, enc]) => (ps.length === 0 ? "" : "?" + ps.map(([k, v]) => (enc === "raw" ? `${k}=${v}` : `${encode(k)}=${encode(v)}`)).join("&"))) },
    { weight: 1, arbitrary: fc.constantFrom("?", "?&&", "?=x", "?t", "?t=&t=", "?limit=1&limit=2", ...PERCENT_JUNK.map((j) => `?${j}=${j}`)) },
  );
}

const limitArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("1", "0", "2", "50", "200", "201", "-1", "1.5", "abc", "1e2", " 5", "0x10", "", "99999999999999999999", "NaN", "Infinity", "١"),
  fc.integer({ min: -5, max: 300 }).map(String),
);

function cursorArb(ids: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    oneOf(ids, "x").map((id) => Buffer.from(id).toString("base64url")),
    fc.constantFrom("", "0", "1", "99", "-1", "!!", "a".repeat(201), "zzzz", "AAAA", "x".repeat(100), "0-0", "1700000000000-0"),
    fc.string({ maxLength: 30 }),
  );
}

function dayArb(): fc.Arbitrary<string> {
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const now = Date.parse("2026-11-27T00:00:00Z");
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -500, max: 30 }).map((d) => day(now + d * 86_400_000)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom("2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "9999-12-31", "+020000-01-01", "2026-11-27T00:00:00Z", "", "2026-1-1", "26-11-27", "2026/11/27", "2026-11-27 ", "１２３", "1970-01-01", "2024-02-29", "2025-02-29"),
    },
    { weight: 1, arbitrary: weirdString },
  );
}

function tokenArb(ctx: FuzzContext, type: EventType): fc.Arbitrary<string> {
  const real = ctx.tokens[type];
  const other = EVENT_TYPES.filter((t) => t !== type).flatMap((t) => ctx.tokens[t]);
  const signer = ctx.service.signer;
  const foreign = createTokenSigner("another-secret-0123456789abcdef");
  const now = Math.floor(Date.parse("2026-11-27T12:00:00Z") / 1000);
  const claimsArb: fc.Arbitrary<TokenClaims> = fc
    .tuple(
      fc.constantFrom(...ctx.claims),
      fc.constantFrom(...EVENT_TYPES),
      fc.record(
        {
          decisionId: weirdString,
          slotId: weirdString,
          campaignId: fc.oneof(fc.constantFrom(...ctx.ids.campaigns, "ghost-campaign"), weirdString),
          unitId: fc.oneof(fc.constantFrom(...ctx.ids.units, "ghost-unit"), weirdString),
          expiresAtSeconds: fc.oneof(fc.constantFrom(now + 3600, now - 1, 0, 2 ** 53, 1e21, 1.5, -5, Number.MAX_VALUE), fc.integer()),
        },
        { requiredKeys: [] },
      ),
    )
    .map(([c, t, over]) => ({ ...c, type: t, ...over }));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...real) },
    { weight: 1, arbitrary: fc.constantFrom(...other) },
    { weight: 3, arbitrary: claimsArb.map((c) => signer.sign(c)) },
    { weight: 1, arbitrary: claimsArb.map((c) => foreign.sign(c)) },
    { weight: 3, arbitrary: fc.constantFrom(...real).chain(mutateString) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{43}$/) },
    { weight: 1, arbitrary: fc.constantFrom("", ".", "a.b", "a.b.c", "x".repeat(1025), `${real[0] ?? ""}.x`, `${real[0] ?? ""}${real[0] ?? ""}`, "%00", "🙂.🙂") },
    { weight: 1, arbitrary: weirdString },
  );
}

// ---------------------------------------------------------------------------------------------
// Valid bodies (mutated by `jsonBody`)

const WORDS = ["economy", "politics", "geopolitics", "technology", "trade", "india", "china", "military-conflict", "terrorism", "boko haram", "quantum", "ai", "ukraine"];
const wordArb: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...WORDS) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim().length > 0) });
const idArb = (real: readonly string[]): fc.Arbitrary<string> => fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/) }, { weight: 1, arbitrary: fc.constantFrom(...real) });
const nameArb: fc.Arbitrary<string> = fc.oneof(fc.constantFrom("Acme", "Sponsored & Co <b>", "Ünïcödé 🙂"), fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0));
const httpsUrlArb: fc.Arbitrary<string> = fc.oneof(fc.constantFrom("https://brand.example/landing", "https://brand.example/a?b=c#d", "https://xn--bcher-kva.example/"), fc.webUrl({ validSchemes: ["https"] }));
const isoArb: fc.Arbitrary<string> = fc.constantFrom("2026-01-01T00:00:00Z", "2026-11-27T12:00:00Z", "2027-12-31T23:59:59Z", "2026-11-27T12:00:00+02:00", "2025-01-01T00:00:00.000Z");
const oddIsoArb: fc.Arbitrary<string> = fc.constantFrom("2026-11-27", "2026-11-27T12:00:00", "2026-02-30T00:00:00Z", "+275760-09-13T00:00:00Z", "");

/** `clean`, or with `edgy` set sometimes `odd` (values that break one rule of the schema). */
function sometimes<T, U>(edgy: boolean, clean: fc.Arbitrary<T>, odd: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return edgy ? fc.oneof({ weight: 4, arbitrary: clean }, { weight: 1, arbitrary: odd }) : clean;
}

function pageArb(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const random = fc.record(
    {
      url: fc.oneof(fc.webUrl(), fc.constantFrom("https://news.example/economy/x")),
      section: wordArb,
      topics: fc.array(wordArb, { maxLength: 6 }),
      keywords: fc.array(wordArb, { maxLength: 6 }),
      title: fc.string({ maxLength: 60 }),
      language: fc.constantFrom("en", "en-GB", "fr", "x"),
      pageViewId: fc.stringMatching(/^pv-[a-z0-9]{1,12}$/),
    },
    { requiredKeys: ["url"] },
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...ctx.pages), fc.option(fc.stringMatching(/^pv-[a-z0-9]{1,8}$/), { nil: undefined })).map(([p, pv]) => ({ ...p, ...(pv ? { pageViewId: pv } : {}) })) },
    { weight: 1, arbitrary: random },
  );
}

function decisionBodyArb(ctx: FuzzContext): fc.Arbitrary<unknown> {
  const slot = fc.record(
    {
      id: fc.oneof(fc.constantFrom("mid-1", "end-1"), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,10}$/)),
      placement: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ctx.ids.placements) }, { weight: 1, arbitrary: fc.constantFrom("sidebar", "unknown-placement") }),
      count: fc.integer({ min: 1, max: 5 }),
    },
    { requiredKeys: ["id", "placement"] },
  );
  return fc.record(
    {
      page: pageArb(ctx),
      user: fc.record({ key: fc.oneof(fc.constantFrom("fuzz-reader-1", "fuzz-reader-2"), fc.string({ minLength: 1, maxLength: 30 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 })) }),
      slots: fc.uniqueArray(slot, { selector: (s) => s.id, minLength: 1, maxLength: 4 }),
      geo: fc.record({ country: fc.constantFrom("US", "GB", "RU", "de", "IN") }, { requiredKeys: [] }),
      device: fc.record({ type: fc.constantFrom("desktop", "mobile", "tablet", "tv") }, { requiredKeys: [] }),
      consent: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ["page", "slots"] },
  );
}

function targetingArb(edgy: boolean): fc.Arbitrary<unknown> {
  const wordLeaf = fc.record({
    field: fc.constantFrom("section", "topics", "keywords", "url", "language", "geo.country", "device.type"),
    op: fc.constantFrom("in", "notIn", "contains", "prefix"),
    values: fc.array(wordArb, { minLength: 1, maxLength: 4 }),
  });
  const daypartLeaf = fc.record({ field: fc.constant("daypart"), op: fc.constantFrom("in", "notIn"), values: fc.array(fc.oneof(fc.integer({ min: 0, max: 23 }), fc.constantFrom("7", "23")), { minLength: 1, maxLength: 4 }) });
  // Leaves that break a rule: unknown fields or ops, numbers for words, hours out of range.
  const oddLeaf = fc.record({
    field: fc.constantFrom("section", "daypart", "page.section", "user.key", ""),
    op: fc.constantFrom("in", "contains", "eq", "regex", ""),
    values: fc.array(fc.oneof(wordArb, fc.integer({ min: -1, max: 25 }), fc.constantFrom("24", "-1", " ")), { minLength: 0, maxLength: 4 }),
  });
  const leaf = sometimes(edgy, fc.oneof({ weight: 4, arbitrary: wordLeaf }, { weight: 1, arbitrary: daypartLeaf }), oddLeaf);
  const { node } = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 4, depthSize: "small" },
      leaf,
      fc.record({ all: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
      fc.record({ any: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie("node") }),
    ),
  }));
  return sometimes(edgy, node, fc.tuple(wordLeaf, fc.constantFrom(7, 8, 9, 12, 40)).map(([l, d]) => nest(l, d, "not")));
}

const capWindowArb = (edgy: boolean): fc.Arbitrary<unknown> =>
  sometimes(
    edgy,
    fc.oneof({ weight: 2, arbitrary: fc.constantFrom("1h", "1d", "7d", "30d", "lifetime") }, { weight: 1, arbitrary: fc.record({ seconds: fc.integer({ min: 1, max: 400 * 86400 }) }) }),
    fc.oneof(fc.record({ seconds: fc.constantFrom(0, 400 * 86400 + 1, 1.5) }), fc.constantFrom("2d", "1w", "")),
  );

const ISO_TIMES = ["2025-01-01T00:00:00.000Z", "2026-01-01T00:00:00Z", "2026-11-27T12:00:00+02:00", "2026-11-27T12:00:00Z", "2027-12-31T23:59:59Z"];

/** startAt/endAt: none, one, an ordered pair (mostly), or any two. */
const flightArb = (edgy: boolean): fc.Arbitrary<Record<string, string>> => fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.record({ startAt: isoArb }) },
  { weight: 1, arbitrary: fc.record({ endAt: isoArb }) },
  { weight: 4, arbitrary: fc.tuple(fc.nat({ max: ISO_TIMES.length - 2 }), fc.nat({ max: ISO_TIMES.length - 1 })).map(([a, d]) => ({ startAt: ISO_TIMES[a] as string, endAt: ISO_TIMES[Math.min(ISO_TIMES.length - 1, a + 1 + d)] as string })) },
  { weight: 1, arbitrary: fc.record({ startAt: sometimes(edgy, isoArb, oddIsoArb), endAt: sometimes(edgy, isoArb, oddIsoArb) }) },
);

/** A valid entity (`edgy`: now and then one field that breaks a rule or a reference). */
function entityBaseArb(ctx: FuzzContext, kind: EntityPath, edgy = false): fc.Arbitrary<Record<string, unknown>> {
  const { ids } = ctx;
  switch (kind) {
    case "advertisers":
      return fc.record(
        { id: idArb(ids.advertisers), name: nameArb, category: fc.constantFrom("retail", "technology", "media"), competitiveLabels: fc.array(wordArb, { maxLength: 3 }) },
        { requiredKeys: ["name"] },
      );
    case "placements":
      return fc.record(
        { id: idArb(ids.placements), formats: fc.uniqueArray(fc.constantFrom("native-card", "native-inline"), { minLength: 1 }), maxUnits: fc.integer({ min: 1, max: 5 }) },
        { requiredKeys: ["formats", "maxUnits"] },
      );
    case "campaigns":
      return fc.tuple(fc.record(
        {
          id: idArb(ids.campaigns),
          advertiserId: sometimes(edgy, fc.constantFrom(...ids.advertisers), fc.constantFrom("ghost", "Bad Id")),
          name: nameArb,
          status: fc.constantFrom("active", "paused", "archived"),
          tier: fc.constantFrom("sponsorship", "standard", "house"),
          weight: fc.integer({ min: 1, max: 1000 }),
          placements: fc.uniqueArray(sometimes(edgy, fc.constantFrom(...ids.placements), fc.constant("ghost-placement")), { minLength: 1, maxLength: 3 }),
          targeting: targetingArb(edgy),
          exclusions: fc.record({ topics: fc.array(wordArb, { maxLength: 3 }), keywords: fc.array(wordArb, { maxLength: 3 }) }, { requiredKeys: [] }),
          frequencyCaps: fc.array(fc.record({ limit: fc.integer({ min: 1, max: 1_000_000 }), window: capWindowArb(edgy) }), { maxLength: 3 }),
          goal: fc.record({ impressions: fc.integer({ min: 1, max: 1e9 }), pacing: fc.constantFrom("even", "asap") }, { requiredKeys: ["impressions"] }),
        },
        { requiredKeys: ["advertiserId", "name", "tier", "placements"] },
      ), flightArb(edgy)).map(([c, flight]) => ({ ...c, ...flight }));
    case "units":
      return fc.record(
        {
          id: idArb(ids.units),
          campaignId: sometimes(edgy, fc.constantFrom(...ids.campaigns), fc.constant("ghost-campaign")),
          format: fc.constantFrom("native-card", "native-inline"),
          headline: nameArb,
          body: nameArb,
          image: fc.record({ url: httpsUrlArb, width: fc.integer({ min: 1, max: 10000 }), height: fc.integer({ min: 1, max: 10000 }), alt: fc.string({ maxLength: 20 }) }, { requiredKeys: ["url", "width", "height"] }),
          cta: fc.record({ text: nameArb, url: httpsUrlArb }),
          disclosureLabel: fc.constantFrom("Sponsored", "Paid post", "Anzeige"),
        },
        { requiredKeys: ["campaignId", "format", "headline", "body", "cta"] },
      );
  }
}

/** A patch: some fields of a valid entity, nulls to remove optional ones, sometimes the id. */
function patchBaseArb(ctx: FuzzContext, kind: EntityPath): fc.Arbitrary<unknown> {
  return fc.tuple(fc.oneof(entityBaseArb(ctx, kind), entityBaseArb(ctx, kind, true)), fc.array(fc.string({ maxLength: 16 }), { maxLength: 3 }), fc.boolean()).chain(([full, nulls, keepId]) => {
    const keys = Object.keys(full).filter((k) => k !== "id" || keepId);
    return fc.subarray(keys).map((chosen) => {
      const patch: Record<string, unknown> = {};
      for (const k of chosen) patch[k] = full[k];
      for (const k of nulls) if (k in full) patch[k] = null;
      return patch;
    });
  });
}

function catalogBaseArb(ctx: FuzzContext): fc.Arbitrary<unknown> {
  const baseline = ctx.baseline as unknown as Record<string, unknown>;
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(baseline) },
    { weight: 1, arbitrary: fc.integer({ min: -1, max: 50 }).map((version) => ({ ...baseline, version })) },
    {
      weight: 2,
      arbitrary: fc
        .boolean()
        .chain((edgy) =>
          fc.record({
          advertisers: fc.array(entityBaseArb(ctx, "advertisers", edgy), { maxLength: 2 }),
          placements: fc.array(entityBaseArb(ctx, "placements", edgy), { maxLength: 2 }),
          campaigns: fc.array(entityBaseArb(ctx, "campaigns", edgy), { maxLength: 2 }),
          units: fc.array(entityBaseArb(ctx, "units", edgy), { maxLength: 2 }),
          }),
        )
        .map((extra) => ({
          advertisers: [...ctx.baseline.advertisers, ...extra.advertisers],
          placements: [...ctx.baseline.placements, ...extra.placements],
          campaigns: [...ctx.baseline.campaigns, ...extra.campaigns],
          units: [...ctx.baseline.units, ...extra.units],
        })),
    },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({}, { advertisers: [] }, { placements: ctx.baseline.placements }) },
  );
}

// ---------------------------------------------------------------------------------------------
// Targets

export interface FuzzTarget {
  readonly name: string;
  /** Share of `npm run fuzz`'s cases (relative). */
  readonly weight: number;
  /** Statuses the target must produce within 300 seeded cases (a check on the arbitraries). */
  readonly expectStatuses: readonly number[];
  readonly arbitrary: (ctx: FuzzContext) => fc.Arbitrary<FuzzRequest>;
}

type EntityPath = "advertisers" | "placements" | "campaigns" | "units";

const methodArb = (main: readonly string[], others: readonly string[] = ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "GET", "POST", "PURGE"]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...main) }, { weight: 1, arbitrary: fc.constantFrom(...others) });

const reqArb = (method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, headers: fc.Arbitrary<Record<string, string>>, body: fc.Arbitrary<string | Uint8Array<ArrayBuffer> | undefined>): fc.Arbitrary<FuzzRequest> =>
  fc.tuple(method, path, headers, body).map(([m, p, h, b]) => request(m, p, h, b));

function decisionsTarget(): FuzzTarget {
  return {
    name: "POST /v1/decisions",
    weight: 3,
    expectStatuses: [200, 400, 413, 415],
    arbitrary: (ctx) =>
      reqArb(methodArb(["POST"], ["OPTIONS", "GET", "PUT"]), queryArb({ debug: weirdString }).map((q) => `/v1/decisions${q}`), headersArb(ctx, { auth: "public", json: 10 }), jsonBody(decisionBodyArb(ctx), DECISION_LIMIT)),
  };
}

function beaconTarget(type: "impression" | "viewable"): FuzzTarget {
  return {
    name: `GET|POST /v1/events/${type}`,
    weight: 2,
    expectStatuses: [204, 400],
    arbitrary: (ctx) =>
      reqArb(
        methodArb(["GET", "POST"], ["OPTIONS", "PUT", "DELETE", "HEAD"]),
        queryArb({ t: tokenArb(ctx, type) }).map((q) => `/v1/events/${type}${q}`),
        headersArb(ctx, { auth: "public", json: 1 }),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 50 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))),
      ),
  };
}

function clickTarget(): FuzzTarget {
  return {
    name: "GET /v1/events/click",
    weight: 2,
    expectStatuses: [302, 400],
    arbitrary: (ctx) => reqArb(methodArb(["GET"], ["POST", "HEAD", "OPTIONS"]), queryArb({ t: tokenArb(ctx, "click"), url: fc.constantFrom("https://evil.example/") }).map((q) => `/v1/events/click${q}`), headersArb(ctx, { auth: "public", json: 0 }), fc.constant(undefined)),
  };
}

function reportQuery(): fc.Arbitrary<string> {
  return queryArb({ from: dayArb(), to: dayArb(), granularity: fc.oneof(fc.constantFrom("day", "hour", "DAY", "minute", "", "week"), weirdString), format: fc.oneof(fc.constantFrom("csv", "json", "CSV", "xml", ""), weirdString) });
}

/** Valid ranges often enough that the report paths run, not only the range checks. */
function rangeQuery(): fc.Arbitrary<string> {
  const near = fc.tuple(fc.integer({ min: -20, max: 0 }), fc.integer({ min: 0, max: 20 }), fc.constantFrom("", "&granularity=hour", "&format=csv", "&granularity=day&format=json"));
  const day = (d: number): string => new Date(Date.parse("2026-11-27T00:00:00Z") + d * 86_400_000).toISOString().slice(0, 10);
  return fc.oneof({ weight: 1, arbitrary: near.map(([a, b, extra]) => `?from=${day(a)}&to=${day(a + b)}${extra}`) }, { weight: 1, arbitrary: reportQuery() });
}

function reportTarget(kind: "campaigns" | "advertisers"): FuzzTarget {
  return {
    name: `GET /v1/reports/${kind}/{id}`,
    weight: 2,
    expectStatuses: [200, 400, 401, 404],
    arbitrary: (ctx) => {
      const ids = kind === "campaigns" ? ctx.ids.campaigns : ctx.ids.advertisers;
      const id = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: segmentArb(ids) });
      return reqArb(methodArb(["GET"], ["POST", "HEAD", "DELETE", "OPTIONS"]), fc.tuple(id, rangeQuery()).map(([id, q]) => `/v1/reports/${kind}/${id}${q}`), headersArb(ctx, { auth: "report", json: 0 }), fc.constant(undefined));
    },
  };
}

function entityTarget(kind: EntityPath): FuzzTarget {
  return {
    name: `/v1/admin/${kind}`,
    weight: 3,
    expectStatuses: [200, 201, 400, 401, 403, 404, 409],
    arbitrary: (ctx) => {
      const real = ctx.ids[kind];
      const base = `/v1/admin/${kind}`;
      const headers = headersArb(ctx, { auth: "admin", json: 12 });
      const list = queryArb({ cursor: cursorArb(real), limit: limitArb, advertiserId: segmentArb(ctx.ids.advertisers), campaignId: segmentArb(ctx.ids.campaigns) });
      const create = reqArb(fc.constant("POST"), fc.constant(base), headers, jsonBody(fc.oneof({ weight: 2, arbitrary: entityBaseArb(ctx, kind) }, { weight: 1, arbitrary: entityBaseArb(ctx, kind, true) }), ADMIN_LIMIT));
      const getList = reqArb(fc.constant("GET"), list.map((q) => `${base}${q}`), headers, fc.constant(undefined));
      const getOne = reqArb(fc.constant("GET"), segmentArb(real).map((id) => `${base}/${id}`), headers, fc.constant(undefined));
      const patch = reqArb(fc.constant("PATCH"), segmentArb(real).map((id) => `${base}/${id}`), headers, jsonBody(patchBaseArb(ctx, kind), ADMIN_LIMIT));
      const remove = reqArb(fc.constant("DELETE"), segmentArb(real).map((id) => `${base}/${id}`), headers, fc.constant(undefined));
      const odd = reqArb(fc.constantFrom("PUT", "HEAD", "OPTIONS", "POST", "PATCH"), fc.oneof(fc.constant(base), segmentArb(real).map((id) => `${base}/${id}`), segmentArb(real).map((id) => `${base}/${id}/x`)), headers, fc.constant("{}"));
      return fc.oneof({ weight: 5, arbitrary: create }, { weight: 2, arbitrary: getList }, { weight: 2, arbitrary: getOne }, { weight: 4, arbitrary: patch }, { weight: 2, arbitrary: remove }, { weight: 1, arbitrary: odd });
    },
  };
}

function keysTarget(): FuzzTarget {
  return {
    name: "/v1/admin/keys",
    weight: 2,
    expectStatuses: [200, 201, 204, 400, 401, 403, 404, 415],
    arbitrary: (ctx) => {
      const headers = headersArb(ctx, { auth: "admin", json: 12 });
      const body = fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...ctx.ids.advertisers).map((advertiserId) => ({ role: "advertiser", advertiserId })) },
        { weight: 1, arbitrary: fc.constant({ role: "ops" }) },
        {
          weight: 2,
          arbitrary: fc.record(
            { role: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("advertiser", "ops") }, { weight: 1, arbitrary: fc.constantFrom("admin", "OPS", "") }), advertiserId: idArb(ctx.ids.advertisers) },
            { requiredKeys: ["role"] },
          ),
        },
      );
      const create = reqArb(fc.constant("POST"), fc.constant("/v1/admin/keys"), headers, jsonBody(body, ADMIN_LIMIT));
      const list = reqArb(fc.constant("GET"), queryArb({ cursor: cursorArb([]), limit: limitArb }).map((q) => `/v1/admin/keys${q}`), headers, fc.constant(undefined));
      const revoke = reqArb(fc.constantFrom("DELETE", "DELETE", "GET", "PATCH"), segmentArb([...ctx.revocableKeyIds, "ops-bootstrap"]).map((id) => `/v1/admin/keys/${id}`), headers, fc.constant(undefined));
      return fc.oneof({ weight: 4, arbitrary: create }, { weight: 1, arbitrary: list }, { weight: 2, arbitrary: revoke });
    },
  };
}

function auditTarget(): FuzzTarget {
  return {
    name: "GET /v1/admin/audit",
    weight: 1,
    expectStatuses: [200, 400, 401, 403],
    arbitrary: (ctx) =>
      reqArb(
        methodArb(["GET"], ["POST", "DELETE"]),
        queryArb({
          cursor: fc.oneof(cursorArb([]), fc.stringMatching(/^[0-9a-z-]{1,30}$/), fc.stringMatching(/^\d{1,20}-\d{1,20}$/), fc.constantFrom("0-0", "1-0", "2-0", "18446744073709551615-0", "18446744073709551616-0", "99999999999999999999-0")),
          limit: limitArb, entity: fc.oneof(fc.constantFrom("advertiser", "campaign", "unit", "placement", "key", "catalog", "Campaign", ""), weirdString), id: segmentArb(ctx.ids.campaigns) }).map((q) => `/v1/admin/audit${q}`),
        headersArb(ctx, { auth: "admin", json: 0 }),
        fc.constant(undefined),
      ),
  };
}

function explainTarget(): FuzzTarget {
  return {
    name: "POST /v1/admin/explain",
    weight: 2,
    expectStatuses: [200, 400, 401, 403, 415],
    arbitrary: (ctx) =>
      reqArb(
        methodArb(["POST"], ["GET", "PUT"]),
        queryArb({ campaignId: fc.oneof(fc.constantFrom(...ctx.ids.campaigns), fc.constant(ctx.ids.campaigns.join(",")), fc.constantFrom(",", " , ,", "ghost")) }).map((q) => `/v1/admin/explain${q}`),
        headersArb(ctx, { auth: "admin", json: 12 }),
        jsonBody(decisionBodyArb(ctx), DECISION_LIMIT),
      ),
  };
}

function catalogTarget(): FuzzTarget {
  return {
    name: "GET|PUT /v1/admin/catalog",
    weight: 2,
    expectStatuses: [200, 400, 401, 403, 409, 415],
    arbitrary: (ctx) => {
      const ifMatch = fc.oneof({ weight: 4, arbitrary: fc.constant<Record<string, string>>({}) }, { weight: 1, arbitrary: fc.constantFrom("1", '"1"', "0", "2", "abc", "999999999999999", "9999999999999999", "*", "").map((v) => ({ "if-match": v })) });
      const headers = fc.tuple(headersArb(ctx, { auth: "admin", json: 12 }), ifMatch).map(([h, m]) => ({ ...h, ...m }));
      const dryRun = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom("?dryRun=true", "?dryRun=false", "") },
        { weight: 1, arbitrary: queryArb({ dryRun: fc.oneof(fc.constantFrom("true", "false", "TRUE", "1", "yes", ""), weirdString) }) },
      );
      const put = reqArb(fc.constant("PUT"), dryRun.map((q) => `/v1/admin/catalog${q}`), headers, jsonBody(catalogBaseArb(ctx), ADMIN_LIMIT));
      const get = reqArb(fc.constantFrom("GET", "HEAD", "POST", "PATCH", "DELETE"), queryArb({}).map((q) => `/v1/admin/catalog${q}`), headers, fc.constant(undefined));
      return fc.oneof({ weight: 5, arbitrary: put }, { weight: 1, arbitrary: get });
    },
  };
}

function versionsTarget(): FuzzTarget {
  return {
    name: "/v1/admin/catalog/versions + restore",
    weight: 1,
    expectStatuses: [200, 400, 401, 403, 404],
    arbitrary: (ctx) => {
      const headers = headersArb(ctx, { auth: "admin", json: 0 });
      const list = reqArb(fc.constant("GET"), queryArb({ cursor: fc.oneof(fc.integer({ min: -1, max: 20 }).map(String), fc.constantFrom("", "1e3", "9999999999999999", "abc")), limit: limitArb }).map((q) => `/v1/admin/catalog/versions${q}`), headers, fc.constant(undefined));
      const version = fc.oneof(fc.integer({ min: 0, max: 6 }).map(String), fc.constantFrom("-1", "abc", "1e3", "999999999999999", "9999999999999999", "0001", "1.0", "", "%31"), segmentArb([]));
      const restore = reqArb(methodArb(["POST"], ["GET", "PUT", "DELETE"]), version.map((v) => `/v1/admin/catalog/versions/${v}/restore`), headers, fc.constantFrom(undefined, "{}", "x"));
      return fc.oneof({ weight: 1, arbitrary: list }, { weight: 2, arbitrary: restore });
    },
  };
}

function pagesTarget(): FuzzTarget {
  return {
    name: "health, openapi, embed.js, demo, reports page",
    weight: 1,
    expectStatuses: [200, 404],
    arbitrary: (ctx) => {
      const paths = fc.constantFrom("/healthz", "/readyz", "/openapi.json", "/embed.js", "/demo/article", "/demo/article.js", "/reports", "/reports/app.js");
      const query = queryArb({ story: fc.oneof(fc.constantFrom(...ctx.demoSlugs), weirdString), v: weirdString });
      const extra = fc.oneof(fc.constant<Record<string, string>>({}), fc.constantFrom(ctx.embedEtag, `W/${ctx.embedEtag}`, "*", "").map((v) => ({ "if-none-match": v })));
      return reqArb(methodArb(["GET"], ["HEAD", "POST", "OPTIONS", "DELETE"]), fc.tuple(paths, query).map(([p, q]) => p + q), headersArb(ctx, { auth: "public", json: 0, extra }), fc.constant(undefined));
    },
  };
}

function routingTarget(): FuzzTarget {
  const parts = ["v1", "admin", "decisions", "events", "impression", "viewable", "click", "reports", "campaigns", "advertisers", "placements", "units", "keys", "audit", "explain", "catalog", "versions", "restore", "healthz", "readyz", "embed.js", "demo", "article", "openapi.json", "V1", "ADMIN", ".", "..", "", "%2F", "walmart", "1"];
  return {
    name: "any method, any path",
    weight: 1,
    expectStatuses: [404],
    arbitrary: (ctx) =>
      reqArb(
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PURGE", "get"),
        fc.tuple(fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...parts) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map(encode) }, { weight: 1, arbitrary: fc.constantFrom(...PERCENT_JUNK) }), { maxLength: 6 }), queryArb({}), fc.boolean()).map(
          ([segs, q, slash]) => `/${segs.join("/")}${slash ? "/" : ""}${q}`,
        ),
        headersArb(ctx, { auth: "admin", json: 6 }),
        fc.oneof(fc.constant(undefined), fc.constant("{}"), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))),
      ),
  };
}

/** Every endpoint group, in a fixed order. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  decisionsTarget(),
  beaconTarget("impression"),
  beaconTarget("viewable"),
  clickTarget(),
  reportTarget("campaigns"),
  reportTarget("advertisers"),
  entityTarget("advertisers"),
  entityTarget("placements"),
  entityTarget("campaigns"),
  entityTarget("units"),
  keysTarget(),
  auditTarget(),
  explainTarget(),
  catalogTarget(),
  versionsTarget(),
  pagesTarget(),
  routingTarget(),
];
