/**
 * The decision request pool: ~1,000 page contexts drawn from the shared vocabulary (same seed, same
 * pool), and a rotator that stamps each request with one of 100,000 user keys and a fresh page view
 * id. Bodies are pre-serialised templates, so rotating costs two string concatenations.
 */
import { chance, distinct, int, mulberry32, pick, weighted, zipfPicker, type Rng } from "./prng.js";
import { COUNTRIES, KEYWORDS, SECTIONS, SENSITIVE_TOPICS, TOPICS } from "./vocabulary.js";

export interface PoolOptions {
  pages?: number;
  users?: number;
  seed?: number;
}

export interface DecisionPool {
  /** Pre-serialised bodies split around the page view id and user key: [a, pv, b, user, c]. */
  readonly templates: readonly (readonly [string, string, string])[];
  readonly userKeys: readonly string[];
  /** The i-th request body (cycling through pages; user keys drawn from a seeded stream). */
  body(i: number): string;
  /** A body as an object (for sanity checks and the candidate probe). */
  sample(i: number): unknown;
}

const PV = "__PV__";
const USER = "__USER__";

const sectionOf = zipfPicker(SECTIONS, 0.8);
const topicOf = zipfPicker(TOPICS, 0.7);
const keywordOf = zipfPicker(KEYWORDS, 0.7);
const countryOf = zipfPicker(COUNTRIES, 1.0);

function page(rng: Rng, n: number): Record<string, unknown> {
  const section = sectionOf(rng);
  const topics = distinct(rng, int(rng, 2, 5), topicOf);
  // About one page in eight touches a brand-unsafe topic (exclusions then matter).
  if (chance(rng, 0.12)) topics.push(pick(rng, SENSITIVE_TOPICS));
  const keywords = distinct(rng, int(rng, 3, 8), keywordOf);
  const slug = keywords.slice(0, 3).join("-").replace(/\s+/g, "-");
  const body: Record<string, unknown> = {
    page: {
      url: `https://news.example/${section}/${slug}-${n}`,
      section,
      topics,
      keywords,
      title: `${keywords[0] ?? section}: what we know so far`,
      language: weighted(rng, [["en", 70], ["en-us", 10], ["en-gb", 8], ["fr", 4], ["de", 4], ["es", 4]] as const),
      pageViewId: PV,
    },
    user: { key: USER },
    slots: [
      { id: "mid-1", placement: "article-mid", count: 1 },
      { id: "end-1", placement: "article-end", count: 3 },
    ],
    device: { type: weighted(rng, [["desktop", 45], ["mobile", 45], ["tablet", 10]] as const) },
  };
  // Most pages know the reader's country (edge header copied into the body); a few do not.
  if (chance(rng, 0.95)) body.geo = { country: countryOf(rng) };
  return body;
}

export function createDecisionPool(options: PoolOptions = {}): DecisionPool {
  const pages = options.pages ?? 1000;
  const users = options.users ?? 100_000;
  const rng = mulberry32(options.seed ?? 7);
  const templates = Array.from({ length: pages }, (_, n) => {
    const json = JSON.stringify(page(rng, n));
    const [a, rest] = json.split(PV) as [string, string];
    const [b, c] = rest.split(USER) as [string, string];
    return [a, b, c] as const;
  });
  const userKeys = Array.from({ length: users }, (_, i) => {
    let s = "";
    for (let j = 0; j < 16; j++) s += Math.floor(rng() * 36).toString(36);
    return `fp_${i.toString(36)}_${s}`;
  });
  const userStream = mulberry32((options.seed ?? 7) + 1);
  const bodyOf = (i: number, user: string): string => {
    const t = templates[i % templates.length] as readonly [string, string, string];
    return `${t[0]}pv-${i.toString(36)}${t[1]}${user}${t[2]}`;
  };
  return {
    templates,
    userKeys,
    body: (i) => bodyOf(i, userKeys[Math.floor(userStream() * userKeys.length)] as string),
    sample: (i) => JSON.parse(bodyOf(i, userKeys[i % userKeys.length] as string)) as unknown,
  };
}
