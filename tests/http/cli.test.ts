/**
 * The ops command line (`src/cli.ts`) against a real HTTP server: export, diff, push, versions,
 * restore and explain, and its exit codes (1 API error, 2 usage, 3 unreachable).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { run } from "../../src/cli.js";
import { buildTestService, OPS_KEY, type TestService } from "../helpers/app.js";


interface CatalogDocument {
  version: number;
  campaigns: { id: string; status?: string; weight?: number; [k: string]: unknown }[];
  units: { id: string; campaignId: string; cta: { text: string; url: string }; [k: string]: unknown }[];
  advertisers: { id: string }[];
  placements: { id: string }[];
}

let service: TestService;
let server: ServerType;
let url: string;
let dir: string;

function listen(s: TestService): Promise<{ server: ServerType; url: string }> {
  return new Promise((resolve) => {
    const srv = serve({ fetch: s.app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => resolve({ server: srv, url: `http://127.0.0.1:${info.port}` }));
  });
}

function closeServer(srv: ServerType): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** Runs the CLI; returns what it printed, or the error it threw with its exit code. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = { SP_URL: url, SP_API_KEY: OPS_KEY }): Promise<{ out: string; error?: Error & { exitCode?: unknown } }> {
  const lines: string[] = [];
  try {
    await run(argv, env, (s) => lines.push(s));
    return { out: lines.join("\n") };
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return { out: lines.join("\n"), error: err as Error & { exitCode?: unknown } };
  }
}

async function ok(argv: string[]): Promise<string> {
  const { out, error } = await cli(argv);
  if (error) throw new Error(`cli ${argv.join(" ")} failed (exit ${String(error.exitCode)}): ${error.message}`);
  return out;
}

async function readDoc(file: string): Promise<CatalogDocument> {
  return JSON.parse(await readFile(file, "utf8")) as CatalogDocument;
}

async function currentVersion(): Promise<number> {
  const res = await service.app.request("/v1/admin/catalog", { headers: { authorization: `Bearer ${OPS_KEY}` } });
  return ((await res.json()) as CatalogDocument).version;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sp-cli-test-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A fresh service and server per test, so versions are predictable.
beforeEach(async () => {
  service = await buildTestService();
  ({ server, url } = await listen(service));
  return async () => {
    await closeServer(server);
    await service.close();
  };
});

describe("catalog commands", () => {
  it("catalog export FILE writes the whole catalog document with its version", async () => {
    const file = path.join(dir, "export.json");
    const out = await ok(["catalog", "export", file]);
    expect(out).toBe(`wrote catalog version 1 to ${file}`);
    const doc = await readDoc(file);
    expect(doc.version).toBe(1);
    expect(doc.campaigns.map((c) => c.id).sort()).toEqual(["microsoft-quantum", "newsroom-daily", "walmart-us-manufacturing"]);
    expect(doc.units).toHaveLength(4);
    expect(doc.advertisers).toHaveLength(3);
    expect(doc.placements).toHaveLength(2);
  });

  it("catalog export without FILE prints the document", async () => {
    const out = await ok(["catalog", "export"]);
    expect((JSON.parse(out) as CatalogDocument).version).toBe(1);
  });

  it("catalog diff FILE prints the changed field as `~ campaign ... weight: 3 -> 7` and changes nothing", async () => {
    const file = path.join(dir, "diff.json");
    await ok(["catalog", "export", file]);
    const doc = await readDoc(file);
    const microsoft = doc.campaigns.find((c) => c.id === "microsoft-quantum");
    if (!microsoft) throw new Error("no microsoft-quantum");
    microsoft.weight = 7;
    await writeFile(file, JSON.stringify(doc));

    const out = await ok(["catalog", "diff", file]);
    expect(out).toMatch(/^~ campaign microsoft-quantum\n\s+weight: 3 -> 7$/m);
    expect(out.split("\n").filter((l) => /^[+~-] /.test(l))).toEqual(["~ campaign microsoft-quantum"]);
    expect(await currentVersion()).toBe(1);
  });

  it("catalog diff --json prints the API's diff", async () => {
    const file = path.join(dir, "diff-json.json");
    await ok(["catalog", "export", file]);
    const out = await ok(["--json", "catalog", "diff", file]);
    expect(JSON.parse(out)).toMatchObject({ dryRun: true, version: 1, diff: { added: [], changed: [], removed: [] } });
  });

  it("catalog push FILE applies the document as a new version", async () => {
    const file = path.join(dir, "push.json");
    await ok(["catalog", "export", file]);
    const doc = await readDoc(file);
    const walmart = doc.campaigns.find((c) => c.id === "walmart-us-manufacturing");
    if (!walmart) throw new Error("no walmart-us-manufacturing");
    walmart.status = "paused";
    await writeFile(file, JSON.stringify(doc));

    const out = await ok(["catalog", "push", file]);
    expect(out).toContain("~ campaign walmart-us-manufacturing");
    expect(out).toContain('status: "active" -> "paused"');
    expect(out).toContain("catalog version 1 -> 2");
    expect(await currentVersion()).toBe(2);
    const after = path.join(dir, "after-push.json");
    await ok(["catalog", "export", after]);
    expect((await readDoc(after)).campaigns.find((c) => c.id === "walmart-us-manufacturing")?.status).toBe("paused");
  });

  it("catalog versions lists versions newest first with actor and action", async () => {
    const file = path.join(dir, "versions.json");
    await ok(["catalog", "export", file]);
    const doc = await readDoc(file);
    const microsoft = doc.campaigns.find((c) => c.id === "microsoft-quantum");
    if (!microsoft) throw new Error("no microsoft-quantum");
    microsoft.weight = 7;
    await writeFile(file, JSON.stringify(doc));
    await ok(["catalog", "push", file]);

    const out = await ok(["catalog", "versions"]);
    const rows = out.split("\n").map((l) => l.split("\t"));
    expect(rows.map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      ["2", "ops-bootstrap", "import", "1 change(s)"],
      ["1", "system", "import", "12 change(s)"],
    ]);
  });

  it("catalog restore V restores the version as a new one", async () => {
    const file = path.join(dir, "restore.json");
    await ok(["catalog", "export", file]);
    const doc = await readDoc(file);
    const microsoft = doc.campaigns.find((c) => c.id === "microsoft-quantum");
    if (!microsoft) throw new Error("no microsoft-quantum");
    microsoft.weight = 7;
    await writeFile(file, JSON.stringify(doc));
    await ok(["catalog", "push", file]);

    const out = await ok(["catalog", "restore", "1"]);
    expect(out).toMatch(/^~ campaign microsoft-quantum\n\s+weight: 7 -> 3$/m);
    expect(out).toContain("restored version 1 as version 3");
    expect(await currentVersion()).toBe(3);
  });

  it("catalog restore of a version that does not exist exits 1 with NOT_FOUND", async () => {
    const { error } = await cli(["catalog", "restore", "99"]);
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toContain("NOT_FOUND");
  });
});

describe("explain", () => {
  it("explain PAGE.json with the war story fixture page prints Walmart as excluded with EXCLUDED_TOPIC", async () => {
    const fixtures = JSON.parse(await readFile(new URL("../fixtures/pages.json", import.meta.url), "utf8")) as { slug: string }[];
    const war = fixtures.find((p) => p.slug === "ukraine-north-korea");
    const file = path.join(dir, "war-page.json");
    await writeFile(file, JSON.stringify(war));

    const out = await ok(["explain", file]);
    const walmartLines = out.split("\n").filter((l) => l.includes("walmart-us-manufacturing"));
    expect(walmartLines.length).toBeGreaterThan(0);
    for (const line of walmartLines) expect(line).toMatch(/✗ walmart-us-manufacturing\s+.*EXCLUDED_TOPIC "military-conflict"/);
    expect(out).toMatch(/^slot mid: /m);
    expect(out).toMatch(/^slot end: /m);
    expect(out).not.toMatch(/^slot [^:]+: .*walmart-us-manufacturing/m);
  });
});

describe("errors and exit codes", () => {
  it("an invalid push prints the API's messages and exits 1, changing nothing", async () => {
    const file = path.join(dir, "invalid.json");
    await ok(["catalog", "export", file]);
    const doc = await readDoc(file);
    doc.units.push({ ...structuredClone(doc.units[0] as CatalogDocument["units"][number]), id: "orphan-unit", campaignId: "no-such-campaign" });
    await writeFile(file, JSON.stringify(doc));

    const { error } = await cli(["catalog", "push", file]);
    expect(error).toBeDefined();
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toContain("error BAD_REQUEST: invalid catalog document");
    expect(error?.message).toContain(`  - units.${doc.units.length - 1}.campaignId: unknown campaign "no-such-campaign"`);
    expect(await currentVersion()).toBe(1);
  });

  it("a schema-invalid push (an http CTA) prints the path and message and exits 1", async () => {
    const file = path.join(dir, "invalid-cta.json");
    await ok(["catalog", "export", file]);
    const doc = await readDoc(file);
    const unit = doc.units[0] as CatalogDocument["units"][number];
    unit.cta = { text: "Go", url: "http://insecure.example/" };
    await writeFile(file, JSON.stringify(doc));
    const { error } = await cli(["catalog", "push", file]);
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toMatch(/units\.0\.cta\.url: must be an https URL/);
  });

  it("a wrong key exits 1 with UNAUTHENTICATED", async () => {
    const { error } = await cli(["catalog", "versions"], { SP_URL: url, SP_API_KEY: "not-a-real-key-0123456789" });
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toContain("UNAUTHENTICATED");
  });

  it("--key and --url override the environment", async () => {
    const out = await ok(["--url", url, "--key", OPS_KEY, "catalog", "versions"]);
    expect(out.split("\n")[0]).toMatch(/^1\t/);
    const { error } = await cli(["--url", url, "--key", "wrong-key-0123456789abcdef", "catalog", "versions"]);
    expect(error?.exitCode).toBe(1);
  });

  it("an unreachable URL exits 3", async () => {
    const dead = await listen(service);
    await closeServer(dead.server);
    const { error } = await cli(["catalog", "versions"], { SP_URL: dead.url, SP_API_KEY: OPS_KEY });
    expect(error?.exitCode).toBe(3);
    expect(error?.message).toContain(`cannot reach ${dead.url}`);
  });

  it("no key exits 2", async () => {
    const { error } = await cli(["catalog", "versions"], { SP_URL: url });
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toMatch(/API key is required/);
  });

  it("ADMIN_API_KEY in the environment is used when SP_API_KEY is unset", async () => {
    const { out, error } = await cli(["catalog", "versions"], { SP_URL: url, ADMIN_API_KEY: OPS_KEY });
    expect(error).toBeUndefined();
    expect(out).toMatch(/^1\t/);
  });

  it("usage errors exit 2: no command, an unknown command, a missing FILE, a bad VERSION, a FILE that is not JSON", async () => {
    const notJson = path.join(dir, "not-json.json");
    await writeFile(notJson, "{ nope");
    for (const argv of [[], ["catalog", "frobnicate"], ["catalog", "push"], ["catalog", "restore", "latest"], ["catalog", "push", notJson], ["catalog", "push", path.join(dir, "missing.json")]]) {
      const { error } = await cli(argv);
      expect(error?.exitCode, argv.join(" ")).toBe(2);
    }
  });
});
