/**
 * List commands, including the blocking pops. Values are ListValue ring buffers (keyspace/list.ts).
 *
 * Propagation: LMPOP and blocking pops are propagated as the plain pop that happened (LPOP key / RPOP key count,
 * LMOVE, RPOPLPUSH), whether they were served at once or after blocking; a list emptied by a command is deleted
 * (event "del" after the command's own event), as Redis does. Commands that change nothing (LTRIM of the whole
 * list, LREM with no match) do not count as a change and are not propagated.
 */
import { Err, ReplyError, wrongArity } from '../errors';
import { ListValue } from '../keyspace/values';
import type { Client } from '../server/client';
import { intArg, is } from './args';
import { mayNotBlock, timeoutArgMs } from './blocking';
import { addKey, checkType, deleteIfEmpty, readTyped, writeTyped } from './keyAccess';
import { cmd, type CommandSpec } from './table';

const HEAD = 0;
const TAIL = 1;
type Where = typeof HEAD | typeof TAIL;

function whereArg(s: string): Where {
  if (is(s, 'LEFT')) return HEAD;
  if (is(s, 'RIGHT')) return TAIL;
  throw new ReplyError(Err.syntax);
}

function positiveArg(s: string, error: string): number {
  const n = intArg(s, 'ERR ' + error);
  if (n < 0) throw new ReplyError('ERR ' + error);
  return n;
}

/** A count that must be >= 1 (LMPOP COUNT, numkeys): Redis's getRangeLongFromObjectOrReply(1, LONG_MAX). */
function atLeastOneArg(s: string, error: string): number {
  const n = intArg(s, 'ERR ' + error);
  if (n < 1) throw new ReplyError('ERR ' + error);
  return n;
}

// ------------------------------------------------------------------ push

function pushGeneric(c: Client, argv: string[], where: Where, onlyExisting: boolean): void {
  const key = argv[1];
  let list = writeTyped<ListValue>(c, key, 'list');
  if (list === undefined) {
    if (onlyExisting) return c.reply.integer(0);
    list = new ListValue();
    addKey(c, key, list);
  }
  if (where === HEAD) for (let k = 2; k < argv.length; k++) list.pushHead(argv[k]);
  else for (let k = 2; k < argv.length; k++) list.pushTail(argv[k]);
  c.reply.integer(list.size);
  c.server.keyChanged(c.db, key, 'l', where === HEAD ? 'lpush' : 'rpush', argv.length - 2);
}

const lpush = (c: Client, argv: string[]) => pushGeneric(c, argv, HEAD, false);
const rpush = (c: Client, argv: string[]) => pushGeneric(c, argv, TAIL, false);
const lpushx = (c: Client, argv: string[]) => pushGeneric(c, argv, HEAD, true);
const rpushx = (c: Client, argv: string[]) => pushGeneric(c, argv, TAIL, true);

// ------------------------------------------------------------------ pop

/** Bookkeeping after elements were popped: event, deletion of an emptied list, dirty count. */
function elementsRemoved(c: Client, key: string, where: Where, list: ListValue, count: number): void {
  c.server.notify('l', where === HEAD ? 'lpop' : 'rpop', key, c.db.id);
  deleteIfEmpty(c, key, list);
  c.server.dirty += count;
  c.server.signalModifiedKey(c.db, key);
}

function popOne(list: ListValue, where: Where): string {
  return (where === HEAD ? list.popHead() : list.popTail()) as string;
}

/** Pops up to `count` elements, replying with them as an array (in pop order). */
function popRangeReply(c: Client, list: ListValue, where: Where, count: number): number {
  const n = Math.min(count, list.size);
  c.reply.array(n);
  for (let i = 0; i < n; i++) c.reply.bulk(popOne(list, where));
  return n;
}

