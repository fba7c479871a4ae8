/**
 * Bundles one Node entry point into a single ES module under dist/: the project's own TypeScript
 * inlined and compiled, npm packages left external (resolved from node_modules at run time), with
 * a source map. Used by `npm run build` (dist/server.js) and the benchmark (its server process).
 */
import { build } from "esbuild";
import { projectPath } from "../src/project-root.js";

export async function buildNodeEntry(entry: string, outfile: string): Promise<string> {
  const out = projectPath(outfile);
  await build({
    entryPoints: [projectPath(entry)],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
  });
  return out;
}
