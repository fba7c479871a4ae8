/**
 * Beacons accepted while the store is down are kept here, bounded, and written when it comes
 * back, with their one-time check applied then (the store's set-if-absent). What does not fit is
 * counted and logged, never dropped silently. `flush()` is also called on shutdown.
 */
import type { EventStore, FilterReason, TrackRequest } from "../store/ports.js";
import type { Logger } from "../telemetry/logger.js";

export type BufferedBeacon =
  | { readonly kind: "track"; readonly request: TrackRequest }
  | { readonly kind: "filtered"; readonly request: Omit<TrackRequest, "dedupeTtlSeconds" | "entry">; readonly reason: Exclude<FilterReason, "duplicate"> };

export interface BeaconBuffer {
  /** Keeps a beacon for later; false (and counted as dropped) when the buffer is full. */
  add(beacon: BufferedBeacon): boolean;
  /** Writes what is buffered, oldest first, stopping at the first failure. Returns how many were written. */
  flush(): Promise<number>;
  /** Beacons not yet written: waiting, or being written right now (a beacon leaves only once its write succeeded). */
  readonly size: number;
  readonly dropped: number;
  start(intervalMs: number): void;
  stop(): void;
}

const FLUSH_BATCH = 200;

export function createBeaconBuffer(deps: { events: EventStore; capacity: number; logger: Logger }): BeaconBuffer {
  const queue: BufferedBeacon[] = [];
  /** Taken from the queue by a flush whose writes have not settled yet (failed ones go back). */
  let inFlight = 0;
  let dropped = 0;
  let flushing: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const write = (b: BufferedBeacon): Promise<unknown> => (b.kind === "track" ? deps.events.track(b.request) : deps.events.filtered(b.request, b.reason));

  /** Writes in batches of FLUSH_BATCH in parallel (pipelined); a failed beacon goes back in front. */
  const flushOnce = async (): Promise<number> => {
    let written = 0;
    while (queue.length > 0) {
      const batch = queue.splice(0, FLUSH_BATCH);
      inFlight += batch.length;
      let results: PromiseSettledResult<unknown>[];
      try {
        results = await Promise.allSettled(batch.map(write));
      } finally {
        inFlight -= batch.length;
      }
      const failed = batch.filter((_, i) => results[i]?.status === "rejected");
      written += batch.length - failed.length;
      if (failed.length > 0) {
        queue.unshift(...failed);
        break;
      }
    }
    if (written > 0) deps.logger.info({ written, left: queue.length }, "buffered beacons written");
    return written;
  };

  return {
    get size() {
      return queue.length + inFlight;
    },
    get dropped() {
      return dropped;
    },
    add(beacon) {
      if (queue.length + inFlight >= deps.capacity) {
        dropped++;
        if (dropped === 1 || dropped % 1000 === 0) deps.logger.error({ dropped, capacity: deps.capacity }, "beacon buffer full: beacons dropped");
        return false;
      }
      queue.push(beacon);
      if (queue.length + inFlight === 1) deps.logger.warn({ capacity: deps.capacity }, "store unavailable: buffering beacons");
      return true;
    },
    flush() {
      flushing ??= flushOnce().finally(() => {
        flushing = undefined;
      });
      return flushing;
    },
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(() => {
        if (queue.length > 0) void this.flush();
      }, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
