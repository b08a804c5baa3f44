/**
 * A database's map from key to value: a KeyMap whose string values the slab takes (16 to 1019 chars) live in a
 * StringSlab (stringSlab.ts says why and which), stored in the map as their slot's handle (a number, which no other
 * value is). The API is KeyMap's with values as the rest of the server knows them: `get` and iteration make the
 * string from its slot; `set` copies a string into a slot when the slab takes it and frees the slot of the value
 * it replaces.
 *
 * It also keeps each key's access stamp (LRU clock or LFU data, keyspace/access.ts; Redis's robj->lru): in the
 * slot's header for a string in the slab, in a second KeyMap for any other value. A SET or GET of a slab string then
 * touches its stamp where it touches the value, instead of a second map of a million keys (one more cache miss per
 * command: 12-15% of SET -P 16 on 1M keys of 100-byte values). Every key has a stamp.
 *
 * Invariant: a handle in the map is live until its key is overwritten or deleted here. Whoever keeps handles
 * beyond that (the snapshot, through `groupStored`) must resolve them before the change, which the keyspace's
 * beforeMutate hook gives it the chance to do.
 */
import type { Value } from './database';
import { KeyMap } from './keyMap';
import { StringSlab } from './stringSlab';

/** A value as the map holds it: a slab handle for a string in the slab, the value itself otherwise. */
export type StoredValue = Value | number;

export class ValueMap implements Iterable<[string, Value]> {
  private readonly map = new KeyMap<StoredValue>();
  private readonly strings = new StringSlab();
  /** Access stamps of the keys whose value is not in the slab (exactly those). */
  private readonly stamps = new KeyMap<number>();

  get size(): number {
    return this.map.size;
  }

  get(key: string): Value | undefined {
    const v = this.map.get(key);
    return v === undefined ? v : this.resolve(v);
  }

  /** The value as stored: a slab handle (a number) for a string in the slab, which `resolve` or `copyString` read. */
  getStored(key: string): StoredValue | undefined {
    return this.map.get(key);
  }

  /** The length of the string of `handle` (from getStored). */
  stringLength(handle: number): number {
    return this.strings.length(handle);
  }

  /** Copies the string of `handle` (from getStored) into `target` at `at`; its length. */
  copyString(handle: number, target: Buffer, at: number): number {
    return this.strings.copyTo(handle, target, at);
  }

  /** The string of `handle` (from getStored) as bytes to copy (persistence/model.ts's StoredBytes). */
  storedBytes(handle: number): { length: number; source: ValueMap; ref: number } {
    return { length: this.strings.length(handle), source: this, ref: handle };
  }

  /** The value for sizing it: a string from the slab comes as its length, without making the string. */
  peek(key: string): Value | number | undefined {
    const v = this.map.get(key);
    return v === undefined ? v : this.peeked(v);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Sets `key` to `value` with access stamp `stamp`. */
  set(key: string, value: Value, stamp: number): this {
    // Free first: a value of the same size class then lands in the slot the old one leaves.
    const old = this.map.get(key);
    if (typeof old === 'number') this.strings.release(old);
    const inSlab = this.put(key, value, stamp);
    if (inSlab && old !== undefined && typeof old !== 'number') this.stamps.delete(key);
    return this;
  }

  /**
   * Adds `key`, which the caller expects to be new, in one probe instead of set's two: what a loader filling a
   * fresh map does for every key. Returns false when `key` was there after all; it then holds `value`, the old
   * value is lost without being freed, and the map is only fit to be thrown away, as a loader does on a
   * duplicate key.
   */
  addNew(key: string, value: Value, stamp: number): boolean {
    const before = this.map.size;
    this.put(key, value, stamp);
    return this.map.size !== before;
  }

  /**
   * Maps `key` to `value` with `stamp`: in a slab slot (stamp in its header) when the slab takes the value, else
   * as is (stamp in `stamps`). Returns whether the slab took it. What the key held before is the caller's.
   */
  private put(key: string, value: Value, stamp: number): boolean {
    const handle = typeof value === 'string' ? this.strings.store(value, stamp) : -1;
    if (handle !== -1) {
      this.map.set(key, handle);
      return true;
    }
    this.stamps.set(key, stamp);
    this.map.set(key, value);
    return false;
  }

  /** Sets existing `key` to `value`, keeping its access stamp. */
  replace(key: string, value: Value): this {
    return this.set(key, value, this.stampOf(key) ?? 0);
  }

  delete(key: string): boolean {
    const old = this.map.get(key);
    if (old === undefined) return false;
    if (typeof old === 'number') this.strings.release(old);
    else this.stamps.delete(key);
    return this.map.delete(key);
  }

  /** The access stamp of `key`, undefined when there is no such key. */
  stampOf(key: string): number | undefined {
    const stored = this.map.get(key);
    return stored === undefined ? undefined : this.storedStamp(key, stored);
  }

  /** The access stamp of `key`, whose value is stored as `stored` (from getStored: no lookup for a slab string). */
  storedStamp(key: string, stored: StoredValue): number {
    return typeof stored === 'number' ? this.strings.stamp(stored) : (this.stamps.get(key) ?? 0);
  }

  /** Sets the access stamp of `key`, whose value is stored as `stored` (see storedStamp). */
  setStoredStamp(key: string, stored: StoredValue, stamp: number): void {
    if (typeof stored === 'number') this.strings.setStamp(stored, stamp);
    else this.stamps.set(key, stamp);
  }

  /** Sets the access stamp of `key`, if it exists. */
  setStamp(key: string, stamp: number): void {
    const stored = this.map.get(key);
    if (stored !== undefined) this.setStoredStamp(key, stored, stamp);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  entries(): IterableIterator<[string, Value]> {
    return this.resolved(this.map.entries());
  }

  /** The entries with values as stored (see getStored). */
  storedEntries(): IterableIterator<[string, StoredValue]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, Value]> {
    return this.entries();
  }

  /** Like KeyMap.forEach, with values as `peek` gives them (strings from the slab as their length). */
  forEachPeeked(fn: (value: Value | number, key: string) => void): void {
    this.map.forEach((v, key) => fn(this.peeked(v), key));
  }

  /** KeyMap.groupEntries with values as stored (see the invariant above); `resolve` turns one into its value. */
  groupStored(group: number, groups: number): IterableIterator<[string, StoredValue]> {
    return this.map.groupEntries(group, groups);
  }

  groupSize(group: number, groups: number): number {
    return this.map.groupSize(group, groups);
  }

  resolve(stored: StoredValue): Value {
    return typeof stored === 'number' ? this.strings.read(stored) : stored;
  }

  private peeked(stored: StoredValue): Value | number {
    return typeof stored === 'number' ? this.strings.length(stored) : stored;
  }

  private *resolved(entries: IterableIterator<[string, StoredValue]>): IterableIterator<[string, Value]> {
    for (const [key, v] of entries) yield [key, this.resolve(v)];
  }
}