function popGeneric(c: Client, argv: string[], where: Where): void {
  if (argv.length > 3) throw new ReplyError(wrongArity(c.cmd?.fullName ?? 'lpop'));
  const hasCount = argv.length === 3;
  const count = hasCount ? positiveArg(argv[2], 'value is out of range, must be positive') : 0;
  const key = argv[1];
  const list = writeTyped<ListValue>(c, key, 'list');
  if (list === undefined) return hasCount ? c.reply.nullArray() : c.reply.nullBulk();
  if (hasCount && count === 0) return c.reply.array(0);
  if (!hasCount) {
    c.reply.bulk(popOne(list, where));
    return elementsRemoved(c, key, where, list, 1);
  }
  const n = popRangeReply(c, list, where, count);
  elementsRemoved(c, key, where, list, n);
}

const lpop = (c: Client, argv: string[]) => popGeneric(c, argv, HEAD);
const rpop = (c: Client, argv: string[]) => popGeneric(c, argv, TAIL);

// ------------------------------------------------------------------ read

function llen(c: Client, argv: string[]): void {
  const list = readTyped<ListValue>(c, argv[1], 'list');
  c.reply.integer(list === undefined ? 0 : list.size);
}

function lindex(c: Client, argv: string[]): void {
  const list = readTyped<ListValue>(c, argv[1], 'list');
  if (list === undefined) return c.reply.nullBulk();
  let index = intArg(argv[2]);
  if (index < 0) index += list.size;
  if (index < 0 || index >= list.size) return c.reply.nullBulk();
  c.reply.bulk(list.at(index));
}

function lrange(c: Client, argv: string[]): void {
  let start = intArg(argv[2]);
  let end = intArg(argv[3]);
  const list = readTyped<ListValue>(c, argv[1], 'list');
  if (list === undefined) return c.reply.array(0);
  const len = list.size;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return c.reply.array(0);
  if (end >= len) end = len - 1;
  const reply = c.reply;
  reply.array(end - start + 1);
  list.forEachFrom(start, false, (v, i) => {
    reply.bulk(v);
    return i < end;
  });
}

function lpos(c: Client, argv: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const more = j < argv.length - 1;
    if (is(argv[j], 'RANK') && more) {
      rank = intArg(argv[++j]);
      if (rank === 0) {
        throw new ReplyError(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative " +
            'to start from the end of the list',
        );
      }
    } else if (is(argv[j], 'COUNT') && more) {
      count = positiveArg(argv[++j], "COUNT can't be negative");
    } else if (is(argv[j], 'MAXLEN') && more) {
      maxlen = positiveArg(argv[++j], "MAXLEN can't be negative");
    } else throw new ReplyError(Err.syntax);
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const list = readTyped<ListValue>(c, argv[1], 'list');
  if (list === undefined) return count !== -1 ? c.reply.array(0) : c.reply.nullBulk();
  const element = argv[2];
  const len = list.size;
  const found: number[] = [];
  let matches = 0;
  let single = -1;
  let index = 0;
  list.forEachFrom(fromTail ? len - 1 : 0, fromTail, (v, pos) => {
    if (maxlen !== 0 && index++ >= maxlen) return false;
    if (v !== element) return true;
    matches++;
    if (matches < rank) return true;
    if (count === -1) {
      single = pos;
      return false;
    }
    found.push(pos);
    return count === 0 || matches - rank + 1 < count;
  });
  if (count === -1) {
    if (single === -1) c.reply.nullBulk();
    else c.reply.integer(single);
    return;
  }
  c.reply.array(found.length);
  for (const p of found) c.reply.integer(p);
}

// ------------------------------------------------------------------ in-place changes

function lset(c: Client, argv: string[]): void {
  const key = argv[1];
  const list = writeTyped<ListValue>(c, key, 'list');
  if (list === undefined) throw new ReplyError(Err.noSuchKey);
  let index = intArg(argv[2]);
  if (index < 0) index += list.size;
  if (index < 0 || index >= list.size) throw new ReplyError('ERR index out of range');
  list.setAt(index, argv[3]);
  c.reply.ok();
  c.server.keyChanged(c.db, key, 'l', 'lset');
}

