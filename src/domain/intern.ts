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
 * Values looked up by a 30-bit hash and an equality test (`same` decides between values whose
 * hashes are equal) rather than by a string that spells the value out. Past `limit` values, new
 * ones are no longer remembered.
 */
export class HashTable<T> {
  private readonly table = new Map<number, T>();
  /** Further values whose hash is already taken by a different value in `table`. */
  private readonly collisions = new Map<number, T[]>();
  private size = 0;

  constructor(private readonly limit = Infinity) {}

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
 * An `Interner` for values with many distinct keys (targeting leaves, index-key lists), kept in a
 * `HashTable`: the strings that spelled those keys out were most of the table (~13 MB at 100k
 * campaigns).
 */
export class HashInterner<T> extends HashTable<T> {
  constructor(limit = 50_000) {
    super(limit);
    interners.push(this);
  }
}

const FNV_PRIME = 0x01000193;

/** FNV-1a over a string's characters, then its length (so ["ab", "c"] and ["a", "bc"] differ). */
function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return Math.imul(h ^ (s.length + 0x10000), FNV_PRIME);
}

/** Mixes in an integer (a tag, a count, a child's hash). */
function mixInt(h: number, n: number): number {
  return Math.imul(h ^ Math.imul(n | 0, 0x9e3779b1), FNV_PRIME);
}

/**
 * A 30-bit FNV-1a hash of a list of strings, `salt` mixed in first (a small integer, so a map keyed
 * by it stores no boxed numbers).
 */
export function hashStrings(parts: readonly string[], salt = 0): number {
  let h = Math.imul(0x811c9dc5 ^ salt, FNV_PRIME);
  for (const part of parts) h = mixString(h, part);
  return h & 0x3fffffff;
}

/** A 30-bit FNV-1a hash of one string (`hashStrings([s])` without the array). */
export function hashString(s: string, salt = 0): number {
  return mixString(Math.imul(0x811c9dc5 ^ salt, FNV_PRIME), s) & 0x3fffffff;
}

/** Whether two lists hold the same items (`===`), in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
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
 * table lives for one read and is dropped after it. Entities are immutable once read (a write
 * replaces an entity, never edits one), which is what makes sharing their parts safe.
 *
 * Trees are shared bottom-up and looked up by hash: a leaf by its field, operator and values, an
 * `all`/`any`/`not` node by its kind and its children, which are then already shared instances, so
 * comparing two such nodes compares their children by reference. No key strings are built (they
 * made the read ~0.5 s slower at 100k and lived until its end).
 */
export class ValueSharer {
  private readonly trees = new HashTable<TargetingNode>();
  private readonly lists = new HashTable<string[]>();
  /** Small parts (caps, exclusions, goals) by their JSON text. */
  private readonly byText = new Map<string, object>();
  /** The hash of the tree `tree` returned last (a parent's hash is made from its children's). */
  private lastHash = 0;

  /** The shared instance of a small JSON value (an array or an object). */
  json<T extends object>(value: T): T {
    const key = JSON.stringify(value);
    const found = this.byText.get(key);
    if (found !== undefined) return found as T;
    this.byText.set(key, value);
    return value;
  }

  /** The shared instance of a list of strings. */
  strings(list: string[]): string[] {
    return this.lists.get(hashStrings(list), (l) => sameItems(l, list), () => list);
  }

  /** A targeting tree with each subtree shared (children first). */
  tree(node: TargetingNode): TargetingNode {
    let h: number;
    let same: (other: TargetingNode) => boolean;
    if ("field" in node) {
      h = mixString(mixString(0x811c9dc5, node.field), node.op);
      for (const v of node.values) h = typeof v === "string" ? mixString(h, v) : mixInt(mixInt(h, 0x7a11), v);
      same = (o) => "field" in o && o.field === node.field && o.op === node.op && sameItems(o.values, node.values);
    } else if ("not" in node) {
      const child = (node.not = this.tree(node.not));
      h = mixInt(mixInt(0x811c9dc5, 3), this.lastHash);
      same = (o) => "not" in o && o.not === child;
    } else {
      const all = "all" in node;
      const list = all ? node.all : node.any;
      h = mixInt(0x811c9dc5, all ? 1 : 2);
      for (let i = 0; i < list.length; i++) {
        list[i] = this.tree(list[i] as TargetingNode);
        h = mixInt(h, this.lastHash);
      }
      same = (o) => (all ? "all" in o && sameItems(o.all, list) : "any" in o && sameItems(o.any, list));
    }
    h &= 0x3fffffff;
    const shared = this.trees.get(h, same, () => node);
    this.lastHash = h;
    return shared;
  }

  /** A campaign with its repeated parts shared (in place). */
  campaign(c: Campaign): void {
    c.placements = this.strings(c.placements);
    if (c.frequencyCaps) c.frequencyCaps = this.json(c.frequencyCaps);
    if (c.exclusions) c.exclusions = this.json(c.exclusions);
    if (c.goal) c.goal = this.json(c.goal);
    if (c.targeting) c.targeting = this.tree(c.targeting);
  }
}
