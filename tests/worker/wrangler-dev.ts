/**
 * Runs the Worker (src/worker.ts, wrangler.toml) in local workerd through `wrangler dev`, on a free
 * port, with the given vars, and stops it (the whole process group: wrangler and workerd).
 * Used by the smoke test and by scripts/edge-bench.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = resolve(ROOT, "node_modules/wrangler/bin/wrangler.js");
const OUTPUT_TAIL_CHARS = 6000;

export interface WorkerHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The last lines wrangler and the Worker printed (diagnostics). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise<number>((resolvePort, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolvePort(address.port) : reject(new Error("no free port"))));
    });
  });
}

/**
 * Starts `wrangler dev` and resolves once GET /healthz answers 200 (with `anyStatus`, any HTTP
 * answer: the Worker answers 503 while its store is unreachable); rejects with wrangler's output.
 */
export async function startWorker(vars: Record<string, string>, options: { readyTimeoutMs?: number; anyStatus?: boolean } = {}): Promise<WorkerHandle> {
  if (!existsSync(WRANGLER)) throw new Error(`wrangler is not installed (${WRANGLER} missing): run npm ci`);
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    WRANGLER,
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--show-interactive-dev-session=false",
    "--live-reload=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CI: process.env.CI ?? "" },
  });
  let output = "";
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `wrangler dev exited (code ${code}, signal ${signal})`));
  child.once("error", (err) => (exited = `wrangler dev could not start: ${err.message}`));

  const stop = async (): Promise<void> => {
    if (exited || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 3000);
    await gone;
    clearTimeout(timer);
  };
  process.once("exit", () => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 45_000);
  for (;;) {
    if (exited) throw new Error(`${exited}\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200 || options.anyStatus) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer on ${url}/healthz in time\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, output: () => output, stop };
}
