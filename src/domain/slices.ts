/**
 * Long catalog work (reading, sorting and compiling 100k entities) done in short slices, with the
 * event loop free in between, so that decisions keep being answered while an instance rebuilds its
 * snapshot. The work is written as a generator that yields often; `runInSlices` runs it until a
 * slice's time is up, then lets the event loop run before going on.
 */
import { byId } from "./by-id.js";

/** Lets queued I/O and timers run (a macrotask, not a microtask). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Default time a slice may take before the event loop gets its turn. */
export const SLICE_MS = 10;

/**
 * Runs `steps` to completion in slices of about `sliceMs`. The first slice waits its turn too, so
 * the caller's own synchronous work before it stays a separate task.
 */
export async function runInSlices<T>(steps: Generator<void, T>, sliceMs = SLICE_MS): Promise<T> {
  await yieldToEventLoop();
  let until = performance.now() + sliceMs;
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() >= until) {
      await yieldToEventLoop();
      until = performance.now() + sliceMs;
    }
  }
}

/** Runs `steps` to completion at once, without yielding to the event loop. */
export function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Items merged between two yields. */
const STEP = 256;

/** Runs sorted whole by one native sort; a longer list is sorted run by run, then merged. */
const RUN = 2048;

/**
 * The list sorted by id (a new array; the input is left as it is), as a bottom-up merge sort that
 * yields between runs and every few hundred merged items: a 130k list takes ~0.3 s of CPU, which
 * one native sort would spend without a break. Stable, like `Array.prototype.sort`.
 */
export function* sortById<T extends { id: string }>(list: readonly T[]): Generator<void, T[]> {
  let src = list.slice();
  for (let start = 0; start < src.length; start += RUN) {
    const run = src.slice(start, start + RUN).sort(byId);
    for (let i = 0; i < run.length; i++) src[start + i] = run[i] as T;
    yield;
  }
  let dst = new Array<T>(src.length);
  for (let width = RUN; width < src.length; width *= 2) {
    let k = 0;
    for (let lo = 0; lo < src.length; lo += 2 * width) {
      const mid = Math.min(lo + width, src.length);
      const hi = Math.min(lo + 2 * width, src.length);
      let i = lo;
      let j = mid;
      while (i < mid || j < hi) {
        // Ties take the left run first: stable.
        if (j >= hi || (i < mid && byId(src[i] as T, src[j] as T) <= 0)) dst[k++] = src[i++] as T;
        else dst[k++] = src[j++] as T;
        if (k % STEP === 0) yield;
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}
