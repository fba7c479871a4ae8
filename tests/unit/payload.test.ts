import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Unit } from "../../src/domain/catalog-schema.js";
import {
  cachedTemplateCount,
  decisionJson,
  disclosureLabel,
  escapeHtml,
  renderUnit,
  TEMPLATE_CACHE_UNITS,
  renderUnitWithJson,
  type TrackingUrls,
  type UnitPayload,
} from "../../src/domain/payload.js";
import { aUnit } from "../helpers/builders.js";

const HOSTILE = `<script>alert("x")</script> & 'quoted' "double" <img src=x onerror=alert(1)>`;

const URLS: TrackingUrls = {
  click: "https://ads.test/v1/events/click?t=abc.def&utm=1",
  impression: "https://ads.test/v1/events/impression?t=ghi.jkl",
  viewable: "https://ads.test/v1/events/viewable?t=mno.pqr",
};

function hostileUnit(): Unit {
  return aUnit({
    headline: `Headline ${HOSTILE}`,
    body: `Body ${HOSTILE}`,
    image: { url: `https://cdn.example/a.jpg?q="><script>alert(1)</script>&x='y'`, width: 1200, height: 628, alt: `Alt ${HOSTILE}` },
    cta: { text: `CTA ${HOSTILE}`, url: "https://acme.example/landing?next=javascript:alert(1)" },
    disclosureLabel: `Label ${HOSTILE}`,
  });
}

const unescapeHtml = (s: string): string =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

const hrefs = (html: string): string[] => [...html.matchAll(/\bhref\s*=\s*"([^"]*)"/g)].map((m) => unescapeHtml(m[1] as string));

const count = (s: string, ch: string): number => s.split(ch).length - 1;

describe("escapeHtml", () => {
  it("escapes &, <, >, double and single quotes", () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  });

  it("leaves text without special characters unchanged", () => {
    expect(escapeHtml("Plain text, 100% fine.")).toBe("Plain text, 100% fine.");
  });

  it("escapes an ampersand that already starts an entity", () => {
    expect(escapeHtml("&amp;")).toBe("&amp;amp;");
  });

  it("never leaves a markup or quote character in its output", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(unescapeHtml(out)).toBe(s);
      }),
      { seed: 1234, numRuns: 500 },
    );
  });
});

describe("disclosureLabel", () => {
  it("uses the unit's label, trimmed", () => {
    expect(disclosureLabel({ disclosureLabel: "  Paid post " })).toBe("Paid post");
  });

  it("falls back to Sponsored for a blank label", () => {
    expect(disclosureLabel({ disclosureLabel: "   " })).toBe("Sponsored");
    expect(disclosureLabel({ disclosureLabel: "" })).toBe("Sponsored");
  });
});

