/**
 * The page context a decision is made for, normalised once per request so that every rule
 * compares like with like: words lower-cased and trimmed, country upper-cased, the hour in UTC.
 */

/** Device classes a page can report or a User-Agent is mapped to. */
export type DeviceType = "desktop" | "mobile" | "tablet" | "other";

export interface PageContextInput {
  url: string;
  section?: string | undefined;
  topics?: readonly string[] | undefined;
  keywords?: readonly string[] | undefined;
  language?: string | undefined;
  country?: string | undefined;
  deviceType?: string | undefined;
}

/** Normalised context. Arrays are de-duplicated; `hourUtc` is 0..23. */
export interface PageContext {
  readonly url: string;
  readonly section: string | undefined;
  readonly topics: readonly string[];
  readonly keywords: readonly string[];
  /** Full language tag, lower-case (`en-us`). */
  readonly language: string | undefined;
  /** Primary language subtag (`en`). */
  readonly languagePrimary: string | undefined;
  readonly country: string | undefined;
  readonly deviceType: string | undefined;
  readonly hourUtc: number;
}

export function normalizeWord(s: string): string {
  return s.trim().toLowerCase();
}

function normalizeList(list: readonly string[] | undefined): string[] {
  if (!list || list.length === 0) return [];
  const out: string[] = [];
  for (const item of list) {
    const w = normalizeWord(item);
    if (w && !out.includes(w)) out.push(w);
  }
  return out;
}

function optWord(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const w = normalizeWord(s);
  return w === "" ? undefined : w;
}

export function buildPageContext(input: PageContextInput, nowMs: number): PageContext {
  const language = optWord(input.language);
  return {
    url: normalizeWord(input.url),
    section: optWord(input.section),
    topics: normalizeList(input.topics),
    keywords: normalizeList(input.keywords),
    language,
    languagePrimary: language?.split(/[-_]/)[0],
    country: input.country?.trim().toUpperCase() || undefined,
    deviceType: optWord(input.deviceType),
    hourUtc: new Date(nowMs).getUTCHours(),
  };
}

/**
 * Device class from a User-Agent, for pages that do not send `device.type`. A coarse,
 * dependency-free classification: tablets first (iPad, Android without "Mobile"), then phones.
 */
export function deviceTypeFromUserAgent(ua: string | undefined): DeviceType | undefined {
  if (!ua) return undefined;
  if (/iPad|Tablet|Android(?!.*Mobile)|Kindle|Silk/i.test(ua)) return "tablet";
  if (/Mobi|iPhone|iPod|Android|Windows Phone|Opera Mini/i.test(ua)) return "mobile";
  if (/Windows|Macintosh|X11|Linux|CrOS/i.test(ua)) return "desktop";
  return "other";
}
