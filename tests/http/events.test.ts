/**
 * Beacons and clicks through HTTP: a signed token counts once per event type; repeats, expired
 * tokens, bots and clients over their rate are answered like counted ones but land under
 * `filtered`; a bad token is a 400 and counts nothing; a click redirects only to the landing URL
 * stored on the unit. Every count is read back from the campaign report.
 */
import { afterEach, describe, expect, it } from "vitest";
import { buildTestService, fakeClock } from "../helpers/app.js";
import {
  type App,
  click302,
  counts,
  decide,
  decisionBody,
  economyPage,
  END_SLOT,
  expectError,
  filtered,
  fire,
  fire204,
  headerIp,
  metrics,
  MID_SLOT,
  MINUTE_MS,
  NOTHING_FILTERED,
  onlyUnit,
  pathOf,
  type TestService,
  tokenOf,
  unitOf,
} from "../helpers/tracking.js";

const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";
/** The day of fakeClock()'s start (2026-11-27T12:00:00Z). */
const TODAY = "2026-11-27";
const TOMORROW = "2026-11-28";

const open: TestService[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options: { env?: Record<string, string>; ip?: boolean } = {}) {
  const clock = fakeClock();
  const service = await buildTestService({ clock: clock.now, ...(options.env ? { env: options.env } : {}), ...(options.ip ? { clientIp: headerIp } : {}) });
  open.push(service);
  return { service, app: service.app, clock };
}

let userSeq = 0;
/** One decision on the economy page's mid slot for a fresh user: walmart's unit. */
async function walmartUnit(app: App) {
  return onlyUnit(await decide(app, decisionBody(economyPage(), `events-user-${++userSeq}`)), WALMART);
}

