import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TARGETING_OPS, type TargetingField, type TargetingNode, type TargetingOp } from "../../src/domain/catalog-schema.js";
import type { PageContextInput } from "../../src/domain/context.js";
import { compileTargeting, findFailingNode, matchesTargeting, pageIndexKeys, requiredIndexKeys } from "../../src/domain/targeting.js";
import { leaf, pageContext } from "../helpers/builders.js";
import { mostlyKeyedLeafArb, pageInputArb, referenceMatches, treeArb } from "./arbitraries.js";

const matches = (tree: TargetingNode | undefined, input: Partial<PageContextInput>, nowMs?: number): boolean =>
  matchesTargeting(compileTargeting(tree), pageContext(input, nowMs));

interface LeafCase {
  readonly name: string;
  readonly field: TargetingField;
  readonly op: TargetingOp;
  readonly values: (string | number)[];
  readonly page: Partial<PageContextInput>;
  readonly at?: string;
  readonly expected: boolean;
}

const ECONOMY = { section: " Economy " };
const TOPICS = { topics: ["Trade", "Manufacturing"] };
const KEYWORDS = { keywords: ["North Korea", "ukraine"] };
const URL_PAGE = { url: "https://News.Example/World/Ukraine-Urges-Allies" };
const EN_GB = { language: "en-GB" };
const US = { country: "us" };
const MOBILE = { deviceType: "Mobile" };
const SEVEN_AM = "2026-11-27T07:30:00Z";

