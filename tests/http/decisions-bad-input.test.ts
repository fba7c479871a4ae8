/**
 * POST /v1/decisions with bad input: every case is a 4xx in the error envelope, never a 5xx.
 */
import { describe, expect, it } from "vitest";
import { buildTestService } from "../helpers/app.js";
import { decisionBody, expectError, page, postDecision, type ErrorEnvelope } from "./support.js";

function validBody(): Record<string, unknown> {
  return { ...decisionBody("canada-carney", "bad-input-reader") };
}

/** A valid body with one field replaced (path like `page.url` or `slots.0.count`). */
function withField(path: string, value: unknown): unknown {
  const body = structuredClone(validBody());
  const parts = path.split(".");
  let target: Record<string, unknown> | unknown[] = body;
  for (const part of parts.slice(0, -1)) {
    const next: unknown = Array.isArray(target) ? target[Number(part)] : target[part];
    if (typeof next !== "object" || next === null) throw new Error(`bad path ${path}`);
    target = next as Record<string, unknown> | unknown[];
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(target)) target[Number(last)] = value;
  else target[last] = value;
  return body;
}

function detailPaths(body: ErrorEnvelope): string[] {
  return (body.error.details ?? []).map((d) => d.path);
}

describe("wrong types are a 400 with the offending path", () => {
  const cases: [string, unknown, string][] = [
    ["page is a string", withField("page", "https://news.example/x"), "page"],
    ["page is missing", (() => { const b = validBody(); delete b.page; return b; })(), "page"],
    ["page.url is a number", withField("page.url", 42), "page.url"],
    ["page.url is not a URL", withField("page.url", "not a url"), "page.url"],
    ["page.url is empty", withField("page.url", ""), "page.url"],
    ["page.section is an array", withField("page.section", ["economy"]), "page.section"],
    ["page.topics is a string", withField("page.topics", "trade"), "page.topics"],
    ["page.topics holds a number", withField("page.topics", ["trade", 7]), "page.topics.1"],
    ["page.keywords is an object", withField("page.keywords", { a: 1 }), "page.keywords"],
    ["page.title is a boolean", withField("page.title", true), "page.title"],
    ["page.language is a number", withField("page.language", 1), "page.language"],
    ["user is a string", withField("user", "someone"), "user"],
    ["user.key is a number", withField("user.key", 123), "user.key"],
    ["user.key is empty", withField("user.key", ""), "user.key"],
    ["slots is an object", withField("slots", { id: "a", placement: "article-mid" }), "slots"],
    ["slots is missing", (() => { const b = validBody(); delete b.slots; return b; })(), "slots"],
    ["a slot is null", withField("slots.0", null), "slots.0"],
    ["a slot id is a number", withField("slots.0.id", 1), "slots.0.id"],
    ["a slot id has spaces", withField("slots.0.id", "mid 1"), "slots.0.id"],
    ["a slot placement is a number", withField("slots.0.placement", 5), "slots.0.placement"],
    ["a slot placement is missing", withField("slots.0", { id: "mid-1" }), "slots.0.placement"],
    ["a slot placement is empty", withField("slots.0.placement", ""), "slots.0.placement"],
    ["count is a string", withField("slots.0.count", "1"), "slots.0.count"],
    ["count is a fraction", withField("slots.0.count", 1.5), "slots.0.count"],
    ["count is negative", withField("slots.0.count", -1), "slots.0.count"],
    ["geo is a string", withField("geo", "US"), "geo"],
    ["geo.country is a number", withField("geo", { country: 840 }), "geo.country"],
    ["geo.country is not two letters", withField("geo", { country: "USA" }), "geo.country"],
    ["device is a number", withField("device", 1), "device"],
    ["device.type is an array", withField("device", { type: ["mobile"] }), "device.type"],
  ];

  it.each(cases)("rejects a body where %s", async (_name, body, path) => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, body), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain(path);
  });
});

