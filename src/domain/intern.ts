/**
 * Sharing of equal compiled values across campaigns: many campaigns have the same placements,
 * labels, caps, index keys or targeting leaves, and a 100k-campaign snapshot would otherwise hold
 * a separate copy of each. Values must be immutable. The table is bounded: past `limit` keys new
 * values are simply not shared (a rare catalog with that much variety gains little from it).
 */
export class Interner<T> {
  private readonly table = new Map<string, T>();

  constructor(private readonly limit = 50_000) {}

  get(key: string, make: () => T): T {
    const found = this.table.get(key);
    if (found !== undefined) return found;
    const value = make();
    if (this.table.size < this.limit) this.table.set(key, value);
    return value;
  }
}
