/**
 * The fork-less point-in-time snapshot: the keyspace as it was at one instant (the *cut*), produced in small slices
 * while clients keep reading and writing.
 *
 * Redis gets this from fork() and copy-on-write pages; Node has no fork. The design here is Dragonfly's idea
 * ("serialize an entry before its first change after the cut") adapted to what a JS Map offers:
 *
 * 1. The cut is O(number of databases): for each non-empty database we keep references to its `dict` and
 *    `expires` Maps and their sizes. Nothing is copied. Everything else happens lazily.
 * 2. Databases are identified by their Map objects, not their numbers: FLUSHDB/FLUSHALL (and a replica's full
 *    sync) give a database *new* Maps, so the Maps of the cut are simply never changed again and the walk goes
 *    on over them (they are freed once no snapshot needs them; other snapshots may walk the same Maps, so nothing
 *    is removed from them); SWAPDB moves Maps between numbers, and the hook finds
 *    the right cut by Map identity. So `beforeReplaceAll` needs no work at all, and the image keeps the numbers
 *    the databases had at the cut.
 * 3. Every key change goes through `beforeMutate(db, key)` first (keyspace/database.ts's invariant). The first
 *    time a key of the cut is about to change, the snapshot writes it out at once, with its value *as it is now*,
 *    which is still its value at the cut (a deleted key is written with its old value; a collection changed in
 *    place, by LPUSH say, is written before the push), and remembers the key as done. A key that did not exist
 *    yet is remembered too, as created after the cut, and never written. RDB entries may come in any order (the
 *    encoder switches databases with SELECTDB as needed), so nothing has to be kept for later: no copies.
 * 4. The walk must then skip keys already done, and a change must not write a key the walk already wrote. A JS
 *    Map has no positions to compare, and a "done" Set of every key would cost memory (and a hash insertion) per
 *    key of the dataset. Instead the walk goes in an order that can be computed from the key itself: a database
 *    of n keys is walked in P = ceil(n / keysPerPass) passes (at most one per shard), a key belongs to the pass
 *    `shardOf(key) mod P`, so a pass is a group of the KeyMap's shards (keyspace/keyMap.ts), and a pass first
 *    *collects* its keys (and values) from its live shards into an array, in Map order, then *writes* them in
 *    that order (so the walk reads memory in the order the values were allocated). Values are collected as the
 *    dict stores them (a string in its slab as the slot's handle, keyspace/valueMap.ts) and read when written (the
 *    sink gets such a string as its bytes, model.ts's StoredBytes, and copies them then): a handle stays valid
 *    until its key changes, and the hook below sees that change first. While it collects,
 *    an open-addressing table of 32-bit slots maps each collected key to its position, so whether the walk is
 *    past a key is one probe and a compare with the write cursor. When a key is about to change:
 *      its pass < current pass, or its position < write cursor  -> written by the walk already, nothing to do;
 *      collected, not written yet                                -> write it now and set its change flag (a byte
 *                                                                  per collected key), which the walk skips;
 *      otherwise (a later pass, or not collected yet)            -> write it now and add it to its pass's marks,
 *                                                                  which the collection skips.
 *    So the walk asks the marks (KeyMarks) once per key while it collects and never while it writes. The array,
 *    table and flags of one pass hold about keysPerPass keys and are dropped when the pass ends. A key deleted
 *    and re-created while its pass collects comes back at the end of the Map's order: it is marked too, which
 *    keeps it from being collected twice; a key created after the cut is marked at its creation, so it is never
 *    written at all.
 *
 * Costs: the cut is instant; each slice does a bounded amount of work (the driver gives a time and byte budget);
 * the extra memory is one mark (a KeyMarks slot) per key changed during the snapshot (proportional to what is
 * written meanwhile) and the array, table and flags of one pass (bounded by keysPerPass), plus the bytes the
 * consumer has not pulled yet. The walk visits each key once (hashing it for the position table and the marks) and
 * never inserts the keys it writes into a hash table.
 * Limits: one value is encoded in one go, so a single huge collection costs one slice proportional to its size
 * (Redis's DUMP of it costs the same), and so does the first change of such a key during a snapshot. Access
 * metadata (IDLE/FREQ, written only under LRU/LFU eviction policies) is read when the key is written, not frozen
 * at the cut, because reads update it without any hook.
 *
 * Several snapshots may run at once (a BGSAVE and a replica's full sync); each is independent, and the registry
 * forwards the keyspace's hooks to all of them. The entries go to a sink (the RDB encoder in rdbSnapshot.ts, the
 * AOF rewrite's command writer), so the same walk serves files, sockets and fan-out.
 */
