/**
 * fast-check arbitraries shared by the property tests, over a small vocabulary so that rules and
 * pages collide often, plus an independent reference evaluator of targeting written from the
 * documented semantics (API.md and src/domain/targeting.ts's header), not from the implementation.
 */
import fc from "fast-check";
import {
  TARGETING_FIELDS,
  TARGETING_OPS,
  type TargetingField,
  type TargetingLeaf,
  type TargetingNode,
  type TargetingOp,
} from "../../src/domain/catalog-schema.js";

export const SECTIONS = ["economy", "politics", "geopolitics", "sport"] as const;
export const TOPICS = ["trade", "war", "tech", "terrorism", "elections"] as const;
export const KEYWORDS = ["ukraine", "north korea", "tariffs", "boko haram"] as const;
export const URLS = [
  "https://news.example/world/ukraine",
  "https://news.example/economy/trade-war",
  "https://News.Example/Sport/final",
] as const;
export const LANGUAGES = ["en", "en-GB", "EN-us", "fr", "pt_BR"] as const;
export const RULE_LANGUAGES = ["en", "en-gb", "EN-US", "fr", "fr-CA", "pt"] as const;
export const COUNTRIES = ["US", "gb", "RU", "de"] as const;
export const DEVICES = ["desktop", "mobile", "Tablet", "other"] as const;

/** A word as a page or a rule might spell it: as is, upper-cased, capitalised or padded. */
export function spelling(word: string): fc.Arbitrary<string> {
  return fc.constantFrom(word, word.toUpperCase(), word.charAt(0).toUpperCase() + word.slice(1), ` ${word} `);
}

function wordOf(words: readonly string[]): fc.Arbitrary<string> {
  return fc.constantFrom(...words).chain(spelling);
}

/** A non-blank piece of one of the words (for `contains` and `prefix` rules). */
function pieceOf(words: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...words), fc.nat(40), fc.nat(40))
    .map(([w, a, b]) => {
      const start = a % w.length;
      const end = start + 1 + (b % (w.length - start));
      return w.slice(start, end);
    })
    .filter((s) => s.trim() !== "");
}

function vocabulary(field: TargetingField): readonly string[] {
  switch (field) {
    case "section":
      return SECTIONS;
    case "topics":
      return TOPICS;
    case "keywords":
      return KEYWORDS;
    case "url":
      return URLS;
    case "language":
      return RULE_LANGUAGES;
    case "geo.country":
      return COUNTRIES;
    case "device.type":
      return DEVICES;
    case "daypart":
      return [];
  }
}

export function ruleValueArb(field: TargetingField, op: TargetingOp): fc.Arbitrary<string | number> {
  if (field === "daypart") return fc.oneof(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 23 }).map(String));
  const words = vocabulary(field);
  return op === "contains" || op === "prefix" ? fc.oneof(wordOf(words), pieceOf(words)) : wordOf(words);
}

/**
 * A schema-valid leaf (daypart only with `in` / `notIn`, hours 0..23). Mostly 1–3 values, some
 * long lists: the compiled form looks long `in` / `notIn` lists up in a set.
 */
export const leafArb: fc.Arbitrary<TargetingLeaf> = fc.constantFrom(...TARGETING_FIELDS).chain((field) =>
  fc
    .constantFrom(...(field === "daypart" ? (["in", "notIn"] as const) : TARGETING_OPS))
    .chain((op) =>
      fc
        .oneof({ weight: 3, arbitrary: fc.array(ruleValueArb(field, op), { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(ruleValueArb(field, op), { minLength: 9, maxLength: 14 }) })
        .map((values) => ({ field, op, values })),
    ),
);

/** An `in` leaf on a field the index keys on (section, topics, keywords). */
export const keyedLeafArb: fc.Arbitrary<TargetingLeaf> = fc.constantFrom("section", "topics", "keywords" as const).chain((field) =>
  fc.array(ruleValueArb(field, "in"), { minLength: 1, maxLength: 3 }).map((values): TargetingLeaf => ({ field, op: "in", values })),
);

/** Leaves of which most are keyed `in` leaves: trees the index buckets. */
export const mostlyKeyedLeafArb: fc.Arbitrary<TargetingLeaf> = fc.oneof({ weight: 3, arbitrary: keyedLeafArb }, { weight: 1, arbitrary: leafArb });

/** A targeting tree at most `depth` levels of `all` / `any` / `not` above its leaves. */
export function treeArb(depth = 3, leaves: fc.Arbitrary<TargetingLeaf> = leafArb): fc.Arbitrary<TargetingNode> {
  if (depth <= 0) return leaves;
  const child = treeArb(depth - 1, leaves);
  return fc.oneof(
    { weight: 3, arbitrary: leaves },
    { weight: 1, arbitrary: fc.array(child, { minLength: 1, maxLength: 3 }).map((all): TargetingNode => ({ all })) },
    { weight: 1, arbitrary: fc.array(child, { minLength: 1, maxLength: 3 }).map((any): TargetingNode => ({ any })) },
    { weight: 1, arbitrary: child.map((not): TargetingNode => ({ not })) },
  );
}

/** What a page sends (the inputs of `buildPageContext`), every field optional but `url`. */
export interface PageInput {
  url: string;
  section?: string;
  topics?: string[];
  keywords?: string[];
  language?: string;
  country?: string;
  deviceType?: string;
}

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 3 });
}

