/**
 * Units as a loaded catalog keeps them: the fields every decision reads (`id`, `campaignId`,
 * `format`) as properties, the creative (headline, body, CTA, disclosure, image) as one string.
 *
 * A unit parsed from JSON is three objects (the unit, its `cta`, its `image`) and up to eight
 * strings; at 100k campaigns (130k units) that was ~68 MB of every instance's heap and about a
 * million objects for each major collection to mark. Packed, it is one object and two strings
 * (~56 MB), and the creative is read back only when the unit's card is built (the rendering
 * keeps hot units' cards, `payload.ts`), for a click's landing URL, and by the admin API.
 *
 * A `PackedUnit` reads like a `Unit` (its creative's fields are getters) and serialises like one
 * (`toJSON`, keys in the schema's order), but its creative's fields are not own properties:
 * code that copies or walks an entity's properties (`{ ...u }`, `Object.keys`, `structuredClone`)
 * must take `plainEntity(u)` first.
 */
import type { Unit } from "./catalog-schema.js";

/** `[headline, body, ctaText, ctaUrl, disclosureLabel]`, then `imageUrl, width, height, alt` when the unit has an image. */
type Creative = [string, string, string, string, string | null, string?, number?, number?, (string | null)?];

export class PackedUnit implements Unit {
  readonly id: string;
  readonly campaignId: string;
  readonly format: Unit["format"];
  /** The creative as the JSON text of a `Creative` array. */
  readonly #creative: string;

  constructor(unit: Unit) {
    this.id = unit.id;
    this.campaignId = unit.campaignId;
    this.format = unit.format;
    const values: unknown[] = unit.image
      ? [unit.headline, unit.body, unit.cta.text, unit.cta.url, unit.disclosureLabel, unit.image.url, unit.image.width, unit.image.height, unit.image.alt]
      : [unit.headline, unit.body, unit.cta.text, unit.cta.url, unit.disclosureLabel];
    // Joined rather than one `JSON.stringify` of the array: the text `join` makes is allocated at
    // its exact length, while `JSON.stringify`'s result kept ~100 bytes of slack per unit. A field
    // that is absent is `null`.
    const items = values.map((v) => JSON.stringify(v ?? null));
    items[0] = `[${items[0] as string}`;
    items[items.length - 1] = `${items[items.length - 1] as string}]`;
    this.#creative = items.join(",");
  }

  /** The whole unit as plain objects, keys in the schema's order (the creative parsed once). */
  unpack(): Unit {
    const [headline, body, ctaText, ctaUrl, label, imageUrl, width, height, alt] = JSON.parse(this.#creative) as Creative;
    const unit: Record<string, unknown> = { id: this.id, campaignId: this.campaignId, format: this.format, headline, body };
    if (imageUrl !== undefined) unit.image = alt === null || alt === undefined ? { url: imageUrl, width, height } : { url: imageUrl, width, height, alt };
    unit.cta = { text: ctaText, url: ctaUrl };
    if (label !== null) unit.disclosureLabel = label;
    return unit as unknown as Unit;
  }

  toJSON(): Unit {
    return this.unpack();
  }

  get headline(): string {
    return this.unpack().headline;
  }

  get body(): string {
    return this.unpack().body;
  }

  get image(): Unit["image"] {
    return this.unpack().image;
  }

  get cta(): Unit["cta"] {
    return this.unpack().cta;
  }

  get disclosureLabel(): string {
    return this.unpack().disclosureLabel;
  }
}

/** The unit packed (a `PackedUnit` is returned as it is). */
export function packUnit(unit: Unit): Unit {
  return unit instanceof PackedUnit ? unit : new PackedUnit(unit);
}

/** An entity whose properties can be copied and walked: packed units unpacked, anything else as it is. */
export function plainEntity<T>(entity: T): T {
  return entity instanceof PackedUnit ? (entity.unpack() as T) : entity;
}
