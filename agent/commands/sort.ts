/**
 * SORT and SORT_RO, following Redis 7.0's sortCommandGeneric: the elements of a list, set or sorted set are
 * sorted numerically (strtod of each element or of the BY key's value) or with ALPHA by bytes, ties broken by
 * the element itself; BY without '*' means "do not sort" (native order, except that a set sorted into STORE is
 * sorted alphabetically so replicas get the same list); GET patterns substitute '*' with the element, '#' is the
 * element itself and 'key->field' reads a hash field. STORE writes a list (deleting the destination when the
 * result is empty) and propagates as sent, which is deterministic because the result order is.
 *
 * As in Redis, sorting a sorted set converts a listpack-encoded one to skiplist.
 */
import { Err, ReplyError } from '../errors';
import type { Value } from '../keyspace/database';
import { HashValue, ListValue, SetValue, ZSetValue } from '../keyspace/values';
import type { Client } from '../server/client';
import { intArg, is } from './args';
import { strtod } from './doubles';
import { cmd, type CommandSpec } from './table';

interface SortItem {
  element: string;
  score: number;
  /** The BY value for ALPHA sorting with a pattern (undefined when the key was missing). */
  cmp: string | undefined;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Resolves a BY/GET pattern for one element; undefined when the key (or field) is missing. */
function lookupByPattern(c: Client, pattern: string, subst: string): string | undefined {
  if (pattern === '#') return subst;
  const star = pattern.indexOf('*');
  if (star < 0) return undefined;
  const arrow = pattern.indexOf('->', star + 1);
  let field: string | undefined;
  let keyPattern = pattern;
  if (arrow >= 0 && arrow + 2 < pattern.length) {
    field = pattern.slice(arrow + 2);
    keyPattern = pattern.slice(0, arrow);
  }
  const key = keyPattern.slice(0, star) + subst + keyPattern.slice(star + 1);
  const v: Value | undefined = c.db.lookupRead(key);
  if (v === undefined) return undefined;
  if (field !== undefined) return v instanceof HashValue ? v.get(field) : undefined;
  return typeof v === 'string' ? v : undefined;
}

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontSort = false;
  let sortBy: string | null = null;
  let storeKey: string | null = null;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j];
    if (is(opt, 'ASC')) desc = false;
    else if (is(opt, 'DESC')) desc = true;
    else if (is(opt, 'ALPHA')) alpha = true;
    else if (is(opt, 'LIMIT') && left >= 2) {
      limitStart = intArg(argv[j + 1]);
      limitCount = intArg(argv[j + 2]);
      j += 2;
    } else if (!readonly && is(opt, 'STORE') && left >= 1) {
      storeKey = argv[++j];
    } else if (is(opt, 'BY') && left >= 1) {
      sortBy = argv[++j];
      if (!sortBy.includes('*')) dontSort = true;
    } else if (is(opt, 'GET') && left >= 1) {
      gets.push(argv[++j]);
    } else throw new ReplyError(Err.syntax);
  }
  const value = c.db.lookupRead(argv[1]);
  if (value !== undefined) {
    c.server.stats.keyspaceHits++;
    if (typeof value === 'string' || value.type === 'hash') throw new ReplyError(Err.wrongType);
  } else c.server.stats.keyspaceMisses++;
  if (dontSort && value instanceof SetValue && storeKey !== null) {
    dontSort = false;
    alpha = true;
    sortBy = null;
  }
  if (value instanceof ZSetValue) value.compact = false;
  const total = value === undefined ? 0 : value.size;
  let start = limitStart < 0 ? 0 : limitStart;
  let end = limitCount < 0 ? total - 1 : start + limitCount - 1;
  if (start >= total) {
    start = total - 1;
    end = total - 2;
  }
  if (end >= total) end = total - 1;

  let elements: string[];
  if (value === undefined) elements = [];
  else if (dontSort && (value instanceof ListValue || value instanceof ZSetValue)) {
    // Native order, only the selected range.
    elements = [];
    if (end >= start) {
      if (value instanceof ListValue) {
        value.forEachFrom(desc ? total - 1 - start : start, desc, (v) => {
          elements.push(v);
          return elements.length < end - start + 1;
        });
      } else {
        for (const [m] of value.slice(desc ? total - 1 - start : start, end - start + 1, desc))
          elements.push(m);
      }
    }
    end -= start;
    start = 0;
  } else if (value instanceof ListValue) elements = value.toArray();
  else if (value instanceof SetValue) elements = value.toArray();
  else elements = [...(value as ZSetValue).scores.keys()];

  let conversionError = false;
  if (!dontSort) {
    const items: SortItem[] = elements.map((element) => ({ element, score: 0, cmp: undefined }));
    for (const item of items) {
      let by: string | undefined = item.element;
      if (sortBy !== null) {
        by = lookupByPattern(c, sortBy, item.element);
        if (by === undefined) continue;
      }
      if (alpha) {
        if (sortBy !== null) item.cmp = by;
      } else {
        const r = strtod(by);
        const consumed = r.end === by.length || (r.end === 0 && by.length === 0);
        if (!consumed || r.rangeError || Number.isNaN(r.value)) conversionError = true;
        else item.score = r.value;
      }
    }
    const sign = desc ? -1 : 1;
    items.sort((a, b) => {
      let cmp: number;
      if (!alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : byteCompare(a.element, b.element);
      } else if (sortBy !== null) {
        if (a.cmp === undefined || b.cmp === undefined) {
          cmp = a.cmp === b.cmp ? 0 : a.cmp === undefined ? -1 : 1;
        } else cmp = byteCompare(a.cmp, b.cmp);
      } else cmp = byteCompare(a.element, b.element);
      return sign * cmp;
    });
    elements = items.map((i) => i.element);
  }
  if (conversionError) throw new ReplyError("ERR One or more scores can't be converted into double");

  const outputLen = gets.length > 0 ? gets.length * (end - start + 1) : end - start + 1;
  if (storeKey === null) {
    c.reply.array(Math.max(0, outputLen));
    for (let j = start; j <= end; j++) {
      if (gets.length === 0) c.reply.bulk(elements[j]);
      for (const g of gets) c.reply.bulkOrNull(lookupByPattern(c, g, elements[j]));
    }
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    if (gets.length === 0) out.push(elements[j]);
    for (const g of gets) out.push(lookupByPattern(c, g, elements[j]) ?? '');
  }
  const db = c.db;
  if (out.length > 0) {
    const existed = db.lookupWrite(storeKey) !== undefined;
    db.set(storeKey, ListValue.from(out));
    if (!existed) c.server.notify('n', 'new', storeKey, db.id);
    c.server.keyChanged(db, storeKey, 'l', 'sortstore', out.length);
  } else if (db.delete(storeKey)) {
    c.server.keyChanged(db, storeKey, 'g', 'del');
  }
  c.reply.integer(Math.max(0, outputLen));
}

function sort(c: Client, argv: string[]): void {
  sortGeneric(c, argv, false);
}

function sortRo(c: Client, argv: string[]): void {
  sortGeneric(c, argv, true);
}

export const sortCommands: CommandSpec[] = [
  cmd('sort', -2, ['write', 'denyoom', 'movablekeys'], 1, 1, 1, sort, {
    categories: ['write', 'set', 'sortedset', 'list', 'slow', 'dangerous'],
  }),
  cmd('sort_ro', -2, ['readonly', 'movablekeys'], 1, 1, 1, sortRo, {
    categories: ['read', 'set', 'sortedset', 'list', 'slow', 'dangerous'],
  }),
];
