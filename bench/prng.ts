/**
 * A small seeded PRNG (mulberry32) and the draws the generators need, so that a catalog or a
 * request pool is the same on every run for the same seed.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  (): number;
}

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [min, max]. */
export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/**
 * A Zipf-like draw over `items` (index 0 most popular): real pages and campaigns cluster on a few
 * sections and topics. `s` near 1 is strongly skewed, 0 is uniform.
 */
export function zipfPicker<T>(items: readonly T[], s = 0.9): (rng: Rng) => T {
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    total += 1 / Math.pow(i + 1, s);
    cumulative.push(total);
  }
  return (rng) => {
    const x = rng() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo] as T;
  };
}

/** `n` distinct items drawn with `draw` (fewer if the vocabulary runs out). */
export function distinct<T>(rng: Rng, n: number, draw: (rng: Rng) => T, maxTries = n * 20): T[] {
  const out = new Set<T>();
  for (let i = 0; out.size < n && i < maxTries; i++) out.add(draw(rng));
  return [...out];
}

/** Weighted choice from `[value, weight]` pairs. */
export function weighted<T>(rng: Rng, pairs: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of pairs) total += w;
  let x = rng() * total;
  for (const [v, w] of pairs) {
    x -= w;
    if (x < 0) return v;
  }
  return (pairs[pairs.length - 1] as readonly [T, number])[0];
}
