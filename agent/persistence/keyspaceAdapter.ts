/**
 * The bridge between the keyspace's values (keyspace/values.ts) and the codec's neutral model (model.ts), used by
 * every path that moves data between memory and bytes: RDB files, snapshots for replication, DUMP/RESTORE and the
 * AOF's RDB preamble.
 *
 * Why a copy and not a view: the model is plain arrays, so converting a collection copies its element references
 * (the element strings themselves are shared, never copied). That copy is what lets a snapshot keep the value a
 * collection had at its cut while commands keep changing the live object in place.
 *
 * Access metadata (Redis's robj->lru): RDB files carry it only when the eviction policy uses it (IDLE for *-lru
 * policies, FREQ for *-lfu), exactly as Redis writes them; loading applies it the same way.
 */
import { accessPolicy, idleTimeMs, lfuCounter, lruClock, newStamp } from '../keyspace/access';
import type { Value } from '../keyspace/database';
import type { KeyMap } from '../keyspace/keyMap';
import type { StoredValue, ValueMap } from '../keyspace/valueMap';
import { HashValue, ListValue, SetValue, ZSetValue } from '../keyspace/values';
import { stringValue, type RdbEntry, type RdbValue } from './model';

/** The model form of a keyspace value (a copy for collections; strings are shared). */
export function valueToRdb(v: Value): RdbValue {
  if (typeof v === 'string') return { type: 'string', value: v };
  switch (v.type) {
    case 'list':
      return { type: 'list', items: (v as ListValue).toArray() };
    case 'hash':
      return { type: 'hash', entries: Array.from((v as HashValue).entries()) };
    case 'set':
      return { type: 'set', members: (v as SetValue).toArray() };
    case 'zset':
      return { type: 'zset', entries: Array.from((v as ZSetValue).entries()) };
  }
}

/**
 * The model form of a value as `dict` stores it: a string in the slab as its bytes (read when written, which must
 * be before its key changes), anything else as valueToRdb gives it.
 */
export function storedToRdb(dict: ValueMap, stored: StoredValue): RdbValue {
  if (typeof stored === 'number') return { type: 'string', value: dict.storedBytes(stored) };
  return valueToRdb(stored);
}

/** A keyspace value built from the model, with the encoding Redis 7.0 reports for a loaded value. */
export function rdbToValue(v: RdbValue): Value {
  switch (v.type) {
    case 'string':
      return stringValue(v.value);
    case 'list':
      return ListValue.from(v.items);
    case 'hash':
      return HashValue.from(v.entries);
    case 'set':
      return SetValue.from(v.members);
    case 'zset':
      return ZSetValue.from(v.entries);
  }
}

/** Which access metadata an RDB file written now carries (Redis: only what the eviction policy uses). */
export type AccessMode = 'none' | 'lru' | 'lfu';

export function accessModeFor(maxmemoryPolicy: string): AccessMode {
  if (maxmemoryPolicy.endsWith('-lru')) return 'lru';
  if (maxmemoryPolicy.endsWith('-lfu')) return 'lfu';
  return 'none';
}

/** Adds IDLE or FREQ to an entry from the key's access stamp, as Redis's rdbSaveKeyValuePair does. */
export function addAccessMetadata(
  entry: RdbEntry,
  stamp: number | undefined,
  mode: AccessMode,
  nowMs: number,
): void {
  if (mode === 'none' || stamp === undefined) return;
  if (mode === 'lru') entry.lruIdleSec = Math.floor(idleTimeMs(stamp, nowMs) / 1000);
  else entry.lfuFreq = lfuCounter(stamp, nowMs);
}

/**
 * The access stamp for a loaded or restored key given its IDLE/FREQ, or undefined when the current policy does
 * not use what was given (Redis's objectSetLRUOrLFU ignores FREQ under LRU and IDLE under LFU).
 */
export function accessStampFrom(
  lruIdleSec: number | undefined,
  lfuFreq: number | undefined,
  nowMs: number,
): number | undefined {
  if (accessPolicy.lfu) {
    if (lfuFreq === undefined) return undefined;
    return (newStamp(nowMs) & ~255) | (lfuFreq & 255);
  }
  if (lruIdleSec === undefined) return undefined;
  return lruClock(nowMs - lruIdleSec * 1000);
}

/** The maps of a database that an entry is read from (a Database, or a snapshot's cut of one). */
export interface DatabaseMaps {
  readonly id: number;
  readonly dict: ValueMap;
  readonly expires: KeyMap<number>;
}

/**
 * One key of a database as a model entry, from its value as the dict stores it (see storedToRdb); reads the maps
 * directly: no expiry, no access update, no hooks. `nowMs` is read only with access metadata (`mode`).
 */
export function entryOf(
  db: DatabaseMaps,
  key: string,
  stored: StoredValue,
  mode: AccessMode,
  nowMs: number,
): RdbEntry {
  const at = db.expires.size > 0 ? db.expires.get(key) : undefined;
  const entry: RdbEntry = { db: db.id, key, value: storedToRdb(db.dict, stored), expireAtMs: at ?? null };
  if (mode !== 'none') addAccessMetadata(entry, db.dict.storedStamp(key, stored), mode, nowMs);
  return entry;
}