export const pageInputArb: fc.Arbitrary<PageInput> = fc
  .record({
    url: fc.constantFrom(...URLS),
    section: optional(wordOf(SECTIONS)),
    topics: optional(fc.array(wordOf(TOPICS), { maxLength: 4 })),
    keywords: optional(fc.array(wordOf(KEYWORDS), { maxLength: 3 })),
    language: optional(fc.constantFrom(...LANGUAGES)),
    country: optional(wordOf(COUNTRIES)),
    deviceType: optional(wordOf(DEVICES)),
  })
  .map((r) => {
    const page: PageInput = { url: r.url };
    if (r.section !== undefined) page.section = r.section;
    if (r.topics !== undefined) page.topics = r.topics;
    if (r.keywords !== undefined) page.keywords = r.keywords;
    if (r.language !== undefined) page.language = r.language;
    if (r.country !== undefined) page.country = r.country;
    if (r.deviceType !== undefined) page.deviceType = r.deviceType;
    return page;
  });

// ---------------------------------------------------------------------------------------------
// Reference semantics (the oracle)
// ---------------------------------------------------------------------------------------------

const norm = (s: string): string => s.trim().toLowerCase();

/** The page values a rule on `field` compares with, per the documented semantics. */
export function referencePageValues(field: TargetingField, page: PageInput, nowMs: number): string[] {
  const word = (s: string | undefined): string[] => (s === undefined || norm(s) === "" ? [] : [norm(s)]);
  switch (field) {
    case "section":
      return word(page.section);
    case "topics":
      return (page.topics ?? []).map(norm).filter((s) => s !== "");
    case "keywords":
      return (page.keywords ?? []).map(norm).filter((s) => s !== "");
    case "url":
      return [norm(page.url)];
    case "language": {
      const tag = word(page.language)[0];
      if (tag === undefined) return [];
      const primary = tag.split(/[-_]/)[0] ?? tag;
      return primary === tag ? [tag] : [tag, primary];
    }
    case "geo.country":
      return page.country === undefined || page.country.trim() === "" ? [] : [page.country.trim().toUpperCase()];
    case "device.type":
      return word(page.deviceType);
    case "daypart":
      return [String(new Date(nowMs).getUTCHours())];
  }
}

function referenceRuleValue(field: TargetingField, v: string | number): string {
  if (field === "daypart") return String(Number(v));
  if (field === "geo.country") return String(v).trim().toUpperCase();
  return norm(String(v));
}

export function referenceLeafMatches(leaf: TargetingLeaf, page: PageInput, nowMs: number): boolean {
  const have = referencePageValues(leaf.field, page, nowMs);
  const want = leaf.values.map((v) => referenceRuleValue(leaf.field, v));
  switch (leaf.op) {
    case "in":
      return have.some((h) => want.includes(h));
    case "notIn":
      return !have.some((h) => want.includes(h));
    case "contains":
      return have.some((h) => want.some((w) => h.includes(w)));
    case "prefix":
      return have.some((h) => want.some((w) => h.startsWith(w)));
  }
}

export function referenceMatches(tree: TargetingNode | undefined, page: PageInput, nowMs: number): boolean {
  if (tree === undefined) return true;
  if ("field" in tree) return referenceLeafMatches(tree, page, nowMs);
  if ("all" in tree) return tree.all.every((c) => referenceMatches(c, page, nowMs));
  if ("any" in tree) return tree.any.some((c) => referenceMatches(c, page, nowMs));
  return !referenceMatches(tree.not, page, nowMs);
}

/** True when none of the page's topics / keywords is excluded (case-insensitively). */
export function referenceNotExcluded(
  exclusions: { topics?: string[] | undefined; keywords?: string[] | undefined } | undefined,
  page: PageInput,
): boolean {
  const topics = new Set((exclusions?.topics ?? []).map(norm));
  const keywords = new Set((exclusions?.keywords ?? []).map(norm));
  return !(page.topics ?? []).some((t) => topics.has(norm(t))) && !(page.keywords ?? []).some((k) => keywords.has(norm(k)));
}
