/**
 * The keyspace: numbered databases, each a map from key to value plus a map from key to absolute expiry time
 * (ms since the epoch), like Redis's `dict` and `expires` (KeyMaps: Maps split in shards, see keyMap.ts).
 *
 * Values: a string value is a latin1 JS string (no wrapper object: a million keys must not mean a million extra
 * objects), which the dict keeps in a slab outside the V8 heap when of 16..1019 chars (valueMap.ts); every other
 * type is an object with a `type` tag (see keyspace/values.ts).
 *
 * Invariants the rest of the server relies on:
 * - Every mutation of a key goes through `lookupWrite`, `set`, `add` or `delete` *before* the value changes.
 *   These call `hooks.beforeMutate`, which lets a running snapshot serialize the old value first (the fork-less
 *   point-in-time snapshot depends on it), and resolve lazy expiry consistently.
 * - Expiry is decided by `hooks.expiryMode()`: a master deletes an expired key on access and propagates the
 *   deletion; a replica hides it from readers without deleting (the master's DEL will come); while applying the
 *   master's stream nothing is considered expired, so replicas never diverge.
 * - Time is `hooks.nowMs()`, frozen for the duration of a command, so one command sees one instant.
 */

import { accessPolicy, lruClock, newStamp, touchedStamp } from './access';
import { KeyMap } from './keyMap';
import { ValueMap, type StoredValue } from './valueMap';

export type ValueType = 'string' | 'list' | 'hash' | 'set' | 'zset';

/** A non-string value. Implementations live in keyspace/values.ts and friends. */
export interface CollectionValue {
  readonly type: Exclude<ValueType, 'string'>;
  /** OBJECT ENCODING, as Redis would report it for the same contents. */
  encoding(): string;
  /** Number of elements (LLEN/HLEN/SCARD/ZCARD). */
  readonly size: number;
}

export type Value = string | CollectionValue;

export function typeOf(v: Value): ValueType {
  return typeof v === 'string' ? 'string' : v.type;
}

/** How lazy expiry treats an expired key at this moment. */
export type ExpiryMode = 'delete' | 'hide' | 'ignore';

export interface KeyspaceHooks {
  nowMs(): number;
  expiryMode(): ExpiryMode;
  /** A key was removed because it expired (on access or by the active cycle): propagate and notify. */
  onExpired(db: Database, key: string): void;
  /** Called before `key` is changed, replaced or removed. */
  beforeMutate(db: Database, key: string): void;
  /** Called before the whole database is emptied or swapped (FLUSHDB, FLUSHALL, SWAPDB, full-sync load). */
  beforeReplaceAll(db: Database): void;
}

export class Database {
  dict = new ValueMap();
  expires = new KeyMap<number>();
  /**
   * Keys whose string value Redis would report with an encoding other than the one its content implies
   * (APPEND/SETRANGE make "raw", INCRBYFLOAT "embstr"). Forgotten whenever the key is set or removed.
   */
  stringEncodings = new Map<string, 'raw' | 'embstr'>();

  constructor(
    readonly id: number,
    readonly hooks: KeyspaceHooks,
  ) {}

  get size(): number {
    return this.dict.size;
  }

  /** True when the key has an expiry in the past. Does not look at the expiry mode. */
  isExpired(key: string): boolean {
    const at = this.expires.get(key);
    return at !== undefined && at <= this.hooks.nowMs();
  }

  /** Applies lazy expiry; returns true when the key must be treated as missing. */
  private expireIfNeeded(key: string): boolean {
    if (this.expires.size === 0) return false;
    const at = this.expires.get(key);
    if (at === undefined || at > this.hooks.nowMs()) return false;
    const mode = this.hooks.expiryMode();
    if (mode === 'ignore') return false;
    if (mode === 'hide') return true;
    this.removeExpired(key);
    return true;
  }

  private removeExpired(key: string): void {
    this.hooks.beforeMutate(this, key);
    this.dict.delete(key);
    this.expires.delete(key);
    if (this.stringEncodings.size > 0) this.stringEncodings.delete(key);
    this.hooks.onExpired(this, key);
  }

  /**
   * The active expiry cycle's entry point: removes `key` when its expiry has passed and expiry mode is
   * 'delete' (a master). Returns true when it removed the key.
   */
  expireIfDue(key: string): boolean {
    const at = this.expires.get(key);
    if (at === undefined || at > this.hooks.nowMs() || this.hooks.expiryMode() !== 'delete') return false;
    this.removeExpired(key);
    return true;
  }

  /** Looks a key up for reading; `touch` false leaves its access time alone (TTL, TYPE, OBJECT...). */
  lookupRead(key: string, touch = true): Value | undefined {
    const v = this.dict.getStored(key);
    if (v === undefined) return undefined;
    if (this.expireIfNeeded(key)) return undefined;
    if (touch) this.stampAccess(key, v);
    return this.dict.resolve(v);
  }

