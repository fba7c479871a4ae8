/**
 * The advertiser report page in a real browser (Debian's Chromium driven by playwright-core),
 * against the real service over HTTP. Three days of known traffic are seeded; an advertiser key
 * for walmart is pasted in, the campaign and range picked, and the chart, table, filtered line and
 * CSV download checked against those numbers and against the CSV API. The key must travel only in
 * the Authorization header, never in a URL. Leaves a screenshot in docs/images for the README.
 *
 * Needs /usr/bin/chromium: skipped locally without it, fails under CI.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import { chromium, type Browser, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestService, fakeClock, OPS_KEY } from "../helpers/app.js";
import {
  BROWSER_UA,
  click302,
  decide,
  decisionBody,
  economyPage,
  fire204,
  MINUTE_MS,
  onlyUnit,
  type TestService,
  type UnitPayload,
} from "../helpers/tracking.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`The browser tests need Chromium at ${CHROMIUM} (Debian package "chromium"), which is missing.`);
}

const WALMART = "walmart-us-manufacturing";
const SCREENSHOT = fileURLToPath(new URL("../../docs/images/reports-page.png", import.meta.url));

/** What the seeded traffic must show, as the page renders it. */
const ROWS = [
  ["2026-11-25", "3", "2", "1", "1", "50.00%", "3"],
  ["2026-11-26", "2", "2", "0", "0", "0.00%", "2"],
  ["2026-11-27", "4", "3", "1", "2", "66.67%", "4"],
];
const TOTAL = ["Total", "9", "7", "2", "3", "42.86%", "9"];
const FILTERED_LINE = "Filtered (not counted): 1 duplicate, 0 expired, 1 bot, 0 rate-limited.";

