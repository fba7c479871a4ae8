import { describe, expect, it } from "vitest";
import { buildPageContext, deviceTypeFromUserAgent, normalizeWord } from "../../src/domain/context.js";
import { NOW_MS } from "../helpers/builders.js";

const UA = {
  iPhone:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  iPad: "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  windows:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
  mac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  linux: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  androidPhone:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
  androidTablet: "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  firefoxAndroidTablet: "Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
  kindle: "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36",
  curl: "curl/8.5.0",
};

describe("buildPageContext", () => {
  it("lower-cases and trims the url, section and device type", () => {
    const ctx = buildPageContext(
      { url: " https://News.Example/World/A ", section: "  Economy ", deviceType: " Mobile" },
      NOW_MS,
    );
    expect(ctx.url).toBe("https://news.example/world/a");
    expect(ctx.section).toBe("economy");
    expect(ctx.deviceType).toBe("mobile");
  });

  it("normalises topics and keywords, dropping blanks and duplicates in first-seen order", () => {
    const ctx = buildPageContext(
      { url: "https://a.example", topics: ["Trade", " trade ", "", "  ", "India"], keywords: ["North Korea", "north korea", "Ukraine"] },
      NOW_MS,
    );
    expect(ctx.topics).toEqual(["trade", "india"]);
    expect(ctx.keywords).toEqual(["north korea", "ukraine"]);
  });

  it("gives empty lists for missing topics and keywords", () => {
    const ctx = buildPageContext({ url: "https://a.example" }, NOW_MS);
    expect(ctx.topics).toEqual([]);
    expect(ctx.keywords).toEqual([]);
  });

  it("keeps the full language tag lower-cased and its primary subtag", () => {
    const ctx = buildPageContext({ url: "https://a.example", language: " EN-GB " }, NOW_MS);
    expect(ctx.language).toBe("en-gb");
    expect(ctx.languagePrimary).toBe("en");
  });

  it("splits the primary subtag on an underscore too", () => {
    const ctx = buildPageContext({ url: "https://a.example", language: "pt_BR" }, NOW_MS);
    expect(ctx.languagePrimary).toBe("pt");
  });

  it("uses the bare tag as its own primary subtag", () => {
    const ctx = buildPageContext({ url: "https://a.example", language: "fr" }, NOW_MS);
    expect(ctx.language).toBe("fr");
    expect(ctx.languagePrimary).toBe("fr");
  });

  it("upper-cases and trims the country", () => {
    expect(buildPageContext({ url: "https://a.example", country: " gb " }, NOW_MS).country).toBe("GB");
  });

  it("treats blank section, language, country and device type as missing", () => {
    const ctx = buildPageContext({ url: "https://a.example", section: " ", language: "", country: "  ", deviceType: " " }, NOW_MS);
    expect(ctx.section).toBeUndefined();
    expect(ctx.language).toBeUndefined();
    expect(ctx.languagePrimary).toBeUndefined();
    expect(ctx.country).toBeUndefined();
    expect(ctx.deviceType).toBeUndefined();
  });

  it("takes the hour from the clock in UTC", () => {
    expect(buildPageContext({ url: "https://a.example" }, Date.parse("2026-11-27T23:59:59Z")).hourUtc).toBe(23);
    expect(buildPageContext({ url: "https://a.example" }, Date.parse("2026-11-27T00:00:00Z")).hourUtc).toBe(0);
    expect(buildPageContext({ url: "https://a.example" }, Date.parse("2026-11-27T08:30:00+09:00")).hourUtc).toBe(23);
  });
});

describe("normalizeWord", () => {
  it("trims and lower-cases", () => {
    expect(normalizeWord("  North KOREA ")).toBe("north korea");
  });
});

describe("deviceTypeFromUserAgent", () => {
  it("classifies an iPhone as mobile", () => {
    expect(deviceTypeFromUserAgent(UA.iPhone)).toBe("mobile");
  });

  it("classifies an iPad as tablet even though its User-Agent says Mobile", () => {
    expect(deviceTypeFromUserAgent(UA.iPad)).toBe("tablet");
  });

  it("classifies Windows, macOS and Linux browsers as desktop", () => {
    expect(deviceTypeFromUserAgent(UA.windows)).toBe("desktop");
    expect(deviceTypeFromUserAgent(UA.mac)).toBe("desktop");
    expect(deviceTypeFromUserAgent(UA.linux)).toBe("desktop");
  });

  it("classifies an Android phone as mobile", () => {
    expect(deviceTypeFromUserAgent(UA.androidPhone)).toBe("mobile");
  });

  it("classifies Android without Mobile, an Android Firefox tablet and a Kindle as tablet", () => {
    expect(deviceTypeFromUserAgent(UA.androidTablet)).toBe("tablet");
    expect(deviceTypeFromUserAgent(UA.firefoxAndroidTablet)).toBe("tablet");
    expect(deviceTypeFromUserAgent(UA.kindle)).toBe("tablet");
  });

  it("classifies an unknown client as other", () => {
    expect(deviceTypeFromUserAgent(UA.curl)).toBe("other");
  });

  it("returns undefined without a User-Agent", () => {
    expect(deviceTypeFromUserAgent(undefined)).toBeUndefined();
    expect(deviceTypeFromUserAgent("")).toBeUndefined();
  });
});
