/**
 * Preloaded into the service process by bench/soak.ts (`node --import tsx --import <this> src/server.ts`)
 * so the soak can watch the server without a line of src/ changing: every SOAK_STATS_INTERVAL_MS
 * (10 s) it appends one JSON line to SOAK_STATS_FILE with the event-loop delay over that window
 * (`perf_hooks.monitorEventLoopDelay`, 10 ms resolution, in ms) and `process.memoryUsage()`.
 * The histogram records the whole time between two ticks of its 10 ms timer (an idle loop reads
 * ~10 ms), so the resolution is subtracted: the figures are how late the loop was.
 * Without SOAK_STATS_FILE it does nothing.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.SOAK_STATS_FILE;
const intervalMs = Number(process.env.SOAK_STATS_INTERVAL_MS) || 10_000;

if (file) {
  const resolutionMs = 10;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const ms = (ns) => Math.round(Math.max(0, ns - resolutionMs * 1e6) / 1e4) / 100;
  let seq = 0;
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    const empty = histogram.count === 0;
    const line = {
      seq: seq++,
      at: Date.now(),
      pid: process.pid,
      samples: histogram.count,
      loopDelayMs: empty
        ? null
        : { min: ms(histogram.min), mean: ms(histogram.mean), p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
      memory: { rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed, external: memory.external, arrayBuffers: memory.arrayBuffers },
    };
    histogram.reset();
    try {
      appendFileSync(file, JSON.stringify(line) + "\n");
    } catch {
      // The soak runner owns the file; if it is gone the run is over.
    }
  }, intervalMs);
  timer.unref();
}