  /**
   * lookupRead (with its expiry and access effects) for a reader that can take a slab string as bytes, as GET
   * does: the value as the dict stores it, a slab handle for a string in the slab (ValueMap.getStored).
   */
  lookupReadStored(key: string): StoredValue | undefined {
    const v = this.dict.getStored(key);
    if (v === undefined) return undefined;
    if (this.expireIfNeeded(key)) return undefined;
    this.stampAccess(key, v);
    return v;
  }

  /** Looks a key up that the caller is about to change in place. */
  lookupWrite(key: string): Value | undefined {
    const v = this.dict.getStored(key);
    if (v === undefined) return undefined;
    if (this.expireIfNeeded(key)) return undefined;
    this.hooks.beforeMutate(this, key);
    this.stampAccess(key, v);
    return this.dict.resolve(v);
  }

  /** Records an access to a key whose value the caller holds as stored (LRU clock or LFU counter). */
  private stampAccess(key: string, v: StoredValue): void {
    const now = this.hooks.nowMs();
    const stamp = accessPolicy.lfu ? touchedStamp(this.dict.storedStamp(key, v), now) : lruClock(now);
    this.dict.setStoredStamp(key, v, stamp);
  }

  /** True when the key exists (after lazy expiry). */
  exists(key: string): boolean {
    return this.lookupRead(key) !== undefined;
  }

  /**
   * Sets a key, replacing any value; the TTL is dropped unless `keepTtl`. `lookedUp` says that the caller's
   * `lookupWrite(key)` found the key in this same command: its snapshot hook has run and the lookup has already
   * written the stamp this call would (LRU: this instant's clock; LFU: the kept counter), so the hook is skipped
   * and the stamp kept.
   */
  set(key: string, value: Value, keepTtl = false, lookedUp = false): void {
    if (lookedUp) {
      this.dict.replace(key, value);
    } else {
      this.hooks.beforeMutate(this, key);
      // A new value starts a new LRU period; in LFU mode an overwritten key keeps its counter (dbOverwrite).
      const now = this.hooks.nowMs();
      const kept = accessPolicy.lfu ? this.dict.stampOf(key) : undefined;
      this.dict.set(key, value, kept ?? newStamp(now));
    }
    if (!keepTtl && this.expires.size > 0) this.expires.delete(key);
    if (this.stringEncodings.size > 0) this.stringEncodings.delete(key);
  }

  /**
   * Sets `key` to `value` as a plain SET does (any TTL dropped); returns whether the key is new. When no key of
   * this database has a TTL (none can be expired) and in LRU mode, the write itself tells whether the key existed
   * (the dict grew), which spares the lookup before it: on a large keyspace, each probe of the dict is a write's
   * main cost. Otherwise it is `lookupWrite` then `set`, with the same effects.
   */
  upsert(key: string, value: Value): boolean {
    if (this.expires.size > 0 || accessPolicy.lfu) {
      const found = this.lookupWrite(key) !== undefined;
      this.set(key, value, false, found);
      return !found;
    }
    const size = this.dict.size;
    this.set(key, value);
    return this.dict.size !== size;
  }

  /** Removes a key; returns whether it existed (an expired key counts as missing). */
  delete(key: string): boolean {
    if (this.lookupRead(key) === undefined) return false;
    this.hooks.beforeMutate(this, key);
    this.dict.delete(key);
    if (this.expires.size > 0) this.expires.delete(key);
    if (this.stringEncodings.size > 0) this.stringEncodings.delete(key);
    return true;
  }

  /** Sets an absolute expiry (ms since epoch) on an existing key. */
  setExpire(key: string, atMs: number): void {
    this.hooks.beforeMutate(this, key);
    this.expires.set(key, atMs);
  }

  /** Removes the expiry of a key; returns whether it had one. */
  removeExpire(key: string): boolean {
    if (!this.expires.has(key)) return false;
    this.hooks.beforeMutate(this, key);
    return this.expires.delete(key);
  }

  /** The absolute expiry of a key in ms, or undefined when it has none. */
  getExpire(key: string): number | undefined {
    return this.expires.get(key);
  }

  /** Empties the database. */
  clear(): void {
    this.hooks.beforeReplaceAll(this);
    this.dict = new ValueMap();
    this.expires = new KeyMap();
    this.stringEncodings = new Map();
  }
}

export class Keyspace {
  readonly dbs: Database[];

  constructor(
    count: number,
    readonly hooks: KeyspaceHooks,
  ) {
    this.dbs = Array.from({ length: count }, (_, i) => new Database(i, hooks));
  }

  /** Exchanges the contents of two databases (SWAPDB). */
  swap(a: number, b: number): void {
    const da = this.dbs[a];
    const db = this.dbs[b];
    this.hooks.beforeReplaceAll(da);
    this.hooks.beforeReplaceAll(db);
    [da.dict, db.dict] = [db.dict, da.dict];
    [da.expires, db.expires] = [db.expires, da.expires];
    [da.stringEncodings, db.stringEncodings] = [db.stringEncodings, da.stringEncodings];
  }

  /** Total number of keys over all databases. */
  get keyCount(): number {
    let n = 0;
    for (const db of this.dbs) n += db.dict.size;
    return n;
  }
}
