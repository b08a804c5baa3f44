/**
 * Memory accounting: an estimate of the bytes the dataset holds, kept up to date incrementally so that INFO's
 * used_memory and maxmemory decisions are cheap and react at once to writes and deletions (the V8 heap only
 * shrinks after a garbage collection, which would make eviction overshoot).
 *
 * How: every mutation passes through the keyspace's `beforeMutate(db, key)` hook before the value changes. We
 * subtract the key's current estimate then, remember the (dict, key) pair, and add the estimate of whatever the
 * key holds afterwards when the command ends (`settle`). A key touched twice in one command is recorded once.
 * Totals are kept per dict object, so FLUSHDB (a new dict) and SWAPDB (dicts change places) stay right; a dict
 * we have not seen before is measured once by a full scan.
 *
 * Estimates are a deterministic function of the value's state, so subtracting and adding always cancel out:
 * strings count their bytes plus per-entry overhead measured on V8; collections use `memoryBytes()` when
 * their implementation provides it, else a per-element constant.
 */
import type { CollectionValue, Database, Keyspace, Value } from '../keyspace/database';
import { ValueMap } from '../keyspace/valueMap';

/** Per key: the Map entry (with growth slack), the key string's header and the value string's header. */
export const KEY_OVERHEAD_BYTES = 72;
/** A collection object besides its elements. */
export const COLLECTION_BASE_BYTES = 96;
/** Per element, when the collection does not report its own size. */
export const ELEMENT_FALLBACK_BYTES = 48;
/** Pending touched keys beyond which duplicates are found with a Set instead of a scan. */
const LINEAR_DEDUP_MAX = 16;

/** Optional: a collection that knows its own footprint reports it (cheaply) for accounting. */
export interface SelfSizedValue {
  memoryBytes(): number;
}

type Dict = Database['dict'];
const EMPTY_DICT: Dict = new ValueMap();

/**
 * Estimated bytes of one entry (key, value and overhead). The value may come as ValueMap.peek gives it, a string as
 * its length: the estimate is the same.
 */
export function entryBytes(key: string, value: Value | number | undefined): number {
  if (value === undefined) return 0;
  return KEY_OVERHEAD_BYTES + key.length + valueBytes(value);
}

/** Estimated bytes of a value alone (a string may come as its length, see entryBytes). */
export function valueBytes(value: Value | number): number {
  if (typeof value === 'number') return (value + 7) & ~7;
  if (typeof value === 'string') return (value.length + 7) & ~7;
  const sized = value as CollectionValue & Partial<SelfSizedValue>;
  if (typeof sized.memoryBytes === 'function') return sized.memoryBytes();
  return COLLECTION_BASE_BYTES + value.size * ELEMENT_FALLBACK_BYTES;
}

export class MemoryAccounting {
  private readonly totals = new WeakMap<Dict, number>();
  private readonly pendingDicts: Dict[] = [];
  private readonly pendingKeys: string[] = [];
  /** Entries of pendingKeys/pendingDicts in use (the arrays are reused, never shrunk). */
  private pendingCount = 0;
  /** The dict adjusted last and its running total, written back to `totals` when another dict comes. */
  private cachedDict: Dict | undefined;
  private cachedTotal = 0;
  /** Dedup index once many keys are pending (MSET of a thousand keys): dict -> keys. */
  private pendingIndex: Map<Dict, Set<string>> | null = null;
  private total = 0;
  /** Set when a database's dict was replaced or swapped: the grand total is re-summed on next read. */
  private structureChanged = true;

  constructor(private readonly keyspace: Keyspace) {}

  /** Hook: `key` of `db` is about to change. */
  beforeMutate(db: Database, key: string): void {
    const dict = db.dict;
    const keys = this.pendingKeys;
    const n = this.pendingCount;
    if (n < LINEAR_DEDUP_MAX) {
      for (let i = 0; i < n; i++) if (keys[i] === key && this.pendingDicts[i] === dict) return;
    } else {
      if (this.pendingIndex === null) {
        this.pendingIndex = new Map();
        for (let i = 0; i < n; i++) indexAdd(this.pendingIndex, this.pendingDicts[i], keys[i]);
      }
      if (!indexAdd(this.pendingIndex, dict, key)) return;
    }
    const before = entryBytes(key, dict.peek(key));
    if (before !== 0) this.adjust(dict, -before);
    this.pendingDicts[n] = dict;
    keys[n] = key;
    this.pendingCount = n + 1;
  }

  /** Hook: a database is about to be emptied, swapped or replaced. */
  beforeReplaceAll(): void {
    this.settle();
    this.structureChanged = true;
  }

  /** Adds the new estimates of the keys touched since the last call. */
  settle(): void {
    const n = this.pendingCount;
    if (n === 0) return;
    // Reset before the loop, not after: a first call with many keys (DEBUG POPULATE) gets this loop compiled by
    // on-stack replacement before anything after the loop ever ran, and that code then bailed out (deoptimized)
    // after the loop on ~1 call in 700 of every later command, for good.
    this.pendingCount = 0;
    this.pendingIndex = null;
    const keys = this.pendingKeys;
    const dicts = this.pendingDicts;
    for (let i = 0; i < n; i++) {
      const after = entryBytes(keys[i], dicts[i].peek(keys[i]));
      if (after !== 0) this.adjust(dicts[i], after);
      // Drop references so settled keys and replaced dicts can be collected.
      keys[i] = '';
      dicts[i] = EMPTY_DICT;
    }
  }

  private adjust(dict: Dict, delta: number): void {
    if (dict !== this.cachedDict) this.switchCachedDict(dict);
    this.cachedTotal += delta;
    this.total += delta;
  }

  private switchCachedDict(dict: Dict): void {
    if (this.cachedDict !== undefined) this.totals.set(this.cachedDict, this.cachedTotal);
    this.cachedTotal = this.dictTotal(dict);
    this.cachedDict = dict;
  }

  private dictTotal(dict: Dict): number {
    if (dict === this.cachedDict) return this.cachedTotal;
    let t = this.totals.get(dict);
    if (t === undefined) {
      let sum = 0;
      dict.forEachPeeked((v, k) => (sum += entryBytes(k, v)));
      t = sum;
      this.totals.set(dict, t);
      this.structureChanged = true;
    }
    return t;
  }

  /** Estimated bytes of the whole dataset. */
  datasetBytes(): number {
    this.settle();
    if (this.structureChanged) {
      this.structureChanged = false;
      let sum = 0;
      for (const db of this.keyspace.dbs) sum += this.dictTotal(db.dict);
      this.structureChanged = false;
      this.total = sum;
    }
    return this.total;
  }

  /** Estimated bytes of one database. */
  dbBytes(db: Database): number {
    this.settle();
    return this.dictTotal(db.dict);
  }
}

/** Adds (dict, key) to the index; false when it was there already. */
function indexAdd(index: Map<Dict, Set<string>>, dict: Dict, key: string): boolean {
  let keys = index.get(dict);
  if (keys === undefined) {
    keys = new Set();
    index.set(dict, keys);
  }
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}
