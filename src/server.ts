/**
 * Node entry point: parse configuration (exit 1 naming the bad variable), compose, listen on PORT,
 * and on SIGTERM/SIGINT stop accepting, drain in-flight requests, then close the stores.
 */
import { serve } from "@hono/node-server";
import { parseConfigOrExit } from "./config.js";
import { composeService } from "./compose.js";
import { nodeClientIp } from "./node-client-ip.js";
import { loadNodeAssets } from "./node-assets.js";

async function main(): Promise<void> {
  const config = parseConfigOrExit(process.env);
  const service = await composeService(config, { clientIp: nodeClientIp(config.TRUST_PROXY), assets: await loadNodeAssets() });
  const { logger } = service;
  const server = serve({ fetch: service.app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    logger.info({ port: info.port, store: service.stores.kind, catalogVersion: service.catalog.current().version }, "listening");
    if (process.stdout.isTTY || process.env.npm_lifecycle_event === "start") {
      process.stdout.write(`Sponsored Placements listening on http://localhost:${info.port} (store: ${service.stores.kind})\n`);
    }
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining in-flight requests");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(() => {
      service
        .close()
        .catch((err: unknown) => logger.error({ err }, "error while closing stores"))
        .finally(() => {
          logger.flush();
          process.exit(0);
        });
    });
    if ("closeIdleConnections" in server) (server as { closeIdleConnections(): void }).closeIdleConnections();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
