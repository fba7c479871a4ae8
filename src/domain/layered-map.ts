/**
 * A read-only map made of a base map and a small layer of changes on top of it: what a catalog
 * snapshot's campaigns become after a few edits, without copying the base. At 100k campaigns a
 * copy was a new 100k-entry hash table per edit (most of the 24 MB an edit allocated), garbage
 * for the old generation and a step towards the next major collection.
 *
 * Iteration gives the base's keys in the base's order, each with its value in the layer if it has
 * one, without the removed ones, then the keys the layer adds, in the order they were added.
 * Neither the base nor the layer is ever changed once the map is built.
 */
const REMOVED: unique symbol = Symbol("removed");
type Layered<V> = V | typeof REMOVED;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly size: number;

  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly layer: ReadonlyMap<K, Layered<V>>,
  ) {
    let size = base.size;
    for (const [k, v] of layer) {
      const inBase = base.has(k);
      if (v === REMOVED) {
        if (inBase) size--;
      } else if (!inBase) size++;
    }
    this.size = size;
  }

  /**
   * `previous` with `changes` applied (a value sets a key, `undefined` removes it), sharing
   * `previous`'s base: the layers of successive calls accumulate (`layerSize`), and a caller
   * copies the map into a plain one once that grows, so reads and iteration stay close to a plain
   * map's cost.
   */
  static over<K, V>(previous: ReadonlyMap<K, V>, changes: ReadonlyMap<K, V | undefined>): LayeredMap<K, V> {
    const base = previous instanceof LayeredMap ? (previous.base as ReadonlyMap<K, V>) : previous;
    const layer = new Map<K, Layered<V>>(previous instanceof LayeredMap ? (previous.layer as ReadonlyMap<K, Layered<V>>) : undefined);
    for (const [k, v] of changes) layer.set(k, v === undefined ? REMOVED : v);
    return new LayeredMap(base, layer);
  }

  /** Keys the layer sets or removes. */
  get layerSize(): number {
    return this.layer.size;
  }

  get(key: K): V | undefined {
    const v = this.layer.get(key);
    if (v === undefined) return this.layer.has(key) ? (v as V) : this.base.get(key);
    return v === REMOVED ? undefined : v;
  }

  has(key: K): boolean {
    const v = this.layer.get(key);
    if (v === undefined && !this.layer.has(key)) return this.base.has(key);
    return v !== REMOVED;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.base) {
      const over = this.layer.get(k);
      if (over === undefined && !this.layer.has(k)) yield [k, v];
      else if (over !== REMOVED) yield [k, over as V];
    }
    for (const [k, v] of this.layer) if (v !== REMOVED && !this.base.has(k)) yield [k, v];
  }

  *keys(): MapIterator<K> {
    for (const k of this.base.keys()) {
      const over = this.layer.get(k);
      if (over !== REMOVED) yield k;
    }
    for (const [k, v] of this.layer) if (v !== REMOVED && !this.base.has(k)) yield k;
  }

  *values(): MapIterator<V> {
    for (const [k, v] of this.base) {
      const over = this.layer.get(k);
      if (over === undefined && !this.layer.has(k)) yield v;
      else if (over !== REMOVED) yield over as V;
    }
    for (const [k, v] of this.layer) if (v !== REMOVED && !this.base.has(k)) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** Without an iterator (no allocation per entry). */
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    this.base.forEach((v, k) => {
      const over = this.layer.get(k);
      if (over === undefined && !this.layer.has(k)) callback.call(thisArg, v, k, this);
      else if (over !== REMOVED) callback.call(thisArg, over as V, k, this);
    });
    this.layer.forEach((v, k) => {
      if (v !== REMOVED && !this.base.has(k)) callback.call(thisArg, v, k, this);
    });
  }
}
