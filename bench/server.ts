/**
 * The benchmark's server process: the real service (config from env, `composeService`) plus a few
 * `/__bench/*` routes for baselines and measurements, served by `@hono/node-server` like
 * src/server.ts. Run by bench/decisions.ts as a child process so the load generator never shares
 * this event loop.
 *
 * Extra routes (registered on the returned app before serving, after the service's middleware, so
 * they pay the same per-request middleware as every route):
 *   GET  /__bench/empty       c.text("ok"): the framework + middleware floor
 *   GET  /__bench/redis       one INCR through a long-lived auto-pipelining ioredis client
 *   POST /__bench/floor       what any implementation of POST /v1/decisions must do at least: the
 *                             same body read, parsed and validated as a decision, one INCR, and
 *                             the same response bytes (a real decision's JSON, captured once) with
 *                             the decision route's CORS middleware; no selection, no signing
 *   POST /__bench/io, /__bench/io-capped, /__bench/io-signed: the floor without validation, then
 *                             with the least cap script, then with the least cryptography (see
 *                             their comment below): lower bounds on any decision's cost
 *   GET  /__bench/stats       memory (`?gc=1`: after a full GC), CPU, event-loop utilisation, garbage collections
 *                             (count and main-thread pause by kind, since start), snapshot/index shape, and the
 *                             service's own counters (decisions, fills, no-fills, degraded, store
 *                             call durations since the last `?reset=1`), taken through the
 *                             `telemetry` option of composeService, and decisions in flight
 *   POST /__bench/rebuild     times a forced catalog refresh (store load + compile) and a compile alone
 *   POST /__bench/loop/start, /__bench/loop/stop: event-loop delay (max, p99) and garbage collections
 *                             (count, total and longest pause by kind) in between;
 *                             GET /__bench/loop: the same so far, still recording
 *   POST /__bench/candidates  for a decision body: index pool and eligible count per slot (no side effects)
 *   POST /__bench/alloc/start, /__bench/alloc/stop {file}: V8's sampling heap profile (allocations,
 *                             collected objects included), written to `file`, answered with the top
 *                             call sites; /__bench/survivors/*: the same without the objects
 *                             scavenges collected (what was promoted)
 *   POST /__bench/profile/start, /__bench/profile/stop {file}: a V8 CPU profile of this process
 *                             (inspector), written to `file`, answered with the top self-time frames
 *
 * Prints `BENCH_READY <port>` on stdout once listening.
 */
import { openSync, readSync, writeFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";
import { Session } from "node:inspector/promises";
import { dirname, relative, resolve } from "node:path";
import { findSourceMap } from "node:module";
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHmac, createSecretKey } from "node:crypto";
import { serve } from "@hono/node-server";
import type { Context } from "hono";
import { pageCors } from "../src/http/cors.js";
import { Redis } from "ioredis";
import { parseConfigOrExit } from "../src/config.js";
import { composeService } from "../src/compose.js";
import { nodeClientIp } from "../src/node-client-ip.js";
import { loadNodeAssets } from "../src/node-assets.js";
import { PROJECT_ROOT } from "../src/project-root.js";
import { candidateEntries, compileCatalog, ineligibility, openEntries, type CatalogSnapshot } from "../src/domain/catalog-snapshot.js";
import { buildPageContext } from "../src/domain/context.js";
import { parseBody, readJson, validate, DECISION_BODY_LIMIT } from "../src/http/body.js";
import { DecisionRequestSchema } from "../src/routes/decisions.schema.js";
import { requestFacts } from "../src/routes/decisions.js";
import type { Span, TimeInput } from "@opentelemetry/api";
import { createTelemetry, type Telemetry } from "../src/telemetry/telemetry.js";

interface ProbeBody {
  page?: { url?: string; section?: string; topics?: string[]; keywords?: string[]; language?: string };
  geo?: { country?: string };
  device?: { type?: string };
  slots?: { id: string; placement: string; count?: number }[];
}

interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number } }[];
  samples?: number[];
  startTime: number;
  endTime: number;
}

const ROOT = PROJECT_ROOT;

