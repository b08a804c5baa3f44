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
 *    place, by LPUSH say, is written before the push). RDB entries may come in any order (the encoder switches
 *    databases with SELECTDB as needed), so nothing has to be kept for later: no copies.
 * 4. Which keys are done (written by the walk or by a change, or holding a value stored after the cut, never to
 *    be written) is a bit carried by the value itself: each snapshot takes one bit of each map of its cut, and the
 *    map keeps it with every value (keyspace/valueMap.ts: a slab string's slot header, any other value's stamp
 *    word). A value stored while the snapshot runs gets the bit from the start; the hook and the walk write a
 *    value only if they are the ones setting its bit. So the question "done?" costs no table of keys and no hash:
 *    the hook reads a byte of the slot the change is about to free anyway, the walk one of the slot it is about to
 *    copy. A key that leaves the map (deleted, or renamed away) was written by the hook first; its old slot keeps
 *    the bit until it is stored again, which gives it the bits of the running snapshots, so a handle the walk
 *    collected earlier can always be asked.
 *    The walk goes over a database in P = ceil(n / keysPerPass) passes (at most one per shard); a pass is a group
 *    of the KeyMap's shards: it first *collects* the keys not done and their values from its live shards into an
 *    array, in Map order, then *writes* them in that order (so the walk reads memory in the order the values were
 *    allocated), asking each value's bit again, since a change may have written it meanwhile. Values are
 *    collected as the dict stores them (a string in its slab as the slot's handle) and read when written (the
 *    sink gets such a string as its bytes, model.ts's StoredBytes, and copies them then).
 *
 * Costs: the cut is instant (a sweep of the map's bits once every SNAPSHOT_BIT_COUNT snapshots: one pass over its
 * slab and stamps); each slice does a bounded amount of work (the driver gives a time and byte budget); the extra
 * memory is the array of one pass (bounded by keysPerPass), plus the bytes the consumer has not pulled yet. The
 * walk visits each key once and never hashes or inserts the keys it writes.
 * Limits: one value is encoded in one go, so a single huge collection costs one slice proportional to its size
 * (Redis's DUMP of it costs the same), and so does the first change of such a key during a snapshot. Access
 * metadata (IDLE/FREQ, written only under LRU/LFU eviction policies) is read when the key is written, not frozen
 * at the cut, because reads update it without any hook. At most SNAPSHOT_BIT_COUNT snapshots run at once on one
 * database (a BGSAVE, an AOF rewrite and one full sync at a time need three).
 *
 * Several snapshots may run at once (a BGSAVE and a replica's full sync); each is independent, and the registry
 * forwards the keyspace's hooks to all of them. The entries go to a sink (the RDB encoder in rdbSnapshot.ts, the
 * AOF rewrite's command writer), so the same walk serves files, sockets and fan-out.
 */
import type { Database, Keyspace } from '../keyspace/database';
import { KEY_MAP_SHARDS, type KeyMap } from '../keyspace/keyMap';
import type { StoredValue, ValueMap } from '../keyspace/valueMap';
import { entryOf, type AccessMode } from './keyspaceAdapter';
import type { RdbEntry } from './model';

/** Keys a pass may collect: bounds the array of one pass (PASS_ENTRY_BYTES per key). */
export const DEFAULT_KEYS_PER_PASS = 256 * 1024;

/** Bytes per collected key in a pass's array (a key and a value reference, with growth slack). */
const PASS_ENTRY_BYTES = 24;

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
  /** This snapshot's bit on the dict's values (see the design above). */
  readonly bit: number;
  readonly passes: number;
  /** Pass being collected or written (passes when finished). */
  pass: number;
  /** The pass's live iterator over the Map while it collects; null once it writes. */
  iter: IterableIterator<[string, StoredValue]> | null;
  /** The current pass's keys and values at collection, alternating, in Map order; null before it started. */
  entries: Array<string | StoredValue> | null;
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
    try {
      this.cutDatabases(keyspace, keysPerPass);
    } catch (err) {
      // No bit left on one of the dicts: give back those taken on the others.
      this.release();
      throw err;
    }
    if (this.cuts.length === 0) this.finished = true;
    else registry.add(this);
  }

  private cutDatabases(keyspace: Keyspace, keysPerPass: number): void {
    for (const db of keyspace.dbs) {
      const keyCount = db.dict.size;
      if (keyCount === 0) continue;
      const passes = Math.min(KEY_MAP_SHARDS, Math.max(1, Math.ceil(keyCount / keysPerPass)));
      const cut: DbCut = {
        id: db.id,
        dict: db.dict,
        expires: db.expires,
        bit: db.dict.takeSnapshotBit(),
        passes,
        pass: 0,
        iter: null,
        entries: null,
        cursor: 0,
      };
      this.cuts.push(cut);
      this.byDict.set(db.dict, cut);
      this.dbSizes.set(db.id, { keyCount, expiresCount: db.expires.size });
      this.stats.keysTotal += keyCount;
    }
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
    cut.iter = cut.dict.groupStored(cut.pass, cut.passes);
  }

  /**
   * Collects the current pass's keys not done yet from the live Map. Returns true once the Map is exhausted (the
   * pass goes on to writing), false when `shouldStop()` said so first.
   */
  private collect(cut: DbCut, shouldStop: () => boolean, checkEvery: number): boolean {
    const { dict, bit } = cut;
    const entries = cut.entries!;
    const before = entries.length;
    let sinceCheck = 0;
    let stopped = false;
    // for..of over the live iterator: leaving the loop does not close a Map iterator, so the pass resumes here.
    for (const [key, value] of cut.iter!) {
      if (!dict.hasSnapshotBit(key, value, bit)) entries.push(key, value);
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

  /** Writes the collected keys in order, skipping those a change wrote since they were collected. */
  private writeCollected(cut: DbCut, shouldStop: () => boolean, checkEvery: number): boolean {
    const { dict, bit } = cut;
    const entries = cut.entries!;
    const count = entries.length >> 1;
    let sinceCheck = 0;
    while (cut.cursor < count) {
      const i = cut.cursor++;
      const key = entries[i * 2] as string;
      const stored = entries[i * 2 + 1] as StoredValue;
      if (!dict.testAndSetSnapshotBit(key, stored, bit)) {
        this.sink(this.entry(cut, key, stored), false);
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
    this.addExtra(-(cut.entries!.length / 2) * PASS_ENTRY_BYTES);
    cut.entries = null;
    cut.pass++;
    if (cut.pass < cut.passes) return;
    this.byDict.delete(cut.dict);
    this.current++;
    if (this.current === this.cuts.length) {
      this.finished = true;
      this.release();
    }
  }

  /** The entry of `key` with `stored`, its value as the dict stores it (read by the sink, at once). */
  private entry(cut: DbCut, key: string, stored: StoredValue): RdbEntry {
    return entryOf(cut, key, stored, this.accessMode, this.accessMode === 'none' ? 0 : this.nowMs());
  }

  /** The keyspace hook: `key` of `db` is about to change: write its value now unless it is done already. */
  beforeMutate(db: Database, key: string): void {
    const cut = this.byDict.get(db.dict);
    if (cut === undefined) return;
    const stored = cut.dict.getStored(key);
    // Not in the map: created now, after the cut (its value will carry the bit), or nothing to change.
    if (stored === undefined) return;
    if (cut.dict.testAndSetSnapshotBit(key, stored, cut.bit)) return;
    this.stats.keysChangedDuringSnapshot++;
    this.stats.keysWritten++;
    this.sink(this.entry(cut, key, stored), true);
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
    for (const cut of this.cuts) cut.dict.releaseSnapshotBit(cut.bit);
    this.cuts.length = 0;
    this.stats.extraBytes = 0;
  }
}