const leafCases: LeafCase[] = [
  // section
  { name: "matches a section `in` rule case-insensitively", field: "section", op: "in", values: ["ECONOMY"], page: ECONOMY, expected: true },
  { name: "does not match a section `in` rule naming another section", field: "section", op: "in", values: ["politics"], page: ECONOMY, expected: false },
  { name: "matches a section `notIn` rule that does not name the section", field: "section", op: "notIn", values: ["politics"], page: ECONOMY, expected: true },
  { name: "does not match a section `notIn` rule naming the section in another case", field: "section", op: "notIn", values: ["economy"], page: ECONOMY, expected: false },
  { name: "matches a section `contains` rule on a substring in another case", field: "section", op: "contains", values: ["CONOM"], page: ECONOMY, expected: true },
  { name: "does not match a section `contains` rule on text the section lacks", field: "section", op: "contains", values: ["sport"], page: ECONOMY, expected: false },
  { name: "matches a section `prefix` rule on the start of the section", field: "section", op: "prefix", values: ["Eco"], page: ECONOMY, expected: true },
  { name: "does not match a section `prefix` rule on the end of the section", field: "section", op: "prefix", values: ["nomy"], page: ECONOMY, expected: false },
  // topics
  { name: "matches a topics `in` rule case-insensitively when any topic is listed", field: "topics", op: "in", values: ["MANUFACTURING", "sport"], page: TOPICS, expected: true },
  { name: "does not match a topics `in` rule listing none of the topics", field: "topics", op: "in", values: ["sport"], page: TOPICS, expected: false },
  { name: "matches a topics `notIn` rule listing none of the topics", field: "topics", op: "notIn", values: ["sport", "war"], page: TOPICS, expected: true },
  { name: "does not match a topics `notIn` rule listing one of the topics", field: "topics", op: "notIn", values: ["trade"], page: TOPICS, expected: false },
  { name: "matches a topics `contains` rule on a substring of one topic", field: "topics", op: "contains", values: ["UFACT"], page: TOPICS, expected: true },
  { name: "does not match a topics `contains` rule on text no topic has", field: "topics", op: "contains", values: ["zz"], page: TOPICS, expected: false },
  { name: "matches a topics `prefix` rule on the start of one topic", field: "topics", op: "prefix", values: ["manu"], page: TOPICS, expected: true },
  { name: "does not match a topics `prefix` rule on the end of a topic", field: "topics", op: "prefix", values: ["facturing"], page: TOPICS, expected: false },
  // keywords
  { name: "matches a keywords `in` rule on a multi-word keyword case-insensitively", field: "keywords", op: "in", values: ["north korea"], page: KEYWORDS, expected: true },
  { name: "does not match a keywords `in` rule listing none of the keywords", field: "keywords", op: "in", values: ["korea"], page: KEYWORDS, expected: false },
  { name: "matches a keywords `notIn` rule listing none of the keywords", field: "keywords", op: "notIn", values: ["russia"], page: KEYWORDS, expected: true },
  { name: "does not match a keywords `notIn` rule listing one keyword in another case", field: "keywords", op: "notIn", values: ["Ukraine"], page: KEYWORDS, expected: false },
  { name: "matches a keywords `contains` rule on a substring of one keyword", field: "keywords", op: "contains", values: ["KOREA"], page: KEYWORDS, expected: true },
  { name: "does not match a keywords `contains` rule on text no keyword has", field: "keywords", op: "contains", values: ["japan"], page: KEYWORDS, expected: false },
  { name: "matches a keywords `prefix` rule on the start of one keyword", field: "keywords", op: "prefix", values: ["north"], page: KEYWORDS, expected: true },
  { name: "does not match a keywords `prefix` rule on the middle of a keyword", field: "keywords", op: "prefix", values: ["korea"], page: KEYWORDS, expected: false },
  // url
  { name: "matches a url `in` rule on the whole URL case-insensitively", field: "url", op: "in", values: ["https://news.example/world/ukraine-urges-allies"], page: URL_PAGE, expected: true },
  { name: "does not match a url `in` rule on a part of the URL", field: "url", op: "in", values: ["https://news.example/world"], page: URL_PAGE, expected: false },
  { name: "matches a url `notIn` rule naming another URL", field: "url", op: "notIn", values: ["https://news.example/sport"], page: URL_PAGE, expected: true },
  { name: "does not match a url `notIn` rule naming the URL", field: "url", op: "notIn", values: ["HTTPS://NEWS.EXAMPLE/WORLD/UKRAINE-URGES-ALLIES"], page: URL_PAGE, expected: false },
  { name: "matches a url `contains` rule on a path segment", field: "url", op: "contains", values: ["/world/"], page: URL_PAGE, expected: true },
  { name: "does not match a url `contains` rule on a path the URL lacks", field: "url", op: "contains", values: ["/sport/"], page: URL_PAGE, expected: false },
  { name: "matches a url `prefix` rule on the origin and first path segment", field: "url", op: "prefix", values: ["https://news.example/World"], page: URL_PAGE, expected: true },
  { name: "does not match a url `prefix` rule on another section of the site", field: "url", op: "prefix", values: ["https://news.example/sport"], page: URL_PAGE, expected: false },
  // language
  { name: "matches a language `in` rule on the primary subtag (`en` matches `en-GB`)", field: "language", op: "in", values: ["en"], page: EN_GB, expected: true },
  { name: "matches a language `in` rule on the full tag case-insensitively", field: "language", op: "in", values: ["EN-gb"], page: EN_GB, expected: true },
  { name: "does not match a language `in` rule on another language", field: "language", op: "in", values: ["fr"], page: EN_GB, expected: false },
  { name: "does not match a language `in` rule on another region of the language", field: "language", op: "in", values: ["en-us"], page: EN_GB, expected: false },
  { name: "does not match a region-specific language rule on a page in the bare language", field: "language", op: "in", values: ["en-gb"], page: { language: "en" }, expected: false },
  { name: "matches a language `in` rule on the primary subtag of an underscore tag", field: "language", op: "in", values: ["pt"], page: { language: "pt_BR" }, expected: true },
  { name: "matches a language `notIn` rule naming another language", field: "language", op: "notIn", values: ["fr", "de"], page: EN_GB, expected: true },
  { name: "does not match a language `notIn` rule naming the primary subtag", field: "language", op: "notIn", values: ["EN"], page: EN_GB, expected: false },
  { name: "matches a language `contains` rule on the region subtag", field: "language", op: "contains", values: ["GB"], page: EN_GB, expected: true },
  { name: "does not match a language `contains` rule on text the tag lacks", field: "language", op: "contains", values: ["us"], page: EN_GB, expected: false },
  { name: "matches a language `prefix` rule on the primary subtag and separator", field: "language", op: "prefix", values: ["en-"], page: EN_GB, expected: true },
  { name: "does not match a language `prefix` rule on another language", field: "language", op: "prefix", values: ["fr"], page: EN_GB, expected: false },
  // geo.country
  { name: "matches a geo.country `in` rule whatever the case of page and rule", field: "geo.country", op: "in", values: ["Us"], page: US, expected: true },
  { name: "does not match a geo.country `in` rule naming another country", field: "geo.country", op: "in", values: ["GB"], page: US, expected: false },
  { name: "matches a geo.country `notIn` rule naming another country", field: "geo.country", op: "notIn", values: ["RU"], page: US, expected: true },
  { name: "does not match a geo.country `notIn` rule naming the country in lower case", field: "geo.country", op: "notIn", values: ["us"], page: US, expected: false },
  { name: "matches a geo.country `contains` rule on one letter of the code", field: "geo.country", op: "contains", values: ["s"], page: US, expected: true },
  { name: "does not match a geo.country `contains` rule on a letter the code lacks", field: "geo.country", op: "contains", values: ["x"], page: US, expected: false },
  { name: "matches a geo.country `prefix` rule on the first letter of the code", field: "geo.country", op: "prefix", values: ["u"], page: US, expected: true },
  { name: "does not match a geo.country `prefix` rule on the last letter of the code", field: "geo.country", op: "prefix", values: ["S"], page: US, expected: false },
  // device.type
  { name: "matches a device.type `in` rule case-insensitively", field: "device.type", op: "in", values: ["mobile"], page: MOBILE, expected: true },
  { name: "does not match a device.type `in` rule naming another device", field: "device.type", op: "in", values: ["desktop", "tablet"], page: MOBILE, expected: false },
  { name: "matches a device.type `notIn` rule naming another device", field: "device.type", op: "notIn", values: ["desktop"], page: MOBILE, expected: true },
  { name: "does not match a device.type `notIn` rule naming the device", field: "device.type", op: "notIn", values: ["MOBILE"], page: MOBILE, expected: false },
  { name: "matches a device.type `contains` rule on a substring", field: "device.type", op: "contains", values: ["OBIL"], page: MOBILE, expected: true },
  { name: "does not match a device.type `contains` rule on text the device lacks", field: "device.type", op: "contains", values: ["desk"], page: MOBILE, expected: false },
  { name: "matches a device.type `prefix` rule on the start of the device", field: "device.type", op: "prefix", values: ["mob"], page: MOBILE, expected: true },
  { name: "does not match a device.type `prefix` rule on the end of the device", field: "device.type", op: "prefix", values: ["bile"], page: MOBILE, expected: false },
  // daypart
  { name: "matches a daypart `in` rule on the current UTC hour given as a number", field: "daypart", op: "in", values: [7], page: {}, at: SEVEN_AM, expected: true },
  { name: "matches a daypart `in` rule on the current UTC hour given as a string", field: "daypart", op: "in", values: ["7"], page: {}, at: SEVEN_AM, expected: true },
  { name: "matches a daypart `in` rule on a zero-padded hour string", field: "daypart", op: "in", values: ["07"], page: {}, at: SEVEN_AM, expected: true },
  { name: "does not match a daypart `in` rule on other hours", field: "daypart", op: "in", values: [6, 8, 19], page: {}, at: SEVEN_AM, expected: false },
  { name: "matches a daypart `notIn` rule on other hours", field: "daypart", op: "notIn", values: [0, 23], page: {}, at: SEVEN_AM, expected: true },
  { name: "does not match a daypart `notIn` rule on the current UTC hour", field: "daypart", op: "notIn", values: [7], page: {}, at: SEVEN_AM, expected: false },
  { name: "reads daypart as the UTC hour, not the hour of the clock's offset", field: "daypart", op: "in", values: [4], page: {}, at: "2026-11-26T23:30:00-05:00", expected: true },
  { name: "does not read daypart as the local hour of an offset timestamp", field: "daypart", op: "in", values: [23], page: {}, at: "2026-11-26T23:30:00-05:00", expected: false },
];

