/**
 * Advertiser reports from the counters: rows per day or hour, totals, CTR, reach and what was
 * filtered by reason. Day rows read the daily buckets (kept long), hour rows the hourly buckets
 * (kept `HOURLY_RETENTION_DAYS`), so a report's cost follows its range, not the history's size.
 */
import { parseDay, periods } from "../domain/periods.js";
import type { CatalogSnapshot } from "../domain/catalog-snapshot.js";
import { ApiError } from "../errors.js";
import { FILTER_REASONS, type CounterHash, type FilterReason, type ReportStore } from "../store/ports.js";

export type Granularity = "day" | "hour";

export interface Metrics {
  served: number;
  impressions: number;
  viewable: number;
  clicks: number;
  ctr: number;
  reach: number;
}

export interface CampaignReport {
  campaignId: string;
  from: string;
  to: string;
  granularity: Granularity;
  rows: (Metrics & { period: string })[];
  totals: Metrics;
  filtered: Record<FilterReason, number>;
}

export interface AdvertiserReport {
  advertiserId: string;
  from: string;
  to: string;
  granularity: "day";
  rows: (Metrics & { campaignId: string; name: string })[];
  totals: Metrics;
  filtered: Record<FilterReason, number>;
}

export interface RangeQuery {
  from?: string | undefined;
  to?: string | undefined;
  granularity?: string | undefined;
}

export const MAX_DAYS = 400;
export const MAX_HOUR_DAYS = 14;

export interface ReportService {
  campaign(campaignId: string, query: RangeQuery, scope: string | undefined): Promise<CampaignReport>;
  advertiser(advertiserId: string, query: RangeQuery, scope: string | undefined): Promise<AdvertiserReport>;
}

/** Clicks per impression, to 4 decimals; 0 when there are no impressions. */
export function ctr(clicks: number, impressions: number): number {
  return impressions > 0 ? Math.round((clicks / impressions) * 10_000) / 10_000 : 0;
}

/**
 * A campaign's counts in one bucket from its counter hash. Each count is kept per unit
 * (`u:<unitId>:<field>`, unit ids hold no `:`): the campaign's is their sum. Hashes written before
 * the campaign-wide fields were dropped (`served`, `impression`, `f:bot`...) hold both, equal; a
 * hash that only one version of the service wrote to during a rolling deploy holds more under the
 * units. The larger of the two is the count.
 */
export function campaignCounts(h: CounterHash): CounterHash {
  const units: CounterHash = {};
  const out: CounterHash = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith("u:")) {
      const field = k.slice(k.indexOf(":", 2) + 1);
      units[field] = (units[field] ?? 0) + v;
    } else out[k] = v;
  }
  for (const [field, n] of Object.entries(units)) out[field] = Math.max(out[field] ?? 0, n);
  return out;
}

function metrics(h: CounterHash, reach: number): Metrics {
  const impressions = h.impression ?? 0;
  const clicks = h.click ?? 0;
  return { served: h.served ?? 0, impressions, viewable: h.viewable ?? 0, clicks, ctr: ctr(clicks, impressions), reach };
}

function emptyFiltered(): Record<FilterReason, number> {
  return Object.fromEntries(FILTER_REASONS.map((r) => [r, 0])) as Record<FilterReason, number>;
}

function parseRange(query: RangeQuery, allowHour: boolean): { fromMs: number; toMs: number; from: string; to: string; granularity: Granularity } {
  const problems: { path: string; message: string }[] = [];
  const granularity = query.granularity ?? "day";
  if (granularity !== "day" && !(allowHour && granularity === "hour")) {
    problems.push({ path: "granularity", message: allowHour ? "must be day or hour" : "must be day" });
  }
  const fromMs = query.from === undefined ? undefined : parseDay(query.from);
  const toMs = query.to === undefined ? undefined : parseDay(query.to);
  if (fromMs === undefined) problems.push({ path: "from", message: "required, a UTC day as YYYY-MM-DD" });
  if (toMs === undefined) problems.push({ path: "to", message: "required, a UTC day as YYYY-MM-DD" });
  if (problems.length > 0 || fromMs === undefined || toMs === undefined) throw new ApiError("BAD_REQUEST", "invalid report range", problems);
  if (fromMs > toMs) throw new ApiError("BAD_REQUEST", "from must not be after to", [{ path: "from", message: "after to" }]);
  const days = (toMs - fromMs) / 86_400_000 + 1;
  const cap = granularity === "hour" ? MAX_HOUR_DAYS : MAX_DAYS;
  if (days > cap) {
    throw new ApiError("BAD_REQUEST", `the range is ${days} days; at most ${cap} with ${granularity} granularity`, [
      { path: "to", message: `range over ${cap} days` },
    ]);
  }
  return { fromMs, toMs, from: query.from as string, to: query.to as string, granularity: granularity as Granularity };
}

