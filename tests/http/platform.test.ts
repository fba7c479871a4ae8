/**
 * Cross-cutting HTTP behaviour: request ids, the 404 envelope, health and readiness probes, and the
 * OpenAPI document.
 */
import { describe, expect, it } from "vitest";
import { buildTestService } from "../helpers/app.js";
import { adminCall, decisionBody, expectError, postDecision, readBody } from "./support.js";

describe("request ids", () => {
  it("puts an X-Request-Id on a successful decision", async () => {
    const { app } = await buildTestService();
    const res = await postDecision(app, decisionBody("canada-carney", "rid-reader"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/\S+/);
  });

  it("puts an X-Request-Id on errors, matching the envelope's requestId", async () => {
    const { app } = await buildTestService();
    const bad = await postDecision(app, "{");
    await expectError(bad, 400, "BAD_REQUEST");
    const unauth = await app.request("/v1/admin/advertisers");
    await expectError(unauth, 401, "UNAUTHENTICATED");
    const tooLarge = await postDecision(app, { padding: "x".repeat(80 * 1024) });
    await expectError(tooLarge, 413, "PAYLOAD_TOO_LARGE");
  });

  it("puts an X-Request-Id on 404s for unknown routes", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/no/such/route");
    await expectError(res, 404, "NOT_FOUND");
  });

  it("puts an X-Request-Id on health probes, admin reads and deletes", async () => {
    const { app } = await buildTestService();
    for (const res of [
      await app.request("/healthz"),
      await app.request("/readyz"),
      await adminCall(app, "GET", "/v1/admin/advertisers"),
      await adminCall(app, "DELETE", "/v1/admin/units/newsroom-daily-signup"),
    ]) {
      expect(res.headers.get("x-request-id"), res.url).toMatch(/\S+/);
    }
  });

  it("gives every request its own id", async () => {
    const { app } = await buildTestService();
    const ids = new Set<string | null>();
    for (let i = 0; i < 20; i++) ids.add((await app.request("/healthz")).headers.get("x-request-id"));
    expect(ids.size).toBe(20);
  });

  it("echoes a valid incoming X-Request-Id on success and on error", async () => {
    const { app } = await buildTestService();
    const ok = await postDecision(app, decisionBody("canada-carney", "echo-reader"), { "X-Request-Id": "edge-abc.123:xyz" });
    expect(ok.headers.get("x-request-id")).toBe("edge-abc.123:xyz");
    const bad = await postDecision(app, "{", { "X-Request-Id": "edge-err-42" });
    const err = await expectError(bad, 400, "BAD_REQUEST");
    expect(err.error.requestId).toBe("edge-err-42");
    const missing = await app.request("/nope", { headers: { "X-Request-Id": "edge-404" } });
    expect((await expectError(missing, 404, "NOT_FOUND")).error.requestId).toBe("edge-404");
  });

  it.each([
    ["containing spaces", "has spaces in it"],
    ["containing markup", "<script>"],
    ["longer than 128 characters", "a".repeat(129)],
  ])("replaces an incoming X-Request-Id %s with its own", async (_name, incoming) => {
    const { app } = await buildTestService();
    const res = await app.request("/healthz", { headers: { "X-Request-Id": incoming } });
    const id = res.headers.get("x-request-id");
    expect(id).toBeTruthy();
    expect(id).not.toBe(incoming);
  });
});