describe("compileTargeting leaves", () => {
  it.each(leafCases)("$name", ({ field, op, values, page, at, expected }) => {
    const nowMs = at === undefined ? undefined : Date.parse(at);
    expect(matches(leaf(field, op, values), page, nowMs)).toBe(expected);
  });

  it("covers every field with every operator it supports", () => {
    const seen = new Set(leafCases.map((c) => `${c.field} ${c.op}`));
    const fields: TargetingField[] = ["section", "topics", "keywords", "url", "language", "geo.country", "device.type"];
    for (const field of fields) for (const op of TARGETING_OPS) expect(seen).toContain(`${field} ${op}`);
    expect(seen).toContain("daypart in");
    expect(seen).toContain("daypart notIn");
  });

  it("matches when any rule value matches any page value", () => {
    expect(matches(leaf("topics", "in", ["sport", "war", "trade"]), { topics: ["elections", "trade"] })).toBe(true);
  });

  it("matches every page when the targeting is omitted", () => {
    const compiled = compileTargeting(undefined);
    expect(matchesTargeting(compiled, pageContext({}))).toBe(true);
    expect(matchesTargeting(compiled, pageContext({ section: "sport", topics: ["war"], country: "RU" }))).toBe(true);
  });
});

describe("compileTargeting on fields the page does not send", () => {
  const missing: { field: TargetingField; values: string[] }[] = [
    { field: "section", values: ["economy"] },
    { field: "topics", values: ["trade"] },
    { field: "keywords", values: ["ukraine"] },
    { field: "language", values: ["en"] },
    { field: "geo.country", values: ["US"] },
    { field: "device.type", values: ["mobile"] },
  ];
  const cases = missing.flatMap(({ field, values }) =>
    TARGETING_OPS.map((op) => ({ field, op, values, expected: op === "notIn" })),
  );

  it.each(cases)("a $field `$op` rule on a page without $field matches: $expected", ({ field, op, values, expected }) => {
    expect(matches(leaf(field, op, values), {})).toBe(expected);
  });

  it.each(cases)("a $field `$op` rule on a page sending a blank or empty $field matches: $expected", ({ field, op, values, expected }) => {
    const blank: Partial<PageContextInput> =
      field === "topics" ? { topics: ["  "] } : field === "keywords" ? { keywords: [] } : field === "geo.country" ? { country: " " } : field === "device.type" ? { deviceType: "" } : field === "language" ? { language: " " } : { section: "   " };
    expect(matches(leaf(field, op, values), blank)).toBe(expected);
  });
});

