/**
 * Encoding one value of the neutral model (model.ts) in the RDB value format, for RDB files and DUMP payloads.
 *
 * Encodings written (all loadable by Redis 7.0, i.e. RDB version 10):
 * - string: RDB string (int-encoded / LZF / raw, see rdbString.ts)
 * - list: LIST_QUICKLIST_2 with listpack nodes of at most listMaxListpackBytes (Redis's default 8 KiB nodes)
 * - set: SET_INTSET when all members are integers and there are at most setMaxIntsetEntries, else plain SET
 * - hash: HASH_LISTPACK within the hash-max-listpack-* limits, else plain HASH
 * - zset: ZSET_LISTPACK (sorted by score, then member) within the zset-max-listpack-* limits, else ZSET_2 with
 *   binary doubles
 * The limits default to Redis's defaults so a loading Redis keeps the encodings it would have chosen itself; they are
 * options so tests can force either side. Compact blobs are LZF-compressed like strings when compression is on.
 */

import type { ByteSink } from './byteSink';
import { RdbEncodeError } from './errors';
import { encodeIntset } from './intset';
import { ListpackBuilder } from './listpack';
import type { RdbValue } from './model';
import { formatDoubleText, writeBinaryDouble } from './rdbDouble';
import { QUICKLIST_NODE_PACKED, RDB_TYPE } from './rdbFormat';
import { writeLength } from './rdbLength';
import { writeBlob, writeStoredString, writeString } from './rdbString';

export interface RdbEncodingLimits {
  /** hash-max-listpack-entries */
  hashMaxListpackEntries: number;
  /** hash-max-listpack-value (bytes of a field or value) */
  hashMaxListpackValue: number;
  /** zset-max-listpack-entries */
  zsetMaxListpackEntries: number;
  /** zset-max-listpack-value (bytes of a member) */
  zsetMaxListpackValue: number;
  /** set-max-intset-entries */
  setMaxIntsetEntries: number;
  /** list-max-listpack-size as a byte limit per quicklist node (-2 = 8 KiB) */
  listMaxListpackBytes: number;
}

export const REDIS_DEFAULT_ENCODING_LIMITS: Readonly<RdbEncodingLimits> = Object.freeze({
  hashMaxListpackEntries: 128,
  hashMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  listMaxListpackBytes: 8192,
});

export interface ValueWriteOptions {
  compress: boolean;
  limits: RdbEncodingLimits;
}

/**
 * Scores in (-2^52, 2^52) with no fraction are stored as listpack integers, as Redis's d2string() prints them; this
 * includes -0, which Redis 7.0 turns into 0 in listpack zsets (a skiplist zset keeps -0, and so does ZSET_2).
 */
const INTEGER_SCORE_LIMIT = 2 ** 52;

/**
 * Writes the type byte, then the key when given (RDB files), then the value. Returns false without writing anything
 * for an empty collection (which Redis cannot hold). Throws RdbEncodeError for a NaN zset score.
 */