import type { Database, Keyspace } from '../keyspace/database';
import { KEY_MAP_SHARDS, keyHash, shardOf, type KeyMap } from '../keyspace/keyMap';
import type { StoredValue, ValueMap } from '../keyspace/valueMap';
import { entryOf, type AccessMode } from './keyspaceAdapter';
import type { RdbEntry } from './model';

/** Keys a pass may collect: bounds the array and position table of one pass (about PASS_KEY_BYTES per key). */
export const DEFAULT_KEYS_PER_PASS = 256 * 1024;

/** Bytes per collected key in a pass's array (a key and a value reference, with growth slack). */
const PASS_ENTRY_BYTES = 24;

/** Bytes per slot of a pass's position table (an Int32Array). */
const POSITION_SLOT_BYTES = 4;

/** Bytes per collected key of a pass's change flags (a Uint8Array). */
const CHANGED_FLAG_BYTES = 1;

/** Rough bytes per key remembered in a pass's marks (a tag and a key reference per slot, half full or more). */
const KEY_MARK_BYTES = 24;

/** Slots of a pass's marks when its first key is marked (doubling from there). */
const KEY_MARKS_MIN_SLOTS = 64;

export interface SnapshotOptions {
  /** Which access metadata entries carry (IDLE/FREQ), as the eviction policy decides. */
  accessMode?: AccessMode;
  /** The clock for access metadata. */
  nowMs?: () => number;
  /** Keys per pass over a database (see the design above). */
  keysPerPass?: number;
}

/**
 * Where entries go, in image order. Must not throw for valid entries. `duringChange` is true for an entry written
 * by the change hook, in the middle of a client's command: the consumer should keep that cheap.
 */
export type EntrySink = (entry: RdbEntry, duringChange: boolean) => void;

/** One database as it was at the cut. */
interface DbCut {
  /** The database's number at the cut. */
  readonly id: number;
  readonly dict: ValueMap;
  readonly expires: KeyMap<number>;
  readonly passes: number;
  /** Pass being collected or written (passes when finished). */
  pass: number;
  /** Keys already written by a change, or created after the cut (never to be written), per pass. */
  readonly marks: Array<KeyMarks | null>;
  /** The pass's live iterator over the Map while it collects; null once it writes. */
  iter: IterableIterator<[string, StoredValue]> | null;
  /** The current pass's keys and values at collection, alternating, in Map order; null before it started. */
  entries: Array<string | StoredValue> | null;
  /** Open addressing, linear probing: 1 + the key's index in `entries`, 0 for a free slot. */
  positions: Int32Array;
  /** By index in `entries`: 1 once a change wrote that key (the walk skips it), 0 otherwise. */
  changed: Uint8Array;
  /** Index of the next key of `entries` to write. */
  cursor: number;
}

export interface SnapshotStats {
  keysTotal: number;
  keysWritten: number;
  /** Keys written by the hook, before their first change after the cut. */
  keysChangedDuringSnapshot: number;
  /** Estimated bytes held because of writes during the snapshot, now and at most. */
  extraBytes: number;
  peakExtraBytes: number;
}

/** Which pass a key belongs to: its shard's group (see KeyMap.groupEntries). */
export function passOf(key: string, passes: number): number {
  return shardOf(key) % passes;
}

const NO_POSITIONS = new Int32Array(0);
const NO_CHANGES = new Uint8Array(0);

/** Slots of a position table for `keys` keys: a power of two, at most half full. */
function positionSlotsFor(keys: number): number {
  let slots = 16;
  while (slots < keys * 2) slots *= 2;
  return slots;
}

/**
 * The first slot to probe for a hash: its top bits after a Fibonacci multiply, because the low bits of the keys
 * of one pass are alike (they chose the pass).
 */
function firstSlot(hash: number, slots: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> (32 - (31 - Math.clz32(slots)));
}

/** The first free slot for `hash` in an open-addressing table of 32-bit slots (0: free), probing linearly. */
function freeSlot(table: Int32Array, hash: number): number {
  const mask = table.length - 1;
  let slot = firstSlot(hash, table.length);
  while (table[slot] !== 0) slot = (slot + 1) & mask;
  return slot;
}

