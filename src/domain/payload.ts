/**
 * Render-ready unit payloads: the fields of API.md plus `html`, a card that is safe to insert as-is.
 * Every advertiser string is escaped, and every link points at the signed click URL only.
 * Class names are a documented, stable styling surface for publishers (see README).
 */
import type { Unit } from "./catalog-schema.js";
import { hashString } from "./intern.js";
import { plainEntity } from "./packed-unit.js";

export interface TrackingUrls {
  readonly click: string;
  readonly impression: string;
  readonly viewable: string;
}

export interface UnitPayload {
  unitId: string;
  campaignId: string;
  advertiserId: string;
  format: string;
  disclosure: { label: string; sponsor: string };
  headline: string;
  body: string;
  image?: { url: string; width: number; height: number; alt: string };
  cta: { text: string; url: string };
  tracking: { impression: string; viewable: string };
  html: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for use in HTML element content and double- or single-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/** The disclosure label, never empty: a blank label falls back to "Sponsored". */
export function disclosureLabel(unit: Pick<Unit, "disclosureLabel">): string {
  const label = unit.disclosureLabel?.trim();
  return label ? label : "Sponsored";
}

/**
 * Where the escaped click URL goes in a unit's cached HTML. It holds a raw double quote, which no
 * escaped advertiser string can contain, so it marks only the places this module put it.
 */
const CLICK_SLOT = '\u0000"click"\u0000';

/** A payload's fields that do not depend on the decision, in payload order (shared, frozen). */
type StaticFields = Pick<UnitPayload, "unitId" | "campaignId" | "advertiserId" | "format" | "disclosure" | "headline" | "body">;

interface HtmlTemplate {
  readonly advertiserId: string;
  readonly sponsor: string;
  /** The CTA's text: a packed unit's creative is read only when its template is built. */
  readonly ctaText: string;
  readonly fields: Readonly<StaticFields>;
  readonly image: UnitPayload["image"];
  /** The unit's card split around its click URL: parts.join(escapedClickUrl) is the HTML. */
  readonly parts: readonly string[];
  /** The same parts escaped for the inside of a JSON string (JSON escaping is per character). */
  readonly jsonParts: readonly string[];
  /** The payload's JSON up to the click URL of `cta`, and after `html` (the image, if any). */
  readonly jsonHead: string;
  readonly jsonTail: string;
}

/**
 * Templates kept at most. A template costs ~3.5 KB (the card's HTML, the same escaped for JSON,
 * the static fields); kept for every unit ever served, as before, they grew towards ~450 MB with a
 * 100k-campaign catalog (130k units). The units served most stay: a miss costs ~20 µs to rebuild.
 */
export const TEMPLATE_CACHE_UNITS = 4096;

/**
 * Per unit object (a catalog version's units are immutable): its card with the click URL left out,
 * least recently used first (a `Map` keeps insertion order; a hit moves to the end).
 */
const templates = new Map<Unit, HtmlTemplate>();

/**
 * Admission to the template cache (a "doorkeeper", as in TinyLFU): a unit's template is kept from
 * its second render within a while, not its first. When traffic spreads over far more units than
 * the cache holds (a 100k-campaign catalog served uniformly), every render would otherwise evict a
 * template that was kept for nothing: each ~3.5 KB template lived long enough to be promoted to the
 * old generation, and the garbage collector then collected it there (a render that misses spent
 * more time in collection than in building). Hot units are admitted on their second render.
 * One slot per hash of the unit's id (direct-mapped, twice the cache's size): a collision only
 * admits or delays one unit, never serves a wrong template (the cache itself is keyed by the unit).
 */
const DOORKEEPER_SLOTS = 2 * TEMPLATE_CACHE_UNITS;
const doorkeeper = new Int32Array(DOORKEEPER_SLOTS).fill(-1);

/** Whether this render should keep the unit's template: true when its id was seen recently. */
function admit(unit: Unit): boolean {
  const h = hashString(unit.id, 7);
  const slot = h & (DOORKEEPER_SLOTS - 1);
  if (doorkeeper[slot] === h) return true;
  doorkeeper[slot] = h;
  return false;
}

/** How many unit templates are cached (for tests). */
export function cachedTemplateCount(): number {
  return templates.size;
}

function templateFor(unit: Unit, advertiserId: string, sponsorName: string): HtmlTemplate {
  let template = templates.get(unit);
  if (template) templates.delete(unit);
  if (!template || template.advertiserId !== advertiserId || template.sponsor !== sponsorName) {
    const cached = template !== undefined;
    template = buildTemplate(plainEntity(unit), advertiserId, sponsorName);
    if (!cached && !admit(unit)) return template;
  }
  templates.set(unit, template);
  if (templates.size > TEMPLATE_CACHE_UNITS) {
    const oldest = templates.keys().next();
    if (!oldest.done) templates.delete(oldest.value);
  }
  return template;
}

function cardHtml(unit: Unit, label: string, sponsorName: string, escapedClick: string): string {
  const e = escapeHtml;
  const link = `href="${escapedClick}" target="_blank" rel="sponsored noopener"`;
  const image = unit.image
    ? `<a class="sponsored-unit__media" ${link} tabindex="-1" aria-hidden="true"><img class="sponsored-unit__image" src="${e(unit.image.url)}" width="${unit.image.width}" height="${unit.image.height}" alt="${e(unit.image.alt)}" loading="lazy" decoding="async"></a>`
    : "";
  return (
    `<aside class="sponsored-unit sponsored-unit--${e(unit.format)}" data-unit-id="${e(unit.id)}" data-campaign-id="${e(unit.campaignId)}" aria-label="${e(label)}: ${e(sponsorName)}">` +
    image +
    `<div class="sponsored-unit__content">` +
    `<p class="sponsored-unit__disclosure"><span class="sponsored-unit__label">${e(label)}</span> by <span class="sponsored-unit__sponsor">${e(sponsorName)}</span></p>` +
    `<h3 class="sponsored-unit__headline"><a ${link}>${e(unit.headline)}</a></h3>` +
    `<p class="sponsored-unit__body">${e(unit.body)}</p>` +
    `<a class="sponsored-unit__cta" ${link}>${e(unit.cta.text)}</a>` +
    `</div></aside>`
  );
}

/**
 * `parts.join(separator)` by concatenation: V8 then links the pieces (a rope) instead of copying
 * them into a new flat string, as `join` does. A decision's cards were copied twice that way
 * (the HTML field, and the same escaped for JSON) although the route only writes the response
 * text, which is flattened once when it is sent.
 */
function interleave(parts: readonly string[], separator: string): string {
  let out = parts[0] ?? "";
  for (let i = 1; i < parts.length; i++) out = out + separator + (parts[i] as string);
  return out;
}

/** A rendered unit: its payload and the text `JSON.stringify(payload)` gives, built alongside. */
export interface RenderedUnit {
  readonly payload: UnitPayload;
  readonly json: string;
}

export function renderUnit(unit: Unit, advertiserId: string, sponsor: string, urls: TrackingUrls): UnitPayload {
  return renderUnitWithJson(unit, advertiserId, sponsor, urls).payload;
}

/**
 * Renders a unit and its payload's JSON from the unit's cached template, so that a decision's
 * response is joined from strings instead of serialising every unit's fields again.
 */
export function renderUnitWithJson(unit: Unit, advertiserId: string, sponsor: string, urls: TrackingUrls): RenderedUnit {
  const sponsorName = sponsor.trim() || advertiserId;
  // The escaped card is built once per unit (and sponsor) while it stays cached; each decision
  // only puts in its click URL.
  const template = templateFor(unit, advertiserId, sponsorName);
  const escapedClick = escapeHtml(urls.click);
  const payload: UnitPayload = {
    ...template.fields,
    cta: { text: template.ctaText, url: urls.click },
    tracking: { impression: urls.impression, viewable: urls.viewable },
    html: interleave(template.parts, escapedClick),
  };
  if (template.image) payload.image = template.image;
  // The same fields in the same order as the payload, so the text equals JSON.stringify(payload).
  const json =
    `${template.jsonHead}${JSON.stringify(urls.click)}},"tracking":{"impression":${JSON.stringify(urls.impression)},"viewable":${JSON.stringify(urls.viewable)}},"html":"` +
    `${interleave(template.jsonParts, JSON.stringify(escapedClick).slice(1, -1))}"${template.jsonTail}`;
  return { payload: Object.freeze(payload), json };
}

function buildTemplate(unit: Unit, advertiserId: string, sponsorName: string): HtmlTemplate {
  const label = disclosureLabel(unit);
  const parts = cardHtml(unit, label, sponsorName, CLICK_SLOT).split(CLICK_SLOT);
  const fields: StaticFields = Object.freeze({
    unitId: unit.id,
    campaignId: unit.campaignId,
    advertiserId,
    format: unit.format,
    disclosure: Object.freeze({ label, sponsor: sponsorName }),
    headline: unit.headline,
    body: unit.body,
  });
  const image = unit.image ? Object.freeze({ url: unit.image.url, width: unit.image.width, height: unit.image.height, alt: unit.image.alt }) : undefined;
  return {
    advertiserId,
    sponsor: sponsorName,
    ctaText: unit.cta.text,
    fields,
    image,
    parts,
    jsonParts: parts.map((p) => JSON.stringify(p).slice(1, -1)),
    // The static fields without their closing brace, then `cta` up to its url.
    jsonHead: `${JSON.stringify(fields).slice(0, -1)},"cta":{"text":${JSON.stringify(unit.cta.text)},"url":`,
    jsonTail: image ? `,"image":${JSON.stringify(image)}}` : "}",
  };
}

/**
 * A decision's response as JSON: the text `JSON.stringify(response)` gives. Each unit's JSON is
 * taken from `unitJson[slot][unit]` (its render's), or serialised when not given.
 */
export function decisionJson(
  response: { decisionId: string; slots: readonly { id: string; placement: string; units: readonly UnitPayload[]; noFillReason?: string }[] },
  unitJson?: readonly (readonly string[])[],
): string {
  let out = `{"decisionId":${JSON.stringify(response.decisionId)},"slots":[`;
  response.slots.forEach((slot, i) => {
    if (i > 0) out += ",";
    out += `{"id":${JSON.stringify(slot.id)},"placement":${JSON.stringify(slot.placement)},"units":[`;
    const texts = unitJson?.[i];
    slot.units.forEach((u, j) => {
      if (j > 0) out += ",";
      out += texts?.[j] ?? JSON.stringify(u);
    });
    out += "]";
    if (slot.noFillReason !== undefined) out += `,"noFillReason":${JSON.stringify(slot.noFillReason)}`;
    out += "}";
  });
  return `${out}]}`;
}
