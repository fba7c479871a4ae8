/**
 * The built page script: read from dist/web/embed.js, or built with esbuild when missing (so
 * `npm start` and the tests never serve a stale or absent script). Served with an ETag and long
 * cache headers.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { gzipSync } from "node:zlib";
import { projectPath } from "../project-root.js";

/** The budget of API.md: at most 4 KB gzipped. */
export const EMBED_GZIP_BUDGET = 4096;

const SOURCE = projectPath("src", "web", "embed", "embed.ts");
const OUTPUT = projectPath("dist", "web", "embed.js");

export interface EmbedAsset {
  readonly code: string;
  readonly etag: string;
  readonly gzipBytes: number;
  readonly path: string;
}

function asset(code: string): EmbedAsset {
  return {
    code,
    etag: `"${createHash("sha256").update(code).digest("base64url").slice(0, 16)}"`,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    path: OUTPUT,
  };
}

export async function buildEmbed(options: { write: boolean }): Promise<EmbedAsset> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [SOURCE],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2019", "chrome80", "firefox78", "safari13"],
    write: false,
    legalComments: "none",
  });
  const code = result.outputFiles[0]?.text ?? "";
  if (options.write) {
    mkdirSync(dirname(OUTPUT), { recursive: true });
    writeFileSync(OUTPUT, code);
  }
  return asset(code);
}

/** The built script, building it if dist/ does not have it yet or it is older than its source. */
export async function loadEmbed(): Promise<EmbedAsset> {
  if (existsSync(OUTPUT) && (!existsSync(SOURCE) || statSync(OUTPUT).mtimeMs >= statSync(SOURCE).mtimeMs)) return asset(readFileSync(OUTPUT, "utf8"));
  return buildEmbed({ write: true });
}
