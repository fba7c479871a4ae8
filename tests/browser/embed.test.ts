/// <reference lib="dom" />
/**
 * embed.js on the demo article page, in a real browser (Debian's Chromium driven by playwright-core)
 * against the real service over HTTP, with the real clock: the cards and their disclosures, the one
 * decision call per page view and the page context it carries, contextual exclusion, impression
 * and viewable beacons (IAB: ≥ 50 % in view for one continuous second, once), the signed click
 * redirect, no-fill collapse, separation across lazily added slots of one page view, Global Privacy
 * Control, the bundle budget and caching of /embed.js. Leaves desktop and phone screenshots of the
 * demo page in docs/images for the README.
 *
 * Advertiser images (https://cdn.example/...) and landing pages are answered by the browser
 * context itself: nothing leaves the machine. Needs /usr/bin/chromium: skipped locally without it,
 * fails under CI.
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmbed, EMBED_GZIP_BUDGET } from "../../src/web/embed-asset.js";
import { auth, buildTestService, OPS_KEY } from "../helpers/app.js";
import {
  DESKTOP_CHROME_UA,
  haveChromium,
  launchChromium,
  PHONE_CHROME_UA,
  requireChromiumUnderCi,
  serveTestService,
  type HttpService,
  type ServedRequest,
} from "../helpers/browser.js";

requireChromiumUnderCi();

// ---------------------------------------------------------------------------------------------
// Fixtures and wire types
// ---------------------------------------------------------------------------------------------

interface Story {
  slug: string;
  page: { url: string; section?: string; topics?: string[]; keywords?: string[]; title?: string; language?: string };
}
interface CatalogDocument {
  placements: Record<string, unknown>[];
  advertisers: { id: string; name: string; competitiveLabels?: string[] }[];
  campaigns: { id: string; advertiserId: string; [field: string]: unknown }[];
  units: { id: string; campaignId: string; disclosureLabel?: string; cta: { text: string; url: string }; [field: string]: unknown }[];
}

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));
const STORIES = fixture("pages.json") as Story[];
const CATALOG = fixture("catalog.json") as CatalogDocument;

function story(slug: string): Story {
  const s = STORIES.find((x) => x.slug === slug);
  if (!s) throw new Error(`no fixture story ${slug}`);
  return s;
}

const WAR_STORY = "ukraine-north-korea"; // the demo page's default story
const WALMART = "walmart-us-manufacturing";
const WALMART_LANDING = "https://corporate.walmart.example/us-manufacturing";

interface ServedUnit {
  unitId: string;
  campaignId: string;
  advertiserId: string;
  disclosure: { label: string; sponsor: string };
  cta: { text: string; url: string };
  tracking: { impression: string; viewable: string };
}
interface Decision {
  decisionId: string;
  slots: { id: string; placement: string; units: ServedUnit[]; noFillReason?: string }[];
}
interface DecisionBody {
  page: { url: string; section?: string; topics?: string[]; keywords?: string[]; title?: string; language?: string; pageViewId?: string };
  user?: { key: string };
  slots: { id: string; placement: string; count: number }[];
}
interface DecisionCall {
  request: Request;
  body: DecisionBody;
  decision: Decision;
}
interface Metrics {
  served: number;
  impressions: number;
  viewable: number;
  clicks: number;
}

/** A rendered card as the reader sees it. */
interface Card {
  slotId: string;
  campaignId: string;
  unitId: string;
  label: string;
  sponsor: string;
  disclosure: string;
  hrefs: string[];
}

const SETTLE_MS = 400; // well past embed.js's 50 ms batching of newly added slots
const today = (): string => new Date().toISOString().slice(0, 10);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tokenOf = (url: string): string => new URL(url).searchParams.get("t") ?? "";
const allUnits = (d: Decision): ServedUnit[] => d.slots.flatMap((s) => s.units);

/** An SVG stand-in for an advertiser image, sized like the catalog's 1200×628 creatives. */
function placeholderImage(path: string): string {
  const name = path.split("/").pop()?.replace(/\.\w+$/, "") ?? "image";
  const hue = [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 360, 7);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="628" viewBox="0 0 1200 628">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},55%,42%)"/>` +
    `<stop offset="1" stop-color="hsl(${(hue + 40) % 360},60%,28%)"/></linearGradient></defs>` +
    `<rect width="1200" height="628" fill="url(#g)"/>` +
    `<text x="600" y="330" font-family="sans-serif" font-size="54" fill="#fff" text-anchor="middle">${name}</text></svg>`
  );
}

// ---------------------------------------------------------------------------------------------
// The bundle (no browser)
// ---------------------------------------------------------------------------------------------

