/**
 * Security: what an attacker can send to a public ad server and what must not come of it.
 *
 * - tracking tokens: forged (another secret), tampered (claims changed, re-signed), replayed,
 *   and rotated (TRACKING_SECRET_PREVIOUS accepted during a rotation, refused after it);
 * - the click endpoint as an open redirect (extra url/redirect/next parameters, encoded CR/LF,
 *   duplicated `t`, a token whose unit was deleted): the only Location ever sent is the landing URL
 *   stored on the unit;
 * - markup in every advertiser-supplied field, created through the admin API, rendered into a
 *   decision's `html` (checked tag by tag) and into the demo article page;
 * - an advertiser key against every admin route the OpenAPI document lists;
 * - guessing keys: 429 with Retry-After after 20 failures from one client, for that client only;
 * - security headers and the Content-Security-Policy of the HTML pages.
 *
 * In-process store, `app.request`.
 */
import { describe, expect, it } from "vitest";
import { createTokenSigner, type TokenClaims } from "../../src/domain/tokens.js";
import { escapeHtml } from "../../src/domain/payload.js";
import { createKeys } from "../../src/store/keys.js";
import { createMemoryStores } from "../../src/store/memory/memory-stores.js";
import { renderDemoArticle, type DemoStory } from "../../src/web/demo-article.js";
import { auth, buildTestService, fakeClock, OPS_KEY, TRACKING_SECRET } from "../helpers/app.js";
import {
  type App,
  BROWSER_UA,
  CLIENT_IP_HEADER,
  counts,
  decide,
  decisionBody,
  economyPage,
  expectError,
  fire,
  fire204,
  headerIp,
  houseOnlyPage,
  MID_SLOT,
  MINUTE_MS,
  onlyUnit,
  pathOf,
  tokenOf,
  type DecisionResponse,
  type UnitPayload,
} from "../helpers/tracking.js";

const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";
const TODAY = "2026-11-27";
const ATTACKER_SECRET = "attacker-chosen-secret-0123456789";

type HtmlUnit = UnitPayload & { html: string; headline: string; body: string; disclosure: { label: string; sponsor: string }; image?: { url: string; alt: string } };

