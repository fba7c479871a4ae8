/** Ordering by id, shared by the catalog's sorted lists, their patches and their sliced sorts. */

/** Compares two entities by id (for `Array.prototype.sort`). */
export const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The first index of `list` (ordered by `idOf`) whose id is not below `id`: where `id` is or goes. */
export function lowerBound<T>(list: readonly T[], id: string, idOf: (item: T) => string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (idOf(list[mid] as T) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A list sorted by id without its repeated entries (the first of each id is kept; no copy when there are none). */
export function withoutRepeats<T extends { id: string }>(sorted: T[]): T[] {
  let repeats = false;
  for (let i = 1; i < sorted.length && !repeats; i++) repeats = sorted[i]?.id === sorted[i - 1]?.id;
  return repeats ? sorted.filter((e, i) => i === 0 || e.id !== sorted[i - 1]?.id) : sorted;
}
