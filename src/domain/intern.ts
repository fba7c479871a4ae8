const interners: Interner<unknown>[] = [];

/**
 * Empties every interner's table: called when a whole catalog is compiled afresh, so the tables
 * hold that catalog's values rather than filling up, version after version, with values of
 * campaigns long gone (which both keeps them alive and, once a table is full, stops any sharing).
 * Values already handed out stay valid; only sharing with them ends.
 */
export function clearInterners(): void {
  for (const interner of interners) interner.clear();
}

/**
 * Sharing of equal compiled values across campaigns: many campaigns have the same placements,
 * labels, caps, index keys or targeting leaves, and a 100k-campaign snapshot would otherwise hold
 * a separate copy of each. Values must be immutable. The table is bounded: past `limit` keys new
 * values are simply not shared (a rare catalog with that much variety gains little from it).
 */
export class Interner<T> {
  private readonly table = new Map<string, T>();

  constructor(private readonly limit = 50_000) {
    interners.push(this as Interner<unknown>);
  }

  clear(): void {
    this.table.clear();
  }

  get(key: string, make: () => T): T {
    const found = this.table.get(key);
    if (found !== undefined) return found;
    const value = make();
    if (this.table.size < this.limit) this.table.set(key, value);
    return value;
  }
}

/** Strings up to this length are shared by `shareStrings`: words, dates, statuses, referenced ids. */
const SHARED_MAX_LENGTH = 32;

/**
 * Makes equal short strings inside freshly parsed JSON one instance (in place): `JSON.parse`
 * creates a new string for every value, and a catalog repeats the same statuses, dates, placement
 * ids, words and labels across 100k campaigns (~38 MB of copies at that size). Longer texts
 * (headlines, bodies, URLs) and ids are mostly unique and are left as they are.
 */
export function shareStrings(value: unknown, table: Map<string, string>): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === "string") value[i] = shared(v, table);
      else shareStrings(v, table);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const v = record[key];
    // Ids are (nearly) unique — an entity's own, a unit's campaign: sharing them would only fill the table.
    if (typeof v !== "string") shareStrings(v, table);
    else if (key !== "id" && key !== "campaignId") record[key] = shared(v, table);
  }
}

function shared(s: string, table: Map<string, string>): string {
  if (s.length > SHARED_MAX_LENGTH) return s;
  const found = table.get(s);
  if (found !== undefined) return found;
  table.set(s, s);
  return s;
}
