/** Node's way to the service's files: the sample data from src/data, embed.js from dist/ (built if missing). */
import { readFileSync } from "node:fs";
import type { ServiceAssets } from "./compose.js";
import { CatalogDocumentSchema, type CatalogDocument } from "./domain/catalog-schema.js";
import type { DemoStory } from "./web/demo-article.js";
import { loadEmbed } from "./web/embed-asset.js";
import { projectPath } from "./project-root.js";

export function loadSampleStories(): DemoStory[] {
  return JSON.parse(readFileSync(projectPath("src", "data", "sample-pages.json"), "utf8")) as DemoStory[];
}

/** The sample catalog bundled with the service (src/data/sample-catalog.json). */
export function loadSampleCatalog(): CatalogDocument {
  return CatalogDocumentSchema.parse(JSON.parse(readFileSync(projectPath("src", "data", "sample-catalog.json"), "utf8")) as unknown);
}

export async function loadNodeAssets(): Promise<ServiceAssets> {
  return { embed: await loadEmbed(), demoStories: loadSampleStories(), sampleCatalog: loadSampleCatalog };
}
