/**
 * Imports validate a document in slices (top level, then entity by entity); any problem falls back
 * to the whole-document validation, so imports accept and reject exactly what `validateDocument`
 * does, with the same details.
 */
import { describe, expect, it } from "vitest";
import { createCatalogService } from "../../src/services/catalog-service.js";
import { createMemoryCatalogStore } from "../../src/store/memory/memory-stores.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { fixtureCatalog } from "../helpers/builders.js";

const service = () => createCatalogService({ store: createMemoryCatalogStore(), logger: createLogger("silent") });

/** What validateDocument answers: the document's entities, or the error's code, message and details. */
function viaValidate(body: unknown): unknown {
  try {
    const doc = service().validateDocument(body);
    const plural = { advertiser: "advertisers", placement: "placements", campaign: "campaigns", unit: "units" } as const;
    return { ok: (["advertiser", "placement", "campaign", "unit"] as const).flatMap((kind) => doc[plural[kind]].map((e) => ({ entity: kind, id: e.id, value: e }))) };
  } catch (err) {
    return { error: JSON.parse(JSON.stringify(err, ["code", "message", "details", "path"])) as unknown };
  }
}

/** What a dry-run import into an empty catalog answers for the same body, in the same form. */
async function viaImport(body: unknown): Promise<unknown> {
  try {
    const result = await service().importDocument(body, { dryRun: true, actor: "test", ifVersion: undefined });
    // Against an empty catalog every entity the import validated is "added", with its value.
    return { ok: result.diff.added };
  } catch (err) {
    return { error: JSON.parse(JSON.stringify(err, ["code", "message", "details", "path"])) as unknown };
  }
}

describe("catalog import validation", () => {
  const sample = fixtureCatalog();
  const bodies: [string, unknown][] = [
    ["the fixture catalog", sample],
    ["an empty document", {}],
    ["a document with a version", { ...sample, version: 3 }],
    ["a null list", { ...sample, campaigns: null }],
    ["a list that is not an array", { ...sample, units: {} }],
    ["an unknown top-level key", { ...sample, extra: [] }],
    ["a non-integer version", { ...sample, version: 1.5 }],
    ["an array body", [sample]],
    ["a campaign with an unknown field", { ...sample, campaigns: sample.campaigns.map((c, i) => (i === 0 ? { ...c, colour: "red" } : c)) }],
    ["a unit whose CTA is not https", { ...sample, units: sample.units.map((u, i) => (i === 1 ? { ...u, cta: { ...u.cta, url: "http://x.example" } } : u)) }],
    ["a campaign referencing a missing advertiser", { ...sample, campaigns: sample.campaigns.map((c, i) => (i === 0 ? { ...c, advertiserId: "nobody" } : c)) }],
  ];

  for (const [name, body] of bodies) {
    it(`accepts or rejects ${name} exactly as validateDocument does`, async () => {
      expect(await viaImport(structuredClone(body))).toEqual(viaValidate(structuredClone(body)));
    });
  }
});