describe("unknown routes", () => {
  it("answers an unknown path with the 404 envelope", async () => {
    const { app } = await buildTestService();
    await expectError(await app.request("/v2/decisions", { method: "POST" }), 404, "NOT_FOUND");
  });

  it("answers GET on the decisions path with a 4xx envelope, not a 5xx", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/v1/decisions");
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("answers an unknown admin entity with an error envelope for an ops key", async () => {
    const { app } = await buildTestService();
    await expectError(await adminCall(app, "GET", "/v1/admin/widgets"), 404, "NOT_FOUND");
  });
});

describe("cross-origin pages", () => {
  it("lets a page on another origin read a decision made with a CORS-simple text/plain request", async () => {
    const { app } = await buildTestService();
    const res = await postDecision(app, JSON.stringify(decisionBody("canada-carney", "cors-reader")), {
      "content-type": "text/plain;charset=UTF-8",
      origin: "https://news.example",
    });
    expect(res.status).toBe(200);
    const allowed = res.headers.get("access-control-allow-origin");
    expect(allowed === "*" || allowed === "https://news.example", `Access-Control-Allow-Origin: ${String(allowed)}`).toBe(true);
  });

  it("answers a preflight for decisions with 204, the allowed methods and headers, and a cache lifetime", async () => {
    const { app } = await buildTestService({ env: { ALLOWED_ORIGINS: "https://news.example" } });
    const res = await app.request("/v1/decisions", {
      method: "OPTIONS",
      headers: { origin: "https://news.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://news.example");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,OPTIONS");
    expect(res.headers.get("access-control-allow-headers")).toBe("Content-Type");
    expect(res.headers.get("access-control-max-age")).toBe("86400");
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("x-request-id")).toMatch(/\S+/);
  });

  it("gives an origin outside ALLOWED_ORIGINS no Access-Control-Allow-Origin, on preflights, decisions and beacons", async () => {
    const { app } = await buildTestService({ env: { ALLOWED_ORIGINS: "https://news.example" } });
    const preflight = await app.request("/v1/decisions", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const decision = await postDecision(app, decisionBody("canada-carney", "cors-other"), { origin: "https://evil.example" });
    expect(decision.status).toBe(200);
    expect(decision.headers.get("access-control-allow-origin")).toBeNull();
    expect(decision.headers.get("vary")).toContain("Origin");
    const beacon = await app.request("/v1/events/impression?t=nonsense", { method: "POST", headers: { origin: "https://evil.example" } });
    expect(beacon.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("keeps the CORS headers, the security headers and Vary on decision errors, so the page can read them", async () => {
    const { app } = await buildTestService({ env: { ALLOWED_ORIGINS: "https://news.example" } });
    const res = await postDecision(app, "{", { origin: "https://news.example" });
    await expectError(res, 400, "BAD_REQUEST");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://news.example");
    expect(res.headers.get("vary")).toBe("Origin");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("sends a decision's CORS, cache and security headers once each", async () => {
    const { app } = await buildTestService({ env: { ALLOWED_ORIGINS: "https://news.example" } });
    const res = await postDecision(app, decisionBody("canada-carney", "cors-once"), { origin: "https://news.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://news.example");
    expect(res.headers.get("vary")).toBe("Origin");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  });
});

describe("probes", () => {
  it("answers /healthz with 200", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
  });

  it("answers /readyz with 200 when the store is reachable", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/readyz");
    expect(res.status).toBe(200);
  });
});

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
}

describe("OpenAPI document", () => {
  // Generous timeouts: the document is built per request (see the size test below).
  it("serves an OpenAPI 3.1 document listing the decisions and admin paths", { timeout: 60_000 }, async () => {
    const { app } = await buildTestService();
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    const doc = await readBody<OpenApiDocument>(res);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title.length).toBeGreaterThan(0);
    const paths = Object.keys(doc.paths);
    for (const p of [
      "/v1/decisions",
      "/v1/admin/advertisers",
      "/v1/admin/advertisers/{id}",
      "/v1/admin/placements",
      "/v1/admin/placements/{id}",
      "/v1/admin/campaigns",
      "/v1/admin/campaigns/{id}",
      "/v1/admin/units",
      "/v1/admin/units/{id}",
      "/v1/admin/keys",
      "/v1/admin/keys/{id}",
      "/v1/admin/audit",
      "/v1/admin/explain",
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(Object.keys(doc.paths["/v1/decisions"] ?? {})).toContain("post");
    expect(Object.keys(doc.paths["/v1/admin/campaigns/{id}"] ?? {})).toEqual(expect.arrayContaining(["get", "patch", "delete"]));
  });

  it("keeps the OpenAPI document under 1 MB", { timeout: 60_000 }, async () => {
    const { app } = await buildTestService();
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const bytes = (await res.arrayBuffer()).byteLength;
    expect(bytes).toBeLessThan(1024 * 1024);
  });
});
