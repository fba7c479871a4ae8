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
  readonly size: number;
  readonly dropped: number;
  start(intervalMs: number): void;
  stop(): void;
}

export function createBeaconBuffer(deps: { events: EventStore; capacity: number; logger: Logger }): BeaconBuffer {
  const queue: BufferedBeacon[] = [];
  let dropped = 0;
  let flushing: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const flushOnce = async (): Promise<number> => {
    let written = 0;
    while (queue.length > 0) {
      const next = queue[0] as BufferedBeacon;
      try {
        if (next.kind === "track") await deps.events.track(next.request);
        else await deps.events.filtered(next.request, next.reason);
      } catch {
        break;
      }
      queue.shift();
      written++;
    }
    if (written > 0) deps.logger.info({ written, left: queue.length }, "buffered beacons written");
    return written;
  };

  return {
    get size() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
    add(beacon) {
      if (queue.length >= deps.capacity) {
        dropped++;
        if (dropped === 1 || dropped % 1000 === 0) deps.logger.error({ dropped, capacity: deps.capacity }, "beacon buffer full: beacons dropped");
        return false;
      }
      queue.push(beacon);
      if (queue.length === 1) deps.logger.warn({ capacity: deps.capacity }, "store unavailable: buffering beacons");
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
