/**
 * POST /v1/decisions on the sample catalog: the fixture pages' expected behaviour, frequency caps,
 * response shape, no-fill reasons, privacy signals and header-derived targeting.
 */
import { describe, expect, it } from "vitest";
import { buildTestService, fakeClock } from "../helpers/app.js";
import {
  BASE_URL,
  adminOk,
  createIsolatedCampaign,
  decide,
  decisionBody,
  fixtureSlots,
  page,
  postDecision,
  readBody,
  servedAdvertisers,
  servedCampaigns,
  servedUnits,
  simpleBody,
  slot,
  type DecisionResponse,
  type Slug,
} from "./support.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const WALMART = "walmart-us-manufacturing";
const MICROSOFT = "microsoft-quantum";
const HOUSE = "newsroom-daily";

describe("fixture pages", () => {
  it("never serves Walmart on the Ukraine war story, serves Microsoft and fills the rest with house units", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 5; i++) {
      const d = await decide(app, decisionBody("ukraine-north-korea", `war-reader-${i}`));
      expect(servedAdvertisers(d)).not.toContain("walmart");
      // Microsoft is the only eligible standard-tier campaign, so a fresh user gets it first.
      expect(servedCampaigns(d)).toContain(MICROSOFT);
      expect(servedCampaigns(d)).toContain(HOUSE);
      for (const u of servedUnits(d)) expect([MICROSOFT, HOUSE]).toContain(u.campaignId);
    }
  });

  it("never serves Walmart on the Ukraine war story to a reader without a user key", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("ukraine-north-korea"));
    expect(servedAdvertisers(d)).not.toContain("walmart");
  });

  it("serves neither Walmart nor Microsoft on the Boko Haram story, only house units", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 5; i++) {
      const d = await decide(app, decisionBody("nigeria-boko-haram", `nigeria-reader-${i}`));
      const served = servedCampaigns(d);
      expect(served.length).toBeGreaterThan(0);
      for (const c of served) expect(c).toBe(HOUSE);
    }
  });

  it.each<Slug>(["canada-carney", "india-trade-wars"])("serves Walmart first on %s because it is the sponsorship tier", async (slug) => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody(slug, `reader-${slug}`));
    expect(servedCampaigns(d)).toContain(WALMART);
    // The highest tier takes the first slot of the page.
    expect(slot(d, "mid-1").units[0]?.campaignId).toBe(WALMART);
  });

  it("stops serving Walmart to a user after 3 serves in a day and serves it again once the day has passed", async () => {
    const clock = fakeClock();
    const { app } = await buildTestService({ clock: clock.now });
    const user = "capped-reader";
    for (let i = 0; i < 3; i++) {
      const d = await decide(app, decisionBody("india-trade-wars", user));
      expect(servedCampaigns(d), `serve ${i + 1}`).toContain(WALMART);
      clock.advance(60_000);
    }
    const fourth = await decide(app, decisionBody("india-trade-wars", user));
    expect(servedCampaigns(fourth)).not.toContain(WALMART);
    expect(servedUnits(fourth).length).toBeGreaterThan(0);

    const other = await decide(app, decisionBody("india-trade-wars", "another-reader"));
    expect(servedCampaigns(other)).toContain(WALMART);

    // The window started at the first serve; 24 h after it (plus a little) the cap is lifted.
    clock.advance(DAY_MS);
    const nextDay = await decide(app, decisionBody("india-trade-wars", user));
    expect(servedCampaigns(nextDay)).toContain(WALMART);
  });

  it("still caps Walmart when the same user moves between eligible pages", async () => {
    const { app } = await buildTestService();
    const user = "page-hopper";
    const slugs: Slug[] = ["canada-carney", "india-trade-wars", "canada-carney", "india-trade-wars", "canada-carney"];
    let walmartServes = 0;
    for (const slug of slugs) {
      const d = await decide(app, decisionBody(slug, user));
      walmartServes += servedCampaigns(d).filter((c) => c === WALMART).length;
    }
    expect(walmartServes).toBe(3);
  });

  it("never exceeds Walmart's cap when many decisions for one user run in parallel", async () => {
    const { app } = await buildTestService();
    const results = await Promise.all(Array.from({ length: 12 }, () => decide(app, decisionBody("canada-carney", "parallel-reader"))));
    const walmartServes = results.flatMap(servedCampaigns).filter((c) => c === WALMART).length;
    expect(walmartServes).toBe(3);
  });
});