async function opsCall(app: App, method: string, path: string, body?: unknown): Promise<Response> {
  return app.request(path, { method, headers: auth(), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function opsJson<T>(app: App, method: string, path: string, body: unknown, status: number): Promise<T> {
  const res = await opsCall(app, method, path, body);
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The claims part of a token, decoded. */
function claimsOf(token: string): string[] {
  return Buffer.from(token.split(".")[0] as string, "base64url").toString("utf8").split("|");
}

/** A token with the claims given, signed with `secret`, built the way the service builds them. */
function signedWith(secret: string, claims: TokenClaims): string {
  return createTokenSigner(secret).sign(claims);
}

function claimsFromToken(token: string): TokenClaims {
  const [, code, decisionId, slotId, campaignId, unitId, exp] = claimsOf(token);
  const type = code === "i" ? "impression" : code === "v" ? "viewable" : "click";
  return { type, decisionId: decisionId as string, slotId: slotId as string, campaignId: campaignId as string, unitId: unitId as string, expiresAtSeconds: Number(exp) };
}

async function walmartUnit(app: App, user: string): Promise<HtmlUnit> {
  return onlyUnit(await decide(app, decisionBody(economyPage(), user)), WALMART) as HtmlUnit;
}

async function storedLanding(app: App, unitId: string): Promise<string> {
  return (await opsJson<{ cta: { url: string } }>(app, "GET", `/v1/admin/units/${unitId}`, undefined, 200)).cta.url;
}

describe("tracking tokens", () => {
  it("rejects tokens signed with another secret, or with claims changed, with a 400 and counts nothing", async () => {
    const { app } = await buildTestService();
    const unit = await walmartUnit(app, "forgery-reader");
    const real = tokenOf(unit.tracking.impression);
    const claims = claimsFromToken(real);
    const [claimsPart, sig] = real.split(".") as [string, string];
    const changed = (patch: Partial<TokenClaims>): TokenClaims => ({ ...claims, ...patch });
    const encode = (c: TokenClaims): string =>
      Buffer.from(["v1", "i", c.decisionId, c.slotId, c.campaignId, c.unitId, String(c.expiresAtSeconds)].join("|")).toString("base64url");

    const forged = [
      signedWith(ATTACKER_SECRET, claims),
      signedWith(ATTACKER_SECRET, changed({ campaignId: MICROSOFT, unitId: "microsoft-quantum-leadership" })),
      signedWith(ATTACKER_SECRET, changed({ decisionId: "d_forged" })),
      signedWith(ATTACKER_SECRET, changed({ expiresAtSeconds: claims.expiresAtSeconds + 365 * 86400 })),
      // The real signature over changed claims.
      `${encode(changed({ campaignId: MICROSOFT }))}.${sig}`,
      `${encode(changed({ unitId: "microsoft-quantum-leadership" }))}.${sig}`,
      `${encode(changed({ slotId: "end-1" }))}.${sig}`,
      `${encode(changed({ expiresAtSeconds: claims.expiresAtSeconds + 1 }))}.${sig}`,
      // No signature, an empty one, a signature of the wrong length, two signatures.
      claimsPart,
      `${claimsPart}.`,
      `${claimsPart}.${sig.slice(0, 20)}`,
      `${claimsPart}.${sig}.${sig}`,
    ];
    for (const token of forged) {
      const res = await fire(app, `/v1/events/impression?t=${encodeURIComponent(token)}`);
      await expectError(res, 400, "BAD_REQUEST");
    }
    // Clicks: a forged click token gets no redirect.
    const clickClaims = claimsFromToken(tokenOf(unit.cta.url));
    const forgedClick = await fire(app, `/v1/events/click?t=${signedWith(ATTACKER_SECRET, clickClaims)}`);
    expect(forgedClick.headers.get("location")).toBeNull();
    await expectError(forgedClick, 400, "BAD_REQUEST");

    const walmart = await counts(app, WALMART, TODAY);
    const microsoft = await counts(app, MICROSOFT, TODAY);
    expect([walmart.totals.impressions, walmart.totals.clicks, microsoft.totals.impressions]).toEqual([0, 0, 0]);
    expect(walmart.filtered).toEqual({ duplicate: 0, expired: 0, bot: 0, rate_limited: 0 });

    // Control: the same construction with the service's secret is accepted, so the rejections above
    // are the signature check at work, not a malformed test token.
    await fire204(app, `/v1/events/impression?t=${signedWith(TRACKING_SECRET, changed({ campaignId: MICROSOFT }))}`);
    expect((await counts(app, MICROSOFT, TODAY)).totals.impressions).toBe(1);
  });

  it("counts a replayed impression or click token once and the replays as duplicates", async () => {
    const clock = fakeClock();
    const { app } = await buildTestService({ clock: clock.now });
    const unit = await walmartUnit(app, "replay-reader");
    for (let i = 0; i < 3; i++) await fire204(app, unit.tracking.impression);
    const landing = await storedLanding(app, unit.unitId);
    for (let i = 0; i < 3; i++) {
      const res = await fire(app, unit.cta.url);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(landing);
      clock.advance(MINUTE_MS + 1000);
    }
    const c = await counts(app, WALMART, TODAY);
    expect({ impressions: c.totals.impressions, clicks: c.totals.clicks, duplicate: c.filtered.duplicate }).toEqual({ impressions: 1, clicks: 1, duplicate: 4 });
  });

  it("accepts tokens of the previous secret during a rotation and refuses them once the previous secret is removed", async () => {
    const OLD = "tracking-secret-before-rotation-0001";
    const NEW = "tracking-secret-after-rotation-00002";
    const clock = fakeClock();
    const stores = createMemoryStores(createKeys("rotation"), clock.now);
    const before = await buildTestService({ stores, clock: clock.now, env: { TRACKING_SECRET: OLD } });
    const during = await buildTestService({ stores, clock: clock.now, env: { TRACKING_SECRET: NEW, TRACKING_SECRET_PREVIOUS: OLD } });
    const after = await buildTestService({ stores, clock: clock.now, env: { TRACKING_SECRET: NEW } });

    const oldUnit = await walmartUnit(before.app, "rotation-reader-1");
    const landing = await storedLanding(before.app, oldUnit.unitId);
    // During the rotation: old tokens count and redirect.
    await fire204(during.app, oldUnit.tracking.impression);
    const res = await fire(during.app, oldUnit.cta.url);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(landing);
    // New tokens are minted with the new secret, and the instance that only knows it accepts them.
    const newUnit = await walmartUnit(during.app, "rotation-reader-2");
    expect(newUnit.tracking.impression).not.toContain(tokenOf(oldUnit.tracking.impression).split(".")[1]);
    await fire204(after.app, newUnit.tracking.impression);
    // After the rotation: an unused old token is refused, without a redirect for a click.
    await expectError(await fire(after.app, oldUnit.tracking.viewable), 400, "BAD_REQUEST");
    const oldClick = await fire(after.app, oldUnit.cta.url);
    expect(oldClick.headers.get("location")).toBeNull();
    await expectError(oldClick, 400, "BAD_REQUEST");
    // And the instance before the rotation never accepted new tokens.
    await expectError(await fire(before.app, newUnit.tracking.viewable), 400, "BAD_REQUEST");

    const c = await counts(during.app, WALMART, TODAY);
    expect({ impressions: c.totals.impressions, viewable: c.totals.viewable, clicks: c.totals.clicks }).toEqual({ impressions: 2, viewable: 0, clicks: 1 });
    await stores.close();
  });
});

describe("the click endpoint is no open redirect", () => {
  it("redirects only to the stored landing URL whatever else the query holds, and refuses tokens with CR/LF appended", async () => {
    const clock = fakeClock();
    const { app } = await buildTestService({ clock: clock.now });
    const unit = await walmartUnit(app, "redirect-reader");
    const landing = await storedLanding(app, unit.unitId);
    const token = tokenOf(unit.cta.url);
    const evil = encodeURIComponent("https://evil.example/phish");
    const redirecting = [
      `/v1/events/click?t=${token}&url=${evil}`,
      `/v1/events/click?t=${token}&redirect=${evil}&next=${evil}&return_to=${evil}&dest=//evil.example`,
      `/v1/events/click?url=${evil}&t=${token}&next=javascript:alert(1)`,
      `/v1/events/click?t=${token}&next=%0d%0aLocation:%20https://evil.example`,
      `/v1/events/click?t=${token}&x=%0d%0aSet-Cookie:%20session=stolen`,
      // A second t: the first one is the one read.
      `/v1/events/click?t=${token}&t=${evil}`,
    ];
    for (const path of redirecting) {
      const res = await fire(app, path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location"), path).toBe(landing);
      expect(res.headers.get("set-cookie"), path).toBeNull();
      clock.advance(MINUTE_MS + 1000);
    }
    const refused = [
      `/v1/events/click?t=${token}%0d%0aLocation:%20https://evil.example`,
      `/v1/events/click?t=${token}%0aLocation:%20https://evil.example`,
      `/v1/events/click?t=${token}%0d%0a%0d%0a<script>alert(1)</script>`,
      `/v1/events/click?t=${evil}&t=${token}`,
      `/v1/events/click?t=${encodeURIComponent("https://evil.example")}`,
      `/v1/events/click?url=${evil}`,
    ];
    for (const path of refused) {
      const res = await fire(app, path);
      expect(res.headers.get("location"), path).toBeNull();
      expect(res.headers.get("set-cookie"), path).toBeNull();
      await expectError(res, 400, "BAD_REQUEST");
    }
    expect((await counts(app, WALMART, TODAY)).totals.clicks).toBe(1);
  });

  it("answers a click for a unit deleted since the decision with 404 and no Location, and follows a changed landing URL only as stored", async () => {
    const clock = fakeClock();
    const { app } = await buildTestService({ clock: clock.now });
    await opsJson(app, "POST", "/v1/admin/advertisers", { id: "acme", name: "Acme" }, 201);
    await opsJson(app, "POST", "/v1/admin/campaigns", { id: "acme-launch", advertiserId: "acme", name: "Launch", tier: "sponsorship", placements: ["article-mid"] }, 201);
    for (const id of ["acme-card", "acme-card-2"]) {
      await opsJson(app, "POST", "/v1/admin/units", {
        id, campaignId: "acme-launch", format: "native-card", headline: "Acme", body: "Acme things", cta: { text: "Go", url: "https://acme.example/landing" },
      }, 201);
    }
    const served: HtmlUnit[] = [];
    for (let i = 0; served.length < 2 || served[0]?.unitId === served[1]?.unitId; i++) {
      if (i > 50) throw new Error("both acme units should serve within 50 decisions");
      const unit = onlyUnit(await decide(app, decisionBody(houseOnlyPage(), `acme-reader-${i}`, [MID_SLOT])), "acme-launch") as HtmlUnit;
      if (!served.some((u) => u.unitId === unit.unitId)) served.push(unit);
    }
    const [first, second] = served as [HtmlUnit, HtmlUnit];

    // The stored landing URL changes: the click goes where the unit says now, still a stored URL.
    await opsJson(app, "PATCH", `/v1/admin/units/${second.unitId}`, { cta: { text: "Go", url: "https://acme.example/new-landing" } }, 200);
    expect((await fire(app, second.cta.url)).headers.get("location")).toBe("https://acme.example/new-landing");

    const del = await opsCall(app, "DELETE", `/v1/admin/units/${first.unitId}`);
    expect(del.status, await del.text()).toBe(204);
    clock.advance(MINUTE_MS + 1000);
    const res = await fire(app, `${pathOf(first.cta.url)}&url=https%3A%2F%2Fevil.example`);
    expect(res.headers.get("location")).toBeNull();
    await expectError(res, 404, "NOT_FOUND");
  });
});

/** Markup in every field an advertiser (through ops) can fill. */
const HOSTILE = {
  advertiserName: `Evil</span></aside><script>alert("sponsor")</script>`,
  headline: `"><img src=x onerror=alert('headline')>`,
  body: `<svg onload=alert(1)>body & </p><iframe src="javascript:alert(2)"></iframe>`,
  ctaText: `<a href="javascript:alert(3)">Click</a>' onmouseover='alert(4)`,
  imageAlt: `" onerror="alert('alt')" x="`,
  disclosureLabel: `<b onmouseover=alert(5)>Sponsored</b>`,
  campaignName: `<script>alert("campaign")</script>`,
} as const;

const UNIT_TAGS = new Set(["aside", "a", "img", "div", "p", "span", "h3"]);
const UNIT_ATTRIBUTES = new Set([
  "class", "href", "target", "rel", "tabindex", "aria-hidden", "src", "width", "height", "alt", "loading", "decoding",
  "data-unit-id", "data-campaign-id", "aria-label",
]);

interface Tag {
  readonly name: string;
  readonly closing: boolean;
  readonly attributes: [string, string][];
}

/**
 * Splits HTML into tags and text, strictly: every `<` must open a well-formed tag whose attributes
 * are all `name="value"` with no raw quote, `<` or `>` in a value; text holds no `<` or `>`.
 * Anything else (an attribute or element smuggled in by unescaped input) throws.
 */
function parseHtml(html: string, rawTextElements: readonly string[] = []): { tags: Tag[]; text: string } {
  const tags: Tag[] = [];
  let text = "";
  let rest = html;
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    const chunk = lt < 0 ? rest : rest.slice(0, lt);
    if (chunk.includes(">")) throw new Error(`raw ">" in text: ${chunk.slice(0, 120)}`);
    text += chunk;
    if (lt < 0) break;
    rest = rest.slice(lt);
    if (/^<!doctype html>/i.test(rest)) {
      rest = rest.slice("<!doctype html>".length);
      continue;
    }
    const m = /^<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z][a-z0-9:-]*(?:="[^"<>]*")?)*)\s*>/i.exec(rest);
    if (!m) throw new Error(`malformed or smuggled tag at: ${rest.slice(0, 120)}`);
    const attributes = [...(m[3] ?? "").matchAll(/\s+([a-z][a-z0-9:-]*)(?:="([^"]*)")?/gi)].map((a): [string, string] => [a[1] as string, a[2] ?? ""]);
    const tag: Tag = { name: m[2] as string, closing: m[1] === "/", attributes };
    tags.push(tag);
    rest = rest.slice(m[0].length);
    if (!tag.closing && rawTextElements.includes(tag.name)) {
      const end = rest.indexOf(`</${tag.name}>`);
      if (end < 0) throw new Error(`unclosed <${tag.name}>`);
      if (tag.name === "script" && end > 0) throw new Error(`inline script: ${rest.slice(0, end).slice(0, 120)}`);
      rest = rest.slice(end);
    }
  }
  return { tags, text };
}

/** No event-handler attributes and no script URLs, in any tag. */
function expectNoActiveAttributes(tags: readonly Tag[]): void {
  for (const t of tags) {
    for (const [name, value] of t.attributes) {
      expect(name, `<${t.name} ${name}>`).not.toMatch(/^on/i);
      const decoded = value.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
      expect(decoded.trim(), `<${t.name} ${name}>`).not.toMatch(/^(javascript|data|vbscript):/i);
    }
  }
}

describe("markup in advertiser fields", () => {
  it("rejects markup in ids and script URLs as landing or image URLs with a 400", async () => {
    const { app } = await buildTestService();
    const bad: [string, unknown][] = [
      ["/v1/admin/advertisers", { id: "<script>", name: "x" }],
      ["/v1/admin/advertisers", { id: `a"onclick=x`, name: "x" }],
      ["/v1/admin/campaigns", { id: "c<img>", advertiserId: "walmart", name: "x", tier: "house", placements: ["article-mid"] }],
      ["/v1/admin/units", { id: "u'x", campaignId: WALMART, format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "https://a.example" } }],
      ["/v1/admin/units", { id: "u-js", campaignId: WALMART, format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "javascript:alert(1)" } }],
      ["/v1/admin/units", { id: "u-data", campaignId: WALMART, format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "data:text/html,<script>alert(1)</script>" } }],
      ["/v1/admin/units", { id: "u-http", campaignId: WALMART, format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "http://plain.example" } }],
      ["/v1/admin/units", { id: "u-img", campaignId: WALMART, format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "https://a.example" },
        image: { url: "javascript:alert(1)", width: 1, height: 1, alt: "" } }],
    ];
    for (const [path, body] of bad) {
      const res = await opsCall(app, "POST", path, body);
      await expectError(res, 400, "BAD_REQUEST");
    }
  });

  it("escapes markup from every advertiser field in a decision's html, which holds only the card's own tags and links to the click URL", async () => {
    const { app } = await buildTestService();
    const imageUrl = `https://img.example/card.png?q="><script>alert('src')</script>`;
    await opsJson(app, "POST", "/v1/admin/advertisers", { id: "evil", name: HOSTILE.advertiserName, category: "<b>cat</b>", competitiveLabels: ["<i>label</i>"] }, 201);
    await opsJson(app, "POST", "/v1/admin/campaigns", { id: "evil-campaign", advertiserId: "evil", name: HOSTILE.campaignName, tier: "sponsorship", placements: ["article-mid", "article-end"] }, 201);
    const unitRes = await opsCall(app, "POST", "/v1/admin/units", {
      id: "evil-unit", campaignId: "evil-campaign", format: "native-card",
      headline: HOSTILE.headline, body: HOSTILE.body, cta: { text: HOSTILE.ctaText, url: "https://evil.example/landing" },
      image: { url: imageUrl, width: 600, height: 300, alt: HOSTILE.imageAlt }, disclosureLabel: HOSTILE.disclosureLabel,
    });
    const unitText = await unitRes.text();
    // A URL with quotes and markup in its query may be refused; then the card is made with a plain one.
    // An accepted one is stored normalised (percent-encoded), as `new URL()` spells it.
    const storedImage = unitRes.status === 201 ? new URL(imageUrl).href : "https://img.example/card.png";
    if (unitRes.status !== 201) {
      expect(unitRes.status, unitText).toBe(400);
      await opsJson(app, "POST", "/v1/admin/units", {
        id: "evil-unit", campaignId: "evil-campaign", format: "native-card",
        headline: HOSTILE.headline, body: HOSTILE.body, cta: { text: HOSTILE.ctaText, url: "https://evil.example/landing" },
        image: { url: storedImage, width: 600, height: 300, alt: HOSTILE.imageAlt }, disclosureLabel: HOSTILE.disclosureLabel,
      }, 201);
    }

    const d: DecisionResponse = await decide(app, decisionBody(houseOnlyPage(), "xss-reader", [MID_SLOT]));
    const unit = onlyUnit(d, "evil-campaign") as HtmlUnit;
    // The JSON fields carry the text as given (the API's consumers escape it); html is escaped.
    expect(unit.headline).toBe(HOSTILE.headline);
    expect(unit.disclosure).toEqual({ label: HOSTILE.disclosureLabel, sponsor: HOSTILE.advertiserName });

    const { tags, text } = parseHtml(unit.html);
    for (const t of tags) expect(UNIT_TAGS.has(t.name), `<${t.name}> in ${unit.html}`).toBe(true);
    for (const t of tags) for (const [name] of t.attributes) expect(UNIT_ATTRIBUTES.has(name), `${name} on <${t.name}>`).toBe(true);
    expectNoActiveAttributes(tags);
    const hrefs = tags.flatMap((t) => t.attributes.filter(([n]) => n === "href").map(([, v]) => v));
    expect(hrefs.length).toBeGreaterThan(0);
    expect(new Set(hrefs)).toEqual(new Set([escapeHtml(unit.cta.url)]));
    expect(unit.cta.url.startsWith("https://ads.test/v1/events/click?t=")).toBe(true);
    const srcs = tags.flatMap((t) => t.attributes.filter(([n]) => n === "src").map(([, v]) => v));
    expect(srcs).toEqual([escapeHtml(storedImage)]);
    // No element but the card's own (checked above), so none of the injected ones.
    expect(unit.html).not.toMatch(/<(script|iframe|svg|b)[\s>/]/i);
    for (const value of [HOSTILE.advertiserName, HOSTILE.headline, HOSTILE.body, HOSTILE.ctaText, HOSTILE.imageAlt, HOSTILE.disclosureLabel]) {
      expect(unit.html, value).toContain(escapeHtml(value));
    }
    // The campaign's name is not rendered at all.
    expect(unit.html).not.toContain(escapeHtml(HOSTILE.campaignName));
    expect(unit.html).not.toContain(HOSTILE.campaignName);
    expect(text).not.toContain("<");
    expect(unit.html).not.toContain("https://evil.example/landing");
  });

  it("escapes markup in the demo article's story fields and answers an unknown story with a JSON 404, not a reflected page", async () => {
    const hostile: DemoStory = {
      slug: `x"><script>alert(1)</script>`,
      page: {
        url: `https://news.example/a"><script>alert('url')</script>`,
        section: `</div><script>alert('section')</script>`,
        topics: [`"><img src=x onerror=alert('topic')>`],
        keywords: [`</title><script>alert('kw')</script>`],
        title: `</title><script>alert('title')</script><h1 onclick="x">`,
        language: `en" onload="alert('lang')`,
      },
      paragraphs: [`<p onmouseover="alert(1)">one</p>`, `<iframe src="javascript:alert(2)">`, `three & <b>four</b>`],
    };
    const other: DemoStory = { slug: `other"<x>`, page: { url: "https://news.example/other", title: `<svg/onload=alert('related')>` } };
    const html = renderDemoArticle(hostile, [hostile, other]);
    const { tags } = parseHtml(html, ["script", "style"]);
    expectNoActiveAttributes(tags);
    // Exactly the page's own two external scripts.
    expect(tags.filter((t) => t.name === "script" && !t.closing).map((t) => Object.fromEntries(t.attributes).src)).toEqual(["/demo/article.js", "/embed.js"]);
    expect(tags.some((t) => ["iframe", "svg", "img", "b"].includes(t.name))).toBe(false);
    const fields = [hostile.page.title, hostile.page.section, hostile.page.url, hostile.page.language, ...(hostile.page.topics ?? []), ...(hostile.page.keywords ?? []), ...(hostile.paragraphs ?? []), other.page.title];
    for (const value of fields) {
      if (value) expect(html).toContain(escapeHtml(value));
    }
    expect(html).toContain(`href="?story=${encodeURIComponent(other.slug)}"`);

    const { app } = await buildTestService();
    const res = await app.request(`/demo/article?story=${encodeURIComponent(`<script>alert(1)</script>`)}`);
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    await expectError(res, 404, "NOT_FOUND");
    const page = await app.request("/demo/article");
    expect(page.status).toBe(200);
    const served = parseHtml(await page.text(), ["script", "style"]);
    expectNoActiveAttributes(served.tags);
  });
});

interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

describe("an advertiser key against every admin route", () => {
  it("gets 403 or 404 everywhere except reading its own objects, which hold nothing of other advertisers, and changes nothing", async () => {
    const { app } = await buildTestService();
    const issued = await opsJson<{ id: string; key: string }>(app, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId: "walmart" }, 201);
    const other = await opsJson<{ id: string; key: string }>(app, "POST", "/v1/admin/keys", { role: "advertiser", advertiserId: "microsoft" }, 201);
    const catalogBefore = await opsJson<{ version: number }>(app, "GET", "/v1/admin/catalog", undefined, 200);
    const keysBefore = await opsJson<{ items: unknown[] }>(app, "GET", "/v1/admin/keys", undefined, 200);
    const auditBefore = await opsJson<{ items: unknown[] }>(app, "GET", "/v1/admin/audit", undefined, 200);

    const doc = (await (await app.request("/openapi.json")).json()) as OpenApiDocument;
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/v1/admin"))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })));
    expect(routes.length).toBeGreaterThanOrEqual(25);

    /** Path parameters: another advertiser's objects, and for entities also the key's own. */
    const ids: Record<string, string[]> = {
      "/v1/admin/advertisers/{id}": ["microsoft", "newsroom", "walmart"],
      "/v1/admin/campaigns/{id}": [MICROSOFT, "newsroom-daily", WALMART],
      "/v1/admin/units/{id}": ["microsoft-quantum-leadership", "newsroom-daily-card", "walmart-proud-source"],
      "/v1/admin/placements/{id}": ["article-mid"],
      "/v1/admin/keys/{id}": [other.id, issued.id, "does-not-exist"],
      "/v1/admin/catalog/versions/{version}/restore": ["1"],
    };
    const bodies: Record<string, unknown[]> = {
      "POST /v1/admin/advertisers": [{ id: "intruder", name: "Intruder" }],
      "POST /v1/admin/campaigns": [{ id: "intruder-c", advertiserId: "walmart", name: "x", tier: "sponsorship", placements: ["article-mid"] }],
      "POST /v1/admin/units": [{ id: "intruder-u", campaignId: WALMART, format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "https://a.example" } }],
      "POST /v1/admin/placements": [{ id: "intruder-p", formats: ["native-card"], maxUnits: 1 }],
      "POST /v1/admin/keys": [{ role: "ops" }, { role: "advertiser", advertiserId: "microsoft" }, { role: "advertiser", advertiserId: "walmart" }],
      "POST /v1/admin/explain": [decisionBody(economyPage(), "explain-reader")],
      "PUT /v1/admin/catalog": [catalogBefore],
      "PATCH /v1/admin/advertisers/{id}": [{ name: "Hijacked" }],
      "PATCH /v1/admin/campaigns/{id}": [{ status: "paused" }],
      "PATCH /v1/admin/units/{id}": [{ headline: "Hijacked" }],
      "PATCH /v1/admin/placements/{id}": [{ maxUnits: 5 }],
    };
    const ownReadable = (method: string, path: string): boolean =>
      method === "GET" && /^\/v1\/admin\/(advertisers|campaigns|units)(\/(walmart|walmart-us-manufacturing|walmart-proud-source))?(\?.*)?$/.test(path);

    const seen: string[] = [];
    for (const { method, path } of routes) {
      const concrete = (ids[path] ?? [undefined]).map((id) => (id === undefined ? path : path.replace(/\{[^}]+\}/, id)));
      const extra = method === "GET" && !path.includes("{") ? [`${path}?advertiserId=microsoft`, `${path}?limit=200`] : [];
      for (const url of [...concrete, ...extra]) {
        for (const body of bodies[`${method} ${path}`] ?? [undefined]) {
          const res = await app.request(url, {
            method,
            headers: { authorization: `Bearer ${issued.key}`, "content-type": "application/json" },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          const text = await res.text();
          seen.push(`${method} ${url} ${res.status}`);
          if (ownReadable(method, url)) {
            expect(res.status, `${method} ${url}: ${text}`).toBe(200);
            expect(text, `${method} ${url}`).not.toMatch(/microsoft|newsroom/i);
          } else {
            expect([403, 404], `${method} ${url}: ${res.status} ${text.slice(0, 200)}`).toContain(res.status);
            // A 404 may name the id asked for; nothing else of the object.
            const requested = url.split("/").pop()?.split("?")[0] ?? "";
            expect(text.split(requested).join("<id>"), `${method} ${url}`).not.toMatch(/microsoft-quantum-leadership|Microsoft|The newsroom|keyHash|"key":/);
          }
        }
      }
    }
    expect(seen.length).toBeGreaterThanOrEqual(40);
    const byStatus = seen.reduce<Record<string, number>>((acc, line) => ({ ...acc, [line.slice(line.lastIndexOf(" ") + 1)]: (acc[line.slice(line.lastIndexOf(" ") + 1)] ?? 0) + 1 }), {});
    console.log(`advertiser key: ${routes.length} admin routes, ${seen.length} requests, by status ${JSON.stringify(byStatus)}`);

    // Nothing changed: same catalog version, no key issued or revoked, no audit entry.
    expect((await opsJson<{ version: number }>(app, "GET", "/v1/admin/catalog", undefined, 200)).version).toBe(catalogBefore.version);
    expect((await opsJson<{ items: unknown[] }>(app, "GET", "/v1/admin/keys", undefined, 200)).items).toEqual(keysBefore.items);
    expect((await opsJson<{ items: unknown[] }>(app, "GET", "/v1/admin/audit", undefined, 200)).items).toEqual(auditBefore.items);
    // Reports: its own, yes; another advertiser's, 404.
    const own = await app.request(`/v1/reports/campaigns/${WALMART}?from=${TODAY}&to=${TODAY}`, { headers: { authorization: `Bearer ${issued.key}` } });
    expect(own.status).toBe(200);
    for (const path of [`/v1/reports/campaigns/${MICROSOFT}`, "/v1/reports/campaigns/newsroom-daily", "/v1/reports/advertisers/microsoft"]) {
      const res = await app.request(`${path}?from=${TODAY}&to=${TODAY}`, { headers: { authorization: `Bearer ${issued.key}` } });
      await expectError(res, 404, "NOT_FOUND");
    }
    // The key still works (and the other advertiser's key was not revoked by the attempts).
    expect((await app.request("/v1/admin/advertisers/walmart", { headers: { authorization: `Bearer ${issued.key}` } })).status).toBe(200);
    expect((await app.request("/v1/admin/advertisers/microsoft", { headers: { authorization: `Bearer ${other.key}` } })).status).toBe(200);
  });
});

