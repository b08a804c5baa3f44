/**
 * The keyspace's value types, in one place. This is the API persistence (RDB reader/writer) and replication build
 * on; it stays stable.
 *
 *   string  a latin1 JS string, no wrapper (Database.dict keeps those of 16..1019 chars in a slab: valueMap.ts)
 *   list    ListValue   ListValue.from(items)              iterate: for (const s of list)        head -> tail
 *   hash    HashValue   HashValue.from([[field, value]])    iterate: hash.entries()              [field, value]
 *   set     SetValue    SetValue.from(members)              iterate: for (const m of set)        members
 *   zset    ZSetValue   ZSetValue.from([[member, score]])   iterate: zset.entries()              [member, score],
 *                                                                                                ascending
 * Every collection implements CollectionValue (type, size, encoding()) and has clone(). Collections are never
 * stored empty: a command that removes the last element deletes the key.
 *
 * The `from` constructors pick the encoding Redis 7.0 reports for a value loaded from an RDB file or produced by
 * a store command (compact when within the hash-/set-/zset- thresholds of keyspace/encodingLimits.ts; lists are
 * always "quicklist"). OBJECT ENCODING of strings is derived from the content ("int", "embstr", "raw") unless the
 * database recorded an override for that key (APPEND and SETRANGE make "raw", INCRBYFLOAT makes "embstr").
 *
 * Mutating a stored value: `db.lookupWrite(key)` first (the snapshot hook sees the old value), then the value's
 * methods, then `server.keyChanged(...)`.
 *
 * Per key, besides the value: `db.expires` (absolute ms), its access stamp (LRU clock or LFU data,
 * keyspace/access.ts, kept by the dict with the value: valueMap.ts; RDB idle/freq fields map onto it) and
 * `db.stringEncodings` (the overrides above).
 * Structures: lists are chunked (keyspace/list.ts), zsets pair a Map with a counted B+tree (orderTree.ts), sets
 * keep a dense array for O(1) random members; digests of values and datasets are in keyspace/digest.ts.
 */
import type { Value } from './database';
import { HashValue } from './hash';
import { isCanonicalInt } from './intText';
import { ListValue } from './list';
import { SetValue } from './set';
import { ZSetValue } from './zset';

export { HashValue } from './hash';
export { ListValue } from './list';
export { SetValue, isInt64Text } from './set';
export { ZSetValue } from './zset';
export { encodingLimits, bindEncodingLimits, type EncodingLimits } from './encodingLimits';

/** Longest string Redis stores as "embstr" (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
export const EMBSTR_MAX_BYTES = 44;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** True when Redis's tryObjectEncoding would store `s` as an integer (string2l on a 64-bit long). */
export function isLongText(s: string): boolean {
  if (s.length > 20 || !isCanonicalInt(s, 20)) return false;
  if (s.length < 19) return true;
  const n = BigInt(s);
  return n <= INT64_MAX && n >= INT64_MIN;
}

/** OBJECT ENCODING of a string value, given the override the database may hold for its key. */
export function stringEncoding(s: string, override?: 'raw' | 'embstr'): string {
  if (override !== undefined) return override;
  if (isLongText(s)) return 'int';
  return s.length <= EMBSTR_MAX_BYTES ? 'embstr' : 'raw';
}

/** A deep copy of a value (COPY); strings are immutable and shared. */
export function cloneValue(v: Value): Value {
  if (typeof v === 'string') return v;
  switch (v.type) {
    case 'list':
      return (v as ListValue).clone();
    case 'hash':
      return (v as HashValue).clone();
    case 'set':
      return (v as SetValue).clone();
    case 'zset':
      return (v as ZSetValue).clone();
  }
}