/** Self time per function (name + file:line), biggest first; idle time left out of the percentages. */
/** Where a frame's code lives, coarsely: a src/ or bench/ file, a package, a node: module, or a V8 pseudo-frame. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (!url.startsWith("file://")) return url.startsWith("node:") ? `node:${url.slice(5).split("/")[1] ?? url.slice(5)}` : url;
  const path = relative(ROOT, fileURLToPath(url));
  const parts = path.split("/");
  if (parts[0] === "node_modules") return parts.slice(0, parts[1]?.startsWith("@") ? 3 : 2).join("/");
  return path;
}

/**
 * A frame of the bundled server (dist/bench/server.js) mapped back to its TypeScript source through
 * the bundle's source map, so the summary names src/ files and lines.
 */
function original(frame: { url: string; lineNumber: number; columnNumber?: number }): { url: string; lineNumber: number } {
  if (!frame.url.startsWith("file://")) return frame;
  const map = findSourceMap(fileURLToPath(frame.url));
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource) return frame;
  const source = entry.originalSource.startsWith("file://") ? entry.originalSource : pathToFileURL(resolve(dirname(fileURLToPath(frame.url)), entry.originalSource)).href;
  return { url: source, lineNumber: entry.originalLine ?? frame.lineNumber };
}

function summarise(profile: CpuProfile): {
  totalMs: number;
  top: { name: string; where: string; selfMs: number; selfPercent: number }[];
  byArea: { area: string; selfPercent: number }[];
} {
  const samples = profile.samples?.length ?? 0;
  const msPerSample = samples > 0 ? (profile.endTime - profile.startTime) / 1000 / samples : 0;
  const byFrame = new Map<string, { name: string; where: string; hits: number }>();
  const byArea = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === "(idle)") continue;
    busy += hits;
    const { frame, name, where, key } = site(node.callFrame);
    const a = area(frame.url, node.callFrame.functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + hits);
    const entry = byFrame.get(key) ?? { name, where, hits: 0 };
    entry.hits += hits;
    byFrame.set(key, entry);
  }
  const top = [...byFrame.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, 25)
    .map((f) => ({ name: f.name, where: f.where, selfMs: f.hits * msPerSample, selfPercent: busy > 0 ? (100 * f.hits) / busy : 0 }));
  const areas = [...byArea.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([name, hits]) => ({ area: name, selfPercent: busy > 0 ? (100 * hits) / busy : 0 }));
  return { totalMs: busy * msPerSample, top, byArea: areas };
}

/** A profile frame's function and source location (source-mapped, relative to the project), and a key for both. */
function site(callFrame: CpuProfile["nodes"][number]["callFrame"]): { frame: { url: string; lineNumber: number }; name: string; where: string; key: string } {
  const frame = original(callFrame);
  const url = frame.url.startsWith("file://") ? relative(ROOT, fileURLToPath(frame.url)) : frame.url;
  const where = url ? `${url}:${frame.lineNumber + 1}` : "";
  const name = callFrame.functionName || "(anonymous)";
  return { frame, name, where, key: `${name} ${where}` };
}

interface SamplingHeapNode {
  callFrame: CpuProfile["nodes"][number]["callFrame"];
  selfSize: number;
  children: SamplingHeapNode[];
}