describe("compileTargeting trees", () => {
  const economy = leaf("section", "in", ["economy"]);
  const trade = leaf("topics", "in", ["trade"]);
  const russia = leaf("geo.country", "in", ["RU"]);
  const page = { section: "Economy", topics: ["trade"], country: "US" };

  it("matches an `all` node when every child matches", () => {
    expect(matches({ all: [economy, trade] }, page)).toBe(true);
  });

  it("does not match an `all` node when one child fails", () => {
    expect(matches({ all: [economy, trade, russia] }, page)).toBe(false);
  });

  it("matches an `any` node when one child matches", () => {
    expect(matches({ any: [russia, trade] }, page)).toBe(true);
  });

  it("does not match an `any` node when no child matches", () => {
    expect(matches({ any: [russia, leaf("section", "in", ["sport"])] }, page)).toBe(false);
  });

  it("inverts its child with a `not` node", () => {
    expect(matches({ not: russia }, page)).toBe(true);
    expect(matches({ not: economy }, page)).toBe(false);
  });

  it("evaluates deep nesting of all, any and not", () => {
    const tree: TargetingNode = {
      all: [{ any: [russia, { not: { all: [economy, { not: trade }] } }] }, { not: { not: economy } }],
    };
    expect(matches(tree, page)).toBe(true);
    expect(matches(tree, { ...page, topics: ["war"] })).toBe(false);
  });

  it("agrees with the documented semantics on random trees and pages", () => {
    fc.assert(
      fc.property(treeArb(3), pageInputArb, fc.integer({ min: 0, max: 23 }), (tree, input, hour) => {
        const nowMs = Date.UTC(2026, 10, 27, hour, 15);
        expect(matchesTargeting(compileTargeting(tree), pageContext(input, nowMs))).toBe(referenceMatches(tree, input, nowMs));
      }),
      { seed: 1234, numRuns: 500 },
    );
  });
});

describe("findFailingNode", () => {
  const economy = leaf("section", "in", ["economy"]);
  const trade = leaf("topics", "in", ["trade"]);
  const russia = leaf("geo.country", "in", ["RU"]);
  const sport = leaf("section", "in", ["sport"]);
  const ctx = pageContext({ section: "economy", topics: ["trade"], country: "US" });

  it("returns undefined for omitted targeting", () => {
    expect(findFailingNode(undefined, ctx)).toBeUndefined();
  });

  it("returns undefined when the tree matches", () => {
    expect(findFailingNode({ all: [economy, { any: [russia, trade] }] }, ctx)).toBeUndefined();
  });

  it("returns a failing leaf itself", () => {
    expect(findFailingNode(russia, ctx)).toBe(russia);
  });

  it("returns the first failing leaf under an `all` node", () => {
    expect(findFailingNode({ all: [economy, russia, sport] }, ctx)).toBe(russia);
  });

  it("returns the `any` node itself when none of its children match", () => {
    const any: TargetingNode = { any: [russia, sport] };
    expect(findFailingNode({ all: [economy, any] }, ctx)).toBe(any);
  });

  it("returns the `not` node when its child matches", () => {
    const not: TargetingNode = { not: economy };
    expect(findFailingNode({ all: [trade, not] }, ctx)).toBe(not);
  });

  it("returns a node exactly when the compiled tree does not match", () => {
    fc.assert(
      fc.property(treeArb(3), pageInputArb, (tree, input) => {
        const pctx = pageContext(input);
        expect(findFailingNode(tree, pctx) === undefined).toBe(matchesTargeting(compileTargeting(tree), pctx));
      }),
      { seed: 1234, numRuns: 500 },
    );
  });
});

