import { describe, expect, it } from "vitest";
import { createBeaconBuffer, type BufferedBeacon } from "../../src/services/beacon-buffer.js";
import type { EventStore, TrackRequest } from "../../src/store/ports.js";
import type { Logger } from "../../src/telemetry/logger.js";

const silent = { info() {}, warn() {}, error() {} } as unknown as Logger;

/** A buffer over an event store whose writes wait until the test settles them, one by one, in order. */
function heldBuffer(capacity: number) {
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const write = (): Promise<never> => new Promise((resolve, reject) => pending.push({ resolve: () => resolve(undefined as never), reject }));
  const events = { track: write, filtered: write } as unknown as EventStore;
  return { buffer: createBeaconBuffer({ events, capacity, logger: silent }), pending };
}

const beacon = (n: number): BufferedBeacon => ({ kind: "track", request: { decisionId: `d-${n}` } as unknown as TrackRequest });

describe("the beacon buffer", () => {
  it("counts beacons whose writes are still under way as buffered until those writes succeed", async () => {
    const { buffer, pending } = heldBuffer(10);
    for (let i = 0; i < 3; i++) buffer.add(beacon(i));
    const flushed = buffer.flush();
    await Promise.resolve();
    expect(pending).toHaveLength(3);
    expect(buffer.size).toBe(3);
    for (const p of pending) p.resolve();
    expect(await flushed).toBe(3);
    expect(buffer.size).toBe(0);
  });

  it("keeps a beacon whose write failed, in front, to be written by a later flush", async () => {
    const { buffer, pending } = heldBuffer(10);
    for (let i = 0; i < 2; i++) buffer.add(beacon(i));
    const flushed = buffer.flush();
    await Promise.resolve();
    pending[0]?.reject(new Error("store down"));
    pending[1]?.resolve();
    expect(await flushed).toBe(1);
    expect(buffer.size).toBe(1);
    const again = buffer.flush();
    await Promise.resolve();
    pending[2]?.resolve();
    expect(await again).toBe(1);
    expect(buffer.size).toBe(0);
  });

  it("refuses a beacon when those waiting and those being written fill it", async () => {
    const { buffer, pending } = heldBuffer(2);
    expect([buffer.add(beacon(0)), buffer.add(beacon(1))]).toEqual([true, true]);
    const flushed = buffer.flush();
    await Promise.resolve();
    expect(buffer.add(beacon(2))).toBe(false);
    expect(buffer.dropped).toBe(1);
    for (const p of pending) p.resolve();
    await flushed;
    expect(buffer.add(beacon(3))).toBe(true);
  });
});