function lrem(c: Client, argv: string[]): void {
  const key = argv[1];
  const count = intArg(argv[2]);
  const list = writeTyped<ListValue>(c, key, 'list');
  if (list === undefined) return c.reply.integer(0);
  const removed = list.removeValue(argv[3], count);
  if (removed > 0) {
    c.server.notify('l', 'lrem', key, c.db.id);
    deleteIfEmpty(c, key, list);
    c.server.dirty += removed;
    c.server.signalModifiedKey(c.db, key);
  }
  c.reply.integer(removed);
}

function ltrim(c: Client, argv: string[]): void {
  const key = argv[1];
  let start = intArg(argv[2]);
  let end = intArg(argv[3]);
  const list = writeTyped<ListValue>(c, key, 'list');
  if (list === undefined) return c.reply.ok();
  const len = list.size;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  let removed: number;
  if (start > end || start >= len) {
    removed = len;
    list.clear();
  } else {
    if (end >= len) end = len - 1;
    removed = start + (len - end - 1);
    if (removed > 0) list.keepRange(start, end);
  }
  c.server.notify('l', 'ltrim', key, c.db.id);
  deleteIfEmpty(c, key, list);
  c.server.dirty += removed;
  c.server.signalModifiedKey(c.db, key);
  c.reply.ok();
}

function linsert(c: Client, argv: string[]): void {
  let after: boolean;
  if (is(argv[2], 'AFTER')) after = true;
  else if (is(argv[2], 'BEFORE')) after = false;
  else throw new ReplyError(Err.syntax);
  const key = argv[1];
  const list = writeTyped<ListValue>(c, key, 'list');
  if (list === undefined) return c.reply.integer(0);
  const at = list.indexOf(argv[3]);
  if (at < 0) return c.reply.integer(-1);
  list.insertAt(after ? at + 1 : at, argv[4]);
  c.server.keyChanged(c.db, key, 'l', 'linsert');
  c.reply.integer(list.size);
}

// ------------------------------------------------------------------ moves

/** Pushes a moved element onto the destination, creating it, and replies with the element (lmoveHandlePush). */
function pushMoved(c: Client, dstKey: string, dst: ListValue | undefined, value: string, where: Where): void {
  if (dst === undefined) {
    dst = new ListValue();
    addKey(c, dstKey, dst);
  }
  c.server.signalModifiedKey(c.db, dstKey);
  if (where === HEAD) dst.pushHead(value);
  else dst.pushTail(value);
  c.server.notify('l', where === HEAD ? 'lpush' : 'rpush', dstKey, c.db.id);
  c.reply.bulk(value);
}

/** LMOVE's core on a non-empty source; false when the source is missing. */
function moveElement(c: Client, srcKey: string, dstKey: string, from: Where, to: Where): boolean {
  const src = writeTyped<ListValue>(c, srcKey, 'list');
  if (src === undefined) return false;
  const dstValue = c.db.lookupWrite(dstKey);
  checkType(dstValue, 'list');
  const value = popOne(src, from);
  pushMoved(c, dstKey, dstValue as ListValue | undefined, value, to);
  c.server.notify('l', from === HEAD ? 'lpop' : 'rpop', srcKey, c.db.id);
  deleteIfEmpty(c, srcKey, src);
  c.server.signalModifiedKey(c.db, srcKey);
  c.server.dirty++;
  return true;
}

function side(w: Where): string {
  return w === HEAD ? 'LEFT' : 'RIGHT';
}

function lmove(c: Client, argv: string[]): void {
  const from = whereArg(argv[3]);
  const to = whereArg(argv[4]);
  if (!moveElement(c, argv[1], argv[2], from, to)) c.reply.nullBulk();
}

function rpoplpush(c: Client, argv: string[]): void {
  if (!moveElement(c, argv[1], argv[2], TAIL, HEAD)) c.reply.nullBulk();
}