describe("response shape", () => {
  it("answers the slots in request order with their ids and placements", async () => {
    const { app } = await buildTestService();
    const slots = [
      { id: "z-last", placement: "article-end", count: 2 },
      { id: "a-first", placement: "article-mid", count: 1 },
      { id: "m-unknown", placement: "no-such-placement" },
    ];
    const d = await decide(app, decisionBody("canada-carney", "order-reader", slots));
    expect(typeof d.decisionId).toBe("string");
    expect(d.decisionId.length).toBeGreaterThan(0);
    expect(d.slots.map((s) => [s.id, s.placement])).toEqual([
      ["z-last", "article-end"],
      ["a-first", "article-mid"],
      ["m-unknown", "no-such-placement"],
    ]);
  });

  it("orders units inside a slot by tier: sponsorship, then standard, then house", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "tier-reader", [{ id: "end", placement: "article-end", count: 3 }]));
    expect(slot(d, "end").units.map((u) => u.campaignId)).toEqual([WALMART, MICROSOFT, HOUSE]);
  });

  it("always gives every unit a non-empty disclosure label and sponsor", async () => {
    const { app } = await buildTestService();
    const slugs: Slug[] = ["ukraine-north-korea", "nigeria-boko-haram", "canada-carney", "india-trade-wars"];
    let seen = 0;
    for (const slug of slugs) {
      const d = await decide(app, decisionBody(slug, `disclosure-${slug}`));
      for (const u of servedUnits(d)) {
        seen++;
        expect(u.disclosure.label.trim().length).toBeGreaterThan(0);
        expect(u.disclosure.sponsor.trim().length).toBeGreaterThan(0);
      }
    }
    expect(seen).toBeGreaterThan(0);
  });

  it("names the sponsor by the advertiser's name and uses the unit's disclosure label", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "sponsor-reader"));
    const walmart = servedUnits(d).find((u) => u.campaignId === WALMART);
    const house = servedUnits(d).find((u) => u.campaignId === HOUSE);
    expect(walmart?.disclosure).toEqual({ label: "Sponsored", sponsor: "Walmart" });
    expect(house?.disclosure).toEqual({ label: "From the newsroom", sponsor: "The newsroom" });
  });

  it("points the click, impression and viewable URLs at PUBLIC_BASE_URL", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("india-trade-wars", "url-reader"));
    expect(servedUnits(d).length).toBeGreaterThan(0);
    for (const u of servedUnits(d)) {
      expect(u.cta.url.startsWith(`${BASE_URL}/v1/events/click?t=`)).toBe(true);
      expect(u.tracking.impression.startsWith(`${BASE_URL}/v1/events/impression?t=`)).toBe(true);
      expect(u.tracking.viewable.startsWith(`${BASE_URL}/v1/events/viewable?t=`)).toBe(true);
    }
  });

  it("never exposes the advertiser's landing URL as the CTA link", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("india-trade-wars", "landing-reader"));
    const walmart = servedUnits(d).find((u) => u.campaignId === WALMART);
    expect(walmart).toBeDefined();
    expect(walmart?.cta.url).not.toContain("corporate.walmart.example");
    expect(walmart?.html).not.toContain("corporate.walmart.example");
  });

  it("renders html that links to the signed click URL", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "html-reader"));
    for (const u of servedUnits(d)) {
      const escapedClick = u.cta.url.replace(/&/g, "&amp;");
      expect(u.html).toContain(`href="${escapedClick}"`);
      const hrefs = [...u.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
      expect(hrefs.length).toBeGreaterThan(0);
      for (const h of hrefs) expect(h).toBe(escapedClick);
    }
  });

  it("escapes every advertiser string in html so no raw markup from the advertiser gets through", async () => {
    const { app } = await buildTestService();
    const evil = "<script>alert(1)</script>";
    await adminOk(app, "POST", "/v1/admin/placements", { id: "xss-slot", formats: ["native-card"], maxUnits: 1 }, 201);
    await adminOk(app, "POST", "/v1/admin/advertisers", { id: "evil-corp", name: `Evil ${evil} Corp` }, 201);
    await adminOk(app, "POST", "/v1/admin/campaigns", { id: "evil-camp", advertiserId: "evil-corp", name: "Evil", tier: "standard", placements: ["xss-slot"] }, 201);
    await adminOk(
      app,
      "POST",
      "/v1/admin/units",
      {
        id: "evil-unit",
        campaignId: "evil-camp",
        format: "native-card",
        headline: `Hello ${evil}`,
        body: `<img src=x onerror="alert(2)"> & 'quotes'`,
        image: { url: "https://cdn.example/x.jpg?a=1&b=<2>", width: 10, height: 10, alt: `"><svg onload=alert(3)>` },
        cta: { text: `<a href="https://evil.example">click</a>`, url: "https://evil.example/landing" },
        disclosureLabel: "<b>Ad</b>",
      },
      201,
    );
    const d = await decide(app, simpleBody([{ id: "s", placement: "xss-slot" }]));
    const unit = slot(d, "s").units[0];
    expect(unit?.unitId).toBe("evil-unit");
    const html = unit?.html ?? "";
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<svg");
    expect(html).not.toContain("<b>");
    expect(html).not.toContain('<a href="https://evil.example"');
    expect(html).not.toContain("evil.example/landing");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // Every tag is one of the service's own, made only of known, double-quoted attributes: no
    // advertiser string opened a tag or broke out of an attribute.
    const allowedAttributes = ["class", "data-unit-id", "data-campaign-id", "aria-label", "href", "target", "rel", "tabindex", "aria-hidden", "src", "width", "height", "alt", "loading", "decoding"];
    const tags = [...html.matchAll(/<(\/?)([a-zA-Z0-9]+)([^>]*)>/g)];
    expect(tags.length).toBeGreaterThan(0);
    for (const [whole, closing, name, rest] of tags) {
      expect(["aside", "a", "img", "div", "p", "span", "h3"], whole).toContain(name?.toLowerCase());
      if (closing) {
        expect(rest, whole).toBe("");
        continue;
      }
      const attributes = [...(rest ?? "").matchAll(/\s([a-z-]+)="([^"]*)"/g)];
      expect(attributes.map((a) => a[0]).join(""), whole).toBe(rest);
      for (const a of attributes) expect(allowedAttributes, whole).toContain(a[1]);
    }
    // Outside tags, no raw "<" is left: everything else is escaped text.
    expect(html.replace(/<\/?[a-zA-Z0-9]+(\s[a-z-]+="[^"]*")*>/g, "")).not.toContain("<");
  });

  it("clamps count to the placement's maxUnits", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "clamp-reader", [{ id: "mid", placement: "article-mid", count: 5 }]));
    expect(slot(d, "mid").units).toHaveLength(1);
  });

  it("serves one unit when a slot leaves count out", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "default-count-reader", [{ id: "end", placement: "article-end" }]));
    expect(slot(d, "end").units).toHaveLength(1);
  });

  it("never serves one campaign twice in one response", async () => {
    const { app } = await buildTestService();
    const slugs: Slug[] = ["ukraine-north-korea", "nigeria-boko-haram", "canada-carney", "india-trade-wars"];
    for (const slug of slugs) {
      for (let i = 0; i < 3; i++) {
        const slots = [
          { id: "mid-1", placement: "article-mid", count: 1 },
          { id: "end-1", placement: "article-end", count: 3 },
          { id: "end-2", placement: "article-end", count: 3 },
        ];
        const d = await decide(app, decisionBody(slug, `dup-reader-${i}`, slots));
        const campaigns = servedCampaigns(d);
        expect(new Set(campaigns).size, JSON.stringify(campaigns)).toBe(campaigns.length);
      }
    }
  });

  it("never serves two advertisers sharing a competitive label in one response", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/advertisers", { id: "target", name: "Target", competitiveLabels: ["Retail"] }, 201);
    await adminOk(app, "POST", "/v1/admin/campaigns", { id: "target-camp", advertiserId: "target", name: "Target", tier: "standard", weight: 1000, placements: ["article-end"] }, 201);
    await adminOk(app, "POST", "/v1/admin/units", { id: "target-unit", campaignId: "target-camp", format: "native-card", headline: "Target", body: "Target", cta: { text: "Go", url: "https://target.example" } }, 201);
    for (let i = 0; i < 5; i++) {
      const d = await decide(app, decisionBody("canada-carney", `label-reader-${i}`));
      const advertisers = servedAdvertisers(d);
      expect(advertisers.includes("walmart") && advertisers.includes("target"), JSON.stringify(advertisers)).toBe(false);
    }
  });

  it("answers an unknown placement with no units and UNKNOWN_PLACEMENT", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "unknown-reader", [{ id: "x", placement: "sidebar-top" }]));
    expect(slot(d, "x")).toEqual({ id: "x", placement: "sidebar-top", units: [], noFillReason: "UNKNOWN_PLACEMENT" });
  });

  it("answers a placement no campaign runs on with NO_CAMPAIGNS", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/placements", { id: "empty-slot", formats: ["native-card"], maxUnits: 2 }, 201);
    const d = await decide(app, decisionBody("canada-carney", "empty-reader", [{ id: "e", placement: "empty-slot", count: 2 }]));
    expect(slot(d, "e").units).toEqual([]);
    expect(slot(d, "e").noFillReason).toBe("NO_CAMPAIGNS");
  });

  it("answers ALL_FREQUENCY_CAPPED when every candidate of a slot has reached its cap", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "capped-slot", campaign: { frequencyCaps: [{ limit: 1, window: "1d" }] } });
    const body = simpleBody([{ id: "c", placement: "capped-slot" }], { user: { key: "cap-reader" } });
    const first = await decide(app, body);
    expect(slot(first, "c").units).toHaveLength(1);
    const second = await decide(app, body);
    expect(slot(second, "c").units).toEqual([]);
    expect(slot(second, "c").noFillReason).toBe("ALL_FREQUENCY_CAPPED");
  });

  it("answers NO_ELIGIBLE_UNITS when campaigns run on the placement but none passes targeting", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, {
      placementId: "sports-slot",
      campaign: { targeting: { field: "section", op: "in", values: ["sports"] } },
    });
    const d = await decide(app, simpleBody([{ id: "s", placement: "sports-slot" }]));
    expect(slot(d, "s").units).toEqual([]);
    expect(slot(d, "s").noFillReason).toBe("NO_ELIGIBLE_UNITS");
  });

  it("answers NO_ELIGIBLE_UNITS when the only campaign is excluded by the page's topics", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "safe-slot", campaign: { exclusions: { topics: ["terrorism"] } } });
    const d = await decide(app, { page: page("nigeria-boko-haram"), slots: [{ id: "s", placement: "safe-slot" }] });
    expect(slot(d, "s").noFillReason).toBe("NO_ELIGIBLE_UNITS");
  });

  it("leaves noFillReason out of slots that have units", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "fill-reader"));
    for (const s of d.slots) {
      expect(s.units.length).toBeGreaterThan(0);
      expect(s.noFillReason).toBeUndefined();
    }
  });

  it("tells caches not to store a decision", async () => {
    const { app } = await buildTestService();
    const res = await postDecision(app, decisionBody("canada-carney", "cache-reader"));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-store");
  });
});

