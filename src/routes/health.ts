/** Liveness (no I/O) and readiness (the store answers within the admin deadline). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/types.js";
import { errorBody } from "../errors.js";

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, ping: () => Promise<void>, timeoutMs: number, degraded: () => boolean = () => false): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
    });
    try {
      if (degraded()) throw new Error("circuit open");
      await Promise.race([ping(), timeout]);
      return c.json({ status: "ready" });
    } catch {
      return c.json(errorBody("UNAVAILABLE", "the store is unreachable", c.get("requestId") ?? "unknown"), 503);
    } finally {
      clearTimeout(timer);
    }
  });
}