export function createReportService(deps: { reports: ReportStore; catalog: { current(): CatalogSnapshot } }): ReportService {
  const { reports, catalog } = deps;

  const campaignData = async (campaignId: string, granularity: Granularity, fromMs: number, toMs: number) => {
    const ps = periods(fromMs, toMs, granularity);
    const buckets = ps.map((p) => p.bucket);
    const [hashes, reach] = await Promise.all([reports.counters(campaignId, granularity, buckets), reports.reach(campaignId, granularity, buckets)]);
    const filtered = emptyFiltered();
    const sum: CounterHash = {};
    const rows = ps.map((p, i) => {
      const h = campaignCounts(hashes[i] ?? {});
      for (const [k, v] of Object.entries(h)) sum[k] = (sum[k] ?? 0) + v;
      return { period: p.label, ...metrics(h, reach.perBucket[i] ?? 0) };
    });
    for (const r of FILTER_REASONS) filtered[r] = sum[`f:${r}`] ?? 0;
    return { rows, totals: metrics(sum, reach.total), filtered };
  };

  return {
    async campaign(campaignId, query, scope) {
      const campaign = catalog.current().campaigns.get(campaignId);
      if (!campaign || (scope !== undefined && campaign.advertiserId !== scope)) throw new ApiError("NOT_FOUND", `campaign "${campaignId}" not found`);
      const range = parseRange(query, true);
      const data = await campaignData(campaignId, range.granularity, range.fromMs, range.toMs);
      return { campaignId, from: range.from, to: range.to, granularity: range.granularity, ...data };
    },

    async advertiser(advertiserId, query, scope) {
      const snapshot = catalog.current();
      if (!snapshot.advertisers.has(advertiserId) || (scope !== undefined && advertiserId !== scope)) {
        throw new ApiError("NOT_FOUND", `advertiser "${advertiserId}" not found`);
      }
      const range = parseRange(query, false);
      const campaigns = [...snapshot.campaigns.values()].filter((c) => c.advertiserId === advertiserId).sort((a, b) => (a.id < b.id ? -1 : 1));
      const results = await Promise.all(campaigns.map((c) => campaignData(c.id, "day", range.fromMs, range.toMs)));
      const filtered = emptyFiltered();
      const totals: Metrics = { served: 0, impressions: 0, viewable: 0, clicks: 0, ctr: 0, reach: 0 };
      const rows = results.map((r, i) => {
        for (const k of FILTER_REASONS) filtered[k] += r.filtered[k];
        totals.served += r.totals.served;
        totals.impressions += r.totals.impressions;
        totals.viewable += r.totals.viewable;
        totals.clicks += r.totals.clicks;
        const c = campaigns[i] as (typeof campaigns)[number];
        return { campaignId: c.id, name: c.source.name, ...r.totals };
      });
      totals.ctr = ctr(totals.clicks, totals.impressions);
      // Distinct readers across the advertiser's campaigns, from its own day reach.
      totals.reach = await reports.advertiserReach(advertiserId, periods(range.fromMs, range.toMs, "day").map((p) => p.bucket));
      return { advertiserId, from: range.from, to: range.to, granularity: "day", rows, totals, filtered };
    },
  };
}

/** Rows as CSV with a header line (RFC 4180 quoting). */
export function toCsv<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[]): string {
  const cell = (v: unknown): string => {
    const s = v === undefined || v === null ? "" : String(v);
    // Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
}
