/**
 * `npm run build` (and so `npm start`, through `prestart`):
 * 1. bundles and minifies the page script (src/web/embed/embed.ts) into dist/web/embed.js and prints
 *    its size, raw and gzipped; fails when gzipped it exceeds the 4 KB budget;
 * 2. compiles the Node server (src/server.ts and everything it imports) into one ES module,
 *    dist/server.js, with a source map; npm packages stay external (node_modules).
 *
 * The server runs as plain JavaScript in production: no TypeScript loader hooks on the request
 * path, and no name-preserving wrappers around every closure (which `tsx` adds).
 */
import { statSync } from "node:fs";
import { buildEmbed, EMBED_GZIP_BUDGET } from "../src/web/embed-asset.js";
import { projectPath } from "../src/project-root.js";
import { buildNodeEntry } from "./node-bundle.js";

const { code, gzipBytes, path } = await buildEmbed({ write: true });
process.stdout.write(`embed.js: ${code.length} bytes, ${gzipBytes} bytes gzipped (budget ${EMBED_GZIP_BUDGET}) -> ${path}\n`);
if (gzipBytes > EMBED_GZIP_BUDGET) {
  process.stderr.write(`embed.js is over its ${EMBED_GZIP_BUDGET}-byte gzip budget\n`);
  process.exit(1);
}

if (!process.argv.includes("--embed-only")) {
  await buildNodeEntry("src/server.ts", "dist/server.js");
  process.stdout.write(`server: ${statSync(projectPath("dist", "server.js")).size} bytes -> ${projectPath("dist", "server.js")}\n`);
}