/** Records that the key with `hash` is at `index` of its pass's entries. */
function insertPosition(positions: Int32Array, hash: number, index: number): void {
  positions[freeSlot(positions, hash)] = index + 1;
}

/**
 * The marks of one pass: a set of keys in open addressing over their keyHash, which the walk and the hook have at
 * hand. Asking about an unmarked key (most keys the walk collects) reads one slot of a typed array, where a V8 Set
 * would read its bucket, an entry and the stored key string: under a write load this probe is per key collected
 * and per write.
 */
export class KeyMarks {
  /** keyHash | 1 per slot (0: free), which also picks the first slot; the key string in the same slot of `keys`. */
  private tags = new Int32Array(KEY_MARKS_MIN_SLOTS);
  private keys: string[] = new Array<string>(KEY_MARKS_MIN_SLOTS);
  size = 0;

  /** Whether `key` is marked; `hash` is keyHash(key). */
  has(key: string, hash: number): boolean {
    const tags = this.tags;
    const tag = hash | 1;
    const mask = tags.length - 1;
    for (let slot = firstSlot(tag, tags.length); tags[slot] !== 0; slot = (slot + 1) & mask) {
      if (tags[slot] === tag && this.keys[slot] === key) return true;
    }
    return false;
  }

  /** Marks `key`, which must not be marked yet; `hash` is keyHash(key). */
  add(key: string, hash: number): void {
    // Keep the table at most half full.
    if (this.size * 2 >= this.tags.length) this.grow();
    this.place(key, hash | 1);
    this.size++;
  }

  private place(key: string, tag: number): void {
    const slot = freeSlot(this.tags, tag);
    this.tags[slot] = tag;
    this.keys[slot] = key;
  }

  private grow(): void {
    const { tags, keys } = this;
    this.tags = new Int32Array(tags.length * 2);
    this.keys = new Array<string>(tags.length * 2);
    for (let slot = 0; slot < tags.length; slot++) if (tags[slot] !== 0) this.place(keys[slot], tags[slot]);
  }
}

/**
 * Forwards the keyspace's hooks to the running snapshots. One per server (or per test keyspace): connect
 * `beforeMutate`/`beforeReplaceAll` to the keyspace's hooks once.
 */
export class SnapshotRegistry {
  private readonly running = new Set<KeyspaceSnapshot>();
  private list: KeyspaceSnapshot[] = [];

  readonly beforeMutate = (db: Database, key: string): void => {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i].beforeMutate(db, key);
  };

  readonly beforeReplaceAll = (db: Database): void => {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i].beforeReplaceAll(db);
  };

  get activeCount(): number {
    return this.running.size;
  }

  /** Extra bytes held by all running snapshots now. */
  get extraBytes(): number {
    let n = 0;
    for (const s of this.running) n += s.stats.extraBytes;
    return n;
  }

  add(s: KeyspaceSnapshot): void {
    this.running.add(s);
    this.list = [...this.running];
  }

  remove(s: KeyspaceSnapshot): void {
    if (this.running.delete(s)) this.list = [...this.running];
  }
}

export class KeyspaceSnapshot {
  readonly stats: SnapshotStats = {
    keysTotal: 0,
    keysWritten: 0,
    keysChangedDuringSnapshot: 0,
    extraBytes: 0,
    peakExtraBytes: 0,
  };
  /** Sizes of the databases at the cut (RESIZEDB hints), by database number. */
  readonly dbSizes = new Map<number, { keyCount: number; expiresCount: number }>();
  private readonly cuts: DbCut[] = [];
  private readonly byDict = new Map<ValueMap, DbCut>();
  private current = 0;
  private finished = false;
  private readonly accessMode: AccessMode;
  private readonly nowMs: () => number;

