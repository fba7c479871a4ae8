import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UnitSchema, type Unit } from "../../src/domain/catalog-schema.js";
import { fieldChanges, sameJson } from "../../src/domain/catalog-diff.js";
import { PackedUnit, packUnit, plainEntity } from "../../src/domain/packed-unit.js";
import { renderUnitWithJson, type TrackingUrls } from "../../src/domain/payload.js";

/** Text with what JSON and HTML escape, line separators, astral characters and lone quotes. */
const oddText = fc
  .array(fc.constantFrom("a", "Z", " ", '"', "\\", "'", "<", "&", "\n", "\u2028", "\u0000", "é", "😀", ",", "]", "[", "null"), { minLength: 1, maxLength: 12 })
  .map((parts) => `x${parts.join("")}y`);

const unitArb: fc.Arbitrary<Unit> = fc
  .record(
    {
      headline: oddText,
      body: oddText,
      image: fc.record({ url: fc.constantFrom("https://cdn.example/a.jpg", "https://cdn.example/b.png?x=\"1\""), width: fc.integer({ min: 1, max: 10000 }), height: fc.integer({ min: 1, max: 10000 }), alt: fc.oneof(oddText, fc.constant("")) }),
      ctaText: oddText,
      ctaUrl: fc.constantFrom("https://acme.example/", "https://acme.example/landing?utm_source=news&a=%22"),
      disclosureLabel: oddText,
      format: fc.constantFrom("native-card", "native-inline"),
    },
    { requiredKeys: ["headline", "body", "ctaText", "ctaUrl", "format"] },
  )
  .map((r) =>
    UnitSchema.parse({
      id: "u-1",
      campaignId: "c-1",
      format: r.format,
      headline: r.headline,
      body: r.body,
      ...(r.image ? { image: r.image } : {}),
      cta: { text: r.ctaText, url: r.ctaUrl },
      ...(r.disclosureLabel !== undefined ? { disclosureLabel: r.disclosureLabel } : {}),
    }),
  );

const URLS: TrackingUrls = { click: "https://ads.test/c?t=1", impression: "https://ads.test/i?t=2", viewable: "https://ads.test/v?t=3" };

describe("PackedUnit", () => {
  it("serialises exactly as the unit it packs, keys in the same order, whatever its strings hold", () => {
    fc.assert(
      fc.property(unitArb, (unit) => {
        const packed = packUnit(unit);
        expect(packed).toBeInstanceOf(PackedUnit);
        expect(JSON.stringify(packed)).toBe(JSON.stringify(unit));
        expect(plainEntity(packed)).toStrictEqual(unit);
      }),
      { seed: 1919, numRuns: 300 },
    );
  });

  it("reads every field of the unit through its getters", () => {
    fc.assert(
      fc.property(unitArb, (unit) => {
        const packed = packUnit(unit);
        expect([packed.id, packed.campaignId, packed.format, packed.headline, packed.body, packed.disclosureLabel]).toEqual([
          unit.id,
          unit.campaignId,
          unit.format,
          unit.headline,
          unit.body,
          unit.disclosureLabel,
        ]);
        expect(packed.cta).toStrictEqual(unit.cta);
        expect(packed.image).toStrictEqual(unit.image);
      }),
      { seed: 1920, numRuns: 200 },
    );
  });

  it("keeps fields that the unit does not have absent, not null or empty", () => {
    // Units are stored validated (an image's alt and the label defaulted), but a unit from an
    // older record may lack them: packing must not invent them.
    const bare = { id: "u", campaignId: "c", format: "native-card", headline: "h", body: "b", image: { url: "https://i.example/a.jpg", width: 2, height: 3 }, cta: { text: "t", url: "https://l.example/" } } as unknown as Unit;
    expect(plainEntity(packUnit(bare))).toStrictEqual(bare);
    expect(JSON.stringify(packUnit(bare))).toBe(JSON.stringify(bare));
  });

  it("holds only its id, campaign and format as properties of its own, so copies go through plainEntity", () => {
    const unit = UnitSchema.parse({ id: "u", campaignId: "c", format: "native-card", headline: "h", body: "b", cta: { text: "t", url: "https://l.example/" } });
    const packed = packUnit(unit);
    expect(Object.keys(packed)).toEqual(["id", "campaignId", "format"]);
    expect({ ...plainEntity(packed) }).toStrictEqual(unit);
    expect(structuredClone(plainEntity(packed))).toStrictEqual(unit);
    expect(packUnit(packed)).toBe(packed);
    expect(plainEntity(unit)).toBe(unit);
  });

  it("compares and diffs field by field like the unit it packs", () => {
    const unit = UnitSchema.parse({ id: "u", campaignId: "c", format: "native-card", headline: "h", body: "b", image: { url: "https://i.example/a.jpg", width: 2, height: 3 }, cta: { text: "t", url: "https://l.example/" } });
    const changed = { ...unit, headline: "new", image: { ...unit.image, width: 4 } } as Unit;
    expect(sameJson(packUnit(unit), unit)).toBe(true);
    expect(sameJson(packUnit(unit), changed)).toBe(false);
    expect(fieldChanges(packUnit(unit), changed)).toEqual(fieldChanges(unit, changed));
    expect(fieldChanges(packUnit(unit), changed).map((c) => c.path)).toEqual(["headline", "image.width"]);
  });

  it("renders the same payload and JSON as the unit it packs", () => {
    fc.assert(
      fc.property(unitArb, (unit) => {
        const plain = renderUnitWithJson(unit, "acme", "Acme", URLS);
        const packed = renderUnitWithJson(packUnit(unit), "acme", "Acme", URLS);
        expect(packed.payload).toStrictEqual(plain.payload);
        expect(packed.json).toBe(plain.json);
        expect(JSON.parse(packed.json)).toStrictEqual(packed.payload);
      }),
      { seed: 1921, numRuns: 200 },
    );
  });
});