describe("privacy signals", () => {
  const expectOnlyUncapped = (d: DecisionResponse): void => {
    const served = servedCampaigns(d);
    expect(served).not.toContain(WALMART);
    expect(served).not.toContain(MICROSOFT);
    expect(served).toContain(HOUSE);
  };

  it("serves only uncapped campaigns when the request has no user key", async () => {
    const { app } = await buildTestService();
    expectOnlyUncapped(await decide(app, decisionBody("canada-carney")));
  });

  it("ignores the user key and serves only uncapped campaigns when Sec-GPC is 1", async () => {
    const { app } = await buildTestService();
    expectOnlyUncapped(await decide(app, decisionBody("canada-carney", "gpc-reader"), { "Sec-GPC": "1" }));
  });

  it("ignores the user key and serves only uncapped campaigns when DNT is 1", async () => {
    const { app } = await buildTestService();
    expectOnlyUncapped(await decide(app, decisionBody("canada-carney", "dnt-reader"), { DNT: "1" }));
  });

  it("does not count serves against a user key sent with an opt-out signal", async () => {
    const { app } = await buildTestService();
    for (let i = 0; i < 4; i++) await decide(app, decisionBody("canada-carney", "opted-out-reader"), { DNT: "1" });
    const d = await decide(app, decisionBody("canada-carney", "opted-out-reader"));
    expect(servedCampaigns(d)).toContain(WALMART);
  });

  it("uses the user key when Sec-GPC and DNT are 0", async () => {
    const { app } = await buildTestService();
    const d = await decide(app, decisionBody("canada-carney", "consenting-reader"), { "Sec-GPC": "0", DNT: "0" });
    expect(servedCampaigns(d)).toContain(WALMART);
  });
});

