/**
 * Bundles and minifies the page script (src/web/embed/embed.ts) into dist/web/embed.js and prints
 * its size, raw and gzipped; fails when gzipped it exceeds the 4 KB budget. Run by `npm run build`
 * (and so before `npm start`); the service also builds it on first use when the file is missing.
 */
import { buildEmbed, EMBED_GZIP_BUDGET } from "../src/web/embed-asset.js";

const { code, gzipBytes, path } = await buildEmbed({ write: true });
process.stdout.write(`embed.js: ${code.length} bytes, ${gzipBytes} bytes gzipped (budget ${EMBED_GZIP_BUDGET}) -> ${path}\n`);
if (gzipBytes > EMBED_GZIP_BUDGET) {
  process.stderr.write(`embed.js is over its ${EMBED_GZIP_BUDGET}-byte gzip budget\n`);
  process.exit(1);
}
