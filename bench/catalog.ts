/**
 * Deterministic catalog generator for the benchmark: N campaigns with realistic targeting over the
 * shared vocabulary (bench/vocabulary.ts), a few hundred advertisers with competitive labels, the
 * two article placements, and one or two units per campaign.
 *
 * Same seed + same anchor day ⇒ byte-identical document. Flights are placed around the anchor day
 * (default: today, UTC) so that every campaign's flight covers "now" during the run.
 *
 * CLI: `npx tsx bench/catalog.ts [campaigns] [seed] > catalog.json` (shape summary on stderr).
 */
import type { z } from "zod";
import type { CatalogDocumentSchema, TargetingNode } from "../src/domain/catalog-schema.js";
import { chance, distinct, int, mulberry32, pick, weighted, zipfPicker, type Rng } from "./prng.js";
import {
  CATEGORIES,
  COMPETITIVE_LABELS,
  COUNTRIES,
  DEVICES,
  EXCLUDED_COUNTRIES,
  KEYWORDS,
  SECTIONS,
  SENSITIVE_KEYWORDS,
  SENSITIVE_TOPICS,
  TOPICS,
} from "./vocabulary.js";

export type CatalogInput = z.input<typeof CatalogDocumentSchema>;
type CampaignInput = NonNullable<CatalogInput["campaigns"]>[number];
type UnitInput = NonNullable<CatalogInput["units"]>[number];
type AdvertiserInput = NonNullable<CatalogInput["advertisers"]>[number];
type CapInput = NonNullable<CampaignInput["frequencyCaps"]>[number];

export interface CatalogOptions {
  campaigns: number;
  seed?: number;
  /** Advertisers (default 300). */
  advertisers?: number;
  /** Flights are placed around this instant (default: now), rounded down to the UTC day. */
  anchorMs?: number;
}

/** How many campaigns of each targeting shape were generated (for the README and results). */
export interface CatalogShape {
  campaigns: number;
  units: number;
  advertisers: number;
  byShape: Record<string, number>;
  byTier: Record<string, number>;
  withCaps: number;
  withGoal: number;
  paused: number;
  withExclusions: number;
}

const DAY_MS = 86_400_000;

const sectionOf = zipfPicker(SECTIONS, 0.8);
const topicOf = zipfPicker(TOPICS, 0.7);
const keywordOf = zipfPicker(KEYWORDS, 0.7);
const countryOf = zipfPicker(COUNTRIES, 1.0);

const leaf = (field: string, op: string, values: (string | number)[]): TargetingNode =>
  ({ field, op, values }) as TargetingNode;

/** Targeting shapes for targeted campaigns, with their share (untargeted house campaigns are extra). */
const SHAPES: readonly (readonly [string, number, (rng: Rng) => TargetingNode])[] = [
  // Section list, minus some countries: the most common direct-sold shape.
  ["section-not-geo", 30, (rng) => ({
    all: [
      leaf("section", "in", distinct(rng, int(rng, 1, 4), sectionOf)),
      { not: leaf("geo.country", "in", distinct(rng, int(rng, 1, 3), (r) => pick(r, EXCLUDED_COUNTRIES))) },
    ],
  })],
  // Any of some topics (or a few keywords).
  ["any-topics", 20, (rng) => ({
    any: [
      leaf("topics", "in", distinct(rng, int(rng, 2, 6), topicOf)),
      leaf("keywords", "in", distinct(rng, int(rng, 1, 3), keywordOf)),
    ],
  })],
  // Sections narrowed by topics or keywords.
  ["section-and-topics", 12, (rng) => ({
    all: [
      leaf("section", "in", distinct(rng, int(rng, 1, 3), sectionOf)),
      { any: [leaf("topics", "in", distinct(rng, int(rng, 2, 5), topicOf)), leaf("keywords", "in", distinct(rng, int(rng, 2, 4), keywordOf))] },
    ],
  })],
  // Keyword buys.
  ["keywords", 12, (rng) => leaf("keywords", "in", distinct(rng, int(rng, 2, 8), keywordOf))],
  // Topics on mobile only.
  ["topics-device", 8, (rng) => ({
    all: [
      leaf("topics", "in", distinct(rng, int(rng, 2, 5), topicOf)),
      leaf("device.type", "in", chance(rng, 0.6) ? ["mobile"] : ["mobile", "tablet"]),
    ],
  })],
  // Sections in one language.
  ["section-language", 8, (rng) => ({
    all: [
      leaf("section", "in", distinct(rng, int(rng, 1, 3), sectionOf)),
      leaf("language", "in", chance(rng, 0.8) ? ["en", "en-us", "en-gb"] : [pick(rng, ["fr", "de", "es"])]),
    ],
  })],
  // No section/topic/keyword requirement: these sit in the index's `open` list.
  ["geo-device-only", 4, (rng) => ({
    all: [
      leaf("geo.country", "in", distinct(rng, int(rng, 2, 6), countryOf)),
      leaf("device.type", "in", distinct(rng, int(rng, 1, 2), (r) => pick(r, DEVICES))),
    ],
  })],
  // Sections in business hours (UTC).
  ["section-daypart", 3, (rng) => {
    const from = int(rng, 5, 10);
    const hours: number[] = [];
    for (let h = from; h < from + int(rng, 8, 12) && h < 24; h++) hours.push(h);
    return { all: [leaf("section", "in", distinct(rng, int(rng, 1, 2), sectionOf)), leaf("daypart", "in", hours)] };
  }],
  // A section plus a URL substring.
  ["section-url", 3, (rng) => {
    const section = sectionOf(rng);
    return { all: [leaf("section", "in", [section]), leaf("url", "contains", [`/${section}/`])] };
  }],
];