describe("targeting from request headers", () => {
  const geoSlot = [{ id: "g", placement: "geo-slot" }];

  it("targets geo.country from CF-IPCountry when the body has no geo", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "geo-slot", campaign: { targeting: { field: "geo.country", op: "in", values: ["DE"] } } });
    const de = await decide(app, simpleBody(geoSlot), { "CF-IPCountry": "DE" });
    expect(slot(de, "g").units).toHaveLength(1);
    const fr = await decide(app, simpleBody(geoSlot), { "CF-IPCountry": "FR" });
    expect(slot(fr, "g").units).toEqual([]);
    expect(slot(fr, "g").noFillReason).toBe("NO_ELIGIBLE_UNITS");
    const none = await decide(app, simpleBody(geoSlot));
    expect(slot(none, "g").units).toEqual([]);
  });

  it("targets geo.country from X-Country-Code when CF-IPCountry is absent", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "geo-slot", campaign: { targeting: { field: "geo.country", op: "in", values: ["DE"] } } });
    const de = await decide(app, simpleBody(geoSlot), { "X-Country-Code": "de" });
    expect(slot(de, "g").units).toHaveLength(1);
    const us = await decide(app, simpleBody(geoSlot), { "X-Country-Code": "US" });
    expect(slot(us, "g").units).toEqual([]);
  });

  it("prefers the body's geo over the country headers", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "geo-slot", campaign: { targeting: { field: "geo.country", op: "in", values: ["DE"] } } });
    const d = await decide(app, simpleBody(geoSlot, { geo: { country: "FR" } }), { "CF-IPCountry": "DE" });
    expect(slot(d, "g").units).toEqual([]);
    const d2 = await decide(app, simpleBody(geoSlot, { geo: { country: "DE" } }), { "CF-IPCountry": "FR" });
    expect(slot(d2, "g").units).toHaveLength(1);
  });

  it("targets device.type from the User-Agent when the body has no device", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "phone-slot", campaign: { targeting: { field: "device.type", op: "in", values: ["mobile"] } } });
    const body = simpleBody([{ id: "p", placement: "phone-slot" }]);
    const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    const desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    expect(slot(await decide(app, body, { "User-Agent": iphone }), "p").units).toHaveLength(1);
    expect(slot(await decide(app, body, { "User-Agent": desktop }), "p").units).toEqual([]);
    // The body's device wins over the header.
    expect(slot(await decide(app, { ...body, device: { type: "mobile" } }, { "User-Agent": desktop }), "p").units).toHaveLength(1);
  });
});

