/**
 * Decoding one RDB value (the bytes after a key), resumable element by element.
 *
 * Why resumable: a value can be huge (a list of millions of elements) and arrive over a socket in small chunks. The
 * reader keeps its progress (elements read so far, elements left) between calls; each element, pair or quicklist node
 * is a unit that is read whole or not at all (see rdbInput.ts), so feeding the value byte by byte costs the same as
 * feeding it at once, give or take re-reading one unit header.
 *
 * Every encoding Redis 2.x-7.2 writes is decoded into the neutral model (model.ts): plain lists/sets/hashes/zsets
 * (zset scores as legacy text or binary doubles), zipmap, ziplist, intset, listpack, quicklist v1 (ziplist nodes) and
 * v2 (plain or listpack nodes, possibly LZF-compressed as any string). Streams and module values are refused with
 * RDB_UNSUPPORTED_TYPE naming the type. Like Redis, a collection that decodes to nothing is reported (EMPTY_VALUE)
 * so the caller can skip the key, and duplicate members or fields are corruption.
 */

import { compactCorrupt } from './compactError';
import { RdbError } from './errors';
import { decodeIntset } from './intset';
import { decodeListpack } from './listpack';
import type { RdbValue } from './model';
import { parseDoubleText, readBinaryDouble, readLegacyDouble } from './rdbDouble';
import { QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN, RDB_TYPE, RDB_TYPE_NAMES } from './rdbFormat';
import type { RdbInput } from './rdbInput';
import { readLength } from './rdbLength';
import { readBlob, readString } from './rdbString';
import { decodeZiplist } from './ziplist';
import { decodeZipmap } from './zipmap';

/** Returned for a collection with no elements: Redis skips such keys on load and refuses them in RESTORE. */
export const EMPTY_VALUE: unique symbol = Symbol('empty RDB value');

/** Collections up to this size are checked for duplicates pairwise; larger ones with a Set. */
const PAIRWISE_DUPLICATE_CHECK_MAX = 16;

const T = RDB_TYPE;

/** True for the type bytes a value can start with (as opposed to opcodes). */
export function isValueType(type: number): boolean {
  return (type >= 0 && type <= 7) || (type >= 9 && type <= 21);
}

export function describeType(type: number): string {
  const name = RDB_TYPE_NAMES[type];
  return name === undefined ? `type ${type}` : `type ${type} (${name})`;
}

/** Refuses types we recognise but do not support, naming them; returns normally for supported ones. */
export function checkSupportedType(type: number, offset: number): void {
  if (type === T.MODULE || type === T.MODULE_2) {
    throw new RdbError(
      'RDB_UNSUPPORTED_TYPE',
      `${describeType(type)}: module values are not supported`,
      offset,
    );
  }
  if (type === T.STREAM_LISTPACKS || type === T.STREAM_LISTPACKS_2 || type === T.STREAM_LISTPACKS_3) {
    throw new RdbError('RDB_UNSUPPORTED_TYPE', `${describeType(type)}: streams are not supported`, offset);
  }
  if (!isValueType(type)) throw new RdbError('RDB_CORRUPT', `unknown value type ${type}`, offset);
}

export class RdbValueReader {
  private type = -1;
  /** Elements (or nodes, or pairs) left to read; -1 until the count is read. */
  private remaining = -1;
  private items: string[] = [];
  private pairs: Array<[string, string]> = [];
  private scored: Array<[string, number]> = [];
  private seen: Set<string> | null = null;
  private valueOffset = 0;

  /** With `reuseStrings`, the wrapper handed out for every string value (valid until the next value). */
  private readonly stringValue: { type: 'string'; value: string } | null;

  constructor(
    private readonly input: RdbInput,
    reuseStrings = false,
  ) {
    this.stringValue = reuseStrings ? { type: 'string', value: '' } : null;
  }

  /** Starts a value of the given type at the input's position (after the key). */
  begin(type: number): void {
    this.type = type;
    this.remaining = -1;
    // Fresh arrays for a collection (they are handed out with its value); a string, most keys, needs none.
    if (type !== T.STRING) {
      this.items = [];
      this.pairs = [];
      this.scored = [];
    }
    this.seen = null;
    this.valueOffset = this.input.offset;
  }