describe("embed.js, the bundle", () => {
  it("is at most 4 KB gzipped when built from source", async () => {
    const built = await buildEmbed({ write: false });
    expect(built.code.length).toBeGreaterThan(0);
    expect(EMBED_GZIP_BUDGET).toBe(4096);
    expect(built.gzipBytes).toBeLessThanOrEqual(4096);
  });

  it("GET /embed.js serves the current build with an ETag and long caching, and answers 304 to If-None-Match", async () => {
    const service = await buildTestService();
    try {
      const built = await buildEmbed({ write: false });
      const res = await service.app.request("/embed.js");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type") ?? "").toMatch(/^text\/javascript/);
      // Not a stale dist/web/embed.js: the bytes built from the current source.
      expect(await res.text()).toBe(built.code);
      const etag = res.headers.get("etag");
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(etag).toBe(built.etag);
      const cacheControl = res.headers.get("cache-control") ?? "";
      expect(cacheControl).toContain("public");
      const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1] ?? "0");
      expect(maxAge).toBeGreaterThanOrEqual(86_400);

      const again = await service.app.request("/embed.js", { headers: { "if-none-match": etag ?? "" } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(etag);

      const changed = await service.app.request("/embed.js", { headers: { "if-none-match": '"something-else"' } });
      expect(changed.status).toBe(200);
    } finally {
      await service.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// In Chromium
// ---------------------------------------------------------------------------------------------

describe.skipIf(!haveChromium)("embed.js on the demo article in Chromium", () => {
  let http: HttpService;
  let browser: Browser;

  beforeAll(async () => {
    http = await serveTestService({ clock: Date.now });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await http?.close();
  });

  /** A context with a normal desktop Chrome UA; every off-origin request is answered locally. */
  async function newContext(options: BrowserContextOptions = {}, origin = http.origin): Promise<BrowserContext> {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME_UA, viewport: { width: 1280, height: 900 }, ...options });
    await context.route(
      (url) => url.origin !== origin,
      (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "cdn.example") return route.fulfill({ status: 200, contentType: "image/svg+xml", body: placeholderImage(url.pathname) });
        return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: `<!doctype html><title>Landing</title><h1>Landing page ${url.href}</h1>` });
      },
    );
    return context;
  }

  interface Opened {
    page: Page;
    /** Every POST /v1/decisions the page made. */
    requests: Request[];
    /** Those answered, with the body sent and the decision received. */
    calls: DecisionCall[];
    /** Page errors, console errors, HTTP errors. */
    problems: string[];
  }

  /** Opens a page and records its decision calls and problems (does not navigate). */
  async function watch(context: BrowserContext, origin = http.origin): Promise<Opened> {
    const page = await context.newPage();
    const opened: Opened = { page, requests: [], calls: [], problems: [] };
    const isDecision = (r: Request): boolean => r.method() === "POST" && r.url() === `${origin}/v1/decisions`;
    page.on("request", (r) => {
      if (isDecision(r)) opened.requests.push(r);
    });
    page.on("response", (res) => {
      const r = res.request();
      if (res.status() >= 400 && new URL(r.url()).pathname !== "/favicon.ico") opened.problems.push(`HTTP ${res.status()} for ${r.url()}`);
      if (!isDecision(r)) return;
      void res
        .json()
        .then((decision: Decision) => opened.calls.push({ request: r, body: JSON.parse(r.postData() ?? "null") as DecisionBody, decision }))
        .catch((err: unknown) => opened.problems.push(`decision response unreadable: ${String(err)}`));
    });
    page.on("pageerror", (e) => opened.problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) opened.problems.push(`console: ${m.text()}`);
    });
    return opened;
  }

  /** Waits until every slot on the page is filled or collapsed, and every decision call answered. */
  async function settled(o: Opened): Promise<void> {
    await o.page.waitForFunction(() => {
      const slots = Array.from(document.querySelectorAll("[data-sponsored-slot]"));
      return slots.length > 0 && slots.every((s) => ["filled", "empty"].includes(s.getAttribute("data-sp-state") ?? ""));
    });
    await sleep(SETTLE_MS);
    await expect.poll(() => o.calls.length).toBe(o.requests.length);
  }

  async function openDemo(context: BrowserContext, slug?: string): Promise<Opened> {
    const o = await watch(context);
    await o.page.goto(`${http.origin}/demo/article${slug ? `?story=${slug}` : ""}`);
    await settled(o);
    return o;
  }

  function firstCall(o: Opened): DecisionCall {
    const call = o.calls[0];
    if (!call) throw new Error("no decision call");
    return call;
  }

  async function cardsOn(page: Page, within = "[data-sponsored-slot]"): Promise<Card[]> {
    return page.locator(`${within} .sponsored-unit`).evaluateAll((els) =>
      els.map((el) => ({
        slotId: el.closest("[data-sponsored-slot]")?.id ?? "",
        campaignId: el.getAttribute("data-campaign-id") ?? "",
        unitId: el.getAttribute("data-unit-id") ?? "",
        label: el.querySelector(".sponsored-unit__label")?.textContent ?? "",
        sponsor: el.querySelector(".sponsored-unit__sponsor")?.textContent ?? "",
        disclosure: (el.querySelector(".sponsored-unit__disclosure")?.textContent ?? "").replace(/\s+/g, " ").trim(),
        hrefs: Array.from(el.querySelectorAll("a"), (a) => a.href),
      })),
    );
  }

  /** Beacons of one type the server received for a tracking URL's token. */
  const beaconsFor = (type: "impression" | "viewable" | "click", url: string): ServedRequest[] =>
    http.log.filter((r) => r.path === `/v1/events/${type}` && r.query.get("t") === tokenOf(url));

  async function totals(campaignId: string): Promise<Metrics> {
    const res = await http.service.app.request(`/v1/reports/campaigns/${campaignId}?from=${today()}&to=${today()}`, { headers: { authorization: `Bearer ${OPS_KEY}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { totals: Metrics }).totals;
  }

  async function eventsOf(decisionId: string): Promise<Record<string, unknown>[]> {
    return (await http.service.stores.events.recent(1000)).filter((e) => e.decisionId === decisionId);
  }

  it("renders cards with a visible, non-empty disclosure on every card, in both slots (mid: 1 card, end: up to 3)", async () => {
    const context = await newContext();
    const advertiserName = new Map(CATALOG.advertisers.map((a) => [a.id, a.name]));
    const campaignAdvertiser = new Map(CATALOG.campaigns.map((c) => [c.id, c.advertiserId]));
    const unitLabel = new Map(CATALOG.units.map((u) => [u.id, u.disclosureLabel ?? "Sponsored"]));
    try {
      for (const s of STORIES) {
        const o = await openDemo(context, s.slug);
        const { decision } = firstCall(o);
        const cards = await cardsOn(o.page);
        // The cards are the decision's units, in slot and rank order.
        expect(cards.map((c) => `${c.slotId}/${c.unitId}`), s.slug).toEqual(decision.slots.flatMap((slot) => slot.units.map((u) => `${slot.id}/${u.unitId}`)));
        const mid = cards.filter((c) => c.slotId === "slot-mid");
        const end = cards.filter((c) => c.slotId === "slot-end");
        expect(mid.length, s.slug).toBe(1);
        expect(end.length, s.slug).toBeLessThanOrEqual(3);
        if (s.slug !== "nigeria-boko-haram") expect(end.length, `${s.slug}: end slot`).toBeGreaterThanOrEqual(1);

        for (const [i, card] of cards.entries()) {
          const sponsor = advertiserName.get(campaignAdvertiser.get(card.campaignId) ?? "") ?? "";
          expect(card.label.trim(), `${s.slug} card ${i}`).toBe(unitLabel.get(card.unitId));
          expect(card.sponsor.trim()).toBe(sponsor);
          expect(sponsor.length).toBeGreaterThan(0);
          expect(card.disclosure).toBe(`${card.label.trim()} by ${sponsor}`);
          const disclosure = o.page.locator(".sponsored-unit").nth(i).locator(".sponsored-unit__disclosure");
          expect(await disclosure.isVisible(), `${s.slug}: disclosure of card ${i} visible`).toBe(true);
          const box = await disclosure.boundingBox();
          expect(box?.height ?? 0).toBeGreaterThan(8);
          expect(box?.width ?? 0).toBeGreaterThan(40);
          const style = await disclosure.evaluate((el) => {
            const cs = getComputedStyle(el);
            return { fontSize: parseFloat(cs.fontSize), color: cs.color, visibility: cs.visibility, opacity: Number(cs.opacity) };
          });
          expect(style.fontSize).toBeGreaterThanOrEqual(10);
          expect(style.visibility).toBe("visible");
          expect(style.opacity).toBeGreaterThan(0.5);
        }
        // A slot with cards is marked filled; one without is collapsed.
        for (const slot of decision.slots) {
          const el = o.page.locator(`#${slot.id}`);
          expect(await el.getAttribute("data-sp-state"), `${s.slug} ${slot.id}`).toBe(slot.units.length > 0 ? "filled" : "empty");
        }
        expect(o.problems, s.slug).toEqual([]);
        await o.page.close();
      }
    } finally {
      await context.close();
    }
  });

  it("makes one POST /v1/decisions for all slots, as text/plain, with the page context read from the meta tags", async () => {
    const context = await newContext();
    try {
      const o = await openDemo(context);
      await sleep(SETTLE_MS);
      expect(o.requests).toHaveLength(1);
      const { request, body, decision } = firstCall(o);
      expect(request.method()).toBe("POST");
      expect(request.url()).toBe(`${http.origin}/v1/decisions`);
      expect((await request.allHeaders())["content-type"]).toMatch(/^text\/plain\b/);
      // The raw body is JSON (what a CORS-simple request may carry).
      expect(() => JSON.parse(request.postData() ?? "")).not.toThrow();

      const s = story(WAR_STORY).page;
      const pageViewId = await o.page.evaluate(
        () => (window as Window & { sponsoredPlacements?: { pageViewId: string } }).sponsoredPlacements?.pageViewId,
      );
      expect(body.page).toEqual({
        url: s.url, // <link rel="canonical">
        section: s.section, // article:section
        topics: s.topics, // article:tag, one per topic
        keywords: s.keywords, // <meta name="keywords">, comma-separated
        title: s.title, // og:title
        language: s.language, // <html lang>
        pageViewId,
      });
      expect(pageViewId).toMatch(/^pv-/);
      expect(body.slots).toEqual([
        { id: "slot-mid", placement: "article-mid", count: 1 },
        { id: "slot-end", placement: "article-end", count: 3 },
      ]);
      expect(body.user?.key).toBeTruthy();
      expect(decision.slots.map((slot) => slot.id)).toEqual(["slot-mid", "slot-end"]);
      expect(o.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("makes one decision call even when embed.js runs while the page is still being parsed", async () => {
    // A common publisher layout: the async tag in <head>, parser-blocking third-party scripts in the
    // body between the slots. embed.js may run before the body is parsed; it must still fill
    // every slot of the page view with one call.
    const context = await newContext();
    try {
      const o = await watch(context);
      await o.page.route(`${http.origin}/early-page`, (route) =>
        route.fulfill({
          status: 200,
          contentType: "text/html; charset=utf-8",
          body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Early tag</title>
<link rel="canonical" href="https://news.example/politics/early-tag">
<meta property="article:section" content="politics">
<script async src="/embed.js"></script>
</head><body><h1>Early tag</h1>
<script src="/third-party/widget-1.js"></script>
<p>First paragraph.</p>
<div id="slot-a" data-sponsored-slot="article-mid"></div>
<script src="/third-party/widget-2.js"></script>
<p>Second paragraph.</p>
<div id="slot-b" data-sponsored-slot="article-end" data-count="2"></div>
</body></html>`,
        }),
      );
      // Slow third-party scripts (answered by the browser, never by the service); the preload
      // scanner asks for both at once, so the second takes longer to block the parser again.
      await o.page.route(
        (url) => url.origin === http.origin && url.pathname.startsWith("/third-party/"),
        async (route) => {
          await sleep(route.request().url().endsWith("widget-1.js") ? 300 : 900);
          await route.fulfill({ status: 200, contentType: "text/javascript", body: "/* widget */" });
        },
      );
      await o.page.goto(`${http.origin}/early-page`);
      await settled(o);
      expect(
        o.calls.map((c) => c.body.slots.map((s) => s.id)),
        "one POST /v1/decisions for both slots",
      ).toEqual([["slot-a", "slot-b"]]);
      expect(await o.page.locator("#slot-a").getAttribute("data-sp-state")).toBe("filled");
      expect(await o.page.locator("#slot-b").getAttribute("data-sp-state")).toBe("filled");
    } finally {
      await context.close();
    }
  });

  it("shows no Walmart card on the war story, and Walmart on ?story=canada-carney", async () => {
    const context = await newContext();
    try {
      const war = await openDemo(context);
      const warCards = await cardsOn(war.page);
      expect(warCards.length).toBeGreaterThan(0);
      expect(warCards.map((c) => c.campaignId)).not.toContain(WALMART);
      expect(warCards.map((c) => c.sponsor)).not.toContain("Walmart");
      expect(allUnits(firstCall(war).decision).map((u) => u.advertiserId)).not.toContain("walmart");

      const canada = await openDemo(context, "canada-carney");
      const canadaCards = await cardsOn(canada.page);
      const walmart = canadaCards.find((c) => c.campaignId === WALMART);
      expect(walmart, JSON.stringify(canadaCards)).toBeDefined();
      expect(walmart?.sponsor).toBe("Walmart");
      // The sponsorship tier ranks first: it takes the mid-article slot.
      expect(walmart?.slotId).toBe("slot-mid");
      expect([...war.problems, ...canada.problems]).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("sends an impression beacon for each rendered card, and each is counted", async () => {
    const context = await newContext();
    try {
      const campaignIds = CATALOG.campaigns.map((c) => c.id);
      const before = new Map<string, Metrics>();
      for (const id of campaignIds) before.set(id, await totals(id));

      const o = await openDemo(context, "canada-carney");
      const { decision } = firstCall(o);
      const units = allUnits(decision);
      expect(units.length).toBeGreaterThanOrEqual(2);
      expect((await cardsOn(o.page)).map((c) => c.unitId)).toEqual(units.map((u) => u.unitId));

      // One beacon per card, answered 204, with the reader's (non-bot) user agent.
      await expect.poll(() => units.map((u) => beaconsFor("impression", u.tracking.impression).length)).toEqual(units.map(() => 1));
      for (const u of units) {
        const [hit] = beaconsFor("impression", u.tracking.impression);
        expect(hit?.status).toBe(204);
        expect(hit?.userAgent).toBe(DESKTOP_CHROME_UA);
      }
      // Counted: in the event log under this decision...
      await expect
        .poll(async () => (await eventsOf(decision.decisionId)).filter((e) => e.type === "impression").map((e) => e.unitId).sort())
        .toEqual(units.map((u) => u.unitId).sort());
      // ...and in the campaign reports (one more impression per card, nothing else).
      const perCampaign = new Map<string, number>();
      for (const u of units) perCampaign.set(u.campaignId, (perCampaign.get(u.campaignId) ?? 0) + 1);
      await expect
        .poll(async () => {
          const deltas: Record<string, number> = {};
          for (const id of campaignIds) deltas[id] = (await totals(id)).impressions - (before.get(id)?.impressions ?? 0);
          return deltas;
        }, { timeout: 8000 })
        .toEqual(Object.fromEntries(campaignIds.map((id) => [id, perCampaign.get(id) ?? 0])));
      expect(o.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("sends the viewable beacon only after a card has been at least half in view for one continuous second, and once", { timeout: 60_000 }, async () => {
    // A short viewport: the end-of-article cards start below the fold.
    const context = await newContext({ viewport: { width: 1000, height: 480 } });
    try {
      const o = await openDemo(context, "canada-carney");
      const { decision } = firstCall(o);
      const endUnits = decision.slots.find((s) => s.id === "slot-end")?.units ?? [];
      expect(endUnits.length).toBeGreaterThanOrEqual(2);
      const [unitA, unitB] = endUnits as [ServedUnit, ServedUnit];
      const cardA = o.page.locator(`#slot-end .sponsored-unit[data-unit-id="${unitA.unitId}"]`);
      const cardB = o.page.locator(`#slot-end .sponsored-unit[data-unit-id="${unitB.unitId}"]`);
      const viewables = (u: ServedUnit): ServedRequest[] => beaconsFor("viewable", u.tracking.viewable);
      /** The fraction of the card inside the viewport. */
      const inView = (card: Locator): Promise<number> =>
        card.evaluate((el) => {
          const r = el.getBoundingClientRect();
          const visible = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0)) * Math.max(0, Math.min(r.right, window.innerWidth) - Math.max(r.left, 0));
          return visible / (r.width * r.height);
        });
      const toTop = (): Promise<void> => o.page.evaluate(() => window.scrollTo(0, 0));

      // Below the fold: impressions yes, viewable no, however long the reader stays at the top.
      expect(await inView(cardA)).toBe(0);
      expect(await inView(cardB)).toBe(0);
      await sleep(1300);
      expect(viewables(unitA)).toHaveLength(0);
      expect(viewables(unitB)).toHaveLength(0);
      expect(beaconsFor("impression", unitA.tracking.impression)).toHaveLength(1);

      // Card A scrolled fully into view (its bottom at the viewport's bottom; B stays below).
      const shownA = Date.now();
      await cardA.evaluate((el) => el.scrollIntoView({ block: "end" }));
      expect(await inView(cardA)).toBeGreaterThanOrEqual(0.5);
      expect(await inView(cardB)).toBeLessThan(0.5);
      await sleep(600);
      expect(viewables(unitA), "no viewable beacon before one second in view").toHaveLength(0);
      await sleep(700);
      await expect.poll(() => viewables(unitA).length, { timeout: 3000 }).toBe(1);
      const [hitA] = viewables(unitA);
      expect(hitA?.status).toBe(204);
      expect((hitA?.at ?? 0) - shownA).toBeGreaterThanOrEqual(1000);
      expect(viewables(unitB)).toHaveLength(0);

      // Still in view, then out and back in: still exactly one.
      await sleep(1200);
      await toTop();
      await sleep(300);
      await cardA.evaluate((el) => el.scrollIntoView({ block: "end" }));
      await sleep(1300);
      expect(viewables(unitA)).toHaveLength(1);

      // Card B: into view and out again within half a second: no viewable beacon.
      await toTop();
      await sleep(300);
      const glimpse = await cardB.evaluate(async (el) => {
        const started = performance.now();
        el.scrollIntoView({ block: "end" });
        const r = el.getBoundingClientRect();
        const fraction = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0)) / r.height;
        await new Promise((resolve) => setTimeout(resolve, 250));
        window.scrollTo(0, 0);
        return { fraction, ms: performance.now() - started };
      });
      expect(glimpse.fraction).toBeGreaterThanOrEqual(0.5);
      expect(glimpse.ms).toBeLessThan(500);
      await sleep(1500);
      expect(viewables(unitB), "in view for less than a second: not viewable").toHaveLength(0);

      // Card B less than half in view (its top 30 %) for well over a second: not viewable either.
      await cardB.evaluate((el) => {
        const r = el.getBoundingClientRect();
        window.scrollBy(0, r.top - (window.innerHeight - 0.3 * r.height));
      });
      const partly = await inView(cardB);
      expect(partly).toBeGreaterThan(0.1);
      expect(partly).toBeLessThan(0.5);
      await sleep(1500);
      expect(viewables(unitB), "less than half in view: not viewable").toHaveLength(0);
      await toTop();
      await sleep(300);

      // Card B in view for good: exactly one, a second or more later.
      const shownB = Date.now();
      await cardB.evaluate((el) => el.scrollIntoView({ block: "end" }));
      await sleep(1300);
      await expect.poll(() => viewables(unitB).length, { timeout: 3000 }).toBe(1);
      expect((viewables(unitB)[0]?.at ?? 0) - shownB).toBeGreaterThanOrEqual(1000);
      await sleep(1200);
      expect(viewables(unitA)).toHaveLength(1);
      expect(viewables(unitB)).toHaveLength(1);

      // Counted once each in the event log.
      await expect
        .poll(async () => (await eventsOf(decision.decisionId)).filter((e) => e.type === "viewable" && e.slotId === "slot-end").map((e) => e.unitId).sort())
        .toEqual([unitA.unitId, unitB.unitId].sort());
      expect(o.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("sends a click through the signed redirect: 302 to the unit's stored landing URL", async () => {
    const context = await newContext();
    try {
      const o = await openDemo(context, "canada-carney");
      const { decision } = firstCall(o);
      const unit = allUnits(decision).find((u) => u.campaignId === WALMART);
      if (!unit) throw new Error(`walmart not served: ${JSON.stringify(decision)}`);
      const stored = CATALOG.units.find((u) => u.id === unit.unitId)?.cta.url;
      expect(stored).toBe(WALMART_LANDING);

      // Every link of the card goes to the signed click URL on the service, never to the landing page.
      const [card] = await cardsOn(o.page, `[data-sponsored-slot]:has([data-campaign-id="${WALMART}"])`);
      expect(unit.cta.url.startsWith(`${http.origin}/v1/events/click?t=`)).toBe(true);
      expect(card?.hrefs.length).toBeGreaterThanOrEqual(2);
      for (const href of card?.hrefs ?? []) expect(href).toBe(unit.cta.url);

      // The browser follows the redirect itself. (Playwright routes see only the first URL of a
      // redirect chain, so the landing request cannot be answered by the context's route: the
      // browser is launched with every host name but 127.0.0.1 unresolvable, and the landing
      // request fails offline. What matters is that it was made, as the redirect's target.)
      const clickResponses: { status: number; location: string | undefined }[] = [];
      const landingRequests: Request[] = [];
      context.on("response", (res) => {
        if (res.url() === unit.cta.url) clickResponses.push({ status: res.status(), location: res.headers().location });
      });
      context.on("request", (r) => {
        if (r.url() === WALMART_LANDING) landingRequests.push(r);
      });
      const cta = o.page.locator(`.sponsored-unit[data-campaign-id="${WALMART}"] .sponsored-unit__cta`);
      expect(await cta.textContent()).toBe(unit.cta.text);
      const [popup] = await Promise.all([context.waitForEvent("page"), cta.click()]);
      await expect.poll(() => landingRequests.length).toBe(1);
      const landing = landingRequests[0] as Request;
      expect(landing.redirectedFrom()?.url()).toBe(unit.cta.url);
      expect(landing.isNavigationRequest()).toBe(true);
      expect(landing.frame().page()).toBe(popup);
      expect(clickResponses).toEqual([{ status: 302, location: WALMART_LANDING }]);

      // The service answered the click URL with a 302 to the stored landing URL.
      const clicks = beaconsFor("click", unit.cta.url);
      expect(clicks).toHaveLength(1);
      expect(clicks[0]?.status).toBe(302);
      expect(clicks[0]?.location).toBe(WALMART_LANDING);
      await expect
        .poll(async () => (await eventsOf(decision.decisionId)).filter((e) => e.type === "click").map((e) => e.unitId))
        .toEqual([unit.unitId]);
      expect(o.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("collapses a slot with no fill", async () => {
    const context = await newContext();
    try {
      // A publisher page of our own, same origin as the service, with a slot for an unknown placement.
      const o = await watch(context);
      await o.page.route(`${http.origin}/custom-page`, (route) =>
        route.fulfill({
          status: 200,
          contentType: "text/html; charset=utf-8",
          body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A custom page</title>
<link rel="canonical" href="https://news.example/politics/custom-page">
<meta property="article:section" content="politics">
<meta property="article:tag" content="elections">
</head><body><h1>A custom page</h1><p>Some text.</p>
<div id="slot-known" data-sponsored-slot="article-mid"></div>
<div id="slot-unknown" data-sponsored-slot="sidebar-skyscraper" data-count="2" style="min-height:250px;border:1px solid #c00">reserved</div>
<p>More text.</p>
<script async src="/embed.js"></script></body></html>`,
        }),
      );
      await o.page.goto(`${http.origin}/custom-page`);
      await settled(o);
      expect(o.requests).toHaveLength(1);
      const { decision } = firstCall(o);
      expect(decision.slots.find((s) => s.id === "slot-unknown")).toMatchObject({ units: [], noFillReason: "UNKNOWN_PLACEMENT" });

      const unknown = o.page.locator("#slot-unknown");
      expect(await unknown.getAttribute("data-sp-state")).toBe("empty");
      expect(await unknown.evaluate((el) => (el as HTMLElement).hidden)).toBe(true);
      expect(await unknown.isVisible()).toBe(false);
      expect(await unknown.boundingBox()).toBeNull();
      expect(await unknown.locator(".sponsored-unit").count()).toBe(0);
      expect(await o.page.locator("#slot-known").getAttribute("data-sp-state")).toBe("filled");
      expect(await o.page.locator("#slot-known .sponsored-unit").count()).toBe(1);
      expect(o.problems).toEqual([]);

      // On the demo page: the Boko Haram story excludes every paid campaign; the house card takes
      // the mid slot and the end slot has nothing left, so it collapses.
      const nigeria = await openDemo(context, "nigeria-boko-haram");
      const end = firstCall(nigeria).decision.slots.find((s) => s.id === "slot-end");
      expect(end?.units).toEqual([]);
      expect(end?.noFillReason).toBeTruthy();
      expect(await nigeria.page.locator("#slot-end").getAttribute("data-sp-state")).toBe("empty");
      expect(await nigeria.page.locator("#slot-end").isVisible()).toBe(false);
      expect(await nigeria.page.locator("#slot-mid").getAttribute("data-sp-state")).toBe("filled");
      expect(nigeria.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("keeps a no-fill slot collapsed when the publisher's CSS gives slots a display and a reserved height", async () => {
    const context = await newContext();
    try {
      const o = await watch(context);
      await o.page.route(`${http.origin}/custom-page-styled`, (route) =>
        route.fulfill({
          status: 200,
          contentType: "text/html; charset=utf-8",
          body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Styled slots</title>
<style>.ad-slot { display: block; min-height: 250px; background: #eee; }</style>
</head><body><h1>Styled slots</h1>
<div class="ad-slot" id="slot-known" data-sponsored-slot="article-mid"></div>
<div class="ad-slot" id="slot-unknown" data-sponsored-slot="sidebar-skyscraper"></div>
<script async src="/embed.js"></script></body></html>`,
        }),
      );
      await o.page.goto(`${http.origin}/custom-page-styled`);
      await settled(o);
      const unknown = o.page.locator("#slot-unknown");
      expect(await unknown.getAttribute("data-sp-state")).toBe("empty");
      expect(await unknown.evaluate((el) => (el as HTMLElement).hidden)).toBe(true);
      // `hidden` alone loses to any author `display` rule: the empty slot must still take no space.
      expect(await unknown.isVisible(), "an empty slot with a publisher display rule still shows").toBe(false);
      expect(await unknown.boundingBox()).toBeNull();
    } finally {
      await context.close();
    }
  });

  describe("slots added later on the same page view", () => {
    let lazy: HttpService;
    /** The sample catalog plus seven standard campaigns, two of them competitors of Walmart and Microsoft. */
    const EXTRA = [
      { id: "target", name: "Target", labels: ["retail"] },
      { id: "globex", name: "Globex Cloud", labels: ["cloud-software"] },
      { id: "acme", name: "Acme Tools", labels: [] },
      { id: "initech", name: "Initech", labels: [] },
      { id: "umbrella", name: "Umbrella Travel", labels: [] },
      { id: "hooli", name: "Hooli Phones", labels: [] },
      { id: "stark", name: "Stark Solar", labels: ["energy"] },
    ];

    beforeAll(async () => {
      lazy = await serveTestService({ clock: Date.now, seed: false });
      const doc: CatalogDocument = structuredClone(CATALOG);
      for (const a of EXTRA) {
        doc.advertisers.push({ id: a.id, name: a.name, ...(a.labels.length ? { competitiveLabels: a.labels } : {}) });
        doc.campaigns.push({ id: `${a.id}-promo`, advertiserId: a.id, name: `${a.name} promo`, tier: "standard", weight: 1, placements: ["article-mid", "article-end"] });
        doc.units.push({
          id: `${a.id}-card`,
          campaignId: `${a.id}-promo`,
          format: "native-card",
          headline: `${a.name}: a headline`,
          body: `${a.name} says something.`,
          cta: { text: "Learn more", url: `https://${a.id}.example/promo` },
        });
      }
      const res = await lazy.service.app.request("/v1/admin/catalog", { method: "PUT", headers: auth(), body: JSON.stringify(doc) });
      expect(res.status, await res.text()).toBe(200);
    });

    afterAll(async () => {
      await lazy?.close();
    });

    it("never repeat a campaign or a competitor already on the page, and reuse the page view id", { timeout: 60_000 }, async () => {
      const labelsOf = new Map<string, string[]>([
        ...CATALOG.advertisers.map((a): [string, string[]] => [a.id, a.competitiveLabels ?? []]),
        ...EXTRA.map((a): [string, string[]] => [a.id, a.labels]),
      ]);
      const advertiserOf = (campaignId: string): string =>
        CATALOG.campaigns.find((c) => c.id === campaignId)?.advertiserId ?? campaignId.replace(/-promo$/, "");

      const context = await newContext({}, lazy.origin);
      try {
        const o = await watch(context, lazy.origin);
        await o.page.goto(`${lazy.origin}/demo/article?story=india-trade-wars`);
        await settled(o);
        const first = firstCall(o);
        const onPage = new Set((await cardsOn(o.page)).map((c) => c.campaignId));
        expect(onPage.size).toBe(4); // mid 1 + end 3, all different
        expect(onPage.has(WALMART)).toBe(true);
        const counts: number[] = [];

        for (let n = 1; n <= 3; n++) {
          const callsBefore = o.calls.length;
          await o.page.click("#load-more");
          await o.page.waitForFunction((id) => ["filled", "empty"].includes(document.getElementById(id)?.getAttribute("data-sp-state") ?? ""), `slot-more-${n}`);
          await sleep(SETTLE_MS);
          await expect.poll(() => o.calls.length).toBe(callsBefore + 1);
          expect(o.requests).toHaveLength(callsBefore + 1);
          const call = o.calls[callsBefore] as DecisionCall;
          // Only the new slot, in the same page view, for the same reader.
          expect(call.body.slots).toEqual([{ id: `slot-more-${n}`, placement: "article-end", count: 2 }]);
          expect(call.body.page.pageViewId).toBe(first.body.page.pageViewId);
          expect(call.body.user?.key).toBe(first.body.user?.key);

          const added = (await cardsOn(o.page, `#slot-more-${n}`)).map((c) => c.campaignId);
          counts.push(added.length);
          for (const id of added) {
            expect(onPage.has(id), `load more #${n} repeats ${id}`).toBe(false);
            onPage.add(id);
          }
        }
        // Across the whole page view: no campaign twice, no two advertisers sharing a label.
        const all = (await cardsOn(o.page)).map((c) => c.campaignId);
        expect(new Set(all).size).toBe(all.length);
        const seen = new Map<string, string>();
        for (const id of all) {
          const advertiser = advertiserOf(id);
          for (const label of labelsOf.get(advertiser) ?? []) {
            expect(seen.get(label) ?? advertiser, `label ${label}: ${seen.get(label)} and ${advertiser}`).toBe(advertiser);
            seen.set(label, advertiser);
          }
        }
        expect(all).not.toContain("target-promo"); // Walmart's competitor
        expect(all.includes("microsoft-quantum") && all.includes("globex-promo")).toBe(false);
        // Eight campaigns can share the page: 4 at load, then 2 and 2, then nothing left.
        expect(counts).toEqual([2, 2, 0]);
        expect(await o.page.locator("#slot-more-3").getAttribute("data-sp-state")).toBe("empty");
        expect(o.problems).toEqual([]);
      } finally {
        await context.close();
      }
    });
  });

  it("with Global Privacy Control keeps no reader key and sends no user; without it, keeps the key and reuses it on reload", async () => {
    const gpc = await newContext();
    try {
      await gpc.addInitScript(() => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true, configurable: true }));
      const o = await openDemo(gpc, "canada-carney");
      expect(await o.page.evaluate(() => (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl)).toBe(true);
      expect(await o.page.evaluate(() => localStorage.getItem("sp_reader"))).toBeNull();
      expect(await o.page.evaluate(() => localStorage.length)).toBe(0);
      const { body } = firstCall(o);
      expect(body).not.toHaveProperty("user");
      expect(o.problems).toEqual([]);
    } finally {
      await gpc.close();
    }

    const plain = await newContext();
    try {
      const o = await openDemo(plain, "canada-carney");
      const key = await o.page.evaluate(() => localStorage.getItem("sp_reader"));
      expect(key).toBeTruthy();
      const first = firstCall(o).body;
      expect(first.user).toEqual({ key });

      await o.page.reload();
      await settled(o);
      expect(o.calls).toHaveLength(2);
      const second = (o.calls[1] as DecisionCall).body;
      expect(second.user).toEqual({ key });
      expect(await o.page.evaluate(() => localStorage.getItem("sp_reader"))).toBe(key);
      // A reload is a new page view.
      expect(second.page.pageViewId).not.toBe(first.page.pageViewId);
      expect(o.problems).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it("screenshots the demo page at desktop and phone widths", { timeout: 60_000 }, async () => {
    const dir = fileURLToPath(new URL("../../docs/images/", import.meta.url));
    await mkdir(dir, { recursive: true });
    const shots = [
      { file: "demo-desktop.png", options: { viewport: { width: 1280, height: 900 } } },
      { file: "demo-phone.png", options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, userAgent: PHONE_CHROME_UA } },
    ];
    for (const shot of shots) {
      const context = await newContext(shot.options);
      try {
        const o = await openDemo(context, "canada-carney");
        const cards = await cardsOn(o.page);
        expect(cards.map((c) => c.campaignId)).toContain(WALMART);
        // The images are lazy: bring each into view and wait until it has loaded.
        const images = o.page.locator(".sponsored-unit__image");
        expect(await images.count()).toBeGreaterThan(0);
        for (let i = 0; i < (await images.count()); i++) {
          const img = images.nth(i);
          await img.scrollIntoViewIfNeeded();
          await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0)).toBe(true);
        }
        await o.page.evaluate(() => window.scrollTo(0, 0));
        // Nothing wider than the screen.
        const width = shot.options.viewport.width;
        expect(await o.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        for (const box of await o.page.locator(".sponsored-unit").evaluateAll((els) => els.map((el) => el.getBoundingClientRect().right))) {
          expect(box).toBeLessThanOrEqual(width);
        }
        await o.page.screenshot({ path: `${dir}${shot.file}`, fullPage: true });
        expect(o.problems).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });
});