describe("lenient input", () => {
  it("accepts a text/plain body holding JSON", async () => {
    const { app } = await buildTestService();
    const res = await postDecision(app, JSON.stringify(decisionBody("canada-carney", "beacon-reader")), { "content-type": "text/plain;charset=UTF-8" });
    expect(res.status).toBe(200);
    const d = await readBody<DecisionResponse>(res);
    expect(servedCampaigns(d)).toContain(WALMART);
  });

  it("accepts application/json with a charset parameter", async () => {
    const { app } = await buildTestService();
    const res = await postDecision(app, decisionBody("canada-carney", "charset-reader"), { "content-type": "application/json; charset=utf-8" });
    expect(res.status).toBe(200);
  });

  it("ignores unknown fields anywhere in the body", async () => {
    const { app } = await buildTestService();
    const body = {
      ...decisionBody("canada-carney", "extra-reader"),
      consent: { tcf: "CO123" },
      experiment: "b",
      slots: fixtureSlots().map((s) => ({ ...s, sizes: [[300, 250]], lazy: true })),
      page: { ...page("canada-carney"), author: "Jane Doe", wordCount: 1200, paywall: { metered: true } },
      user: { key: "extra-reader", segments: ["a", "b"] },
      geo: { country: "US", region: "CA" },
      device: { type: "desktop", os: "linux" },
    };
    const d = await decide(app, body);
    expect(d.slots.map((s) => s.id)).toEqual(["mid-1", "end-1"]);
    expect(servedCampaigns(d)).toContain(WALMART);
  });
});