/** The stored landing URL of a unit (as ops reads it from the catalog). */
async function storedLanding(service: TestService, unitId: string): Promise<string> {
  const unit = service.catalog.document().units.find((u) => u.id === unitId);
  if (!unit) throw new Error(`no unit ${unitId}`);
  return unit.cta.url;
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The token with the character at `i` replaced by a different one (its neighbour in base64url). */
function flipAt(token: string, i: number): string {
  const ch = token[i] as string;
  const idx = BASE64URL.indexOf(ch);
  const replacement = idx < 0 ? "A" : (BASE64URL[idx ^ 1] as string);
  return token.slice(0, i) + replacement + token.slice(i + 1);
}

describe("impression and viewable beacons", () => {
  it("counts a served unit's impression once however often it fires, and the repeats as duplicates", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const n = 6;
    for (let i = 0; i < n; i++) {
      const res = await fire(app, unit.tracking.impression, i % 2 === 0 ? {} : { method: "POST", headers: { "content-type": "text/plain;charset=UTF-8" }, body: "" });
      expect(res.status).toBe(204);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.text()).toBe("");
    }
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, impressions: 1, reach: 1 }), filtered: filtered({ duplicate: n - 1 }) });
  });

  it("counts a viewable once however often it fires, apart from the impression of the same unit", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    await fire204(app, unit.tracking.impression);
    for (let i = 0; i < 4; i++) await fire204(app, unit.tracking.viewable);
    expect(await counts(app, WALMART, TODAY)).toEqual({
      totals: metrics({ served: 1, impressions: 1, viewable: 1, reach: 1 }),
      filtered: filtered({ duplicate: 3 }),
    });
  });

  it("rejects a token with any one character changed with a 400 envelope and counts nothing", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const token = tokenOf(unit.tracking.impression);
    const accepted: { position: number; flipped: string; status: number }[] = [];
    for (let i = 0; i < token.length; i++) {
      const flipped = flipAt(token, i);
      expect(flipped).not.toBe(token);
      const res = await fire(app, `/v1/events/impression?t=${flipped}`);
      if (res.status !== 400) {
        accepted.push({ position: i, flipped: `${token[i]}->${flipped[i]}`, status: res.status });
        continue;
      }
      const body = await expectError(res, 400, "BAD_REQUEST");
      expect(body.error.details?.[0]?.path).toBe("t");
    }
    // Every position of the token (claims, the dot, every signature character) must be covered.
    expect(accepted, `token of ${token.length} characters; accepted variants`).toEqual([]);
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, reach: 1 }), filtered: NOTHING_FILTERED });
  });

  it("rejects truncated, extended, garbage and foreign-secret tokens with a 400 and counts nothing", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const token = tokenOf(unit.tracking.impression);
    const [claims, sig] = token.split(".") as [string, string];
    const other = await (async () => {
      const s = await buildTestService({ env: { TRACKING_SECRET: "another-tracking-secret-9876543210" }, clock: fakeClock().now });
      open.push(s);
      return tokenOf(onlyUnit(await decide(s.app, decisionBody(economyPage(), "foreign-user"))).tracking.impression);
    })();
    const variants = [token.slice(0, -1), `${token}A`, claims, `${claims}.`, `.${sig}`, `${claims}.${sig}.${sig}`, claims + sig, "garbage", "x".repeat(2000), other];
    for (const bad of variants) {
      const res = await fire(app, `/v1/events/impression?t=${encodeURIComponent(bad)}`);
      await expectError(res, 400, "BAD_REQUEST");
    }
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, reach: 1 }), filtered: NOTHING_FILTERED });
  });

  it("rejects a click token on the impression endpoint, and tokens of one type on another's endpoint, with a 400", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const clickToken = tokenOf(unit.cta.url);
    const impressionToken = tokenOf(unit.tracking.impression);
    const viewableToken = tokenOf(unit.tracking.viewable);
    for (const path of [
      `/v1/events/impression?t=${clickToken}`,
      `/v1/events/viewable?t=${clickToken}`,
      `/v1/events/viewable?t=${impressionToken}`,
      `/v1/events/impression?t=${viewableToken}`,
    ]) {
      const body = await expectError(await fire(app, path), 400, "BAD_REQUEST");
      expect(body.error.details).toEqual([{ path: "t", message: "wrong_type" }]);
    }
    const res = await fire(app, `/v1/events/click?t=${impressionToken}`);
    expect(res.headers.get("location")).toBeNull();
    await expectError(res, 400, "BAD_REQUEST");
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, reach: 1 }), filtered: NOTHING_FILTERED });
  });

  it("rejects a beacon or click without a token with a 400 naming t", async () => {
    const { app } = await start();
    const requests: [string, "GET" | "POST"][] = [
      ["/v1/events/impression", "GET"],
      ["/v1/events/impression?t=", "GET"],
      ["/v1/events/impression", "POST"],
      ["/v1/events/viewable", "GET"],
      ["/v1/events/viewable?x=1", "POST"],
      ["/v1/events/click", "GET"],
      ["/v1/events/click?t=", "GET"],
    ];
    for (const [path, method] of requests) {
      const res = await fire(app, path, { method });
      expect(res.headers.get("location")).toBeNull();
      const body = await expectError(res, 400, "BAD_REQUEST");
      expect(body.error.details?.map((d) => d.path)).toEqual(["t"]);
    }
  });

  it("answers an expired token with 204 but counts it only as filtered.expired", async () => {
    const { app, service, clock } = await start();
    const unit = await walmartUnit(app);
    // TRACKING_TOKEN_TTL defaults to 24 h: at exactly 24 h the token is still good...
    clock.advance(24 * 3600 * 1000);
    await fire204(app, unit.tracking.viewable);
    // ...one second later it is expired, but the page still gets its 204 (and a click its redirect).
    clock.advance(1000);
    await fire204(app, unit.tracking.impression);
    await fire204(app, unit.tracking.impression);
    expect(await click302(app, unit.cta.url)).toBe(await storedLanding(service, unit.unitId));
    const report = await counts(app, WALMART, TODAY, TOMORROW);
    expect(report).toEqual({ totals: metrics({ served: 1, viewable: 1, reach: 1 }), filtered: filtered({ expired: 3 }) });
  });

  it("honours TRACKING_TOKEN_TTL when deciding that a token expired", async () => {
    const { app, clock } = await start({ env: { TRACKING_TOKEN_TTL: "1h" } });
    const unit = await walmartUnit(app);
    clock.advance(3600 * 1000 + 1000);
    await fire204(app, unit.tracking.impression);
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, reach: 1 }), filtered: filtered({ expired: 1 }) });
  });

  it("answers a known bot with 204 but counts it only as filtered.bot, leaving the token unused", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const bots: (string | null)[] = [
      "curl/8.5.0",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
      "python-requests/2.31.0",
      "",
      null,
    ];
    for (const ua of bots) await fire204(app, unit.tracking.impression, { ua });
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, reach: 1 }), filtered: filtered({ bot: bots.length }) });
    // A real browser firing the same token afterwards is counted: the bots did not use it up.
    await fire204(app, unit.tracking.impression);
    expect((await counts(app, WALMART, TODAY)).totals.impressions).toBe(1);
  });
});