const CAP_SETS: readonly (readonly [CapInput[], number])[] = [
  [[{ limit: 3, window: "1d" }, { limit: 10, window: "7d" }], 50],
  [[{ limit: 3, window: "1d" }], 20],
  [[{ limit: 1, window: "1h" }, { limit: 5, window: "1d" }], 15],
  [[{ limit: 20, window: "30d" }], 10],
  [[{ limit: 1, window: { seconds: 600 } }], 5],
];

const HEADLINES = [
  (k: string) => `What ${k} means for your business`,
  (k: string) => `The ${k} report: five numbers to watch`,
  (k: string) => `How leaders are planning for ${k}`,
  (k: string) => `A closer look at ${k}`,
  (k: string) => `${k[0]?.toUpperCase() ?? ""}${k.slice(1)}, explained in three minutes`,
];
const CTA_TEXTS = ["Learn more", "Read the report", "See the offer", "Get started", "Download the guide", "Book a demo"];
const SYLLABLES = ["ar", "bel", "cor", "dan", "el", "fin", "gar", "hol", "is", "jun", "kal", "lor", "mer", "nov", "or", "pra", "quin", "ros", "sol", "tor", "ul", "ver", "wes", "xen", "yor", "zel"];

function advertiserName(rng: Rng): string {
  const n = int(rng, 2, 3);
  let s = "";
  for (let i = 0; i < n; i++) s += pick(rng, SYLLABLES);
  return s[0]?.toUpperCase() + s.slice(1);
}

