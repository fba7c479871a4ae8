/**
 * A throwaway local Redis Cluster for tests: three masters (`redis-server --cluster-enabled yes`)
 * on free ports in a temp dir, joined with `redis-cli --cluster create`, torn down afterwards.
 * Never touches the shared Redis on 6379.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface ClusterHandle {
  /** `host:port` seeds, comma-separated (the `REDIS_CLUSTER_NODES` form). */
  readonly nodes: string;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function send(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.setTimeout(2000, () => socket.destroy(new Error("timeout")));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.endsWith("\r\n")) socket.end();
    });
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
    socket.write(command + "\r\n");
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function clusterToolsAvailable(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0 && spawnSync("redis-cli", ["--version"]).status === 0;
}

export async function startRedisCluster(): Promise<ClusterHandle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "redis-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  try {
    for (const port of ports) {
      const child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`,
          "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"],
        { stdio: "ignore" },
      );
      children.push(child);
    }
    for (const port of ports) await waitFor(async () => (await send(port, "PING")).startsWith("+PONG"), 10_000, `redis-server on ${port}`);
    const created = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) await waitFor(async () => (await send(port, "CLUSTER INFO")).includes("cluster_state:ok"), 15_000, "cluster_state:ok");
  } catch (err) {
    for (const c of children) c.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once("exit", () => resolve());
              c.kill("SIGKILL");
            }),
        ),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}
