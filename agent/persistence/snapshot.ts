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
 *    Map has no positions to compare, and a "done" Set of every key would cost memory proportional to the
 *    dataset. So a database of n keys is walked in P = ceil(n / keysPerPass) passes; a key belongs to the pass
 *    `hash(key) mod P`, and a pass iterates the live Map, writing only its own keys:
 *      pass(key) < current pass  -> already written by the walk, nothing to do;
 *      pass(key) = current pass  -> the pass's visited Set says whether it was written; if not, write it now;
 *      pass(key) > current pass  -> write it now and add it to that pass's marks, which become the pass's
 *                                   visited Set when it starts.
 *    The visited Set of the running pass holds at most about keysPerPass keys and is dropped after the pass. A
 *    key deleted and re-created comes back at the end of the Map's order: its mark keeps it from being written
 *    twice, and a key created after the cut is never written at all.
 *
 * Costs: the cut is instant; each slice does a bounded amount of work (the driver gives a time and byte budget);
 * the extra memory is one mark (a Set entry) per key changed during the snapshot (proportional to what is written
 * meanwhile), the visited Set of one pass (bounded by keysPerPass), and the bytes the consumer has not pulled yet.
 * The walk iterates each database P times, hashing keys (cheap next to encoding them).
 * Limits: one value is encoded in one go, so a single huge collection costs one slice proportional to its size
 * (Redis's DUMP of it costs the same), and so does the first change of such a key during a snapshot. Access
 * metadata (IDLE/FREQ, written only under LRU/LFU eviction policies) is read when the key is written, not frozen
 * at the cut, because reads update it without any hook.
 *
 * Several snapshots may run at once (a BGSAVE and a replica's full sync); each is independent, and the registry
 * forwards the keyspace's hooks to all of them. The entries go to a sink (the RDB encoder in rdbSnapshot.ts, the
 * AOF rewrite's command writer), so the same walk serves files, sockets and fan-out.
 */
import type { Database, Keyspace, Value } from '../keyspace/database';
import { addAccessMetadata, valueToRdb, type AccessMode } from './keyspaceAdapter';
import type { RdbEntry } from './model';

/** Keys a pass may visit: bounds the visited Set (about KEY_MARK_BYTES per key). */
export const DEFAULT_KEYS_PER_PASS = 128 * 1024;

/** Rough bytes per key remembered in a visited Set or a pass's marks (V8 Set entry, with growth slack). */
const KEY_MARK_BYTES = 32;

export interface SnapshotOptions {
  /** Which access metadata entries carry (IDLE/FREQ), as the eviction policy decides. */
  accessMode?: AccessMode;
  /** The clock for access metadata. */
  nowMs?: () => number;
  /** Keys per pass over a database (see the design above). */
  keysPerPass?: number;
}

/** Where entries go, in image order. Must not throw for valid entries. */
export type EntrySink = (entry: RdbEntry) => void;

/** One database as it was at the cut. */
interface DbCut {
  readonly dbId: number;
  readonly dict: Map<string, Value>;
  readonly expires: Map<string, number>;
  readonly access: Map<string, number>;
  readonly keyCount: number;
  readonly expiresCount: number;
  readonly passes: number;
  /** Pass being walked (passes when finished). */
  pass: number;
  /** Keys of the current pass already written (or never to be); null before the pass has started. */
  visited: Set<string> | null;
  /** Keys of passes not started yet that are already written or created after the cut, per pass. */
  readonly marks: Array<Set<string> | null>;
  /** The pass's live iterator over the Map. */
  iter: IterableIterator<[string, Value]> | null;
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
 * Which pass a key belongs to: FNV-1a over the key's length and up to its last 12 and first 4 characters (where
 * keys usually differ), so the cost does not grow with long keys. Any function works for correctness; a skewed one
 * only makes one pass's visited Set bigger.
 */
export function passOf(key: string, passes: number): number {
  if (passes === 1) return 0;
  const n = key.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  const from = n > 12 ? n - 12 : 0;
  for (let i = from; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  const head = from < 4 ? from : 4;
  for (let i = 0; i < head; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % passes;
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
  private readonly byDict = new Map<Map<string, Value>, DbCut>();
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
      const passes = Math.max(1, Math.ceil(keyCount / keysPerPass));
      const cut: DbCut = {
        dbId: db.id,
        dict: db.dict,
        expires: db.expires,
        access: db.access,
        keyCount,
        expiresCount: db.expires.size,
        passes,
        pass: 0,
        visited: null,
        marks: new Array<Set<string> | null>(passes).fill(null),
        iter: null,
      };
      this.cuts.push(cut);
      this.byDict.set(db.dict, cut);
      this.dbSizes.set(db.id, { keyCount, expiresCount: cut.expiresCount });
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
   * Writes entries from the walk until `shouldStop()` says so (checked every few keys) or the image is complete.
   * Returns true when the image is complete.
   */
  step(shouldStop: () => boolean, checkEvery = 32): boolean {
    let sinceCheck = 0;
    while (!this.finished) {
      const cut = this.cuts[this.current];
      if (cut.visited === null) this.startPass(cut);
      const passes = cut.passes;
      const pass = cut.pass;
      let stopped = false;
      // for..of over the live iterator: no result objects; leaving the loop does not close a Map iterator.
      for (const [key, value] of cut.iter!) {
        if (passes === 1 || passOf(key, passes) === pass) this.visit(cut, key, value);
        if (++sinceCheck >= checkEvery) {
          sinceCheck = 0;
          if (shouldStop()) {
            stopped = true;
            break;
          }
        }
      }
      if (stopped) break;
      this.endPass(cut);
    }
    return this.finished;
  }

  private startPass(cut: DbCut): void {
    cut.visited = cut.marks[cut.pass] ?? new Set<string>();
    cut.marks[cut.pass] = null;
    cut.iter = cut.dict.entries();
  }

  private endPass(cut: DbCut): void {
    this.addExtra(-KEY_MARK_BYTES * cut.visited!.size);
    cut.visited = null;
    cut.iter = null;
    cut.pass++;
    if (cut.pass < cut.passes) return;
    this.byDict.delete(cut.dict);
    this.current++;
    if (this.current === this.cuts.length) {
      this.finished = true;
      this.release();
    }
  }

  private visit(cut: DbCut, key: string, value: Value): void {
    const visited = cut.visited!;
    const size = visited.size;
    visited.add(key);
    if (visited.size === size) return; // written already (changed during the pass, or re-created)
    this.addExtra(KEY_MARK_BYTES);
    this.sink(this.entry(cut, key, value));
    this.stats.keysWritten++;
  }

  private entry(cut: DbCut, key: string, value: Value): RdbEntry {
    const at = cut.expiresCount > 0 || cut.expires.size > 0 ? cut.expires.get(key) : undefined;
    const e: RdbEntry = { db: cut.dbId, key, value: valueToRdb(value), expireAtMs: at ?? null };
    if (this.accessMode !== 'none') addAccessMetadata(e, cut.access.get(key), this.accessMode, this.nowMs());
    return e;
  }

  /** The keyspace hook: `key` of `db` is about to change: write it now unless it is done already. */
  beforeMutate(db: Database, key: string): void {
    const cut = this.byDict.get(db.dict);
    if (cut === undefined) return;
    const pass = passOf(key, cut.passes);
    if (pass < cut.pass) return;
    let done: Set<string>;
    if (pass === cut.pass && cut.visited !== null) done = cut.visited;
    else done = cut.marks[pass] ?? (cut.marks[pass] = new Set<string>());
    if (done.has(key)) return;
    done.add(key);
    this.addExtra(KEY_MARK_BYTES);
    const value = cut.dict.get(key);
    if (value === undefined) return; // created after the cut
    this.stats.keysChangedDuringSnapshot++;
    this.stats.keysWritten++;
    this.sink(this.entry(cut, key, value));
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