describe("renderUnit", () => {
  it("escapes every advertiser string in the html", () => {
    const unit = hostileUnit();
    const sponsor = `Evil "Corp" & <Sons>`;
    const { html } = renderUnit(unit, "acme", sponsor, URLS);
    const image = unit.image as NonNullable<Unit["image"]>;
    for (const s of [unit.headline, unit.body, unit.cta.text, image.alt, image.url, unit.disclosureLabel, sponsor]) {
      expect(html).toContain(escapeHtml(s));
      expect(html).not.toContain(s);
    }
    expect(html).not.toMatch(/<script|<img src=x/i);
  });

  it("keeps the markup of the card the same whatever the advertiser strings hold", () => {
    const text = fc.string({ unit: "binary", maxLength: 60 });
    fc.assert(
      fc.property(text, text, text, text, text, text, fc.boolean(), (headline, body, cta, alt, label, sponsor, withImage) => {
        const make = (h: string, b: string, c: string, a: string, l: string): Unit =>
          aUnit({
            headline: h,
            body: b,
            cta: { text: c, url: "https://acme.example/landing" },
            disclosureLabel: l,
            ...(withImage ? { image: { url: "https://cdn.example/i.jpg", width: 10, height: 10, alt: a } } : {}),
          });
        const html = renderUnit(make(headline, body, cta, alt, label), "acme", sponsor, URLS).html;
        const plain = renderUnit(make("h", "b", "c", "a", "l"), "acme", "s", URLS).html;
        for (const ch of ["<", ">", '"', "'"]) expect(count(html, ch)).toBe(count(plain, ch));
        expect(hrefs(html)).toEqual(hrefs(plain));
      }),
      { seed: 1234, numRuns: 300 },
    );
  });

  it("points every link of the html at the click URL", () => {
    const withImage = renderUnit(hostileUnit(), "acme", "Acme", URLS).html;
    expect(hrefs(withImage)).toEqual([URLS.click, URLS.click, URLS.click]);
    const withoutImage = renderUnit(aUnit(), "acme", "Acme", URLS).html;
    expect(hrefs(withoutImage)).toEqual([URLS.click, URLS.click]);
  });

  it("renders the same unit again with only the new decision's click URL, and follows a sponsor change", () => {
    // The headline holds the text the renderer uses internally to mark the click URL's place.
    const unit = aUnit({ headline: 'Trick \u0000"click"\u0000 here', image: { url: "https://cdn.example/i.jpg", width: 1, height: 1, alt: "a" } });
    const first = renderUnit(unit, "acme", "Acme", URLS);
    const other = { ...URLS, click: "https://ads.test/v1/events/click?t=second" };
    const second = renderUnit(unit, "acme", "Acme", other);
    expect(hrefs(first.html)).toEqual([URLS.click, URLS.click, URLS.click]);
    expect(hrefs(second.html)).toEqual([other.click, other.click, other.click]);
    expect(second.html).toBe(first.html.split(escapeHtml(URLS.click)).join(escapeHtml(other.click)));
    expect(second.html).toContain("Trick \u0000&quot;click&quot;\u0000 here");
    const renamed = renderUnit(unit, "acme", "Acme Corp", URLS);
    expect(renamed.html).toContain('<span class="sponsored-unit__sponsor">Acme Corp</span>');
  });

  it("keeps at most its bound of unit templates, and renders a unit whose template was dropped exactly as before", () => {
    const first = aUnit({ id: "u-first", headline: "The first unit" });
    renderUnit(first, "acme", "Acme", URLS);
    const before = renderUnit(first, "acme", "Acme", URLS);
    for (let i = 0; i < TEMPLATE_CACHE_UNITS + 10; i++) {
      // A template is kept from a unit's second render.
      const unit = aUnit({ id: `u-${i}` });
      renderUnit(unit, "acme", "Acme", URLS);
      renderUnit(unit, "acme", "Acme", URLS);
    }
    expect(cachedTemplateCount()).toBe(TEMPLATE_CACHE_UNITS);
    const again = renderUnitWithJson(first, "acme", "Acme", URLS);
    // Rebuilt (a template's static parts are shared by its renders), and the same.
    expect(again.payload.disclosure).not.toBe(before.disclosure);
    expect(again.payload).toEqual(before);
    expect(again.json).toBe(JSON.stringify(before));
  });

  it("keeps the templates of units served recently when it drops old ones", () => {
    const hot = aUnit({ id: "u-hot" });
    renderUnit(hot, "acme", "Acme", URLS);
    const first = renderUnit(hot, "acme", "Acme", URLS);
    for (let i = 0; i < TEMPLATE_CACHE_UNITS * 2; i++) {
      const cold = aUnit({ id: `u-cold-${i}` });
      renderUnit(cold, "acme", "Acme", URLS);
      renderUnit(cold, "acme", "Acme", URLS);
      // Served again every few decisions: never the least recently used.
      if (i % 100 === 0) expect(renderUnit(hot, "acme", "Acme", URLS).disclosure).toBe(first.disclosure);
    }
    expect(cachedTemplateCount()).toBe(TEMPLATE_CACHE_UNITS);
  });

  it("keeps a unit's template from its second render, so units rendered once each evict nothing", () => {
    const hot = Array.from({ length: 10 }, (_, i) => aUnit({ id: `u-kept-${i}` }));
    const kept = hot.map((u) => (renderUnit(u, "acme", "Acme", URLS), renderUnit(u, "acme", "Acme", URLS)));
    const unit = aUnit({ id: "u-twice" });
    const [a, b, c] = [1, 2, 3].map(() => renderUnit(unit, "acme", "Acme", URLS));
    // The first render's template is not kept (the second builds its own), the second's is.
    expect(b?.disclosure).not.toBe(a?.disclosure);
    expect(c?.disclosure).toBe(b?.disclosure);
    expect(b).toEqual(a);
    // A scan of three cache-fulls of units, each rendered once, leaves the kept templates in place.
    for (let i = 0; i < TEMPLATE_CACHE_UNITS * 3; i++) renderUnit(aUnit({ id: `u-scan-${i}` }), "acme", "Acme", URLS);
    hot.forEach((u, i) => expect(renderUnit(u, "acme", "Acme", URLS).disclosure).toBe(kept[i]?.disclosure));
  });

  it("never puts the landing URL into the html or the payload", () => {
    const unit = hostileUnit();
    const payload = renderUnit(unit, "acme", "Acme", URLS);
    expect(payload.html).not.toContain("acme.example/landing");
    expect(JSON.stringify(payload)).not.toContain("acme.example/landing");
    expect(payload.cta).toEqual({ text: unit.cta.text, url: URLS.click });
  });

  it("carries the tracking URLs, ids and format", () => {
    const payload = renderUnit(aUnit({ id: "u1", campaignId: "c1", format: "native-inline" }), "adv", "Adv", URLS);
    expect(payload).toMatchObject({
      unitId: "u1",
      campaignId: "c1",
      advertiserId: "adv",
      format: "native-inline",
      tracking: { impression: URLS.impression, viewable: URLS.viewable },
    });
  });

  it("carries the image when the unit has one and omits it otherwise", () => {
    const image = { url: "https://cdn.example/i.jpg", width: 1200, height: 628, alt: "Alt" };
    expect(renderUnit(aUnit({ image }), "acme", "Acme", URLS).image).toEqual(image);
    expect(renderUnit(aUnit(), "acme", "Acme", URLS)).not.toHaveProperty("image");
  });

  it("discloses the label and the sponsor", () => {
    const payload = renderUnit(aUnit({ disclosureLabel: "Paid post" }), "acme", "Acme Inc.", URLS);
    expect(payload.disclosure).toEqual({ label: "Paid post", sponsor: "Acme Inc." });
    expect(payload.html).toContain('<span class="sponsored-unit__label">Paid post</span>');
    expect(payload.html).toContain('<span class="sponsored-unit__sponsor">Acme Inc.</span>');
  });

  it("discloses Sponsored when the unit's label is blank", () => {
    const payload = renderUnit(aUnit({ disclosureLabel: "  " }), "acme", "Acme", URLS);
    expect(payload.disclosure.label).toBe("Sponsored");
    expect(payload.html).toContain(">Sponsored</span>");
  });

  it("names the advertiser id as sponsor when the sponsor name is blank", () => {
    expect(renderUnit(aUnit(), "acme", "  ", URLS).disclosure.sponsor).toBe("acme");
  });

  it("never discloses an empty label or sponsor", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (label, sponsor) => {
        const { disclosure } = renderUnit(aUnit({ disclosureLabel: label }), "acme", sponsor, URLS);
        expect(disclosure.label.trim()).not.toBe("");
        expect(disclosure.sponsor.trim()).not.toBe("");
      }),
      { seed: 1234, numRuns: 300 },
    );
  });
});