describe("writes are visible to the next decision", () => {
  it("stops serving a campaign as soon as it is paused", async () => {
    const { app } = await buildTestService();
    expect(servedCampaigns(await decide(app, decisionBody("canada-carney", "pause-reader-1")))).toContain(WALMART);
    await adminOk(app, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "paused" });
    expect(servedCampaigns(await decide(app, decisionBody("canada-carney", "pause-reader-2")))).not.toContain(WALMART);
    await adminOk(app, "PATCH", `/v1/admin/campaigns/${WALMART}`, { status: "active" });
    expect(servedCampaigns(await decide(app, decisionBody("canada-carney", "pause-reader-3")))).toContain(WALMART);
  });

  it("serves a newly created campaign and unit on the next decision", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "POST", "/v1/admin/campaigns", { id: "fresh-sponsor", advertiserId: "microsoft", name: "Fresh", tier: "sponsorship", weight: 1000, placements: ["article-mid"], targeting: { field: "section", op: "in", values: ["geopolitics"] } }, 201);
    await adminOk(app, "POST", "/v1/admin/units", { id: "fresh-unit", campaignId: "fresh-sponsor", format: "native-card", headline: "Fresh", body: "Fresh", cta: { text: "Go", url: "https://fresh.example" } }, 201);
    const d = await decide(app, decisionBody("ukraine-north-korea", "fresh-reader"));
    expect(slot(d, "mid-1").units[0]?.unitId).toBe("fresh-unit");
  });

  it("stops serving a unit as soon as it is deleted", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "DELETE", "/v1/admin/units/walmart-proud-source", undefined, 204);
    const d = await decide(app, decisionBody("canada-carney", "deleted-unit-reader"));
    expect(servedCampaigns(d)).not.toContain(WALMART);
  });

  it("never serves a campaign whose flight is already over", async () => {
    const { app } = await buildTestService();
    await createIsolatedCampaign(app, { placementId: "past-slot", campaign: { startAt: "2020-01-01T00:00:00Z", endAt: "2020-02-01T00:00:00Z" } });
    const d = await decide(app, simpleBody([{ id: "p", placement: "past-slot" }]));
    expect(slot(d, "p").units).toEqual([]);
  });
});

describe("matching rules", () => {
  it("applies exclusions case-insensitively", async () => {
    const { app } = await buildTestService();
    const body = decisionBody("ukraine-north-korea", "case-reader");
    body.page.topics = (body.page.topics ?? []).map((t) => t.toUpperCase());
    body.page.section = "ECONOMY";
    const d = await decide(app, body);
    expect(servedCampaigns(d)).not.toContain(WALMART);
  });

  it("matches section targeting case-insensitively", async () => {
    const { app } = await buildTestService();
    const body = decisionBody("india-trade-wars", "section-case-reader");
    body.page.section = "  Economy ";
    body.page.topics = [];
    expect(servedCampaigns(await decide(app, body))).toContain(WALMART);
  });

  it("matches language targeting on the primary subtag", async () => {
    const { app } = await buildTestService();
    const body = decisionBody("ukraine-north-korea", "lang-reader");
    body.page.language = "en-GB";
    expect(servedCampaigns(await decide(app, body))).toContain(MICROSOFT);
    const fr = decisionBody("ukraine-north-korea", "lang-reader-fr");
    fr.page.language = "fr";
    expect(servedCampaigns(await decide(app, fr))).not.toContain(MICROSOFT);
  });

  it("stops serving Walmart once its flight has ended", async () => {
    const clock = fakeClock("2028-01-01T00:00:00Z");
    const { app } = await buildTestService({ clock: clock.now });
    const d = await decide(app, decisionBody("canada-carney", "late-reader"));
    expect(servedCampaigns(d)).not.toContain(WALMART);
    expect(servedCampaigns(d)).toContain(HOUSE);
  });

  it("does not serve Walmart before its flight starts", async () => {
    const clock = fakeClock("2025-12-31T23:59:59Z");
    const { app } = await buildTestService({ clock: clock.now });
    expect(servedCampaigns(await decide(app, decisionBody("canada-carney", "early-reader")))).not.toContain(WALMART);
  });

  it("applies a changed maxUnits to the next decision", async () => {
    const { app } = await buildTestService();
    await adminOk(app, "PATCH", "/v1/admin/placements/article-mid", { maxUnits: 2 });
    const d = await decide(app, decisionBody("canada-carney", "max-reader", [{ id: "mid", placement: "article-mid", count: 5 }]));
    expect(slot(d, "mid").units.map((u) => u.campaignId)).toEqual([WALMART, MICROSOFT]);
  });
});