describe("requiredIndexKeys", () => {
  it("needs no key for omitted targeting", () => {
    expect(requiredIndexKeys(undefined)).toBeUndefined();
  });

  it("requires the section keys of a section `in` leaf, normalised and de-duplicated", () => {
    expect(requiredIndexKeys(leaf("section", "in", ["Economy", " economy ", "politics"]))).toEqual(["s:economy", "s:politics"]);
  });

  it("requires the topic keys of a topics `in` leaf", () => {
    expect(requiredIndexKeys(leaf("topics", "in", ["Trade"]))).toEqual(["t:trade"]);
  });

  it("requires the keyword keys of a keywords `in` leaf", () => {
    expect(requiredIndexKeys(leaf("keywords", "in", ["North Korea"]))).toEqual(["k:north korea"]);
  });

  it.each(["notIn", "contains", "prefix"] as const)("needs no key for a section `%s` leaf", (op) => {
    expect(requiredIndexKeys(leaf("section", op, ["economy"]))).toBeUndefined();
  });

  it.each(["url", "language", "geo.country", "device.type", "daypart"] as const)("needs no key for a %s `in` leaf", (field) => {
    expect(requiredIndexKeys(leaf(field, "in", field === "daypart" ? [7] : ["x"]))).toBeUndefined();
  });

  it("picks the smallest key set among the children of an `all` node", () => {
    const tree: TargetingNode = { all: [leaf("section", "in", ["a", "b", "c"]), leaf("topics", "in", ["trade"]), leaf("url", "prefix", ["https://"])] };
    expect(requiredIndexKeys(tree)).toEqual(["t:trade"]);
  });

  it("needs no key for an `all` node without a keyed child", () => {
    expect(requiredIndexKeys({ all: [leaf("url", "prefix", ["https://"]), leaf("daypart", "in", [7])] })).toBeUndefined();
  });

  it("requires the union of its children's keys for an `any` node", () => {
    const tree: TargetingNode = { any: [leaf("section", "in", ["economy"]), leaf("topics", "in", ["trade", "Economy"])] };
    expect(requiredIndexKeys(tree)?.sort()).toEqual(["s:economy", "t:economy", "t:trade"]);
  });

  it("needs no key for an `any` node with one unkeyed child", () => {
    expect(requiredIndexKeys({ any: [leaf("section", "in", ["economy"]), leaf("geo.country", "in", ["US"])] })).toBeUndefined();
  });

  it("needs no key for a `not` node, even over a keyed leaf", () => {
    expect(requiredIndexKeys({ not: leaf("section", "in", ["economy"]) })).toBeUndefined();
  });

  it("is sound: a page matching a tree carries one of the tree's required keys", () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.oneof(treeArb(3), treeArb(3, mostlyKeyedLeafArb)), pageInputArb, fc.integer({ min: 0, max: 23 }), (tree, input, hour) => {
        const keys = requiredIndexKeys(tree);
        const ctx = pageContext(input, Date.UTC(2026, 10, 27, hour));
        if (keys === undefined || !matchesTargeting(compileTargeting(tree), ctx)) return;
        checked++;
        const carried = pageIndexKeys(ctx);
        expect(carried.some((k) => keys.includes(k))).toBe(true);
      }),
      { seed: 1234, numRuns: 3000 },
    );
    // The generator must actually exercise the interesting case (keyed trees that match).
    expect(checked).toBeGreaterThan(200);
  });
});

describe("pageIndexKeys", () => {
  it("lists the section, topic and keyword keys of a page, normalised", () => {
    const ctx = pageContext({ section: " Economy", topics: ["Trade", "trade", "India"], keywords: ["Tariffs"] });
    expect(pageIndexKeys(ctx)).toEqual(["s:economy", "t:trade", "t:india", "k:tariffs"]);
  });

  it("lists no key for a page without section, topics or keywords", () => {
    expect(pageIndexKeys(pageContext({ language: "en", country: "US" }))).toEqual([]);
  });
});