  /** Takes the cut now (synchronously) and starts receiving the keyspace's hooks. */
  constructor(
    keyspace: Keyspace,
    private readonly registry: SnapshotRegistry,
    private readonly sink: EntrySink,
    options: SnapshotOptions = {},
  ) {
    this.accessMode = options.accessMode ?? 'none';
    this.nowMs = options.nowMs ?? Date.now;
    const keysPerPass = Math.max(1, options.keysPerPass ?? DEFAULT_KEYS_PER_PASS);
    for (const db of keyspace.dbs) {
      const keyCount = db.dict.size;
      if (keyCount === 0) continue;
      const passes = Math.min(KEY_MAP_SHARDS, Math.max(1, Math.ceil(keyCount / keysPerPass)));
      const cut: DbCut = {
        id: db.id,
        dict: db.dict,
        expires: db.expires,
        passes,
        pass: 0,
        marks: new Array<KeyMarks | null>(passes).fill(null),
        iter: null,
        entries: null,
        positions: NO_POSITIONS,
        changed: NO_CHANGES,
        cursor: 0,
      };
      this.cuts.push(cut);
      this.byDict.set(db.dict, cut);
      this.dbSizes.set(db.id, { keyCount, expiresCount: db.expires.size });
      this.stats.keysTotal += keyCount;
    }
    if (this.cuts.length === 0) this.finished = true;
    else registry.add(this);
  }

  get done(): boolean {
    return this.finished;
  }

  /** Stops the snapshot and releases what it holds; no more entries are produced. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.release();
  }

  /**
   * Collects and writes entries until `shouldStop()` says so (checked every few keys) or the image is complete.
   * Returns true when the image is complete.
   */
  step(shouldStop: () => boolean, checkEvery = 32): boolean {
    while (!this.finished) {
      const cut = this.cuts[this.current];
      if (cut.entries === null) this.startPass(cut);
      if (cut.iter !== null && !this.collect(cut, shouldStop, checkEvery)) return false;
      if (!this.writeCollected(cut, shouldStop, checkEvery)) return false;
      this.endPass(cut);
    }
    return true;
  }

  private startPass(cut: DbCut): void {
    cut.entries = [];
    cut.cursor = 0;
    this.setPositions(cut, positionSlotsFor(cut.dict.groupSize(cut.pass, cut.passes)));
    cut.iter = cut.dict.groupStored(cut.pass, cut.passes);
  }

  /** A position table of `slots` and room for half as many change flags (those already set are kept). */
  private setPositions(cut: DbCut, slots: number): void {
    this.addExtra((slots - cut.positions.length) * (POSITION_SLOT_BYTES + CHANGED_FLAG_BYTES / 2));
    cut.positions = new Int32Array(slots);
    const changed = new Uint8Array(slots >> 1);
    changed.set(cut.changed);
    cut.changed = changed;
  }

  /**
   * Collects the current pass's keys from the live Map, skipping marked ones. Returns true once the Map is
   * exhausted (the pass goes on to writing), false when `shouldStop()` said so first.
   */
  private collect(cut: DbCut, shouldStop: () => boolean, checkEvery: number): boolean {
    const marks = cut.marks[cut.pass];
    const entries = cut.entries!;
    const before = entries.length;
    let sinceCheck = 0;
    let stopped = false;
    // for..of over the live iterator: leaving the loop does not close a Map iterator, so the pass resumes here.
    for (const [key, value] of cut.iter!) {
      const hash = keyHash(key);
      if (marks === null || !marks.has(key, hash)) {
        const index = entries.length >> 1;
        entries.push(key, value);
        // Keep the table at most half full.
        if (index * 2 >= cut.positions.length) this.growPositions(cut);
        insertPosition(cut.positions, hash, index);
      }
      if (++sinceCheck >= checkEvery) {
        sinceCheck = 0;
        if (shouldStop()) {
          stopped = true;
          break;
        }
      }
    }
    this.addExtra(((entries.length - before) / 2) * PASS_ENTRY_BYTES);
    if (stopped) return false;
    cut.iter = null;
    return true;
  }

  /** More keys than expected fell into this pass: a bigger table, filled again from the entries. */
  private growPositions(cut: DbCut): void {
    this.setPositions(cut, cut.positions.length * 2);
    const entries = cut.entries!;
    for (let i = 0; i < entries.length >> 1; i++)
      insertPosition(cut.positions, keyHash(entries[i * 2] as string), i);
  }