function blockingMove(
  c: Client,
  argv: string[],
  from: Where,
  to: Where,
  timeoutMs: number,
  asRpoplpush: boolean,
): void {
  const [, srcKey, dstKey] = argv;
  const src = c.db.lookupWrite(srcKey);
  checkType(src, 'list');
  const propagated = asRpoplpush
    ? ['RPOPLPUSH', srcKey, dstKey]
    : ['LMOVE', srcKey, dstKey, side(from), side(to)];
  if (src !== undefined) {
    moveElement(c, srcKey, dstKey, from, to);
    c.server.rewritePropagation(propagated);
    return;
  }
  if (mayNotBlock(c)) return c.reply.nullBulk();
  const dbId = c.db.id;
  c.server.block(c, [srcKey], timeoutMs, () => {
    const s = c.db.lookupWrite(srcKey);
    if (s === undefined || typeof s === 'string' || s.type !== 'list') return false;
    try {
      moveElement(c, srcKey, dstKey, from, to);
    } catch (err) {
      if (!(err instanceof ReplyError)) throw err;
      c.reply.error(err.reply);
      return true;
    }
    c.server.alsoPropagate(dbId, propagated);
    return true;
  });
}

function blmove(c: Client, argv: string[]): void {
  const from = whereArg(argv[3]);
  const to = whereArg(argv[4]);
  blockingMove(c, argv, from, to, timeoutArgMs(argv[5]), false);
}

function brpoplpush(c: Client, argv: string[]): void {
  blockingMove(c, argv, TAIL, HEAD, timeoutArgMs(argv[3]), true);
}

// ------------------------------------------------------------------ multi-key pops

/** Pops from the first non-empty list among `keys`; replies and returns the propagated form, or null. */
function popFirstNonEmpty(c: Client, keys: string[], where: Where, count: number): string[] | null {
  for (const key of keys) {
    const list = writeTyped<ListValue>(c, key, 'list');
    if (list === undefined || list.size === 0) continue;
    const name = where === HEAD ? 'LPOP' : 'RPOP';
    if (count === -1) {
      c.reply.array(2);
      c.reply.bulk(key);
      c.reply.bulk(popOne(list, where));
      elementsRemoved(c, key, where, list, 1);
      return [name, key];
    }
    c.reply.array(2);
    c.reply.bulk(key);
    const n = popRangeReply(c, list, where, count);
    elementsRemoved(c, key, where, list, n);
    return [name, key, String(n)];
  }
  return null;
}

/** Checks every key's type before blocking, as Redis does while looking for a non-empty list. */
function checkAllLists(c: Client, keys: string[]): void {
  for (const key of keys) checkType(c.db.lookupWrite(key), 'list');
}

function blockingPop(c: Client, keys: string[], where: Where, count: number, timeoutMs: number): void {
  const served = popFirstNonEmpty(c, keys, where, count);
  if (served !== null) return c.server.rewritePropagation(served);
  checkAllLists(c, keys);
  if (mayNotBlock(c)) return c.reply.nullArray();
  const dbId = c.db.id;
  c.server.block(c, keys, timeoutMs, () => {
    let propagated: string[] | null;
    try {
      propagated = popFirstNonEmpty(c, keys, where, count);
    } catch (err) {
      if (err instanceof ReplyError) return false;
      throw err;
    }
    if (propagated === null) return false;
    c.server.alsoPropagate(dbId, propagated);
    return true;
  });
}

function blpop(c: Client, argv: string[]): void {
  const timeoutMs = timeoutArgMs(argv[argv.length - 1]);
  blockingPop(c, argv.slice(1, -1), HEAD, -1, timeoutMs);
}

function brpop(c: Client, argv: string[]): void {
  const timeoutMs = timeoutArgMs(argv[argv.length - 1]);
  blockingPop(c, argv.slice(1, -1), TAIL, -1, timeoutMs);
}

/** Parses `numkeys key... LEFT|RIGHT [COUNT n]` starting at argv[at]. */
function parseMpop(argv: string[], at: number): { keys: string[]; where: Where; count: number } {
  const numkeys = atLeastOneArg(argv[at], 'numkeys should be greater than 0');
  const whereIdx = at + numkeys + 1;
  if (whereIdx >= argv.length) throw new ReplyError(Err.syntax);
  const where = whereArg(argv[whereIdx]);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && is(argv[j], 'COUNT') && j < argv.length - 1) {
      count = atLeastOneArg(argv[++j], 'count should be greater than 0');
    } else throw new ReplyError(Err.syntax);
  }
  return { keys: argv.slice(at + 1, whereIdx), where, count: count === -1 ? 1 : count };
}

