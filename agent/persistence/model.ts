/**
 * The neutral value model the RDB codec reads into and writes from.
 *
 * Why a model of its own: the codec must not depend on how the keyspace stores values (it is written separately
 * and may change its representation), and the same model serves RDB files, replication snapshots and DUMP/RESTORE.
 * Invariants:
 * - Every key, member, field and string value is a binary-safe 'latin1' JS string: one char per byte, char codes
 *   0..255 (`buf.toString('latin1')` / `Buffer.from(s, 'latin1')`). The codec does not check this (it would cost a
 *   pass over every byte); a char above 255 is truncated to its low byte when written. One exception, for speed:
 *   a snapshot hands a string value the keyspace keeps as bytes (StoredBytes) as those bytes, so that the RDB
 *   writer copies them once instead of making a JS string and encoding it back; `stringValue` makes the string
 *   for everyone else.
 * - Collections are never empty (Redis deletes a key when its last element goes): the writer skips an empty
 *   collection and the reader skips one found in a file (reporting a notice), as Redis does.
 * - Hash fields, set members and zset members are unique; the reader refuses a file that repeats one.
 * - Zset scores are finite or infinite doubles, never NaN. Order of zset entries is free on input; the reader
 *   returns them in file order (score order for compact encodings).
 */
import type { BytesSource } from '../resp/writer';

/**
 * A string value kept as bytes by the keyspace (a slab slot, keyspace/valueMap.ts): `source` copies its `length`
 * bytes for `ref`. Valid only until its key changes, so whoever receives one in an entry reads it at once.
 */
export interface StoredBytes {
  readonly length: number;
  readonly source: BytesSource;
  readonly ref: number;
}

export type RdbValue =
  | { type: 'string'; value: string | StoredBytes }
  | { type: 'list'; items: string[] }
  | { type: 'hash'; entries: Array<[string, string]> }
  | { type: 'set'; members: string[] }
  | { type: 'zset'; entries: Array<[string, number]> };

export type RdbValueType = RdbValue['type'];

/** A string value as a latin1 JS string, whichever form it came in. */
export function stringValue(value: string | StoredBytes): string {
  if (typeof value === 'string') return value;
  const bytes = Buffer.allocUnsafe(value.length);
  value.source.copyString(value.ref, bytes, 0);
  return bytes.latin1Slice(0, value.length);
}

export interface RdbEntry {
  db: number;
  key: string;
  value: RdbValue;
  /** Absolute unix time in milliseconds, or null for a key without a TTL. */
  expireAtMs: number | null;
  /** LRU idle time in seconds (RDB_OPCODE_IDLE), present only when the file carries it. */
  lruIdleSec?: number;
  /** LFU log counter 0..255 (RDB_OPCODE_FREQ), present only when the file carries it. */
  lfuFreq?: number;
}