describe("guessing keys", () => {
  it("answers the 21st and later failed attempts from one client with 429 and Retry-After, refuses even the right key from it while blocked, and leaves other clients alone", async () => {
    const clock = fakeClock();
    const { app } = await buildTestService({ clock: clock.now, clientIp: headerIp });
    const from = (ip: string, key: string): Record<string, string> => ({ authorization: `Bearer ${key}`, [CLIENT_IP_HEADER]: ip });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await app.request("/v1/admin/campaigns", { headers: from("198.51.100.7", `spk_guess_${i}_0123456789abcdef`) });
      statuses.push(res.status);
      if (i >= 20) {
        const retryAfter = Number(res.headers.get("retry-after"));
        expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get("retry-after")}`).toBe(true);
        await expectError(res, 429, "RATE_LIMITED");
      } else {
        await expectError(res, 401, "UNAUTHENTICATED");
      }
    }
    expect(statuses).toEqual([...Array<number>(20).fill(401), ...Array<number>(5).fill(429)]);

    // The right key from the blocked client: refused too, on admin and report routes.
    const blocked = await app.request("/v1/admin/campaigns", { headers: from("198.51.100.7", OPS_KEY) });
    expect(blocked.headers.get("retry-after")).toBeTruthy();
    await expectError(blocked, 429, "RATE_LIMITED");
    await expectError(await app.request(`/v1/reports/campaigns/${WALMART}?from=${TODAY}&to=${TODAY}`, { headers: from("198.51.100.7", OPS_KEY) }), 429, "RATE_LIMITED");

    // Another client: unaffected, both with the right key and with a wrong one.
    expect((await app.request("/v1/admin/campaigns", { headers: from("203.0.113.9", OPS_KEY) })).status).toBe(200);
    await expectError(await app.request("/v1/admin/campaigns", { headers: from("203.0.113.9", "spk_wrong_key_0123456789") }), 401, "UNAUTHENTICATED");
    // Public routes stay open to the blocked client.
    const d = await app.request("/v1/decisions", {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": BROWSER_UA, [CLIENT_IP_HEADER]: "198.51.100.7" },
      body: JSON.stringify(decisionBody(economyPage(), "blocked-client-reader")),
    });
    expect(d.status).toBe(200);

    // After the window, the right key works again from that client.
    clock.advance(61_000);
    expect((await app.request("/v1/admin/campaigns", { headers: from("198.51.100.7", OPS_KEY) })).status).toBe(200);
  });
});

describe("security headers", () => {
  it("sends nosniff and the other hardening headers on every kind of response", async () => {
    const { app } = await buildTestService();
    const unit = await walmartUnit(app, "headers-reader");
    const responses: [string, Response][] = [
      ["decision", await app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json", "user-agent": BROWSER_UA }, body: JSON.stringify(decisionBody(economyPage(), "h2")) })],
      ["beacon", await fire(app, unit.tracking.impression)],
      ["click", await fire(app, unit.cta.url)],
      ["bad token", await fire(app, "/v1/events/impression?t=x.y")],
      ["401", await app.request("/v1/admin/campaigns")],
      ["admin read", await app.request("/v1/admin/campaigns", { headers: auth() })],
      ["404", await app.request("/no/such/route")],
      ["healthz", await app.request("/healthz")],
      ["reports page", await app.request("/reports")],
      ["demo page", await app.request("/demo/article")],
      ["embed.js", await app.request("/embed.js")],
      ["openapi", await app.request("/openapi.json")],
    ];
    for (const [name, res] of responses) {
      expect(res.headers.get("x-content-type-options"), name).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), name).toBeTruthy();
      expect(res.headers.get("x-frame-options"), name).toMatch(/^(DENY|SAMEORIGIN)$/);
      expect(res.headers.get("strict-transport-security"), name).toMatch(/max-age=\d+/);
      expect(res.headers.get("x-powered-by"), name).toBeNull();
      expect(res.headers.get("x-request-id"), name).toBeTruthy();
    }
    // A route's own Referrer-Policy is kept; the others get the default.
    const policy = (name: string): string | null => responses.find(([n]) => n === name)?.[1].headers.get("referrer-policy") ?? null;
    expect(policy("reports page")).toBe("no-referrer");
    expect(policy("click")).toBe("no-referrer-when-downgrade");
    expect(policy("decision")).toBe("strict-origin-when-cross-origin");
    expect(policy("beacon")).toBe("strict-origin-when-cross-origin");
  });

  it("serves /reports and /demo/article with a Content-Security-Policy that allows no inline or foreign script", async () => {
    const { app } = await buildTestService();
    for (const path of ["/reports", "/demo/article"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type") ?? "", path).toMatch(/^text\/html/);
      const csp = res.headers.get("content-security-policy") ?? "";
      const directives = new Map(csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name as string, values] as const;
      }));
      const scripts = directives.get("script-src") ?? directives.get("default-src");
      expect(scripts, `${path}: ${csp}`).toBeDefined();
      expect(scripts, `${path}: ${csp}`).not.toContain("'unsafe-inline'");
      expect(scripts, `${path}: ${csp}`).not.toContain("'unsafe-eval'");
      expect(scripts?.some((s) => s === "*" || s === "http:" || s === "https:" || s === "data:"), `${path}: ${csp}`).toBe(false);
      expect(directives.get("base-uri"), `${path}: ${csp}`).toEqual(["'none'"]);
      expect(directives.has("default-src"), `${path}: ${csp}`).toBe(true);
      // The pages themselves hold no inline script for such a policy to break.
      parseHtml(await res.text(), ["script", "style"]);
    }
  });
});
