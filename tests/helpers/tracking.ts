/**
 * Helpers for the beacon, report, tenancy and browser tests: typed views of decision and report
 * responses, fixture pages, and thin wrappers that fire the tracking URLs a decision returned
 * (their origin stripped, so `app.request()` can take them).
 */
import type { Context } from "hono";
import { expect } from "vitest";
import { OPS_KEY, type App } from "./app.js";
import type { DecisionBody, DecisionResponse, ErrorEnvelope, PageBody, SlotRequest, UnitPayload } from "../http/support.js";

export type { App, TestService } from "./app.js";
export type { DecisionBody, DecisionResponse, ErrorEnvelope, PageBody, SlotRequest, UnitPayload } from "../http/support.js";

/** PUBLIC_BASE_URL of buildTestService. */
export const PUBLIC_ORIGIN = "https://ads.test";

/** A desktop Chrome user agent (isbot lets it through). */
export const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Header the tests use to say which client address a request comes from (see `headerIp`). */
export const CLIENT_IP_HEADER = "x-test-client-ip";

/** A `clientIp` for buildTestService: the address in the `x-test-client-ip` header, if any. */
export function headerIp(c: Context): string | undefined {
  return c.req.header(CLIENT_IP_HEADER);
}

/** The sample "india-trade-wars" article: walmart (sponsorship) and microsoft (standard) both fit it. */
export function economyPage(): PageBody {
  return {
    url: "https://news.example/economy/india-trade-war-winner",
    section: "economy",
    topics: ["trade", "india", "china", "manufacturing"],
    keywords: ["india", "narendra modi", "tariffs", "supply chains"],
    title: "If there's a winner from the trade wars, India is a good candidate",
    language: "en",
  };
}

/** The sample "nigeria-boko-haram" article: every paid campaign excludes it; only the house campaign serves. */
export function houseOnlyPage(): PageBody {
  return {
    url: "https://news.example/world/nigeria-boko-haram-attacks-rise",
    section: "geopolitics",
    topics: ["terrorism", "africa", "security"],
    keywords: ["nigeria", "boko haram", "borno", "islamic state west africa province"],
    title: "Attacks rise in northeastern Nigeria as jihadist groups regroup",
    language: "en",
  };
}

export const MID_SLOT: SlotRequest = { id: "mid-1", placement: "article-mid", count: 1 };
export const END_SLOT: SlotRequest = { id: "end-1", placement: "article-end", count: 1 };

export function decisionBody(page: PageBody, userKey: string | undefined, slots: SlotRequest[] = [MID_SLOT]): DecisionBody {
  return { page, ...(userKey === undefined ? {} : { user: { key: userKey } }), slots };
}

export interface Metrics {
  served: number;
  impressions: number;
  viewable: number;
  clicks: number;
  ctr: number;
  reach: number;
}

export interface Filtered {
  duplicate: number;
  expired: number;
  bot: number;
  rate_limited: number;
}

export interface CampaignReport {
  campaignId: string;
  from: string;
  to: string;
  granularity: "day" | "hour";
  rows: (Metrics & { period: string })[];
  totals: Metrics;
  filtered: Filtered;
}

export interface AdvertiserReport {
  advertiserId: string;
  from: string;
  to: string;
  rows: (Metrics & { campaignId: string; name: string })[];
  totals: Metrics;
  filtered: Filtered;
}

export const ZERO: Metrics = { served: 0, impressions: 0, viewable: 0, clicks: 0, ctr: 0, reach: 0 };
export const NOTHING_FILTERED: Filtered = { duplicate: 0, expired: 0, bot: 0, rate_limited: 0 };

/** Metrics with the fields given and zeros elsewhere. */
export function metrics(m: Partial<Metrics>): Metrics {
  return { ...ZERO, ...m };
}

/** Filter counts with the reasons given and zeros elsewhere. */
export function filtered(f: Partial<Filtered>): Filtered {
  return { ...NOTHING_FILTERED, ...f };
}