  /**
   * Reads as much of the value as the input holds, committing each unit. Returns the value, or EMPTY_VALUE; throws
   * NEED_MORE (progress kept) when the input runs out, RdbError when the bytes are not a valid value.
   */
  read(): RdbValue | typeof EMPTY_VALUE {
    const input = this.input;
    switch (this.type) {
      case T.STRING: {
        const value = readString(input, 'string value');
        input.commit();
        if (this.stringValue === null) return { type: 'string', value };
        this.stringValue.value = value;
        return this.stringValue;
      }
      case T.LIST:
        this.readCount('list length');
        while (this.remaining > 0) {
          this.items.push(readString(input, 'list element'));
          this.unitDone();
        }
        return this.items.length === 0 ? EMPTY_VALUE : { type: 'list', items: this.items };
      case T.SET:
        this.readCount('set size');
        if (this.remaining > PAIRWISE_DUPLICATE_CHECK_MAX && this.seen === null) this.seen = new Set();
        while (this.remaining > 0) {
          const at = input.offset;
          const member = readString(input, 'set member');
          this.noteMember(member, at, 'set member');
          this.items.push(member);
          this.unitDone();
        }
        if (this.seen === null) this.checkDuplicates(this.items, 1, 'set member');
        return this.items.length === 0 ? EMPTY_VALUE : { type: 'set', members: this.items };
      case T.ZSET:
      case T.ZSET_2:
        this.readCount('zset size');
        if (this.remaining > PAIRWISE_DUPLICATE_CHECK_MAX && this.seen === null) this.seen = new Set();
        while (this.remaining > 0) {
          const at = input.offset;
          const member = readString(input, 'zset member');
          const score =
            this.type === T.ZSET_2 ? readBinaryDouble(input) : readLegacyDouble(input, 'zset score');
          if (Number.isNaN(score)) throw new RdbError('RDB_CORRUPT', 'zset score is NaN', at);
          this.noteMember(member, at, 'zset member');
          this.scored.push([member, score]);
          this.unitDone();
        }
        if (this.seen === null) this.checkDuplicateEntries(this.scored, 'zset member');
        return this.scored.length === 0 ? EMPTY_VALUE : { type: 'zset', entries: this.scored };
      case T.HASH:
        this.readCount('hash size');
        if (this.remaining > PAIRWISE_DUPLICATE_CHECK_MAX && this.seen === null) this.seen = new Set();
        while (this.remaining > 0) {
          const at = input.offset;
          const field = readString(input, 'hash field');
          const value = readString(input, 'hash value');
          this.noteMember(field, at, 'hash field');
          this.pairs.push([field, value]);
          this.unitDone();
        }
        if (this.seen === null) this.checkDuplicateEntries(this.pairs, 'hash field');
        return this.pairs.length === 0 ? EMPTY_VALUE : { type: 'hash', entries: this.pairs };
      case T.LIST_QUICKLIST:
      case T.LIST_QUICKLIST_2:
        this.readCount('quicklist node count');
        while (this.remaining > 0) this.readQuicklistNode();
        return this.items.length === 0 ? EMPTY_VALUE : { type: 'list', items: this.items };
      default:
        return this.readSingleBlob();
    }
  }

  private readCount(what: string): void {
    if (this.remaining >= 0) return;
    this.remaining = readLength(this.input, what);
    this.input.commit();
  }

  private unitDone(): void {
    this.remaining--;
    this.input.commit();
  }

  private noteMember(member: string, at: number, what: string): void {
    const seen = this.seen;
    if (seen === null) return;
    if (seen.has(member)) throw new RdbError('RDB_CORRUPT', `duplicate ${what}`, at);
    seen.add(member);
  }

  private checkDuplicates(items: readonly string[], stride: number, what: string): void {
    const n = items.length;
    if (n / stride <= PAIRWISE_DUPLICATE_CHECK_MAX) {
      for (let i = 0; i < n; i += stride) {
        for (let j = i + stride; j < n; j += stride) {
          if (items[i] === items[j]) throw new RdbError('RDB_CORRUPT', `duplicate ${what}`, this.valueOffset);
        }
      }
      return;
    }
    const seen = new Set<string>();
    for (let i = 0; i < n; i += stride) {
      if (seen.has(items[i])) throw new RdbError('RDB_CORRUPT', `duplicate ${what}`, this.valueOffset);
      seen.add(items[i]);
    }
  }

