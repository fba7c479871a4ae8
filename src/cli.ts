/**
 * `npm run cli -- <command>`: the ops command line, talking to a running service.
 *
 *   catalog export [FILE]     write the catalog document (stdout without FILE)
 *   catalog diff FILE         what pushing FILE would change (a dry run)
 *   catalog push FILE         replace the catalog with FILE
 *   catalog versions          recent catalog versions
 *   catalog restore VERSION   restore a version
 *   explain PAGE.json         why each campaign would or would not serve on a page
 *
 * Options: --url URL (env SP_URL, default http://localhost:8787), --key KEY (env SP_API_KEY or
 * ADMIN_API_KEY), --json (print raw JSON). API errors print their code, message and details and
 * exit 1; usage errors exit 2; an unreachable service exits 3.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; message: string }[] };
}

const USAGE = `usage: npm run cli -- [--url URL] [--key KEY] [--json] <command>
  catalog export [FILE]     write the catalog document (stdout without FILE)
  catalog diff FILE         show what pushing FILE would change (dry run)
  catalog push FILE         replace the catalog with FILE
  catalog versions          list recent catalog versions
  catalog restore VERSION   restore the catalog as it was at VERSION
  explain PAGE.json         explain a decision (a decision body, or a fixture page {"page": ...})`;

async function call(url: string, key: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url.replace(/\/+$/, "") + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`, 3);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const e = (json as ApiErrorBody | null)?.error;
    const details = (e?.details ?? []).map((d) => `  - ${d.path || "(body)"}: ${d.message}`).join("\n");
    throw new CliError(`error ${e?.code ?? res.status}: ${e?.message ?? res.statusText}${details ? "\n" + details : ""}`, 1);
  }
  return json;
}

function readJsonFile(file: string | undefined): unknown {
  if (!file) throw new CliError("a FILE is required\n" + USAGE, 2);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, 2);
  }
}

interface Diff {
  added: { entity: string; id: string }[];
  changed: { entity: string; id: string; fields: { path: string; before: unknown; after: unknown }[] }[];
  removed: { entity: string; id: string }[];
}

function formatDiff(diff: Diff): string {
  const lines: string[] = [];
  for (const a of diff.added) lines.push(`+ ${a.entity} ${a.id}`);
  for (const r of diff.removed) lines.push(`- ${r.entity} ${r.id}`);
  for (const c of diff.changed) {
    lines.push(`~ ${c.entity} ${c.id}`);
    for (const f of c.fields) lines.push(`    ${f.path}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
  }
  return lines.length ? lines.join("\n") : "no changes";
}

interface ExplainSlot {
  id: string;
  units: { campaignId: string; unitId: string }[];
  noFillReason?: string;
  candidates: { campaignId: string; eligible: boolean; reasons: { code: string; detail?: unknown }[] }[];
}

function formatExplain(result: { slots: ExplainSlot[] }): string {
  const lines: string[] = [];
  for (const slot of result.slots) {
    const served = slot.units.map((u) => `${u.campaignId}/${u.unitId}`).join(", ");
    lines.push(`slot ${slot.id}: ${served || `no fill (${slot.noFillReason ?? "?"})`}`);
    for (const c of slot.candidates) {
      const why = c.reasons.map((r) => (r.detail === undefined ? r.code : `${r.code} ${JSON.stringify(r.detail)}`)).join("; ");
      lines.push(`  ${c.eligible ? "✓" : "✗"} ${c.campaignId}${why ? "  " + why : ""}`);
    }
  }
  return lines.join("\n");
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { url: { type: "string" }, key: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } } });
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) throw new CliError(USAGE, values.help ? 0 : 2);
  const url = values.url ?? env.SP_URL ?? "http://localhost:8787";
  const key = values.key ?? env.SP_API_KEY ?? env.ADMIN_API_KEY;
  if (!key) throw new CliError("an API key is required: --key KEY or SP_API_KEY", 2);
  const [cmd, sub, arg] = positionals;
  const print = (json: unknown, human: () => string): void => out(values.json ? JSON.stringify(json, null, 2) : human());

  if (cmd === "catalog" && sub === "export") {
    const doc = await call(url, key, "GET", "/v1/admin/catalog");
    const text = JSON.stringify(doc, null, 2) + "\n";
    if (arg) {
      writeFileSync(arg, text);
      out(`wrote catalog version ${(doc as { version: number }).version} to ${arg}`);
    } else out(text.trimEnd());
  } else if (cmd === "catalog" && (sub === "diff" || sub === "push")) {
    const doc = readJsonFile(arg);
    const result = (await call(url, key, "PUT", `/v1/admin/catalog${sub === "diff" ? "?dryRun=true" : ""}`, doc)) as { version: number; previousVersion: number; diff: Diff };
    print(result, () => formatDiff(result.diff) + (sub === "push" ? `\ncatalog version ${result.previousVersion} -> ${result.version}` : ""));
  } else if (cmd === "catalog" && sub === "versions") {
    const page = (await call(url, key, "GET", "/v1/admin/catalog/versions?limit=20")) as { items: { version: number; at: string; actor: string; action: string; changes: unknown[] }[] };
    print(page, () => page.items.map((v) => `${v.version}\t${v.at}\t${v.actor}\t${v.action}\t${v.changes.length} change(s)`).join("\n"));
  } else if (cmd === "catalog" && sub === "restore") {
    if (!arg || !/^\d+$/.test(arg)) throw new CliError("catalog restore needs a VERSION number", 2);
    const result = (await call(url, key, "POST", `/v1/admin/catalog/versions/${arg}/restore`)) as { version: number; diff: Diff };
    print(result, () => formatDiff(result.diff) + `\nrestored version ${arg} as version ${result.version}`);
  } else if (cmd === "explain") {
    const input = readJsonFile(sub) as Record<string, unknown>;
    const body = "slots" in input ? input : { ...input, slots: [{ id: "mid", placement: "article-mid" }, { id: "end", placement: "article-end", count: 3 }] };
    const result = (await call(url, key, "POST", "/v1/admin/explain", body)) as { slots: ExplainSlot[] };
    print(result, () => formatExplain(result));
  } else {
    throw new CliError(`unknown command: ${positionals.join(" ")}\n${USAGE}`, 2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2), process.env, (s) => process.stdout.write(s + "\n")).catch((err: unknown) => {
    if (err instanceof CliError) {
      (err.exitCode === 0 ? process.stdout : process.stderr).write(err.message + "\n");
      process.exit(err.exitCode);
    }
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