/** A sampling heap profile's bytes by call site (self), the largest first, source-mapped. */
function summariseHeap(profile: { head: SamplingHeapNode }): { totalKB: number; top: { name: string; where: string; selfKB: number; selfPercent: number }[] } {
  const bySite = new Map<string, { name: string; where: string; bytes: number }>();
  let total = 0;
  const visit = (node: SamplingHeapNode): void => {
    if (node.selfSize > 0) {
      total += node.selfSize;
      const { name, where, key } = site(node.callFrame);
      const entry = bySite.get(key) ?? { name, where, bytes: 0 };
      entry.bytes += node.selfSize;
      bySite.set(key, entry);
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const top = [...bySite.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 25)
    .map((x) => ({ name: x.name, where: x.where, selfKB: x.bytes / 1024, selfPercent: total > 0 ? (100 * x.bytes) / total : 0 }));
  return { totalKB: total / 1024, top };
}

/**
 * The service's telemetry hooks (no-op OpenTelemetry API, as in production without an SDK) with
 * the counters replaced by plain tallies the benchmark can read: decisions answered, units by tier,
 * no-fills by reason, degraded responses, and store-call durations by operation (ms, as seen from
 * the event loop, so queueing behind other work included).
 */
function countingTelemetry(): { telemetry: Telemetry; snapshot(reset: boolean): unknown } {
  const tallies = new Map<string, number>();
  // Decisions started and not yet finished (the `decision.decide` span is open), so the runner
  // can wait for the in-flight tail after a load stops.
  let inflight = 0;
  const durations = new Map<string, { n: number; sum: number; samples: number[] }>();
  const counter = (name: string, by?: string): Telemetry["decisions"] =>
    ({
      add(value: number, attributes?: Record<string, unknown>) {
        const key = by && attributes ? `${name}.${String(attributes[by])}` : name;
        tallies.set(key, (tallies.get(key) ?? 0) + value);
      },
    }) as Telemetry["decisions"];
  const histogram = {
    record(value: number, attributes?: Record<string, unknown>) {
      const key = `${String(attributes?.operation)}.${String(attributes?.outcome)}`;
      const d = durations.get(key) ?? { n: 0, sum: 0, samples: [] };
      d.n++;
      d.sum += value;
      // Reservoir of the latest 20,000 (enough for percentiles of one run).
      if (d.samples.length < 20_000) d.samples.push(value);
      else d.samples[d.n % 20_000] = value;
      durations.set(key, d);
    },
  } as Telemetry["storeDuration"];
  const base = createTelemetry();
  const startActiveSpan = base.tracer.startActiveSpan.bind(base.tracer) as (...args: unknown[]) => unknown;
  const tracer = {
    startSpan: base.tracer.startSpan.bind(base.tracer),
    startActiveSpan(...args: unknown[]): unknown {
      const fn = args[args.length - 1] as (span: Span) => unknown;
      if (args[0] !== "decision.decide") return startActiveSpan(...args);
      inflight++;
      return startActiveSpan(...args.slice(0, -1), (span: Span) => {
        let ended = false;
        const end = (time?: TimeInput): void => {
          if (!ended) inflight--;
          ended = true;
          span.end(time);
        };
        return fn(new Proxy(span, { get: (target, prop) => (prop === "end" ? end : Reflect.get(target, prop)) }));
      });
    },
  } as unknown as Telemetry["tracer"];
  return {
    telemetry: {
      ...base,
      tracer,
      decisions: counter("decisions"),
      fills: counter("fills", "tier"),
      noFills: counter("noFills", "reason"),
      degraded: counter("degraded", "path"),
      storeDuration: histogram,
    },
    snapshot(reset) {
      const store: Record<string, { n: number; meanMs: number; p50Ms: number; p99Ms: number }> = {};
      for (const [k, d] of durations) {
        const sorted = [...d.samples].sort((a, b) => a - b);
        const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
        store[k] = { n: d.n, meanMs: d.sum / d.n, p50Ms: at(0.5), p99Ms: at(0.99) };
      }
      // `?reset=1`: the next snapshot's durations cover only the time since this one.
      if (reset) durations.clear();
      return { tallies: Object.fromEntries(tallies), store, inflight };
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfigOrExit(process.env);
  if (!config.REDIS_URL) throw new Error("bench/server.ts needs REDIS_URL (the benchmark's own redis-server)");
  const counted = countingTelemetry();
  const service = await composeService(config, { clientIp: nodeClientIp(config.TRUST_PROXY), telemetry: counted.telemetry, assets: await loadNodeAssets() });
  const { app } = service;

  // Its own long-lived client, configured like the service's hot client (auto-pipelining on).
  const probe = new Redis(config.REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 1, lazyConnect: true });
  probe.on("error", () => undefined);
  await probe.connect();

  app.get("/__bench/empty", (c) => c.text("ok"));
  app.get("/__bench/redis", async (c) => c.text(String(await probe.incr("bench:counter"))));
  // The floor of the decision contract: a real decision's response, captured at the first call.
  let floorResponse: string | undefined;
  app.use("/__bench/floor", pageCors({ origin: (origin) => origin || "*", allowMethods: ["GET", "POST", "OPTIONS"], allowHeaders: ["Content-Type"], maxAgeSeconds: 86400 }));
  app.post("/__bench/floor", async (c) => {
    const body = await parseBody(c, DecisionRequestSchema, { maxBytes: DECISION_BODY_LIMIT, textPlain: true });
    floorResponse ??= JSON.stringify((await service.decisions.decide(body, requestFacts(c))).response);
    await probe.incr("bench:floor");
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "application/json");
    return c.body(floorResponse);
  });

  // Lower bounds on any decision's cost, with nothing left in them to be argued away:
  //   /__bench/io         the contract's I/O alone: the floor without schema validation (the body
  //                       only read, size-checked, decoded and `JSON.parse`d by the service's own
  //                       reader), one INCR, the same response bytes;
  //   /__bench/io-capped  the INCR replaced by the least a decision that honours frequency caps
  //                       asks of Redis: one script that checks and counts the caps of 3 winners
  //                       (the pool asks for 4 units; three quarters of the bench's campaigns are
  //                       capped), one counter each: GET, INCR, EXPIRE when the window starts; no
  //                       spare candidates, page view memory, report counters or event log;
  //   /__bench/io-signed  io-capped plus the least cryptography: one HMAC-SHA256 for the whole
  //                       decision's tracking tokens (its output could be cut into per-unit,
  //                       per-event tags) and one keyed hash of the reader's key (never stored raw).
  // A decision does all of this and more (validation, selection, rendering, 12 token signatures),
  // so its rate cannot exceed these routes' rates, whatever its own logic costs.
  const ioSecret = createSecretKey(Buffer.from("bench-io-secret-0123456789abcdef"));
  probe.defineCommand("benchCaps", {
    numberOfKeys: 3,
    lua: "local out = {} for i, k in ipairs(KEYS) do local n = tonumber(redis.call('GET', k) or '0') if n < 3 then if redis.call('INCR', k) == 1 then redis.call('EXPIRE', k, 86400) end out[i] = 1 else out[i] = 0 end end return out",
  });
  const benchCaps = (probe as unknown as { benchCaps(...args: string[]): Promise<number[]> }).benchCaps.bind(probe);
  let ioSeq = 0;
  // The tokens' tag, kept so the signing is real work (the response stays the captured bytes).
  let _ioTagSink = "";
  const ioRoute = (capped: boolean, signed: boolean) => async (c: Context) => {
    const value = await readJson(c, { maxBytes: DECISION_BODY_LIMIT, textPlain: true });
    floorResponse ??= JSON.stringify((await service.decisions.decide(validate(DecisionRequestSchema, value), requestFacts(c))).response);
    if (capped) {
      const key = (value as { user?: { key?: unknown } }).user?.key;
      let user = typeof key === "string" ? key : "";
      if (signed) {
        const exp = String(Math.floor(Date.now() / 1000) + 86400);
        _ioTagSink = createHmac("sha256", ioSecret).update(`v1|d_${(ioSeq++).toString(36)}|mid-1|c-000562|c-000562-u1|end-1|c-000119|c-000119-u1|c-000911|c-000911-u1|c-000209|c-000209-u1|${exp}`).digest("base64url").slice(0, 8);
        user = createHmac("sha256", ioSecret).update(user).digest("base64url").slice(0, 22);
      }
      const at = ioSeq++ % 997;
      await benchCaps(`bench:{u:${user}}:c${at}:1d`, `bench:{u:${user}}:c${at + 1}:1d`, `bench:{u:${user}}:c${at + 2}:1d`);
    } else {
      await probe.incr("bench:io");
    }
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "application/json");
    return c.body(floorResponse);
  };
  for (const [path, capped, signed] of [["/__bench/io", false, false], ["/__bench/io-capped", true, false], ["/__bench/io-signed", true, true]] as const) {
    app.use(path, pageCors({ origin: (origin) => origin || "*", allowMethods: ["GET", "POST", "OPTIONS"], allowHeaders: ["Content-Type"], maxAgeSeconds: 86400 }));
    app.post(path, ioRoute(capped, signed));
  }

  /** Units in the snapshot (reached through their campaigns). */
  const unitCount = (snapshot: CatalogSnapshot): number => {
    let n = 0;
    for (const c of snapshot.campaigns.values()) n += c.units.length;
    return n;
  };

  // Garbage collections since start, by kind: count and main-thread pause (the runner takes deltas).
  const gcTotals = { minor: { n: 0, ms: 0 }, major: { n: 0, ms: 0 }, incremental: { n: 0, ms: 0 }, weak: { n: 0, ms: 0 } };
  const gcKind = (kind: number | undefined): keyof typeof gcTotals =>
    kind === perfConstants.NODE_PERFORMANCE_GC_MINOR ? "minor" : kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR ? "major" : kind === perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL ? "incremental" : "weak";
  // The same within the event-loop window (`/__bench/loop/start` .. `/stop`), with the longest pause.
  const newGcWindow = () => ({ minor: { n: 0, ms: 0, maxMs: 0 }, major: { n: 0, ms: 0, maxMs: 0 }, incremental: { n: 0, ms: 0, maxMs: 0 }, weak: { n: 0, ms: 0, maxMs: 0 } });
  let gcWindow = newGcWindow();
  const stalls = stallSampler();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = gcKind(((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind);
      stalls.noteGc(e.startTime, e.duration, kind);
      const t = gcTotals[kind];
      t.n++;
      t.ms += e.duration;
      const w = gcWindow[kind];
      w.n++;
      w.ms += e.duration;
      w.maxMs = Math.max(w.maxMs, e.duration);
    }
  }).observe({ entryTypes: ["gc"] });

  app.get("/__bench/stats", (c) => {
    // `?gc=1` (server started with --expose-gc): collect first, so memory shows what is retained.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (c.req.query("gc") === "1" && gc) gc();
    const snapshot = service.catalog.current();
    const placements: Record<string, unknown> = {};
    for (const [id, p] of snapshot.placements) {
      // Counts only (no merged lists): the runner polls this route, and at 100k campaigns copying
      // the index would cost the server more CPU than the decisions being measured.
      const perKey = new Map<string, number>();
      let open = 0;
      for (const t of p.tiers) {
        open += t.open.entries.length;
        for (const [k, list] of t.byKey) perKey.set(k, (perKey.get(k) ?? 0) + list.entries.length);
      }
      let entries = 0;
      let max = 0;
      for (const n of perKey.values()) {
        entries += n;
        max = Math.max(max, n);
      }
      placements[id] = { active: p.activeCampaignCount, open, keys: perKey.size, bucketEntries: entries, maxBucket: max };
    }
    return c.json({
      pid: process.pid,
      uptimeS: process.uptime(),
      memory: process.memoryUsage(),
      // Each heap space's committed and used bytes: what of heapTotal is the young generation,
      // what is old-space pages the collector has not handed back yet.
      heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, { size: sp.space_size, used: sp.space_used_size }])),
      cpu: process.cpuUsage(),
      elu: performance.eventLoopUtilization(),
      gc: gcTotals,
      catalog: { version: snapshot.version, campaigns: snapshot.campaigns.size, units: unitCount(snapshot), placements },
      breaker: service.breaker.state,
      counters: counted.snapshot(c.req.query("reset") === "1"),
    });
  });

  // Event-loop delay while a catalog change is applied under load (the runner's change phase).
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  app.post("/__bench/loop/start", (c) => {
    loopDelay.reset();
    loopDelay.enable();
    gcWindow = newGcWindow();
    stalls.start();
    return c.json({ ok: true });
  });
  const loopFigures = () => ({
    maxMs: loopDelay.max / 1e6,
    p99Ms: loopDelay.percentile(99) / 1e6,
    meanMs: loopDelay.mean / 1e6,
    catalogVersion: service.catalog.current().version,
    gc: gcWindow,
    stalls: stalls.figures(),
  });
  app.post("/__bench/loop/stop", (c) => {
    loopDelay.disable();
    stalls.stop();
    return c.json(loopFigures());
  });
  // The figures so far, still recording (bench/memory.ts polls it while an instance follows an import).
  app.get("/__bench/loop", (c) => c.json(loopFigures()));

  app.post("/__bench/rebuild", async (c) => {
    let t = performance.now();
    const state = await service.stores.catalog.load();
    const loadMs = performance.now() - t;
    t = performance.now();
    compileCatalog(state.document, state.version);
    const compileMs = performance.now() - t;
    t = performance.now();
    await service.catalog.refresh(true);
    const refreshMs = performance.now() - t;
    return c.json({ loadMs, compileMs, refreshMs, version: state.version, campaigns: state.document.campaigns.length });
  });

  app.post("/__bench/candidates", async (c) => {
    const body = (await c.req.json()) as ProbeBody;
    const snapshot = service.catalog.current();
    const nowMs = Date.now();
    const ctx = buildPageContext(
      {
        url: body.page?.url ?? "https://news.example/",
        section: body.page?.section,
        topics: body.page?.topics,
        keywords: body.page?.keywords,
        language: body.page?.language,
        country: body.geo?.country,
        deviceType: body.device?.type,
      },
      nowMs,
    );
    const slots = (body.slots ?? []).map((slot) => {
      const placement = snapshot.placements.get(slot.placement);
      if (!placement) return { id: slot.id, pool: 0, eligible: 0, open: 0 };
      const input = { ctx, nowMs, hasUserKey: true, placement, pacing: (x: Parameters<typeof service.pacing.verdict>[0], n: number) => service.pacing.verdict(x, n) };
      const pool = candidateEntries(placement, ctx);
      let eligible = 0;
      let eligibleCapped = 0;
      for (const e of pool) {
        if (ineligibility(e.campaign, input, false).length === 0) {
          eligible++;
          if (e.campaign.caps.length > 0) eligibleCapped++;
        }
      }
      return { id: slot.id, pool: pool.length, eligible, eligibleCapped, open: openEntries(placement).length };
    });
    return c.json({ slots });
  });

  /**
   * `POST /__bench/<name>/start` and `/stop {file}`: an inspector session recording this process;
   * `stop` writes what `finish` returns to `file` and answers with `answer(recording)`.
   */
  const recorder = <R>(name: string, begin: (session: Session) => Promise<void>, finish: (session: Session) => Promise<R>, answer: (recording: R) => object): void => {
    let session: Session | undefined;
    app.post(`/__bench/${name}/start`, async (c) => {
      session = new Session();
      session.connect();
      await begin(session);
      return c.json({ started: true });
    });
    app.post(`/__bench/${name}/stop`, async (c) => {
      if (!session) return c.json({ error: "not profiling" }, 409);
      const { file } = (await c.req.json()) as { file: string };
      const recording = await finish(session);
      session.disconnect();
      session = undefined;
      writeFileSync(file, JSON.stringify(recording));
      return c.json({ file, ...answer(recording) });
    });
  };
  recorder(
    "profile",
    async (session) => {
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
    },
    async (session) => ((await session.post("Profiler.stop")) as { profile: CpuProfile }).profile,
    summarise,
  );
  // Allocation sampling (V8's sampling heap profiler): bytes allocated by call site, written as a
  // .heapprofile (used by --alloc-profile). `alloc` keeps every sample (objects collected since
  // included); `survivors` drops the samples of objects a scavenge collected, so what remains is
  // what outlived the young generation (promoted, then collected by a major GC or still alive):
  // the allocations that fill the old generation and bring on major collections.
  for (const [name, minor] of [
    ["alloc", true],
    ["survivors", false],
  ] as const) {
    recorder(
      name,
      async (session) => {
        await session.post("HeapProfiler.enable");
        await session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: minor } as never);
      },
      async (session) => ((await session.post("HeapProfiler.stopSampling")) as { profile: { head: SamplingHeapNode } }).profile,
      summariseHeap,
    );
  }

  serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    process.stdout.write(`BENCH_READY ${info.port}\n`);
  });

  const stop = (): void => {
    void service
      .close()
      .catch(() => undefined)
      .finally(() => {
        probe.disconnect();
        process.exit(0);
      });
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

/** One event-loop stall: a gap between two ticks of the sampler's timer, and where its time went. */
export interface Stall {
  /** When it began, ms after the window's start. */
  atMs: number;
  gapMs: number;
  /** The main thread on a CPU (this process's JavaScript, its GC pauses, its native work). */
  onCpuMs: number;
  /** The main thread runnable but waiting for a CPU (other processes had both cores). */
  waitingMs: number;
  /** Time the hypervisor gave the machine's CPUs to other guests, summed over CPUs (10 ms ticks). */
  stolenMs: number;
  /** Garbage-collection pauses inside the gap, and their kinds. */
  gcMs: number;
  gcKinds: string[];
}

/**
 * Event-loop stalls within the loop window: gaps of ≥ 20 ms between ticks of a 2 ms timer, each
 * split into the main thread's time on a CPU and waiting for one (Linux's per-thread
 * `/proc/thread-self/schedstat`, read with one `pread` per tick, ~1 µs), the machine's stolen
 * time (`/proc/stat`), and the GC pauses inside it. A stall mostly on a CPU outside GC is this
 * process's own work; one mostly waiting or stolen is the machine. Elsewhere than Linux only the
 * gaps and GC pauses are known (the split reads NaN).
 */
function stallSampler() {
  const STALL_MS = 20;
  const open = (path: string): number | undefined => {
    try {
      return openSync(path, "r");
    } catch {
      return undefined;
    }
  };
  // Opened on the main thread, so `thread-self` is the event loop's thread.
  const schedFd = open("/proc/thread-self/schedstat");
  const statFd = open("/proc/stat");
  const buf = Buffer.alloc(512);
  const readFields = (fd: number | undefined): string[] | undefined => {
    if (fd === undefined) return undefined;
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.toString("latin1", 0, n);
    return text.slice(0, text.indexOf("\n") >>> 0).trim().split(/\s+/);
  };
  const sample = () => {
    const sched = readFields(schedFd);
    const stat = readFields(statFd); // "cpu user nice system idle iowait irq softirq steal ..."
    return {
      t: performance.now(),
      run: sched ? Number(sched[0]) / 1e6 : NaN,
      wait: sched ? Number(sched[1]) / 1e6 : NaN,
      steal: stat && stat[0] === "cpu" ? Number(stat[8]) * 10 : NaN,
    };
  };
  let timer: NodeJS.Timeout | undefined;
  let startT = 0;
  let last = sample();
  let found: (Stall & { from: number; to: number })[] = [];
  let gcs: { start: number; end: number; kind: string }[] = [];
  const tick = () => {
    const s = sample();
    const gap = s.t - last.t;
    if (gap >= STALL_MS) {
      found.push({ atMs: last.t - startT, gapMs: gap, onCpuMs: s.run - last.run, waitingMs: s.wait - last.wait, stolenMs: s.steal - last.steal, gcMs: 0, gcKinds: [], from: last.t, to: s.t });
    }
    last = s;
  };
  return {
    start() {
      this.stop();
      found = [];
      gcs = [];
      startT = performance.now();
      last = sample();
      timer = setInterval(tick, 2);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    noteGc(start: number, duration: number, kind: string) {
      if (timer) gcs.push({ start, end: start + duration, kind });
    },
    /** The window's stalls, longest first (at most ten), with their GC pauses attributed. */
    figures() {
      const top = [...found].sort((a, b) => b.gapMs - a.gapMs).slice(0, 10);
      return {
        count: found.length,
        totalMs: found.reduce((sum, x) => sum + x.gapMs, 0),
        longest: top.map(({ from, to, ...stall }) => {
          let gcMs = 0;
          const kinds: string[] = [];
          for (const g of gcs) {
            const overlap = Math.min(g.end, to) - Math.max(g.start, from);
            if (overlap > 0) {
              gcMs += overlap;
              kinds.push(g.kind);
            }
          }
          return { ...stall, gcMs, gcKinds: kinds };
        }),
      };
    },
  };
}
