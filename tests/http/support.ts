/**
 * Shared helpers for the HTTP tests: fixture pages, typed views of responses, and thin wrappers
 * around `app.request()`. Nothing here holds state; every test builds its own service.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { OPS_KEY, type App } from "../helpers/app.js";

export type { App, TestService } from "../helpers/app.js";

export const BASE_URL = "https://ads.test";

export interface PageBody {
  url: string;
  section?: string;
  topics?: string[];
  keywords?: string[];
  title?: string;
  language?: string;
  pageViewId?: string;
}

export type Slug = "ukraine-north-korea" | "nigeria-boko-haram" | "canada-carney" | "india-trade-wars";

interface PageFixture {
  slug: string;
  page: PageBody;
}

const fixturePages = JSON.parse(readFileSync(new URL("../fixtures/pages.json", import.meta.url), "utf8")) as PageFixture[];

/** A fresh copy of a fixture page's `page` object. */
export function page(slug: Slug): PageBody {
  const found = fixturePages.find((p) => p.slug === slug);
  if (!found) throw new Error(`no fixture page ${slug}`);
  return structuredClone(found.page);
}

export interface SlotRequest {
  id: string;
  placement: string;
  count?: number;
}

/** The two sponsored blocks of the fixture article page. */
export function fixtureSlots(): SlotRequest[] {
  return [
    { id: "mid-1", placement: "article-mid", count: 1 },
    { id: "end-1", placement: "article-end", count: 3 },
  ];
}

export interface DecisionBody {
  page: PageBody;
  user?: { key: string };
  slots: SlotRequest[];
  geo?: { country?: string };
  device?: { type?: string };
}

/** A decision body for a fixture page with the fixture slots and (optionally) a user key. */
export function decisionBody(slug: Slug, userKey?: string, slots: SlotRequest[] = fixtureSlots()): DecisionBody {
  return { page: page(slug), ...(userKey === undefined ? {} : { user: { key: userKey } }), slots };
}

export interface UnitPayload {
  unitId: string;
  campaignId: string;
  advertiserId: string;
  format: string;
  disclosure: { label: string; sponsor: string };
  headline: string;
  body: string;
  image?: { url: string; width: number; height: number; alt: string };
  cta: { text: string; url: string };
  tracking: { impression: string; viewable: string };
  html: string;
}

export interface SlotResult {
  id: string;
  placement: string;
  units: UnitPayload[];
  noFillReason?: string;
}

export interface DecisionResponse {
  decisionId: string;
  slots: SlotResult[];
}

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorEnvelope {
  error: { code: string; message: string; requestId: string; details?: ErrorDetail[] };
}

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

export async function readBody<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** POST /v1/decisions with a JSON body (extra headers override the content type). */
export async function postDecision(app: App, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return app.request("/v1/decisions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** POST /v1/decisions and expect a 200; returns the parsed decision. */
export async function decide(app: App, body: unknown, headers: Record<string, string> = {}): Promise<DecisionResponse> {
  const res = await postDecision(app, body, headers);
  if (res.status !== 200) throw new Error(`decision answered ${res.status}: ${await res.text()}`);
  return readBody<DecisionResponse>(res);
}

export function servedUnits(d: DecisionResponse): UnitPayload[] {
  return d.slots.flatMap((s) => s.units);
}

export function servedCampaigns(d: DecisionResponse): string[] {
  return servedUnits(d).map((u) => u.campaignId);
}

export function servedAdvertisers(d: DecisionResponse): string[] {
  return servedUnits(d).map((u) => u.advertiserId);
}

export function slot(d: DecisionResponse, id: string): SlotResult {
  const s = d.slots.find((x) => x.id === id);
  if (!s) throw new Error(`no slot ${id} in ${JSON.stringify(d)}`);
  return s;
}

/** An admin call with a key (the ops key by default) and, when a body is given, a JSON body. */
export async function adminCall(app: App, method: string, path: string, body?: unknown, key: string = OPS_KEY): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return app.request(path, init);
}

/** An admin call that must answer `status`; returns the parsed body (or undefined for 204). */
export async function adminOk<T>(app: App, method: string, path: string, body?: unknown, status = 200, key: string = OPS_KEY): Promise<T> {
  const res = await adminCall(app, method, path, body, key);
  if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status} (wanted ${status}): ${await res.text()}`);
  return (status === 204 ? undefined : await res.json()) as T;
}

/**
 * Asserts the response is the error envelope with this status and code, that `requestId` matches
 * the `X-Request-Id` header, and returns the envelope.
 */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorEnvelope> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  const requestId = res.headers.get("x-request-id");
  expect(requestId).toBeTruthy();
  expect(body.error.requestId).toBe(requestId);
  if (body.error.details !== undefined) {
    expect(Array.isArray(body.error.details)).toBe(true);
    for (const d of body.error.details) {
      expect(typeof d.path).toBe("string");
      expect(typeof d.message).toBe("string");
    }
  }
  return body;
}

export interface IssuedKey {
  id: string;
  key: string;
  role: string;
  advertiserId?: string;
}

export async function issueAdvertiserKey(app: App, advertiserId: string): Promise<IssuedKey> {
  return adminOk<IssuedKey>(app, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId }, 201);
}

export async function issueOpsKey(app: App): Promise<IssuedKey> {
  return adminOk<IssuedKey>(app, "POST", "/v1/admin/keys", { role: "ops" }, 201);
}

/** A unit body with sensible defaults for tests. */
export function unitBody(id: string, campaignId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    campaignId,
    format: "native-card",
    headline: `Headline of ${id}`,
    body: `Body of ${id}`,
    cta: { text: "Read more", url: `https://advertiser.example/${id}` },
    ...overrides,
  };
}

/**
 * Creates (as ops) an isolated placement, an advertiser, one campaign on that placement and one
 * unit, so a test can reason about a slot no sample campaign touches.
 */
export async function createIsolatedCampaign(
  app: App,
  options: { placementId: string; advertiserId?: string; campaignId?: string; unitId?: string; campaign?: Record<string, unknown>; unit?: Record<string, unknown> },
): Promise<{ placementId: string; advertiserId: string; campaignId: string; unitId: string }> {
  const advertiserId = options.advertiserId ?? `${options.placementId}-adv`;
  const campaignId = options.campaignId ?? `${options.placementId}-camp`;
  const unitId = options.unitId ?? `${options.placementId}-unit`;
  const placementExists = (await adminCall(app, "GET", `/v1/admin/placements/${options.placementId}`)).status === 200;
  if (!placementExists) await adminOk(app, "POST", "/v1/admin/placements", { id: options.placementId, formats: ["native-card"], maxUnits: 1 }, 201);
  const advertiserExists = (await adminCall(app, "GET", `/v1/admin/advertisers/${advertiserId}`)).status === 200;
  if (!advertiserExists) await adminOk(app, "POST", "/v1/admin/advertisers", { id: advertiserId, name: `Advertiser ${advertiserId}` }, 201);
  await adminOk(
    app,
    "POST",
    "/v1/admin/campaigns",
    { id: campaignId, advertiserId, name: `Campaign ${campaignId}`, tier: "standard", placements: [options.placementId], ...options.campaign },
    201,
  );
  await adminOk(app, "POST", "/v1/admin/units", unitBody(unitId, campaignId, options.unit), 201);
  return { placementId: options.placementId, advertiserId, campaignId, unitId };
}

/** A decision body for an arbitrary page and slots. */
export function simpleBody(slots: SlotRequest[], extra: Partial<DecisionBody> = {}): DecisionBody {
  return { page: { url: "https://news.example/test/page", section: "misc", language: "en" }, slots, ...extra };
}