async function seed(service: TestService, clock: ReturnType<typeof fakeClock>): Promise<void> {
  const { app } = service;
  const serveTo = async (user: string): Promise<UnitPayload> => onlyUnit(await decide(app, decisionBody(economyPage(), user)), WALMART);

  clock.set("2026-11-25T10:00:00Z");
  const [a1, a2] = [await serveTo("page-a1"), await serveTo("page-a2"), await serveTo("page-a3")] as [UnitPayload, UnitPayload, UnitPayload];
  await fire204(app, a1.tracking.impression);
  await fire204(app, a2.tracking.impression);
  await fire204(app, a1.tracking.viewable);
  await click302(app, a1.cta.url);

  clock.set("2026-11-26T11:00:00Z");
  const [b1, b2] = [await serveTo("page-b1"), await serveTo("page-b2")] as [UnitPayload, UnitPayload];
  await fire204(app, b1.tracking.impression);
  await fire204(app, b2.tracking.impression);
  await fire204(app, b1.tracking.impression); // duplicate

  clock.set("2026-11-27T09:00:00Z");
  const [c1, c2, c3, c4] = [await serveTo("page-c1"), await serveTo("page-c2"), await serveTo("page-c3"), await serveTo("page-c4")] as [UnitPayload, UnitPayload, UnitPayload, UnitPayload];
  await fire204(app, c1.tracking.impression);
  await fire204(app, c2.tracking.impression);
  await fire204(app, c3.tracking.impression);
  await fire204(app, c1.tracking.viewable);
  await fire204(app, c4.tracking.impression, { ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)" }); // bot
  await click302(app, c1.cta.url);
  clock.advance(2 * MINUTE_MS); // past the one-click-a-minute limit of the (unknown) client
  await click302(app, c2.cta.url);
  clock.set("2026-11-27T12:00:00Z");
}

describe.skipIf(!haveChromium)("the /reports page in Chromium", () => {
  let service: TestService;
  let server: ServerType;
  let origin: string;
  let browser: Browser;
  let advertiserKey: string;

  beforeAll(async () => {
    const clock = fakeClock("2026-11-25T10:00:00Z");
    service = await buildTestService({ clock: clock.now });
    await seed(service, clock);
    const issued = await service.app.request("/v1/admin/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${OPS_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "advertiser", advertiserId: "walmart" }),
    });
    expect(issued.status).toBe(201);
    advertiserKey = ((await issued.json()) as { key: string }).key;

    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: service.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => resolve(info.port));
    });
    expect((server.address() as AddressInfo).port).toBe(port);
    origin = `http://127.0.0.1:${port}`;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await service?.close();
  });

  it("shows walmart's report for a key and range, with chart, table, filtered counts and a CSV download equal to the API's", async () => {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1180, height: 900 }, userAgent: BROWSER_UA });
    const page = await context.newPage();
    const requests: Request[] = [];
    const problems: string[] = [];
    page.on("request", (r) => requests.push(r));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("response", (r) => {
      // Chromium asks for /favicon.ico on its own; the service has none (a 404 is fine there).
      if (r.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
    });

    await page.goto(`${origin}/reports`);
    await page.fill("#key", advertiserKey);
    await page.click("#key-form button[type=submit]");
    await page.locator("#report-form").waitFor({ state: "visible" });
    // The key left the input, and the campaign list holds walmart's campaigns only.
    expect(await page.inputValue("#key")).toBe("");
    expect(await page.locator("#campaign option").evaluateAll((options) => options.map((o) => o.getAttribute("value")))).toEqual([WALMART]);

    await page.selectOption("#campaign", WALMART);
    await page.fill("#from", "2026-11-25");
    await page.fill("#to", "2026-11-27");
    await page.getByRole("button", { name: "Show report" }).click();
    await page.locator("#report").waitFor({ state: "visible" });

    // Chart: one polyline per series, one point per day.
    const lines = page.locator("#chart polyline");
    expect(await lines.count()).toBe(3);
    expect(await lines.evaluateAll((ls) => ls.map((l) => l.getAttribute("data-series")))).toEqual(["served", "impressions", "clicks"]);
    for (const points of await lines.evaluateAll((ls) => ls.map((l) => l.getAttribute("points") ?? ""))) {
      expect(points.trim().split(/\s+/)).toHaveLength(3);
    }

    // Table: a row per day and the totals.
    const rows = page.locator("#table tbody tr");
    expect(await rows.count()).toBe(ROWS.length);
    for (const [i, expected] of ROWS.entries()) expect(await rows.nth(i).locator("td").allTextContents()).toEqual(expected);
    expect(await page.locator("#table tfoot tr td").allTextContents()).toEqual(TOTAL);
    expect(await page.textContent("#filtered")).toBe(FILTERED_LINE);
    expect((await page.textContent("#status")) ?? "").toBe("");

    await mkdir(fileURLToPath(new URL("../../docs/images/", import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // CSV download: the same bytes as the CSV API answers for the same key and range.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    expect(download.suggestedFilename()).toBe(`${WALMART}_2026-11-25_2026-11-27.csv`);
    const downloaded = await readFile(await download.path(), "utf8");
    const api = await service.app.request(`/v1/reports/campaigns/${WALMART}?from=2026-11-25&to=2026-11-27`, {
      headers: { authorization: `Bearer ${advertiserKey}`, accept: "text/csv" },
    });
    expect(api.status).toBe(200);
    const csv = await api.text();
    expect(downloaded).toBe(csv);
    expect(csv.split("\r\n")).toEqual([
      "period,served,impressions,viewable,clicks,ctr,reach",
      "2026-11-25,3,2,1,1,0.5,3",
      "2026-11-26,2,2,0,0,0,2",
      "2026-11-27,4,3,1,2,0.6667,4",
      "",
    ]);

    // The key travelled only in the Authorization header of the page's API calls.
    const apiCalls = requests.filter((r) => new URL(r.url()).pathname.startsWith("/v1/"));
    expect(apiCalls.map((r) => new URL(r.url()).pathname)).toEqual([
      "/v1/admin/campaigns",
      `/v1/reports/campaigns/${WALMART}`,
      `/v1/reports/campaigns/${WALMART}`,
    ]);
    for (const r of apiCalls) expect((await r.allHeaders()).authorization).toBe(`Bearer ${advertiserKey}`);
    for (const r of requests) {
      expect(decodeURIComponent(r.url())).not.toContain(advertiserKey);
      expect(r.postData() ?? "").not.toContain(advertiserKey);
    }
    expect(page.url()).not.toContain(advertiserKey);
    expect(problems).toEqual([]);
    await context.close();
  });
});