  /** Writes the collected keys in order, skipping keys that a change wrote since they were collected. */
  private writeCollected(cut: DbCut, shouldStop: () => boolean, checkEvery: number): boolean {
    const entries = cut.entries!;
    const count = entries.length >> 1;
    const changed = cut.changed;
    let sinceCheck = 0;
    while (cut.cursor < count) {
      const i = cut.cursor++;
      if (changed[i] === 0) {
        this.sink(this.entry(cut, entries[i * 2] as string, entries[i * 2 + 1] as StoredValue), false);
        this.stats.keysWritten++;
      }
      if (++sinceCheck >= checkEvery) {
        sinceCheck = 0;
        if (shouldStop()) return false;
      }
    }
    return true;
  }

  private endPass(cut: DbCut): void {
    const marks = cut.marks[cut.pass];
    this.addExtra(
      -KEY_MARK_BYTES * (marks?.size ?? 0) -
        (cut.entries!.length / 2) * PASS_ENTRY_BYTES -
        cut.positions.length * (POSITION_SLOT_BYTES + CHANGED_FLAG_BYTES / 2),
    );
    cut.marks[cut.pass] = null;
    cut.entries = null;
    cut.positions = NO_POSITIONS;
    cut.changed = NO_CHANGES;
    cut.pass++;
    if (cut.pass < cut.passes) return;
    this.byDict.delete(cut.dict);
    this.current++;
    if (this.current === this.cuts.length) {
      this.finished = true;
      this.release();
    }
  }

  /** The index of `key` in the current pass's collected entries, -1 when it was not collected (yet). */
  private collectedIndex(cut: DbCut, key: string, hash: number): number {
    const positions = cut.positions;
    const mask = positions.length - 1;
    const entries = cut.entries!;
    for (let slot = firstSlot(hash, positions.length); positions[slot] !== 0; slot = (slot + 1) & mask) {
      const index = positions[slot] - 1;
      if (entries[index * 2] === key) return index;
    }
    return -1;
  }

  /** The entry of `key` with `stored`, its value as the dict stores it (read by the sink, at once). */
  private entry(cut: DbCut, key: string, stored: StoredValue): RdbEntry {
    return entryOf(cut, key, stored, this.accessMode, this.accessMode === 'none' ? 0 : this.nowMs());
  }

  /** The keyspace hook: `key` of `db` is about to change: write it now unless it is done already. */
  beforeMutate(db: Database, key: string): void {
    const cut = this.byDict.get(db.dict);
    if (cut === undefined) return;
    const pass = passOf(key, cut.passes);
    if (pass < cut.pass) return;
    const hash = keyHash(key);
    if (pass === cut.pass && cut.entries !== null) {
      const index = this.collectedIndex(cut, key, hash);
      if (index >= 0) {
        if (index < cut.cursor || cut.changed[index] === 1) return; // written by the walk, or by a change
        cut.changed[index] = 1;
        // While the pass still collects, a key deleted now and created again comes back at the end of the Map's
        // order: its mark keeps the collection from taking it twice.
        if (cut.iter !== null) this.mark(cut, pass, key, hash);
        // The collected value is the current one: any change since its collection would have come here first.
        this.writeChanged(cut, key, cut.entries![index * 2 + 1] as StoredValue);
        return;
      }
    }
    const marks = cut.marks[pass];
    if (marks !== null && marks.has(key, hash)) return;
    this.mark(cut, pass, key, hash);
    const value = cut.dict.getStored(key);
    if (value === undefined) return; // created after the cut
    this.writeChanged(cut, key, value);
  }

  private mark(cut: DbCut, pass: number, key: string, hash: number): void {
    (cut.marks[pass] ??= new KeyMarks()).add(key, hash);
    this.addExtra(KEY_MARK_BYTES);
  }

  private writeChanged(cut: DbCut, key: string, value: StoredValue): void {
    this.stats.keysChangedDuringSnapshot++;
    this.stats.keysWritten++;
    this.sink(this.entry(cut, key, value), true);
  }

  /**
   * The keyspace hook: `db` is about to be emptied, swapped or replaced. Nothing to do (see the design): the
   * Maps of the cut stay as they are, wherever they go. Whether they still belong to a database is checked when
   * a pass starts.
   */
  beforeReplaceAll(_db: Database): void {}

  private addExtra(bytes: number): void {
    const s = this.stats;
    s.extraBytes += bytes;
    if (s.extraBytes > s.peakExtraBytes) s.peakExtraBytes = s.extraBytes;
  }

  private release(): void {
    this.registry.remove(this);
    this.byDict.clear();
    this.cuts.length = 0;
    this.stats.extraBytes = 0;
  }
}