  private checkDuplicateEntries(entries: ReadonlyArray<readonly [string, unknown]>, what: string): void {
    const n = entries.length;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (entries[i][0] === entries[j][0]) {
          throw new RdbError('RDB_CORRUPT', `duplicate ${what}`, this.valueOffset);
        }
      }
    }
  }

  private readQuicklistNode(): void {
    const input = this.input;
    if (this.type === T.LIST_QUICKLIST_2) {
      const at = input.offset;
      const container = readLength(input, 'quicklist node container');
      if (container === QUICKLIST_NODE_PLAIN) {
        this.items.push(readString(input, 'quicklist plain node'));
      } else if (container === QUICKLIST_NODE_PACKED) {
        const blobAt = input.offset;
        decodeListpack(readBlob(input, 'quicklist listpack node'), blobAt, this.items);
      } else {
        throw new RdbError('RDB_CORRUPT', `unknown quicklist node container ${container}`, at);
      }
    } else {
      const blobAt = input.offset;
      decodeZiplist(readBlob(input, 'quicklist ziplist node'), blobAt, this.items);
    }
    this.unitDone();
  }

  /** Types whose whole value is one compact blob. */
  private readSingleBlob(): RdbValue | typeof EMPTY_VALUE {
    const input = this.input;
    const at = input.offset;
    const type = this.type;
    const blob = readBlob(input, describeType(type));
    const items: string[] = [];
    switch (type) {
      case T.LIST_ZIPLIST:
        decodeZiplist(blob, at, items);
        input.commit();
        return items.length === 0 ? EMPTY_VALUE : { type: 'list', items };
      case T.SET_INTSET:
        decodeIntset(blob, at, items);
        input.commit();
        return items.length === 0 ? EMPTY_VALUE : { type: 'set', members: items };
      case T.SET_LISTPACK:
        decodeListpack(blob, at, items);
        input.commit();
        this.checkDuplicates(items, 1, 'set member');
        return items.length === 0 ? EMPTY_VALUE : { type: 'set', members: items };
      case T.HASH_ZIPMAP:
      case T.HASH_ZIPLIST:
      case T.HASH_LISTPACK: {
        const kind = type === T.HASH_ZIPMAP ? 'zipmap' : type === T.HASH_ZIPLIST ? 'ziplist' : 'listpack';
        if (type === T.HASH_ZIPMAP) decodeZipmap(blob, at, items);
        else if (type === T.HASH_ZIPLIST) decodeZiplist(blob, at, items);
        else decodeListpack(blob, at, items);
        input.commit();
        if (items.length % 2 !== 0) throw compactCorrupt(kind, 'odd number of hash elements', at, 0);
        this.checkDuplicates(items, 2, 'hash field');
        const entries: Array<[string, string]> = new Array(items.length / 2);
        for (let i = 0; i < items.length; i += 2) entries[i / 2] = [items[i], items[i + 1]];
        return entries.length === 0 ? EMPTY_VALUE : { type: 'hash', entries };
      }
      case T.ZSET_ZIPLIST:
      case T.ZSET_LISTPACK: {
        const kind = type === T.ZSET_ZIPLIST ? 'ziplist' : 'listpack';
        if (type === T.ZSET_ZIPLIST) decodeZiplist(blob, at, items);
        else decodeListpack(blob, at, items);
        input.commit();
        if (items.length % 2 !== 0) throw compactCorrupt(kind, 'odd number of zset elements', at, 0);
        this.checkDuplicates(items, 2, 'zset member');
        const entries: Array<[string, number]> = new Array(items.length / 2);
        for (let i = 0; i < items.length; i += 2) {
          const score = parseDoubleText(items[i + 1]);
          if (score === null || Number.isNaN(score)) {
            throw compactCorrupt(kind, `zset score "${items[i + 1].slice(0, 40)}" is not a number`, at, 0);
          }
          entries[i / 2] = [items[i], score];
        }
        return entries.length === 0 ? EMPTY_VALUE : { type: 'zset', entries };
      }
      default:
        checkSupportedType(type, at);
        throw new RdbError('RDB_CORRUPT', `unexpected ${describeType(type)}`, at);
    }
  }
}
