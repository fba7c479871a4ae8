/**
 * The project's root directory (the one holding package.json), found by walking up from this
 * module. The same answer whether the code runs from src/ (tsx, tests) or from the bundle in
 * dist/ (`npm start`), so files are located the same way in both.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the project, from its root: `projectPath("src", "data", "x.json")`. */
export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
