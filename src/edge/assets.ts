/**
 * The service's files, bundled into the Worker: the sample data as JSON modules and the built
 * page script as text (wrangler's `Text` rule on dist/web/embed.js, which `[build]` makes).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ServiceAssets } from "../compose.js";
import { CatalogDocumentSchema, type CatalogDocument } from "../domain/catalog-schema.js";
import type { DemoStory } from "../web/demo-article.js";
import type { EmbedAsset } from "../web/embed-asset.js";
import sampleCatalog from "../data/sample-catalog.json" with { type: "json" };
import samplePages from "../data/sample-pages.json" with { type: "json" };
import embedCode from "../../dist/web/embed.js";

/** The same ETag as the Node server's for the same script, so caches agree across both. */
export function embedAsset(code: string): EmbedAsset {
  return {
    code,
    etag: `"${createHash("sha256").update(code).digest("base64url").slice(0, 16)}"`,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    path: "dist/web/embed.js (bundled)",
  };
}

export function edgeAssets(): ServiceAssets {
  return {
    embed: embedAsset(embedCode),
    demoStories: samplePages as unknown as DemoStory[],
    sampleCatalog: (): CatalogDocument => CatalogDocumentSchema.parse(sampleCatalog),
  };
}