describe("decision JSON", () => {
  // Any Unicode, lone surrogates included (JSON.stringify escapes them), plus the characters that
  // HTML and JSON escape.
  const text = fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom(HOSTILE, "\\ \" \n \u2028 \ud800 😀 </script>", ""));

  it("gives each rendered unit the exact text JSON.stringify gives its payload", () => {
    fc.assert(
      fc.property(text, text, text, text, text, text, fc.boolean(), (headline, body, cta, label, sponsor, click, withImage) => {
        const unit = aUnit({
          headline,
          body,
          cta: { text: cta, url: "https://acme.example/landing" },
          disclosureLabel: label,
          image: withImage ? { url: `https://cdn.example/${body}.jpg`, width: 600, height: 314, alt: headline } : undefined,
        });
        const urls = { ...URLS, click: `${URLS.click}&x=${click}` };
        const rendered = renderUnitWithJson(unit, "acme", sponsor, urls);
        expect(rendered.json).toBe(JSON.stringify(rendered.payload));
        // A second render of the same unit (its cached template) with another decision's URLs.
        const again = renderUnitWithJson(unit, "acme", sponsor, { ...URLS, impression: `${URLS.impression}2` });
        expect(again.json).toBe(JSON.stringify(again.payload));
      }),
      { seed: 4321, numRuns: 300 },
    );
  });

  it("serialises a whole response, no-fill slots included, exactly as JSON.stringify does", () => {
    const rendered = [renderUnitWithJson(hostileUnit(), "acme", "Acme \"Corp\"", URLS), renderUnitWithJson(aUnit({ image: undefined }), "acme", "Acme", URLS)];
    const units = rendered.map((r) => r.payload);
    const response = {
      decisionId: "d_1",
      slots: [
        { id: "mid-1", placement: "article-mid", units },
        { id: "end-\"1", placement: "article-end", units: [] as UnitPayload[], noFillReason: "NO_ELIGIBLE_UNITS" },
      ],
    };
    // With each unit's JSON taken from its render, and with every unit serialised afresh.
    expect(decisionJson(response, [rendered.map((r) => r.json), []])).toBe(JSON.stringify(response));
    expect(decisionJson(response)).toBe(JSON.stringify(response));
  });
});