export function generateCatalog(options: CatalogOptions): { document: CatalogInput; shape: CatalogShape } {
  const rng = mulberry32(options.seed ?? 42);
  const anchor = Math.floor((options.anchorMs ?? Date.now()) / DAY_MS) * DAY_MS;
  const advertiserCount = options.advertisers ?? 300;

  const advertisers: AdvertiserInput[] = [];
  for (let i = 1; i <= advertiserCount; i++) {
    const labels = weighted<string[]>(rng, [
      [[pick(rng, COMPETITIVE_LABELS)], 70],
      [distinct(rng, 2, (r) => pick(r, COMPETITIVE_LABELS)), 10],
      [[], 20],
    ]);
    advertisers.push({
      id: `adv-${String(i).padStart(4, "0")}`,
      name: `${advertiserName(rng)} ${pick(rng, ["Group", "Inc.", "Bank", "Motors", "Air", "Labs", "Foods", "Telecom", "Cloud", "Energy"])}`,
      category: pick(rng, CATEGORIES),
      ...(labels.length > 0 ? { competitiveLabels: labels } : {}),
    });
  }
  const advertiserOf = zipfPicker(advertisers, 0.6);

  const shape: CatalogShape = {
    campaigns: options.campaigns,
    units: 0,
    advertisers: advertiserCount,
    byShape: {},
    byTier: {},
    withCaps: 0,
    withGoal: 0,
    paused: 0,
    withExclusions: 0,
  };
  const campaigns: CampaignInput[] = [];
  const units: UnitInput[] = [];
  const shapePairs = SHAPES.map(([name, w]) => [name, w] as const);

  for (let i = 1; i <= options.campaigns; i++) {
    const id = `c-${String(i).padStart(6, "0")}`;
    const advertiser = advertiserOf(rng);
    const house = chance(rng, 0.1);
    const shapeName = house ? "untargeted-house" : weighted(rng, shapePairs);
    const targeting = house ? undefined : (SHAPES.find(([n]) => n === shapeName) as (typeof SHAPES)[number])[2](rng);
    const tier = house ? "house" : weighted(rng, [["sponsorship", 12], ["standard", 83], ["house", 5]] as const);
    const placements: string[] = house
      ? ["article-mid", "article-end"]
      : [...weighted<readonly string[]>(rng, [[["article-mid", "article-end"], 60], [["article-end"], 25], [["article-mid"], 15]])];
    const capped = house ? chance(rng, 0.2) : chance(rng, 0.8);
    const frequencyCaps = capped ? (house ? [{ limit: 5, window: "1d" as const }] : weighted(rng, CAP_SETS)) : undefined;
    const exclusionTopics = !house && chance(rng, 0.5) ? distinct(rng, int(rng, 1, 3), (r) => pick(r, SENSITIVE_TOPICS)) : undefined;
    const exclusionKeywords = !house && chance(rng, 0.2) ? distinct(rng, int(rng, 1, 3), (r) => pick(r, SENSITIVE_KEYWORDS)) : undefined;
    const goal = !house && chance(rng, tier === "sponsorship" ? 0.3 : 0.03)
      ? { impressions: int(rng, 100, 5000) * 1000, pacing: chance(rng, 0.8) ? ("even" as const) : ("asap" as const) }
      : undefined;
    const paused = chance(rng, 0.02);
    const start = anchor - int(rng, 1, 60) * DAY_MS;
    const end = anchor + int(rng, 7, 120) * DAY_MS - 1000;

    campaigns.push({
      id,
      advertiserId: advertiser.id,
      name: `${advertiser.name} ${shapeName} ${i}`,
      status: paused ? "paused" : "active",
      tier,
      weight: weighted(rng, [[1, 40], [int(rng, 2, 5), 35], [int(rng, 6, 20), 20], [int(rng, 50, 100), 5]]),
      startAt: new Date(start).toISOString().replace(".000Z", "Z"),
      endAt: new Date(end).toISOString().replace(".000Z", "Z"),
      placements,
      ...(targeting ? { targeting } : {}),
      ...(exclusionTopics || exclusionKeywords
        ? { exclusions: { ...(exclusionTopics ? { topics: exclusionTopics } : {}), ...(exclusionKeywords ? { keywords: exclusionKeywords } : {}) } }
        : {}),
      ...(frequencyCaps ? { frequencyCaps: [...frequencyCaps] } : {}),
      ...(goal ? { goal } : {}),
    });

    const slug = advertiser.id;
    const unitCount = chance(rng, 0.3) ? 2 : 1;
    for (let u = 1; u <= unitCount; u++) {
      const subject = keywordOf(rng);
      // A campaign on article-mid only gets a native-card first unit (the only format that placement takes).
      const format = u === 1 && !placements.includes("article-end") ? "native-card" : chance(rng, 0.85) ? "native-card" : "native-inline";
      units.push({
        id: `u-${String(i).padStart(6, "0")}-${u}`,
        campaignId: id,
        format,
        headline: pick(rng, HEADLINES)(subject),
        body: `${advertiser.name} on ${subject}: independent research, practical steps and what peers are doing now.`,
        ...(chance(rng, 0.8)
          ? { image: { url: `https://cdn.example/bench/${id}-${u}.jpg`, width: 1200, height: 628, alt: `Illustration: ${subject}` } }
          : {}),
        cta: { text: pick(rng, CTA_TEXTS), url: `https://${slug}.example/landing/${id}?utm_source=news&utm_medium=native` },
        ...(tier === "house" ? { disclosureLabel: "From the newsroom" } : {}),
      });
    }

    shape.units += unitCount;
    shape.byShape[shapeName] = (shape.byShape[shapeName] ?? 0) + 1;
    shape.byTier[tier] = (shape.byTier[tier] ?? 0) + 1;
    if (frequencyCaps) shape.withCaps++;
    if (goal) shape.withGoal++;
    if (paused) shape.paused++;
    if (exclusionTopics || exclusionKeywords) shape.withExclusions++;
  }

  return {
    document: {
      placements: [
        { id: "article-mid", formats: ["native-card"], maxUnits: 1 },
        { id: "article-end", formats: ["native-card", "native-inline"], maxUnits: 3 },
      ],
      advertisers,
      campaigns,
      units,
    },
    shape,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const campaigns = Number(process.argv[2] ?? 1000);
  const seed = Number(process.argv[3] ?? 42);
  const { document, shape } = generateCatalog({ campaigns, seed });
  process.stdout.write(JSON.stringify(document));
  process.stderr.write(`${JSON.stringify(shape, null, 2)}\n`);
}
