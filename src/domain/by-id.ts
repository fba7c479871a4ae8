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
