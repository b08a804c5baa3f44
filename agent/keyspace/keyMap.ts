/**
 * The keyspace's map from key to value (and to expiry, and to access stamp): a JS Map split into KEY_MAP_SHARDS
 * Maps by a hash of the key.
 *
 * Why: a V8 Map grows by rehashing all of its entries in one step. Measured on this project's machine, one
 * `set` that crosses a power of two took 69 ms at 1M entries, 238 ms at 2M, 319 ms at 4M and ~1.5 s at 8M; every
 * client waits for it, and a full sync's load on a replica stops serving the old dataset meanwhile. Redis rehashes
 * incrementally; here each shard grows on its own, so a growth step moves 1/KEY_MAP_SHARDS of the keys.
 * Measured: growing a keyspace to 3M keys under SET -P 16 stalled the event loop 320, 132 and 56 ms with one Map,
 * never over 40 ms with shards; and loading 1M keys from an RDB file took ~30% less (smaller tables to grow).
 *
 * Iteration goes shard by shard, each with the shard's live Map iterator, which keeps what the server relies on
 * (SCAN cursors, sampling walkers, the snapshot walk, the active expire cycle): an entry present from the start
 * to the end of an iteration is visited exactly once, a deleted one is skipped. An entry added during an
 * iteration may or may not be visited (a plain Map visits it); nothing depends on that.
 *
 * Cost: one hash of the key per call, over at most 40 characters, and the last key's shard is remembered, since a
 * command usually asks the dict, the expires and the access stamps about the same key string in a row.
 */

/**
 * Shards per map, a power of two. At 8M keys a growth step moves ~125K entries (a few ms). More shards cost more:
 * SET -P 16 on 1M keys, one core, lost ~7% of its throughput with 16 or 64 shards and ~16% with 256 (smaller
 * tables; the cause was not measured).
 */
export const KEY_MAP_SHARDS = 64;
const SHARD_MASK = KEY_MAP_SHARDS - 1;

/** Keys up to this length are hashed whole; longer ones by their first 8, middle 16 and last 16 characters. */
const WHOLE_KEY_HASH_CHARS = 32;

/**
 * A hash of a key for the keyspace's own tables (shards here, the snapshot's position tables): FNV-1a over the
 * key's length and its characters, at most 40 of them, so the cost does not grow with long keys. Any function
 * works for correctness; a skewed one only makes some shards bigger (keys longer than 32 characters that differ
 * only outside the sampled ones share a shard).
 */
export function keyHash(key: string): number {
  const n = key.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  if (n <= WHOLE_KEY_HASH_CHARS) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }
  for (let i = 0; i < 8; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  const mid = (n >> 1) - 8;
  for (let i = mid; i < mid + 16; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  for (let i = n - 16; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function hashShard(key: string): number {
  const h = keyHash(key);
  return (h ^ (h >>> 15)) & SHARD_MASK;
}

let lastKey = '';
let lastShard = hashShard('');

/** The shard of `key` (remembered for the last key asked). */
export function shardOf(key: string): number {
  if (key !== lastKey) {
    lastKey = key;
    lastShard = hashShard(key);
  }
  return lastShard;
}

export class KeyMap<V> implements Iterable<[string, V]> {
  private readonly shards: Map<string, V>[] = [];
  private count = 0;

  constructor() {
    for (let i = 0; i < KEY_MAP_SHARDS; i++) this.shards.push(new Map());
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shards[shardOf(key)].get(key);
  }

  has(key: string): boolean {
    return this.shards[shardOf(key)].has(key);
  }

  set(key: string, value: V): this {
    const shard = this.shards[shardOf(key)];
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
    return this;
  }

  delete(key: string): boolean {
    if (!this.shards[shardOf(key)].delete(key)) return false;
    this.count--;
    return true;
  }

  keys(): IterableIterator<string> {
    return new ShardsIterator(this.shards, (m) => m.keys());
  }

  values(): IterableIterator<V> {
    return new ShardsIterator(this.shards, (m) => m.values());
  }

  entries(): IterableIterator<[string, V]> {
    return new ShardsIterator(this.shards, (m) => m.entries());
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Calls `fn` for every entry, like Map.forEach: no [key, value] pair per entry, for whole-map scans. */
  forEach(fn: (value: V, key: string) => void): void {
    for (const shard of this.shards) shard.forEach(fn);
  }

  /**
   * The entries of the shards numbered `group` modulo `groups` (1 <= groups <= KEY_MAP_SHARDS): the keys whose
   * `shardOf(key) % groups` is `group`, so that a walk in groups visits each key once without hashing it.
   */
  groupEntries(group: number, groups: number): IterableIterator<[string, V]> {
    const shards = this.shards.filter((_, s) => s % groups === group);
    return new ShardsIterator(shards, (m) => m.entries());
  }
}

/** Chains the live iterators of the shards, opening each when the previous one is done. */
class ShardsIterator<V, T> implements IterableIterator<T> {
  private index = 0;
  private current: Iterator<T>;

  constructor(
    private readonly shards: Map<string, V>[],
    private readonly open: (shard: Map<string, V>) => Iterator<T>,
  ) {
    this.current = open(shards[0]);
  }

  next(): IteratorResult<T> {
    for (;;) {
      const r = this.current.next();
      if (!r.done || this.index === this.shards.length - 1) return r;
      this.index++;
      this.current = this.open(this.shards[this.index]);
    }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this;
  }
}