export function writeValue(
  out: ByteSink,
  value: RdbValue,
  options: ValueWriteOptions,
  key: string | null,
): boolean {
  const { compress, limits } = options;
  switch (value.type) {
    case 'string':
      out.u8(RDB_TYPE.STRING);
      if (key !== null) writeString(out, key, compress);
      if (typeof value.value === 'string') writeString(out, value.value, compress);
      else writeStoredString(out, value.value, compress);
      return true;
    case 'list': {
      const items = value.items;
      if (items.length === 0) return false;
      const nodes = buildListNodes(items, limits.listMaxListpackBytes);
      out.u8(RDB_TYPE.LIST_QUICKLIST_2);
      if (key !== null) writeString(out, key, compress);
      writeLength(out, nodes.length);
      for (const node of nodes) {
        writeLength(out, QUICKLIST_NODE_PACKED);
        writeBlob(out, node, 0, node.length, compress);
      }
      return true;
    }
    case 'set': {
      const members = value.members;
      if (members.length === 0) return false;
      const intset = members.length <= limits.setMaxIntsetEntries ? encodeIntset(members) : null;
      if (intset !== null) {
        out.u8(RDB_TYPE.SET_INTSET);
        if (key !== null) writeString(out, key, compress);
        writeBlob(out, intset, 0, intset.length, compress);
        return true;
      }
      out.u8(RDB_TYPE.SET);
      if (key !== null) writeString(out, key, compress);
      writeLength(out, members.length);
      for (let i = 0; i < members.length; i++) writeString(out, members[i], compress);
      return true;
    }
    case 'hash': {
      const entries = value.entries;
      if (entries.length === 0) return false;
      if (fitsHashListpack(entries, limits)) {
        const lp = new ListpackBuilder();
        for (let i = 0; i < entries.length; i++) {
          lp.add(entries[i][0]);
          lp.add(entries[i][1]);
        }
        const blob = lp.finish();
        out.u8(RDB_TYPE.HASH_LISTPACK);
        if (key !== null) writeString(out, key, compress);
        writeBlob(out, blob, 0, blob.length, compress);
        return true;
      }
      out.u8(RDB_TYPE.HASH);
      if (key !== null) writeString(out, key, compress);
      writeLength(out, entries.length);
      for (let i = 0; i < entries.length; i++) {
        writeString(out, entries[i][0], compress);
        writeString(out, entries[i][1], compress);
      }
      return true;
    }
    case 'zset': {
      const entries = value.entries;
      if (entries.length === 0) return false;
      for (let i = 0; i < entries.length; i++) {
        if (Number.isNaN(entries[i][1])) {
          throw new RdbEncodeError(
            'RDB_INVALID_VALUE',
            `zset member ${JSON.stringify(entries[i][0])} has a NaN score`,
          );
        }
      }
      if (fitsZsetListpack(entries, limits)) {
        const sorted = entries.slice().sort(compareScored);
        const lp = new ListpackBuilder();
        for (let i = 0; i < sorted.length; i++) {
          lp.add(sorted[i][0]);
          const score = sorted[i][1];
          if (Number.isInteger(score) && Math.abs(score) < INTEGER_SCORE_LIMIT) {
            lp.addInteger(score === 0 ? 0 : score); // -0 too: Redis 7.0's listpack zsets store it as 0
          } else {
            lp.add(formatDoubleText(score));
          }
        }
        const blob = lp.finish();
        out.u8(RDB_TYPE.ZSET_LISTPACK);
        if (key !== null) writeString(out, key, compress);
        writeBlob(out, blob, 0, blob.length, compress);
        return true;
      }
      out.u8(RDB_TYPE.ZSET_2);
      if (key !== null) writeString(out, key, compress);
      writeLength(out, entries.length);
      for (let i = 0; i < entries.length; i++) {
        writeString(out, entries[i][0], compress);
        writeBinaryDouble(out, entries[i][1]);
      }
      return true;
    }
    default: {
      const unknown: never = value;
      throw new RdbEncodeError(
        'RDB_INVALID_VALUE',
        `unknown value type ${JSON.stringify((unknown as RdbValue).type)}`,
      );
    }
  }
}

/** True for a collection without elements (which Redis cannot hold). */
export function isEmptyValue(value: RdbValue): boolean {
  switch (value.type) {
    case 'string':
      return false;
    case 'list':
      return value.items.length === 0;
    case 'set':
      return value.members.length === 0;
    case 'hash':
    case 'zset':
      return value.entries.length === 0;
  }
}

/** Zset order: score ascending, then member bytes (latin1 chars compare like bytes). */
function compareScored(a: [string, number], b: [string, number]): number {
  if (a[1] < b[1]) return -1;
  if (a[1] > b[1]) return 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function fitsHashListpack(entries: ReadonlyArray<[string, string]>, limits: RdbEncodingLimits): boolean {
  if (entries.length > limits.hashMaxListpackEntries) return false;
  const max = limits.hashMaxListpackValue;
  for (let i = 0; i < entries.length; i++) {
    if (entries[i][0].length > max || entries[i][1].length > max) return false;
  }
  return true;
}

function fitsZsetListpack(entries: ReadonlyArray<[string, number]>, limits: RdbEncodingLimits): boolean {
  if (entries.length > limits.zsetMaxListpackEntries) return false;
  const max = limits.zsetMaxListpackValue;
  for (let i = 0; i < entries.length; i++) if (entries[i][0].length > max) return false;
  return true;
}

/** Splits list items into listpack nodes of at most maxNodeBytes (a node always takes at least one item). */
function buildListNodes(items: readonly string[], maxNodeBytes: number): Buffer[] {
  const nodes: Buffer[] = [];
  let lp = new ListpackBuilder();
  for (let i = 0; i < items.length; i++) {
    const s = items[i];
    if (lp.length > 0 && lp.bytes + ListpackBuilder.entrySize(s) > maxNodeBytes) {
      nodes.push(lp.finish());
      lp = new ListpackBuilder();
    }
    lp.add(s);
  }
  nodes.push(lp.finish());
  return nodes;
}