/** POST /v1/decisions; fails the test unless it answers 200. */
export async function decide(app: App, body: DecisionBody, headers: Record<string, string> = {}): Promise<DecisionResponse> {
  const res = await app.request("/v1/decisions", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER_UA, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as DecisionResponse;
}

export function units(d: DecisionResponse): UnitPayload[] {
  return d.slots.flatMap((s) => s.units);
}

/** The one unit of a decision expected to serve exactly one. */
export function onlyUnit(d: DecisionResponse, campaignId?: string): UnitPayload {
  const all = units(d);
  expect(all, JSON.stringify(d)).toHaveLength(1);
  const unit = all[0] as UnitPayload;
  if (campaignId !== undefined) expect(unit.campaignId).toBe(campaignId);
  return unit;
}

/** The served unit of a campaign in a decision. */
export function unitOf(d: DecisionResponse, campaignId: string): UnitPayload {
  const unit = units(d).find((u) => u.campaignId === campaignId);
  if (!unit) throw new Error(`${campaignId} was not served: ${JSON.stringify(d)}`);
  return unit;
}

/** A tracking or click URL of a decision without its origin (what `app.request` takes). */
export function pathOf(url: string): string {
  expect(url.startsWith(`${PUBLIC_ORIGIN}/`), url).toBe(true);
  return url.slice(PUBLIC_ORIGIN.length);
}

/** The `t` parameter of a tracking URL. */
export function tokenOf(url: string): string {
  const t = new URL(url).searchParams.get("t");
  if (!t) throw new Error(`no token in ${url}`);
  return t;
}

export interface FireOptions {
  method?: "GET" | "POST";
  /** User-Agent; `null` sends none. Default: a desktop Chrome. */
  ua?: string | null;
  /** Client address (needs `clientIp: headerIp` on the service). */
  ip?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Fires a beacon or click URL (absolute, from a decision, or a path). */
export async function fire(app: App, url: string, options: FireOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const ua = options.ua === undefined ? BROWSER_UA : options.ua;
  if (ua !== null) headers["user-agent"] = ua;
  if (options.ip !== undefined) headers[CLIENT_IP_HEADER] = options.ip;
  const path = url.startsWith("/") ? url : pathOf(url);
  return app.request(path, { method: options.method ?? "GET", headers, ...(options.body === undefined ? {} : { body: options.body }) });
}

/** Fires a beacon URL and expects 204 with an empty body. */
export async function fire204(app: App, url: string, options: FireOptions = {}): Promise<void> {
  const res = await fire(app, url, options);
  const text = await res.text();
  expect(res.status, text).toBe(204);
  expect(text).toBe("");
}

/** Fires a click URL and expects a 302; returns the Location. */
export async function click302(app: App, url: string, options: FireOptions = {}): Promise<string> {
  const res = await fire(app, url, options);
  expect(res.status, await res.text()).toBe(302);
  const location = res.headers.get("location");
  expect(location).toBeTruthy();
  return location as string;
}

export function authHeader(key: string = OPS_KEY): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export type ReportQuery = Record<string, string>;

/** GET a report path with a key; returns the raw response. */
export async function getReport(app: App, path: string, query: ReportQuery, key: string = OPS_KEY, headers: Record<string, string> = {}): Promise<Response> {
  const qs = new URLSearchParams(query).toString();
  return app.request(`${path}${qs ? `?${qs}` : ""}`, { headers: { ...authHeader(key), ...headers } });
}

export async function campaignReport(app: App, campaignId: string, query: ReportQuery, key: string = OPS_KEY): Promise<CampaignReport> {
  const res = await getReport(app, `/v1/reports/campaigns/${campaignId}`, query, key);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as CampaignReport;
}

export async function advertiserReport(app: App, advertiserId: string, query: ReportQuery, key: string = OPS_KEY): Promise<AdvertiserReport> {
  const res = await getReport(app, `/v1/reports/advertisers/${advertiserId}`, query, key);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as AdvertiserReport;
}

/** Totals and filter counts of one campaign over one day range. */
export async function counts(app: App, campaignId: string, from: string, to: string = from): Promise<{ totals: Metrics; filtered: Filtered }> {
  const r = await campaignReport(app, campaignId, { from, to });
  return { totals: r.totals, filtered: r.filtered };
}

/** Asserts the error envelope with this status and code (requestId = X-Request-Id); returns it. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorEnvelope> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

/** `YYYY-MM-DD` of a time in ms. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A seeded Fisher-Yates shuffle (Mulberry32), so failures replay. */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let a = seed >>> 0;
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
