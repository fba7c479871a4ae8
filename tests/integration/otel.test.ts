/**
 * OpenTelemetry: with the SDK registered the way an operator would (`node --import ./otel.mjs`),
 * one decision produces a span tree (server span continuing the incoming traceparent →
 * decision.decide → store.caps.serve), metrics through the API, and its log line carries the
 * trace id. Uses the SDK's in-memory exporters.
 */
import { Writable } from "node:stream";
import { metrics, propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { composeService } from "../../src/compose.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { fakeClock, seededRandom } from "../helpers/app.js";

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const meterProvider = new MeterProvider({ readers: [reader] });
const logLines: Record<string, unknown>[] = [];
let service: Awaited<ReturnType<typeof composeService>>;

beforeAll(async () => {
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() });
  metrics.setGlobalMeterProvider(meterProvider);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  service = await composeService(
    parseConfig({ NODE_ENV: "test", ADMIN_API_KEY: "otel-ops-key-0123456789", TRACKING_SECRET: "otel-tracking-secret-0123", LOG_LEVEL: "info" }),
    { logger: createLogger("info", sink), clock: fakeClock().now, random: seededRandom(), background: false },
  );
});

afterAll(async () => {
  await service.close();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  trace.disable();
  metrics.disable();
  propagation.disable();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";

describe("OpenTelemetry", () => {
  it("records the span tree of one decision, continuing the incoming traceparent, and puts the trace id on its log line", async () => {
    const res = await service.app.request("/v1/decisions", {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
      body: JSON.stringify({
        page: { url: "https://news.example/economy", section: "economy", language: "en" },
        user: { key: "reader-1" },
        slots: [
          { id: "mid-1", placement: "article-mid" },
          { id: "end-1", placement: "article-end", count: 3 },
          { id: "x", placement: "no-such-placement" },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { slots: { units: unknown[] }[] };
    const served = body.slots.reduce((n, s) => n + s.units.length, 0);
    expect(served).toBeGreaterThan(0);

    const finished = spans.getFinishedSpans();
    const server = finished.find((s) => s.name === "POST /v1/decisions");
    const decide = finished.find((s) => s.name === "decision.decide");
    const store = finished.find((s) => s.name === "store.caps.serve");
    expect(server && decide && store).toBeTruthy();
    if (!server || !decide || !store) return;
    // One trace, continued from the caller.
    for (const s of [server, decide, store]) expect(s.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(decide.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(store.parentSpanContext?.spanId).toBe(decide.spanContext().spanId);
    expect(server.attributes["http.response.status_code"]).toBe(200);
    expect(decide.attributes["sp.slots"]).toBe(3);
    expect(decide.attributes["sp.units"]).toBe(served);
    expect(decide.attributes["sp.no_fill_reasons"]).toEqual(["UNKNOWN_PLACEMENT"]);

    const decisionLine = logLines.find((l) => l.msg === "decision");
    expect(decisionLine?.trace_id).toBe(TRACE_ID);
    expect(decisionLine?.span_id).toBe(decide.spanContext().spanId);
  });

  it("counts decisions, fills by tier, no-fills by reason and store latency through the metrics API", async () => {
    await reader.forceFlush();
    const exported = metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    const byName = new Map(exported.map((m) => [m.descriptor.name, m]));
    const points = (name: string) => byName.get(name)?.dataPoints ?? [];
    expect(points("sp.decisions").reduce((n, p) => n + Number(p.value), 0)).toBeGreaterThanOrEqual(1);
    const tiers = points("sp.fills").map((p) => p.attributes.tier);
    expect(tiers).toEqual(expect.arrayContaining(["sponsorship", "standard", "house"]));
    expect(points("sp.no_fill").map((p) => p.attributes.reason)).toContain("UNKNOWN_PLACEMENT");
    expect(points("sp.store.duration").map((p) => p.attributes.operation)).toContain("caps.serve");
  });
});