describe("limits are a 400", () => {
  it("rejects zero slots", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, withField("slots", [])), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("slots");
  });

  it("rejects eleven slots", async () => {
    const { app } = await buildTestService();
    const slots = Array.from({ length: 11 }, (_, i) => ({ id: `s${i}`, placement: "article-end" }));
    const err = await expectError(await postDecision(app, withField("slots", slots)), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("slots");
  });

  it("accepts ten slots", async () => {
    const { app } = await buildTestService();
    const slots = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, placement: "article-end" }));
    const res = await postDecision(app, withField("slots", slots));
    expect(res.status).toBe(200);
  });

  it.each([0, 6, 99])("rejects count %i", async (count) => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, withField("slots.1.count", count)), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("slots.1.count");
  });

  it("rejects a 5,000-character user key", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, withField("user.key", "u".repeat(5000))), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("user.key");
  });

  it("rejects a 257-character user key and accepts a 256-character one", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, withField("user.key", "u".repeat(257))), 400, "BAD_REQUEST");
    expect((await postDecision(app, withField("user.key", "u".repeat(256)))).status).toBe(200);
  });

  it.each(["section", "title"])("rejects a 3,000-character page.%s", async (field) => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, withField(`page.${field}`, "x".repeat(3000))), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain(`page.${field}`);
  });

  it("rejects a 3,000-character page.url", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, withField("page.url", `https://news.example/${"a".repeat(3000)}`)), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("page.url");
  });

  it("rejects a 3,000-character topic", async () => {
    const { app } = await buildTestService();
    const err = await expectError(await postDecision(app, withField("page.topics", ["x".repeat(3000)])), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("page.topics.0");
  });

  it("rejects 51 topics", async () => {
    const { app } = await buildTestService();
    const topics = Array.from({ length: 51 }, (_, i) => `topic-${i}`);
    const err = await expectError(await postDecision(app, withField("page.topics", topics)), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("page.topics");
  });

  it("rejects 51 keywords", async () => {
    const { app } = await buildTestService();
    const keywords = Array.from({ length: 51 }, (_, i) => `keyword-${i}`);
    const err = await expectError(await postDecision(app, withField("page.keywords", keywords)), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("page.keywords");
  });

  it("accepts 50 topics and 50 keywords", async () => {
    const { app } = await buildTestService();
    const body = { ...validBody(), page: { ...page("canada-carney"), topics: Array.from({ length: 50 }, (_, i) => `t${i}`), keywords: Array.from({ length: 50 }, (_, i) => `k${i}`) } };
    expect((await postDecision(app, body)).status).toBe(200);
  });

  it("rejects duplicate slot ids, naming the second one", async () => {
    const { app } = await buildTestService();
    const slots = [
      { id: "same", placement: "article-mid" },
      { id: "same", placement: "article-end" },
    ];
    const err = await expectError(await postDecision(app, withField("slots", slots)), 400, "BAD_REQUEST");
    expect(detailPaths(err)).toContain("slots.1.id");
  });
});

describe("malformed bodies", () => {
  it("rejects broken JSON with a 400", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, '{"page": {"url": "https://news.example/x"}, "slots": ['), 400, "BAD_REQUEST");
  });

  it("rejects an empty body with a 400", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, ""), 400, "BAD_REQUEST");
  });

  it("rejects a request with no body at all with a 400", async () => {
    const { app } = await buildTestService();
    const res = await app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" } });
    await expectError(res, 400, "BAD_REQUEST");
  });

  it("rejects a whitespace-only body with a 400", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, "   \n  "), 400, "BAD_REQUEST");
  });

  it("rejects a JSON array instead of an object with a 400", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, JSON.stringify([validBody()])), 400, "BAD_REQUEST");
  });

  it("rejects JSON null with a 400", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, "null"), 400, "BAD_REQUEST");
  });

  it.each(['"a string"', "42", "true"])("rejects the JSON scalar %s with a 400", async (text) => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, text), 400, "BAD_REQUEST");
  });

  it("rejects a body that is not valid UTF-8 with a 400", async () => {
    const { app } = await buildTestService();
    const prefix = new TextEncoder().encode('{"page":{"url":"https://news.example/');
    const suffix = new TextEncoder().encode('"},"slots":[{"id":"a","placement":"article-mid"}]}');
    const bytes = new Uint8Array([...prefix, 0xff, 0xfe, ...suffix]);
    const res = await app.request("/v1/decisions", { method: "POST", headers: { "content-type": "application/json" }, body: bytes });
    await expectError(res, 400, "BAD_REQUEST");
  });

  it("rejects deeply nested JSON with a 4xx, not a crash", async () => {
    const { app } = await buildTestService();
    const depth = 20_000;
    const res = await postDecision(app, "[".repeat(depth) + "]".repeat(depth));
    await expectError(res, 400, "BAD_REQUEST");
  });

  it("rejects a body with prototype-polluting keys without harm", async () => {
    const { app } = await buildTestService();
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' + JSON.stringify(validBody()).slice(1);
    const res = await postDecision(app, text);
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("body size and media type", () => {
  it("answers a 2 MB body with 413 PAYLOAD_TOO_LARGE", async () => {
    const { app } = await buildTestService();
    const body = { ...validBody(), padding: "x".repeat(2 * 1024 * 1024) };
    await expectError(await postDecision(app, body), 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers a 70 KB body with 413 because the decisions limit is 64 KiB", async () => {
    const { app } = await buildTestService();
    const body = { ...validBody(), padding: "x".repeat(70 * 1024) };
    await expectError(await postDecision(app, body), 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers a 70 KB body with 413 even when Content-Length is declared", async () => {
    const { app } = await buildTestService();
    const text = JSON.stringify({ ...validBody(), padding: "x".repeat(70 * 1024) });
    const res = await postDecision(app, text, { "content-length": String(Buffer.byteLength(text)) });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("accepts a body just under 64 KiB", async () => {
    const { app } = await buildTestService();
    const base = JSON.stringify({ ...validBody(), padding: "" });
    const body = { ...validBody(), padding: "x".repeat(64 * 1024 - Buffer.byteLength(base) - 10) };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(64 * 1024);
    expect((await postDecision(app, body)).status).toBe(200);
  });

  it("answers the next request normally after a 413", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, { ...validBody(), padding: "x".repeat(100 * 1024) }), 413, "PAYLOAD_TOO_LARGE");
    expect((await postDecision(app, validBody())).status).toBe(200);
  });

  it("answers application/xml with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, "<decision/>", { "content-type": "application/xml" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers application/xml with 415 even when the body is JSON", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, validBody(), { "content-type": "application/xml" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers a form-encoded body with 415", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, "a=1", { "content-type": "application/x-www-form-urlencoded" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers text/plain holding something that is not JSON with 400", async () => {
    const { app } = await buildTestService();
    await expectError(await postDecision(app, "hello", { "content-type": "text/plain" }), 400, "BAD_REQUEST");
  });
});

describe("never a 5xx", () => {
  it("answers a burst of assorted garbage with 4xx only", async () => {
    const { app } = await buildTestService();
    const garbage: [string, string][] = [
      ["application/json", "{"],
      ["application/json", "}"],
      ["application/json", '{"page":null,"slots":null}'],
      ["application/json", '{"page":{"url":"https://a.example"},"slots":[{"id":"__proto__","placement":"__proto__"}],"user":{"key":"__proto__"}}'],
      ["application/json", '{"page":{"url":"https://a.example","topics":["__proto__","constructor"]},"slots":[{"id":"a","placement":"constructor","count":1e308}]}'],
      ["application/json", '{"page":{"url":"https://a.example"},"slots":[{"id":"a","placement":"article-mid","count":NaN}]}'],
      ["application/json", '{"page":{"url":"https://a.example"},"slots":[{"id":"a","placement":"article-mid"}],"geo":{"country":null},"device":{"type":null}}'],
      ["application/json", "\u0000"],
      ["text/plain", "[]"],
      ["application/json", JSON.stringify({ page: { url: "javascript:alert(1)" }, slots: [{ id: "a", placement: "article-mid" }] })],
    ];
    for (const [type, text] of garbage) {
      const res = await postDecision(app, text, { "content-type": type });
      const bodyText = await res.text();
      expect(res.status, `${text} -> ${bodyText}`).toBeLessThan(500);
      if (res.status >= 400) {
        const body = JSON.parse(bodyText) as ErrorEnvelope;
        expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
      }
    }
  });

  it("serves valid pages with odd but allowed values", async () => {
    const { app } = await buildTestService();
    const body = {
      page: { url: "https://news.example/%E2%9C%93?q=<script>", section: "  ECONOMY ", topics: ["", " ", "TRADE"], keywords: ["ünïcødé", "😀"], language: "EN-gb" },
      user: { key: "😀".repeat(64) },
      slots: [{ id: "a.b:c-d_e", placement: "article-mid" }],
      geo: { country: "us" },
    };
    const res = await postDecision(app, body);
    expect(res.status).toBe(200);
  });
});
