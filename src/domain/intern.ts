import type { Campaign, TargetingNode } from "./catalog-schema.js";

const interners: { clear(): void }[] = [];

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
    interners.push(this);
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

/**
 * An `Interner` for values with many distinct keys (targeting leaves, index-key lists): looked up
 * by a 30-bit hash of the value and an equality test rather than by a string that spells the value
 * out, since those strings were most of the table (~16 MB of keys at 100k campaigns). Equal hashes
 * of unequal values are kept apart (`same` decides).
 */
export class HashInterner<T> {
  private readonly table = new Map<number, T>();
  /** Further values whose hash is already taken by a different value in `table`. */
  private readonly collisions = new Map<number, T[]>();
  private size = 0;

  constructor(private readonly limit = 50_000) {
    interners.push(this);
  }

  clear(): void {
    this.table.clear();
    this.collisions.clear();
    this.size = 0;
  }

  get(hash: number, same: (value: T) => boolean, make: () => T): T {
    const first = this.table.get(hash);
    if (first !== undefined && same(first)) return first;
    const more = first === undefined ? undefined : this.collisions.get(hash);
    if (more) for (const v of more) if (same(v)) return v;
    const value = make();
    if (this.size < this.limit) {
      this.size++;
      if (first === undefined) this.table.set(hash, value);
      else if (more) more.push(value);
      else this.collisions.set(hash, [value]);
    }
    return value;
  }
}

/**
 * A 30-bit FNV-1a hash of a list of strings, `salt` mixed in first (a small integer, so a map keyed
 * by it stores no boxed numbers).
 */
export function hashStrings(parts: readonly string[], salt = 0): number {
  let h = Math.imul(0x811c9dc5 ^ salt, 0x01000193);
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    // The length closes each part, so ["ab", "c"] and ["a", "bc"] hash apart.
    h = Math.imul(h ^ (part.length + 0x10000), 0x01000193);
  }
  return h & 0x3fffffff;
}

/** Whether two string lists are equal, element by element. */
export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

/**
 * One instance per distinct value among freshly parsed catalog entities' parts that many campaigns
 * repeat: placement lists, caps, exclusions, goals and targeting trees (every subtree). At 100k
 * campaigns that is ~32 MB of a new instance's heap (the campaigns' own objects: 69 -> 37 MB). The
 * values are looked up by their JSON text, so the table lives for one read and is dropped after it.
 * Entities are immutable once read (a write replaces an entity, never edits one), which is what
 * makes sharing their parts safe.
 */
export class ValueSharer {
  private readonly byKey = new Map<string, object>();
  /** The key of the tree `tree` returned last (a parent's key is built from its children's). */
  private lastKey = "";

  /** The shared instance of a JSON value (an array or an object). */
  json<T extends object>(value: T): T {
    return this.put(value, JSON.stringify(value));
  }

  /** A targeting tree with each subtree shared (children first; a node's key is built from theirs). */
  tree(node: TargetingNode): TargetingNode {
    let key: string;
    if ("field" in node) key = JSON.stringify(node);
    else if ("not" in node) {
      node.not = this.tree(node.not);
      key = `not(${this.lastKey})`;
    } else {
      const list = "all" in node ? node.all : node.any;
      key = "all" in node ? "all(" : "any(";
      for (let i = 0; i < list.length; i++) {
        list[i] = this.tree(list[i] as TargetingNode);
        key += `${this.lastKey},`;
      }
      key += ")";
    }
    this.lastKey = key;
    return this.put(node, key);
  }

  /** A campaign with its repeated parts shared (in place). */
  campaign(c: Campaign): void {
    c.placements = this.json(c.placements);
    if (c.frequencyCaps) c.frequencyCaps = this.json(c.frequencyCaps);
    if (c.exclusions) c.exclusions = this.json(c.exclusions);
    if (c.goal) c.goal = this.json(c.goal);
    if (c.targeting) c.targeting = this.tree(c.targeting);
  }

  private put<T extends object>(value: T, key: string): T {
    const found = this.byKey.get(key);
    if (found !== undefined) return found as T;
    this.byKey.set(key, value);
    return value;
  }
}
