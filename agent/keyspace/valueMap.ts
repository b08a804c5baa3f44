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
 *
 * Snapshot bits (persistence/snapshot.ts): each snapshot whose cut holds this map takes one of
 * SNAPSHOT_BIT_COUNT bits of it, and every value carries the bits of the snapshots that wrote it or must never
 * write it: a slab string in its slot's header, any other value in the high bits of its stamp in `stamps`. A value
 * stored while snapshots run gets all their bits (it is after their cuts). When a snapshot ends its bit is
 * released but may still be set on values ("dirty"); a bit is taken again only once a sweep has cleared it
 * everywhere, which happens when a snapshot finds no clean bit left.
 */
import type { Value } from './database';
import { KeyMap } from './keyMap';
import { StringSlab } from './stringSlab';

/** A value as the map holds it: a slab handle for a string in the slab, the value itself otherwise. */
export type StoredValue = Value | number;

/** Access stamps are 24-bit (keyspace/access.ts); the bits above them in `stamps` are snapshot bits. */
const STAMP_BITS = 24;
const STAMP_MASK = (1 << STAMP_BITS) - 1;
/**
 * Snapshots that can run at once on one map: a stamp with its snapshot bits must stay a small integer on every
 * V8 build (below 2^30).
 */
export const SNAPSHOT_BIT_COUNT = 6;
const ALL_SNAPSHOT_BITS = (1 << SNAPSHOT_BIT_COUNT) - 1;

export class ValueMap implements Iterable<[string, Value]> {
  private readonly map = new KeyMap<StoredValue>();
  private readonly strings = new StringSlab();
  /** Access stamps of the keys whose value is not in the slab (exactly those), with their snapshot bits above. */
  private readonly stamps = new KeyMap<number>();
  /** Bits of the snapshots running on this map. */
  private runningBits = 0;
  /** Bits of ended snapshots that values may still carry. */
  private dirtyBits = 0;

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
    this.stamps.set(key, stamp | (this.runningBits << STAMP_BITS));
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
    return typeof stored === 'number' ? this.strings.stamp(stored) : (this.stamps.get(key) ?? 0) & STAMP_MASK;
  }

  /** Sets the access stamp of `key`, whose value is stored as `stored` (see storedStamp). */
  setStoredStamp(key: string, stored: StoredValue, stamp: number): void {
    if (typeof stored === 'number') this.strings.setStamp(stored, stamp);
    else if ((this.runningBits | this.dirtyBits) === 0) this.stamps.set(key, stamp);
    else this.stamps.set(key, stamp | ((this.stamps.get(key) ?? 0) & ~STAMP_MASK));
  }

  /** A snapshot bit for a cut that holds this map (see above): clean on every value. */
  takeSnapshotBit(): number {
    let free = ALL_SNAPSHOT_BITS & ~(this.runningBits | this.dirtyBits);
    if (free === 0) {
      this.sweepSnapshotBits(this.dirtyBits);
      free = ALL_SNAPSHOT_BITS & ~this.runningBits;
    }
    if (free === 0) throw new Error(`more than ${SNAPSHOT_BIT_COUNT} snapshots at once on one database`);
    const bit = free & -free;
    this.runningBits |= bit;
    this.strings.newSlotBits = this.runningBits;
    return bit;
  }

  /** The snapshot that took `bit` has ended; values keep it until a sweep. */
  releaseSnapshotBit(bit: number): void {
    this.runningBits &= ~bit;
    this.dirtyBits |= bit;
    this.strings.newSlotBits = this.runningBits;
  }

  /**
   * Whether snapshot `bit` is set on `key`'s value `stored` (as getStored gave it, now or earlier). A value that is
   * not a slab string and whose key has no stamp any more has left the map or the slab took its key's new value:
   * the change that did it came after the hook, which wrote the value, so it counts as set.
   */
  hasSnapshotBit(key: string, stored: StoredValue, bit: number): boolean {
    if (typeof stored === 'number') return this.strings.hasBit(stored, bit);
    const tagged = this.stamps.get(key);
    return tagged === undefined || (tagged & (bit << STAMP_BITS)) !== 0;
  }

  /** Like hasSnapshotBit, and sets the bit. */
  testAndSetSnapshotBit(key: string, stored: StoredValue, bit: number): boolean {
    if (typeof stored === 'number') return this.strings.testAndSetBit(stored, bit);
    const tagged = this.stamps.get(key);
    if (tagged === undefined || (tagged & (bit << STAMP_BITS)) !== 0) return true;
    this.stamps.set(key, tagged | (bit << STAMP_BITS));
    return false;
  }

  /** Clears `bits` from every value. */
  private sweepSnapshotBits(bits: number): void {
    this.strings.clearBits(bits);
    const tags = bits << STAMP_BITS;
    this.stamps.forEach((tagged, key) => {
      if ((tagged & tags) !== 0) this.stamps.set(key, tagged & ~tags);
    });
    this.dirtyBits &= ~bits;
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