function lmpop(c: Client, argv: string[]): void {
  const { keys, where, count } = parseMpop(argv, 1);
  const served = popFirstNonEmpty(c, keys, where, count);
  if (served === null) return c.reply.nullArray();
  c.server.rewritePropagation(served);
}

function blmpop(c: Client, argv: string[]): void {
  const { keys, where, count } = parseMpop(argv, 2);
  blockingPop(c, keys, where, count, timeoutArgMs(argv[1]));
}

const list = (extra: string[]): { categories: string[] } => ({ categories: [...extra, 'list'] });

export const listCommands: CommandSpec[] = [
  cmd('lpush', -3, ['write', 'denyoom', 'fast'], 1, 1, 1, lpush, list(['write', 'fast'])),
  cmd('rpush', -3, ['write', 'denyoom', 'fast'], 1, 1, 1, rpush, list(['write', 'fast'])),
  cmd('lpushx', -3, ['write', 'denyoom', 'fast'], 1, 1, 1, lpushx, list(['write', 'fast'])),
  cmd('rpushx', -3, ['write', 'denyoom', 'fast'], 1, 1, 1, rpushx, list(['write', 'fast'])),
  cmd('lpop', -2, ['write', 'fast'], 1, 1, 1, lpop, list(['write', 'fast'])),
  cmd('rpop', -2, ['write', 'fast'], 1, 1, 1, rpop, list(['write', 'fast'])),
  cmd('llen', 2, ['readonly', 'fast'], 1, 1, 1, llen, list(['read', 'fast'])),
  cmd('lindex', 3, ['readonly'], 1, 1, 1, lindex, list(['read', 'slow'])),
  cmd('lrange', 4, ['readonly'], 1, 1, 1, lrange, list(['read', 'slow'])),
  cmd('lpos', -3, ['readonly'], 1, 1, 1, lpos, list(['read', 'slow'])),
  cmd('lset', 4, ['write', 'denyoom'], 1, 1, 1, lset, list(['write', 'slow'])),
  cmd('lrem', 4, ['write'], 1, 1, 1, lrem, list(['write', 'slow'])),
  cmd('ltrim', 4, ['write'], 1, 1, 1, ltrim, list(['write', 'slow'])),
  cmd('linsert', 5, ['write', 'denyoom'], 1, 1, 1, linsert, list(['write', 'slow'])),
  cmd('lmove', 5, ['write', 'denyoom'], 1, 2, 1, lmove, list(['write', 'slow'])),
  cmd('rpoplpush', 3, ['write', 'denyoom'], 1, 2, 1, rpoplpush, list(['write', 'slow'])),
  cmd('lmpop', -4, ['write', 'movablekeys'], 0, 0, 0, lmpop, list(['write', 'slow'])),
  cmd(
    'blmove',
    6,
    ['write', 'denyoom', 'noscript', 'blocking'],
    1,
    2,
    1,
    blmove,
    list(['write', 'slow', 'blocking']),
  ),
  cmd(
    'brpoplpush',
    4,
    ['write', 'denyoom', 'noscript', 'blocking'],
    1,
    2,
    1,
    brpoplpush,
    list(['write', 'slow', 'blocking']),
  ),
  cmd('blpop', -3, ['write', 'noscript', 'blocking'], 1, -2, 1, blpop, list(['write', 'slow', 'blocking'])),
  cmd('brpop', -3, ['write', 'noscript', 'blocking'], 1, -2, 1, brpop, list(['write', 'slow', 'blocking'])),
  cmd(
    'blmpop',
    -5,
    ['write', 'blocking', 'movablekeys'],
    0,
    0,
    0,
    blmpop,
    list(['write', 'slow', 'blocking']),
  ),
];