describe("clicks", () => {
  it("redirects a click with 302 to the unit's stored landing URL, whatever extra query parameters say", async () => {
    const { app, service, clock } = await start();
    const unit = await walmartUnit(app);
    const landing = await storedLanding(service, unit.unitId);
    expect(landing).toBe("https://corporate.walmart.example/us-manufacturing");
    expect(unit.cta.url.startsWith("https://ads.test/v1/events/click?t=")).toBe(true);
    const extras = [
      "",
      "&url=https://evil.example",
      "&url=https%3A%2F%2Fevil.example%2Fphish",
      "&redirect=https://evil.example&next=//evil.example&location=https://evil.example&u=https://evil.example",
      "&landing=javascript:alert(1)",
    ];
    for (const extra of extras) {
      const res = await fire(app, pathOf(unit.cta.url) + extra);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(landing);
      expect(res.headers.get("cache-control")).toBe("no-store");
      clock.advance(MINUTE_MS + 1000);
    }
    // Parameters in front of the token change nothing either.
    const res = await fire(app, `/v1/events/click?url=https://evil.example&t=${tokenOf(unit.cta.url)}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(landing);
    expect((await counts(app, WALMART, TODAY)).totals.clicks).toBe(1);
  });

  it("still redirects a repeated click but counts the repeats as duplicates", async () => {
    const { app, service, clock } = await start();
    const unit = await walmartUnit(app);
    const landing = await storedLanding(service, unit.unitId);
    const n = 4;
    for (let i = 0; i < n; i++) {
      expect(await click302(app, unit.cta.url)).toBe(landing);
      // A minute apart, so the per-client click limit is not what filters them.
      clock.advance(MINUTE_MS + 1000);
    }
    expect(await counts(app, WALMART, TODAY)).toEqual({
      totals: metrics({ served: 1, clicks: 1, reach: 1 }),
      filtered: filtered({ duplicate: n - 1 }),
    });
  });

  it("counts an immediate repeat of a click (a double click) as a duplicate, not as rate_limited", async () => {
    const { app, service } = await start();
    const unit = await walmartUnit(app);
    const landing = await storedLanding(service, unit.unitId);
    expect(await click302(app, unit.cta.url)).toBe(landing);
    expect(await click302(app, unit.cta.url)).toBe(landing);
    expect(await counts(app, WALMART, TODAY)).toEqual({
      totals: metrics({ served: 1, clicks: 1, reach: 1 }),
      filtered: filtered({ duplicate: 1 }),
    });
  });

  it("still redirects a bot's click but counts it only as filtered.bot", async () => {
    const { app, service } = await start();
    const unit = await walmartUnit(app);
    expect(await click302(app, unit.cta.url, { ua: "curl/8.5.0" })).toBe(await storedLanding(service, unit.unitId));
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 1, reach: 1 }), filtered: filtered({ bot: 1 }) });
  });

  it("answers a click with a bad token with 400 and no redirect", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const token = tokenOf(unit.cta.url);
    const res = await fire(app, `/v1/events/click?t=${token.slice(0, -3)}AAA&url=https://evil.example`);
    expect(res.headers.get("location")).toBeNull();
    await expectError(res, 400, "BAD_REQUEST");
  });
});

describe("sendBeacon POSTs", () => {
  it("answers POST beacons with a text/plain body with 204 and counts them", async () => {
    const { app } = await start();
    const unit = await walmartUnit(app);
    const post = { method: "POST" as const, headers: { "content-type": "text/plain;charset=UTF-8" }, body: JSON.stringify({ visible: 0.75 }) };
    const impression = await fire(app, unit.tracking.impression, post);
    expect(impression.status).toBe(204);
    const viewable = await fire(app, unit.tracking.viewable, post);
    expect(viewable.status).toBe(204);
    const empty = await fire(app, unit.tracking.viewable, { method: "POST", headers: { "content-type": "text/plain" } });
    expect(empty.status).toBe(204);
    expect(await counts(app, WALMART, TODAY)).toEqual({
      totals: metrics({ served: 1, impressions: 1, viewable: 1, reach: 1 }),
      filtered: filtered({ duplicate: 1 }),
    });
  });
});

describe("per-client limits", () => {
  it("counts one click per client and campaign a minute: a second token for the same campaign from the same client is rate_limited", async () => {
    const { app, service, clock } = await start({ ip: true });
    const ip = "203.0.113.7";
    const both = [MID_SLOT, END_SLOT];
    const first = await decide(app, decisionBody(economyPage(), "click-limit-a", both));
    const second = await decide(app, decisionBody(economyPage(), "click-limit-b", both));
    const third = await decide(app, decisionBody(economyPage(), "click-limit-c", both));
    const landing = await storedLanding(service, "walmart-proud-source");

    expect(await click302(app, unitOf(first, WALMART).cta.url, { ip })).toBe(landing);
    clock.advance(10_000);
    // Same client, same campaign, another token, inside the minute: redirected but not counted.
    expect(await click302(app, unitOf(second, WALMART).cta.url, { ip })).toBe(landing);
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 3, clicks: 1, reach: 3 }), filtered: filtered({ rate_limited: 1 }) });

    // Another campaign from the same client is its own budget; another client is too.
    await click302(app, unitOf(first, MICROSOFT).cta.url, { ip });
    expect((await counts(app, MICROSOFT, TODAY)).totals.clicks).toBe(1);
    await click302(app, unitOf(third, WALMART).cta.url, { ip: "198.51.100.20" });
    // The rate-limited token was not used up: a minute later it counts.
    clock.advance(MINUTE_MS);
    await click302(app, unitOf(second, WALMART).cta.url, { ip });
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 3, clicks: 3, reach: 3 }), filtered: filtered({ rate_limited: 1 }) });
  });

  it("treats addresses in one IPv6 /64 as one client for the click limit", async () => {
    const { app } = await start({ ip: true });
    const a = await walmartUnit(app);
    const b = await walmartUnit(app);
    const c = await walmartUnit(app);
    await click302(app, a.cta.url, { ip: "2001:db8:1:2::1" });
    await click302(app, b.cta.url, { ip: "2001:db8:1:2:ffff:ffff:ffff:fffe" });
    await click302(app, c.cta.url, { ip: "2001:db8:1:3::1" });
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 3, clicks: 2, reach: 3 }), filtered: filtered({ rate_limited: 1 }) });
  });

  it("counts beacons past BEACONS_PER_MINUTE from one client as rate_limited", async () => {
    const { app, clock } = await start({ ip: true, env: { BEACONS_PER_MINUTE: "2" } });
    const ip = "203.0.113.9";
    const seen = [await walmartUnit(app), await walmartUnit(app), await walmartUnit(app)];
    for (const unit of seen) await fire204(app, unit.tracking.impression, { ip });
    expect(await counts(app, WALMART, TODAY)).toEqual({ totals: metrics({ served: 3, impressions: 2, reach: 3 }), filtered: filtered({ rate_limited: 1 }) });
    clock.advance(MINUTE_MS);
    await fire204(app, (seen[2] as (typeof seen)[number]).tracking.impression, { ip });
    expect((await counts(app, WALMART, TODAY)).totals.impressions).toBe(3);
  });

  it("answers a client flooding the beacon endpoints with 429 and Retry-After, and no one else", async () => {
    // BEACONS_PER_MINUTE=1 puts the flood ceiling at its floor: 1,000 requests a minute per client.
    const { app, clock } = await start({ ip: true, env: { BEACONS_PER_MINUTE: "1" } });
    const unit = await walmartUnit(app);
    const flooder = "192.0.2.66";
    for (let i = 0; i < 1000; i++) {
      const res = await fire(app, unit.tracking.impression, { ip: flooder });
      if (res.status !== 204) throw new Error(`request ${i + 1} of the first 1,000 answered ${res.status}`);
    }
    const limited = await fire(app, unit.tracking.impression, { ip: flooder });
    expect(limited.headers.get("retry-after")).toBe("60");
    await expectError(limited, 429, "RATE_LIMITED");
    // Clicks and viewables share the ceiling; a click gets no redirect while flooded.
    clock.advance(30_000);
    const click = await fire(app, unit.cta.url, { ip: flooder });
    expect(click.headers.get("location")).toBeNull();
    expect(click.headers.get("retry-after")).toBe("30");
    await expectError(click, 429, "RATE_LIMITED");
    await expectError(await fire(app, unit.tracking.viewable, { ip: flooder }), 429, "RATE_LIMITED");
    // Another client is not affected, and the flooder is served again once its window is over.
    await fire204(app, unit.tracking.viewable, { ip: "192.0.2.67" });
    clock.advance(30_000);
    await fire204(app, unit.tracking.impression, { ip: flooder });
  });
});
