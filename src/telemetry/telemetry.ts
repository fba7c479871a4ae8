/**
 * OpenTelemetry through the API package only: the operator brings the SDK (see
 * docs/operations.md). Without an SDK every call here is a no-op, so the service pays almost
 * nothing for it.
 *
 * Spans: a server span per request (an incoming `traceparent` is honoured), `decision.decide`
 * with slot/fill/no-fill attributes, and `store.*` child spans for store calls.
 * Metrics: `sp.decisions`, `sp.fills` (by tier), `sp.no_fill` (by reason), `sp.degraded`,
 * `sp.store.duration` (ms, by operation and outcome), `sp.events` (by type and filter reason).
 */
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Span,
  type Tracer,
} from "@opentelemetry/api";

export interface Telemetry {
  readonly tracer: Tracer;
  readonly decisions: Counter;
  readonly fills: Counter;
  readonly noFills: Counter;
  readonly degraded: Counter;
  readonly storeDuration: Histogram;
  readonly events: Counter;
}

export function createTelemetry(version = "1.0.0"): Telemetry {
  const meter = metrics.getMeter("sponsored-placements", version);
  return {
    tracer: trace.getTracer("sponsored-placements", version),
    decisions: meter.createCounter("sp.decisions", { description: "Decisions answered" }),
    fills: meter.createCounter("sp.fills", { description: "Units served, by tier" }),
    noFills: meter.createCounter("sp.no_fill", { description: "Slots without a unit, by reason" }),
    degraded: meter.createCounter("sp.degraded", { description: "Responses served degraded (store unavailable)" }),
    storeDuration: meter.createHistogram("sp.store.duration", { description: "Store call duration", unit: "ms" }),
    events: meter.createCounter("sp.events", { description: "Beacons, by type and outcome" }),
  };
}

/** Runs `fn` in a span named `name` (a child of the active one); errors mark the span and are rethrown. */
export async function inSpan<T>(tracer: Tracer, name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind?: SpanKind): Promise<T> {
  return tracer.startActiveSpan(name, { attributes, ...(kind === undefined ? {} : { kind }) }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Times a store call into a span and the duration histogram. */
export function storeCall<T>(t: Telemetry, operation: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  return inSpan(t.tracer, `store.${operation}`, { "sp.store.operation": operation }, fn).then(
    (v) => {
      t.storeDuration.record(performance.now() - started, { operation, outcome: "ok" });
      return v;
    },
    (err: unknown) => {
      t.storeDuration.record(performance.now() - started, { operation, outcome: "error" });
      throw err;
    },
  );
}

/** Starts the server span of a request, continuing an incoming W3C trace context. */
export function serverSpan<T>(t: Telemetry, name: string, headers: Headers, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = propagation.extract(context.active(), headers, {
    get: (h, key) => h.get(key) ?? undefined,
    keys: (h) => {
      const keys: string[] = [];
      h.forEach((_v, k) => keys.push(k));
      return keys;
    },
  });
  return context.with(parent, () => inSpan(t.tracer, name, attributes, fn, SpanKind.SERVER));
}

/** `trace_id` and `span_id` of the active span, for log lines (empty when not traced). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const ctx = span.spanContext();
  return trace.isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}
