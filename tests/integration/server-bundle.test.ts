/**
 * What `npm start` runs: src/server.ts compiled into dist/server.js and started with plain node,
 * from another working directory, with no configuration. It must find its data and page script,
 * serve the sample catalog on the in-process store, and stop cleanly on SIGTERM.
 */
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNodeEntry } from "../../scripts/node-bundle.js";
import { freePort } from "../helpers/browser.js";

let base = "";
let child: ReturnType<typeof spawn> | undefined;
let output = "";

beforeAll(async () => {
  const entry = await buildNodeEntry("src/server.ts", "dist/server.js");
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info" };
  child = spawn(process.execPath, ["--enable-source-maps", entry], { cwd: tmpdir(), env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`dist/server.js did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGKILL");
  }
});

describe("the compiled server (dist/server.js)", () => {
  it("serves the sample catalog and the page script when started from another directory", async () => {
    const res = await fetch(`${base}/v1/decisions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ page: { url: "https://news.example/politics/carney", section: "politics", topics: ["trade"], language: "en" }, slots: [{ id: "mid", placement: "article-mid" }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { slots: { units: { campaignId: string; disclosure: { label: string } }[] }[] };
    expect(body.slots[0]?.units.length).toBe(1);
    expect(body.slots[0]?.units[0]?.disclosure.label).toBeTruthy();
    const embed = await fetch(`${base}/embed.js`);
    expect(embed.status).toBe(200);
    expect((await embed.text()).length).toBeGreaterThan(1000);
  });

  it("drains and exits 0 on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child?.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 20_000);
});
