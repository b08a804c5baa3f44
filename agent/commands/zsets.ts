/**
 * Sorted-set commands on ZSetValue (keyspace/zset.ts): O(log n) updates, ranks and range starts, O(log n + m)
 * ranges.
 *
 * Replies follow Redis 7.0 per protocol: WITHSCORES ranges are flat in RESP2 and [member, score] pairs in RESP3;
 * scores are doubles (%.17g, "inf"). Propagation: ZMPOP and the blocking pops become ZPOPMIN/ZPOPMAX (with the
 * count actually popped when a count was given). Store commands propagate as sent.
 */
import { Err, ReplyError } from '../errors';
import type { LexRange, ScoreRange } from '../keyspace/zsetRange';
import { type SetValue, ZSetValue } from '../keyspace/values';
import type { Client } from '../server/client';
import { intArg, is } from './args';
import { mayNotBlock, timeoutArgMs } from './blocking';
import { rangeDouble, strictDoubleArg } from './doubles';
import { addKey, deleteIfEmpty, readTyped, writeTyped } from './keyAccess';
import { forEachRepeatedPick, randomCountArg, randomSample } from './random';
import { cmd, type CommandSpec } from './table';

const MIN = 0;
const MAX = 1;
type End = typeof MIN | typeof MAX;

// ------------------------------------------------------------------ range parsing

function parseScoreRange(minText: string, maxText: string): ScoreRange {
  const r = { min: 0, max: 0, minExclusive: false, maxExclusive: false };
  const one = (text: string): [number, boolean] | null => {
    const exclusive = text.startsWith('(');
    const v = rangeDouble(exclusive ? text.slice(1) : text);
    return v === null ? null : [v, exclusive];
  };
  const a = one(minText);
  const b = one(maxText);
  if (a === null || b === null) throw new ReplyError('ERR min or max is not a float');
  [r.min, r.minExclusive] = a;
  [r.max, r.maxExclusive] = b;
  return r;
}

function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minExclusive || r.maxExclusive));
}

function parseLexItem(text: string): { value: string; exclusive: boolean; infinite: -1 | 0 | 1 } | null {
  const c0 = text[0];
  if (c0 === '+') return text.length === 1 ? { value: '', exclusive: true, infinite: 1 } : null;
  if (c0 === '-') return text.length === 1 ? { value: '', exclusive: true, infinite: -1 } : null;
  if (c0 === '(') return { value: text.slice(1), exclusive: true, infinite: 0 };
  if (c0 === '[') return { value: text.slice(1), exclusive: false, infinite: 0 };
  return null;
}

function parseLexRange(minText: string, maxText: string): LexRange {
  const a = parseLexItem(minText);
  const b = parseLexItem(maxText);
  if (a === null || b === null) throw new ReplyError('ERR min or max not valid string range item');
  return {
    min: a.value,
    max: b.value,
    minExclusive: a.exclusive,
    maxExclusive: b.exclusive,
    minInfinite: a.infinite,
    maxInfinite: b.infinite,
  };
}

/** Compares lex bounds, infinities included (sdscmplex). */
function lexBoundCompare(aValue: string, aInf: number, bValue: string, bInf: number): number {
  if (aInf === bInf && aInf !== 0) return 0;
  if (aInf === -1 || bInf === 1) return -1;
  if (aInf === 1 || bInf === -1) return 1;
  return aValue < bValue ? -1 : aValue > bValue ? 1 : 0;
}

function lexRangeEmpty(r: LexRange): boolean {
  const cmp = lexBoundCompare(r.min, r.minInfinite, r.max, r.maxInfinite);
  return cmp > 0 || (cmp === 0 && (r.minExclusive || r.maxExclusive));
}

// ------------------------------------------------------------------ replies

/** Collects (member, score) results and writes them in the protocol's shape. */
function replyEntries(c: Client, nodes: Array<[string, number]>, withScores: boolean): void {
  const reply = c.reply;
  if (withScores && reply.resp === 2) reply.array(nodes.length * 2);
  else reply.array(nodes.length);
  for (const [m, s] of nodes) {
    if (withScores && reply.resp === 3) reply.array(2);
    reply.bulk(m);
    if (withScores) reply.double(s);
  }
}

// ------------------------------------------------------------------ ZADD, ZINCRBY, ZREM

const NAN_ERROR = 'ERR resulting score is not a number (NaN)';

function zaddGeneric(c: Client, argv: string[], incrOnly: boolean): void {
  const key = argv[1];
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrOnly;
  let idx = 2;
  if (!incrOnly) {
    for (; idx < argv.length; idx++) {
      const opt = argv[idx];
      if (is(opt, 'NX')) nx = true;
      else if (is(opt, 'XX')) xx = true;
      else if (is(opt, 'CH')) ch = true;
      else if (is(opt, 'INCR')) incr = true;
      else if (is(opt, 'GT')) gt = true;
      else if (is(opt, 'LT')) lt = true;
      else break;
    }
  }
  const pairsArgs = argv.length - idx;
  if (pairsArgs % 2 !== 0 || pairsArgs === 0) throw new ReplyError(Err.syntax);
  const pairs = pairsArgs / 2;
  if (nx && xx) throw new ReplyError('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw new ReplyError('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (incr && pairs > 1) throw new ReplyError('ERR INCR option supports a single increment-element pair');
  const scores = new Array<number>(pairs);
  for (let j = 0; j < pairs; j++) scores[j] = strictDoubleArg(argv[idx + j * 2]);
  const db = c.db;
  let z = writeTyped<ZSetValue>(c, key, 'zset');
  let added = 0;
  let updated = 0;
  let processed = 0;
  let lastScore = 0;
  if (z === undefined && !xx) {
    z = ZSetValue.forFirstMember(argv[idx + 1]);
    addKey(c, key, z);
  }
  let failed: string | undefined;
  if (z !== undefined) {
    for (let j = 0; j < pairs; j++) {
      let score = scores[j];
      const member = argv[idx + 1 + j * 2];
      const current = z.score(member);
      if (current !== undefined) {
        if (nx) continue;
        if (incr) {
          score += current;
          if (Number.isNaN(score)) {
            failed = NAN_ERROR;
            break;
          }
        }
        if ((lt && score >= current) || (gt && score <= current)) continue;
        lastScore = score;
        processed++;
        if (score !== current) {
          z.add(member, score);
          updated++;
        }
      } else if (!xx) {
        z.add(member, score);
        lastScore = score;
        added++;
        processed++;
      }
    }
  }
  c.server.dirty += added + updated;
  if (failed !== undefined) c.reply.error(failed);
  else if (incr) {
    if (processed > 0) c.reply.double(lastScore);
    else c.reply.nullBulk();
  } else c.reply.integer(ch ? added + updated : added);
  if (added > 0 || updated > 0) {
    c.server.keyChanged(db, key, 'z', incr ? 'zincr' : 'zadd', 0);
  } else if (z !== undefined && z.size === 0) {
    // A zset created for nothing (e.g. INCR producing NaN on a new key) does not stay.
    db.delete(key);
  }
  if (failed !== undefined) c.server.stats.errorReplies++;
}

const zadd = (c: Client, argv: string[]) => zaddGeneric(c, argv, false);
const zincrby = (c: Client, argv: string[]) => zaddGeneric(c, argv, true);

function zrem(c: Client, argv: string[]): void {
  const key = argv[1];
  const z = writeTyped<ZSetValue>(c, key, 'zset');
  if (z === undefined) return c.reply.integer(0);
  let deleted = 0;
  for (let k = 2; k < argv.length; k++) {
    if (z.delete(argv[k])) {
      deleted++;
      if (z.size === 0) break;
    }
  }
  if (deleted > 0) {
    c.server.notify('z', 'zrem', key, c.db.id);
    deleteIfEmpty(c, key, z);
    c.server.signalModifiedKey(c.db, key);
    c.server.dirty += deleted;
  }
  c.reply.integer(deleted);
}

// ------------------------------------------------------------------ reads

function zscore(c: Client, argv: string[]): void {
  const s = readTyped<ZSetValue>(c, argv[1], 'zset')?.score(argv[2]);
  if (s === undefined) c.reply.nullBulk();
  else c.reply.double(s);
}

function zmscore(c: Client, argv: string[]): void {
  const z = readTyped<ZSetValue>(c, argv[1], 'zset');
  c.reply.array(argv.length - 2);
  for (let k = 2; k < argv.length; k++) {
    const s = z?.score(argv[k]);
    if (s === undefined) c.reply.nullBulk();
    else c.reply.double(s);
  }
}

function zcard(c: Client, argv: string[]): void {
  c.reply.integer(readTyped<ZSetValue>(c, argv[1], 'zset')?.size ?? 0);
}

function zcount(c: Client, argv: string[]): void {
  const r = parseScoreRange(argv[2], argv[3]);
  const z = readTyped<ZSetValue>(c, argv[1], 'zset');
  if (z === undefined || scoreRangeEmpty(r)) return c.reply.integer(0);
  const [first, last] = z.scoreRangeRanks(r);
  c.reply.integer(Math.max(0, last - first + 1));
}

function zlexcount(c: Client, argv: string[]): void {
  const r = parseLexRange(argv[2], argv[3]);
  const z = readTyped<ZSetValue>(c, argv[1], 'zset');
  if (z === undefined || lexRangeEmpty(r)) return c.reply.integer(0);
  const [first, last] = z.lexRangeRanks(r);
  c.reply.integer(Math.max(0, last - first + 1));
}

function rankGeneric(c: Client, argv: string[], reverse: boolean): void {
  const z = readTyped<ZSetValue>(c, argv[1], 'zset');
  const r = z?.rank(argv[2], reverse);
  if (r === undefined) c.reply.nullBulk();
  else c.reply.integer(r);
}

const zrank = (c: Client, argv: string[]) => rankGeneric(c, argv, false);
const zrevrank = (c: Client, argv: string[]) => rankGeneric(c, argv, true);

// ------------------------------------------------------------------ ranges

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

function rankRange(z: ZSetValue, start: number, end: number, reverse: boolean): Array<[string, number]> {
  const len = z.size;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return [];
  if (end >= len) end = len - 1;
  return z.slice(reverse ? len - 1 - start : start, end - start + 1, reverse);
}

/**
 * The members whose ascending ranks are [first, last], after skipping `offset` and keeping at most `limit`
 * (negative: no limit), walking down from `last` when `reverse`. A negative offset selects nothing, as in Redis.
 */
function limitedRange(
  z: ZSetValue,
  [first, last]: [number, number],
  reverse: boolean,
  offset: number,
  limit: number,
): Array<[string, number]> {
  if (offset < 0 || first > last) return [];
  const available = last - first + 1 - offset;
  if (available <= 0) return [];
  const take = limit < 0 ? available : Math.min(limit, available);
  return z.slice(reverse ? last - offset : first + offset, take, reverse);
}

function scoreRangeNodes(z: ZSetValue, r: ScoreRange, reverse: boolean, offset: number, limit: number) {
  if (offset > 0 && offset >= z.size) return [];
  if (scoreRangeEmpty(r)) return [];
  return limitedRange(z, z.scoreRangeRanks(r), reverse, offset, limit);
}

function lexRangeNodes(z: ZSetValue, r: LexRange, reverse: boolean, offset: number, limit: number) {
  if (offset > 0 && offset >= z.size) return [];
  if (lexRangeEmpty(r)) return [];
  return limitedRange(z, z.lexRangeRanks(r), reverse, offset, limit);
}

/**
 * The common engine of ZRANGE, ZRANGESTORE and the legacy range commands (Redis's zrangeGenericCommand):
 * `at` is the index of the source key; `store` is the destination key or null.
 */
function zrangeGeneric(
  c: Client,
  argv: string[],
  at: number,
  store: string | null,
  rangeType: RangeType,
  direction: Direction,
): void {
  const key = argv[at];
  let minIdx = at + 1;
  let maxIdx = at + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = at + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j];
    if (store === null && is(opt, 'WITHSCORES')) withScores = true;
    else if (is(opt, 'LIMIT') && left >= 2) {
      offset = intArg(argv[j + 1]);
      limit = intArg(argv[j + 2]);
      j += 2;
    } else if (direction === 'auto' && is(opt, 'REV')) direction = 'reverse';
    else if (rangeType === 'auto' && is(opt, 'BYLEX')) rangeType = 'lex';
    else if (rangeType === 'auto' && is(opt, 'BYSCORE')) rangeType = 'score';
    else throw new ReplyError(Err.syntax);
  }
  if (direction === 'auto') direction = 'forward';
  if (rangeType === 'auto') rangeType = 'rank';
  if (limit !== -1 && rangeType === 'rank') {
    throw new ReplyError(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    );
  }
  if (withScores && rangeType === 'lex') {
    throw new ReplyError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  const reverse = direction === 'reverse';
  if (reverse && rangeType !== 'rank') [minIdx, maxIdx] = [maxIdx, minIdx];
  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | undefined;
  let lexRange: LexRange | undefined;
  if (rangeType === 'rank') {
    start = intArg(argv[minIdx]);
    end = intArg(argv[maxIdx]);
  } else if (rangeType === 'score') scoreRange = parseScoreRange(argv[minIdx], argv[maxIdx]);
  else lexRange = parseLexRange(argv[minIdx], argv[maxIdx]);
  const z = readTyped<ZSetValue>(c, key, 'zset');
  let result: Array<[string, number]> = [];
  if (z !== undefined) {
    if (rangeType === 'rank') result = rankRange(z, start, end, reverse);
    else if (rangeType === 'score') result = scoreRangeNodes(z, scoreRange!, reverse, offset, limit);
    else result = lexRangeNodes(z, lexRange!, reverse, offset, limit);
  } else if (store === null) {
    return c.reply.array(0);
  }
  if (store === null) return replyEntries(c, result, withScores);
  const db = c.db;
  if (result.length > 0) {
    const existed = db.lookupWrite(store) !== undefined;
    db.set(store, ZSetValue.from(result));
    if (!existed) c.server.notify('n', 'new', store, db.id);
    c.reply.integer(result.length);
    c.server.keyChanged(db, store, 'z', 'zrangestore');
  } else {
    c.reply.integer(0);
    if (db.delete(store)) c.server.keyChanged(db, store, 'g', 'del');
  }
}

const zrange = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 1, null, 'auto', 'auto');
const zrangestore = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 2, argv[1], 'auto', 'auto');
const zrevrange = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 1, null, 'rank', 'reverse');
const zrangebyscore = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 1, null, 'score', 'forward');
const zrevrangebyscore = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 1, null, 'score', 'reverse');
const zrangebylex = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 1, null, 'lex', 'forward');
const zrevrangebylex = (c: Client, argv: string[]) => zrangeGeneric(c, argv, 1, null, 'lex', 'reverse');

// ------------------------------------------------------------------ range removal

function zremrangeGeneric(c: Client, argv: string[], type: 'rank' | 'score' | 'lex'): void {
  const key = argv[1];
  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | undefined;
  let lexRange: LexRange | undefined;
  if (type === 'rank') {
    start = intArg(argv[2]);
    end = intArg(argv[3]);
  } else if (type === 'score') scoreRange = parseScoreRange(argv[2], argv[3]);
  else lexRange = parseLexRange(argv[2], argv[3]);
  const z = writeTyped<ZSetValue>(c, key, 'zset');
  if (z === undefined) return c.reply.integer(0);
  let victims: Array<[string, number]>;
  if (type === 'rank') victims = rankRange(z, start, end, false);
  else if (type === 'score') victims = scoreRangeNodes(z, scoreRange!, false, 0, -1);
  else victims = lexRangeNodes(z, lexRange!, false, 0, -1);
  for (const [m] of victims) z.delete(m);
  const deleted = victims.length;
  if (deleted > 0) {
    c.server.signalModifiedKey(c.db, key);
    c.server.notify('z', `zremrangeby${type}`, key, c.db.id);
    deleteIfEmpty(c, key, z);
  }
  c.server.dirty += deleted;
  c.reply.integer(deleted);
}

const zremrangebyrank = (c: Client, argv: string[]) => zremrangeGeneric(c, argv, 'rank');
const zremrangebyscore = (c: Client, argv: string[]) => zremrangeGeneric(c, argv, 'score');
const zremrangebylex = (c: Client, argv: string[]) => zremrangeGeneric(c, argv, 'lex');

// ------------------------------------------------------------------ union, intersection, difference

type SetOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

interface OpSource {
  /** A zset, a plain set (every member scoring 1), or null for a missing key. */
  value: ZSetValue | SetValue | null;
  weight: number;
}

function sourceSize(s: OpSource): number {
  return s.value === null ? 0 : s.value.size;
}

function* sourceEntries(s: OpSource): IterableIterator<[string, number]> {
  if (s.value === null) return;
  if (s.value instanceof ZSetValue) yield* s.value.entries();
  else for (const m of s.value) yield [m, 1];
}

function sourceScore(s: OpSource, member: string): number | undefined {
  if (s.value === null) return undefined;
  if (s.value instanceof ZSetValue) return s.value.score(member);
  return s.value.has(member) ? 1 : undefined;
}

function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === 'sum') {
    const sum = target + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === 'min') return value < target ? value : target;
  return value > target ? value : target;
}

/**
 * Redis's zunionInterDiffGenericCommand: `numkeysAt` is the index of numkeys; `dstKey` null for the replying
 * forms; `cardOnly` for ZINTERCARD.
 */
function setOpGeneric(
  c: Client,
  argv: string[],
  numkeysAt: number,
  dstKey: string | null,
  op: SetOp,
  cardOnly: boolean,
): void {
  const setnum = intArg(argv[numkeysAt]);
  if (setnum < 1) {
    throw new ReplyError(
      `ERR at least 1 input key is needed for '${c.cmd?.fullName ?? 'zunionstore'}' command`,
    );
  }
  if (setnum > argv.length - (numkeysAt + 1)) throw new ReplyError(Err.syntax);
  const sources: OpSource[] = [];
  let j = numkeysAt + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = dstKey !== null ? c.db.lookupWrite(argv[j]) : c.db.lookupRead(argv[j]);
    if (v !== undefined && (typeof v === 'string' || (v.type !== 'zset' && v.type !== 'set'))) {
      throw new ReplyError(Err.wrongType);
    }
    sources.push({ value: (v as ZSetValue | SetValue | undefined) ?? null, weight: 1 });
  }
  let how: Aggregate = 'sum';
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const opt = argv[j];
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && is(opt, 'WEIGHTS')) {
      j++;
      for (let i = 0; i < setnum; i++, j++)
        sources[i].weight = strictDoubleArg(argv[j], 'ERR weight value is not a float');
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && is(opt, 'AGGREGATE')) {
      const a = argv[j + 1];
      if (is(a, 'SUM')) how = 'sum';
      else if (is(a, 'MIN')) how = 'min';
      else if (is(a, 'MAX')) how = 'max';
      else throw new ReplyError(Err.syntax);
      j += 2;
    } else if (remaining >= 1 && dstKey === null && !cardOnly && is(opt, 'WITHSCORES')) {
      j++;
      withScores = true;
    } else if (cardOnly && remaining >= 2 && is(opt, 'LIMIT')) {
      limit = intArg(argv[j + 1], "ERR LIMIT can't be negative");
      if (limit < 0) throw new ReplyError("ERR LIMIT can't be negative");
      j += 2;
    } else throw new ReplyError(Err.syntax);
  }
  if (op !== 'diff') sources.sort((a, b) => sourceSize(a) - sourceSize(b));
  const result = new Map<string, number>();
  let cardinality = 0;
  if (op === 'inter') {
    if (sourceSize(sources[0]) > 0) {
      for (const [member, s0] of sourceEntries(sources[0])) {
        let score = sources[0].weight * s0;
        if (Number.isNaN(score)) score = 0;
        let inAll = true;
        for (let i = 1; i < sources.length; i++) {
          const v = sourceScore(sources[i], member);
          if (v === undefined) {
            inAll = false;
            break;
          }
          score = aggregate(score, v * sources[i].weight, how);
        }
        if (!inAll) continue;
        if (cardOnly) {
          cardinality++;
          if (limit > 0 && cardinality >= limit) break;
        } else result.set(member, score);
      }
    }
  } else if (op === 'union') {
    for (const src of sources) {
      for (const [member, s] of sourceEntries(src)) {
        let score = src.weight * s;
        if (Number.isNaN(score)) score = 0;
        const existing = result.get(member);
        result.set(member, existing === undefined ? score : aggregate(existing, score, how));
      }
    }
  } else {
    const others = sources.slice(1);
    for (const [member, s] of sourceEntries(sources[0])) {
      if (!others.some((o) => sourceScore(o, member) !== undefined)) result.set(member, s);
    }
  }
  if (cardOnly) return c.reply.integer(cardinality);
  const entries = [...result];
  if (dstKey === null) {
    const sorted = ZSetValue.from(entries);
    return replyEntries(c, [...sorted.entries()], withScores);
  }
  const db = c.db;
  if (entries.length > 0) {
    const existed = db.lookupWrite(dstKey) !== undefined;
    const z = ZSetValue.from(entries);
    db.set(dstKey, z);
    if (!existed) c.server.notify('n', 'new', dstKey, db.id);
    c.reply.integer(z.size);
    c.server.keyChanged(
      db,
      dstKey,
      'z',
      op === 'union' ? 'zunionstore' : op === 'inter' ? 'zinterstore' : 'zdiffstore',
    );
  } else {
    c.reply.integer(0);
    if (db.delete(dstKey)) c.server.keyChanged(db, dstKey, 'g', 'del');
  }
}

const zunionstore = (c: Client, argv: string[]) => setOpGeneric(c, argv, 2, argv[1], 'union', false);
const zinterstore = (c: Client, argv: string[]) => setOpGeneric(c, argv, 2, argv[1], 'inter', false);
const zdiffstore = (c: Client, argv: string[]) => setOpGeneric(c, argv, 2, argv[1], 'diff', false);
const zunion = (c: Client, argv: string[]) => setOpGeneric(c, argv, 1, null, 'union', false);
const zinter = (c: Client, argv: string[]) => setOpGeneric(c, argv, 1, null, 'inter', false);
const zdiff = (c: Client, argv: string[]) => setOpGeneric(c, argv, 1, null, 'diff', false);
const zintercard = (c: Client, argv: string[]) => setOpGeneric(c, argv, 1, null, 'inter', true);

// ------------------------------------------------------------------ pops

/**
 * Redis's genericZpopCommand: pops from the first existing key of `keys`. `emitKey` adds the key to the reply
 * (blocking and multi-key forms); `nested` uses [member, score] pairs. Returns the propagated form, or null
 * when nothing was popped (the reply was already written).
 */
function zpopGeneric(
  c: Client,
  keys: string[],
  end: End,
  emitKey: boolean,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
): string[] | null {
  let key: string | undefined;
  let z: ZSetValue | undefined;
  for (const k of keys) {
    z = writeTyped<ZSetValue>(c, k, 'zset');
    if (z !== undefined) {
      key = k;
      break;
    }
  }
  if (z === undefined || key === undefined) {
    if (nilWhenEmpty) c.reply.nullArray();
    else c.reply.array(0);
    return null;
  }
  if (count === 0) {
    c.reply.array(0);
    return null;
  }
  const explicitCount = count !== -1;
  if (count === -1) count = 1;
  const n = Math.min(count, z.size);
  const reply = c.reply;
  if (!nested && !emitKey) reply.array(n * 2);
  else if (nested && !emitKey) reply.array(n);
  else if (!nested && emitKey) {
    reply.array(n * 2 + 1);
    reply.bulk(key);
  } else {
    reply.array(2);
    reply.bulk(key);
    reply.array(n);
  }
  const server = c.server;
  for (let i = 0; i < n; i++) {
    const [member, score] = end === MIN ? z.first() : z.last();
    z.delete(member);
    server.dirty++;
    if (i === 0) {
      server.notify('z', end === MIN ? 'zpopmin' : 'zpopmax', key, c.db.id);
      server.signalModifiedKey(c.db, key);
    }
    if (nested) reply.array(2);
    reply.bulk(member);
    reply.double(score);
  }
  deleteIfEmpty(c, key, z);
  const name = end === MIN ? 'ZPOPMIN' : 'ZPOPMAX';
  return explicitCount ? [name, key, String(n)] : [name, key];
}

function zpopMinMax(c: Client, argv: string[], end: End): void {
  if (argv.length > 3) throw new ReplyError(Err.syntax);
  let count = -1;
  if (argv.length === 3) {
    count = intArg(argv[2], 'ERR value is out of range, must be positive');
    if (count < 0) throw new ReplyError('ERR value is out of range, must be positive');
  }
  zpopGeneric(c, [argv[1]], end, false, count, c.reply.resp > 2 && count !== -1, false);
}

const zpopmin = (c: Client, argv: string[]) => zpopMinMax(c, argv, MIN);
const zpopmax = (c: Client, argv: string[]) => zpopMinMax(c, argv, MAX);

function blockingZpop(
  c: Client,
  keys: string[],
  end: End,
  timeoutMs: number,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
): void {
  for (const key of keys) {
    const z = writeTyped<ZSetValue>(c, key, 'zset');
    if (z === undefined || z.size === 0) continue;
    const propagated = zpopGeneric(c, [key], end, true, count, nested, nilWhenEmpty);
    if (propagated !== null) c.server.rewritePropagation(propagated);
    return;
  }
  if (mayNotBlock(c)) return c.reply.nullArray();
  const dbId = c.db.id;
  c.server.block(c, keys, timeoutMs, () => {
    for (const key of keys) {
      const v = c.db.lookupWrite(key);
      if (v === undefined || typeof v === 'string' || v.type !== 'zset' || v.size === 0) continue;
      const propagated = zpopGeneric(c, [key], end, true, count, nested, nilWhenEmpty);
      if (propagated !== null) c.server.alsoPropagate(dbId, propagated);
      return true;
    }
    return false;
  });
}

function bzpop(c: Client, argv: string[], end: End): void {
  const timeoutMs = timeoutArgMs(argv[argv.length - 1]);
  blockingZpop(c, argv.slice(1, -1), end, timeoutMs, -1, false, false);
}

const bzpopmin = (c: Client, argv: string[]) => bzpop(c, argv, MIN);
const bzpopmax = (c: Client, argv: string[]) => bzpop(c, argv, MAX);

function parseZmpop(argv: string[], at: number): { keys: string[]; end: End; count: number } {
  const numkeys = intArg(argv[at], 'ERR numkeys should be greater than 0');
  if (numkeys < 1) throw new ReplyError('ERR numkeys should be greater than 0');
  const whereIdx = at + numkeys + 1;
  if (whereIdx >= argv.length) throw new ReplyError(Err.syntax);
  let end: End;
  if (is(argv[whereIdx], 'MIN')) end = MIN;
  else if (is(argv[whereIdx], 'MAX')) end = MAX;
  else throw new ReplyError(Err.syntax);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && is(argv[j], 'COUNT') && j < argv.length - 1) {
      count = intArg(argv[++j], 'ERR count should be greater than 0');
      if (count < 1) throw new ReplyError('ERR count should be greater than 0');
    } else throw new ReplyError(Err.syntax);
  }
  return { keys: argv.slice(at + 1, whereIdx), end, count: count === -1 ? 1 : count };
}

function zmpop(c: Client, argv: string[]): void {
  const { keys, end, count } = parseZmpop(argv, 1);
  const propagated = zpopGeneric(c, keys, end, true, count, true, true);
  if (propagated !== null) c.server.rewritePropagation(propagated);
}

function bzmpop(c: Client, argv: string[]): void {
  const { keys, end, count } = parseZmpop(argv, 2);
  blockingZpop(c, keys, end, timeoutArgMs(argv[1]), count, true, true);
}

// ------------------------------------------------------------------ ZRANDMEMBER

const HALF_LONG_MAX = 9223372036854775807n / 2n;

function zrandmember(c: Client, argv: string[]): void {
  if (argv.length < 3) {
    const z = readTyped<ZSetValue>(c, argv[1], 'zset');
    if (z === undefined) return c.reply.nullBulk();
    return c.reply.bulk(z.memberAt(Math.floor(Math.random() * z.size)));
  }
  const n = randomCountArg(argv[2]);
  let withScores = false;
  if (argv.length > 4 || (argv.length === 4 && !is(argv[3], 'WITHSCORES'))) throw new ReplyError(Err.syntax);
  if (argv.length === 4) {
    withScores = true;
    const exact = BigInt(argv[2]);
    if (exact < -HALF_LONG_MAX || exact > HALF_LONG_MAX) throw new ReplyError('ERR value is out of range');
  }
  const z = readTyped<ZSetValue>(c, argv[1], 'zset');
  if (z === undefined) return c.reply.array(0);
  // Asking for at least the whole zset returns it from the highest score down, as Redis's listpack walk does.
  const all = n >= z.size ? [...z.entries()].reverse() : [...z.entries()];
  if (n >= 0) return replyEntries(c, randomSample(all, n, 'unique'), withScores);
  const reply = c.reply;
  reply.array(withScores && reply.resp === 2 ? -n * 2 : -n);
  forEachRepeatedPick(all, -n, ([m, s]) => {
    if (withScores && reply.resp === 3) reply.array(2);
    reply.bulk(m);
    if (withScores) reply.double(s);
  });
}

const zset = (extra: string[]): { categories: string[] } => ({ categories: [...extra, 'sortedset'] });

export const zsetCommands: CommandSpec[] = [
  cmd('zadd', -4, ['write', 'denyoom', 'fast'], 1, 1, 1, zadd, zset(['write', 'fast'])),
  cmd('zincrby', 4, ['write', 'denyoom', 'fast'], 1, 1, 1, zincrby, zset(['write', 'fast'])),
  cmd('zrem', -3, ['write', 'fast'], 1, 1, 1, zrem, zset(['write', 'fast'])),
  cmd('zscore', 3, ['readonly', 'fast'], 1, 1, 1, zscore, zset(['read', 'fast'])),
  cmd('zmscore', -3, ['readonly', 'fast'], 1, 1, 1, zmscore, zset(['read', 'fast'])),
  cmd('zcard', 2, ['readonly', 'fast'], 1, 1, 1, zcard, zset(['read', 'fast'])),
  cmd('zcount', 4, ['readonly', 'fast'], 1, 1, 1, zcount, zset(['read', 'fast'])),
  cmd('zlexcount', 4, ['readonly', 'fast'], 1, 1, 1, zlexcount, zset(['read', 'fast'])),
  cmd('zrank', 3, ['readonly', 'fast'], 1, 1, 1, zrank, zset(['read', 'fast'])),
  cmd('zrevrank', 3, ['readonly', 'fast'], 1, 1, 1, zrevrank, zset(['read', 'fast'])),
  cmd('zrange', -4, ['readonly'], 1, 1, 1, zrange, zset(['read', 'slow'])),
  cmd('zrangestore', -5, ['write', 'denyoom'], 1, 2, 1, zrangestore, zset(['write', 'slow'])),
  cmd('zrevrange', -4, ['readonly'], 1, 1, 1, zrevrange, zset(['read', 'slow'])),
  cmd('zrangebyscore', -4, ['readonly'], 1, 1, 1, zrangebyscore, zset(['read', 'slow'])),
  cmd('zrevrangebyscore', -4, ['readonly'], 1, 1, 1, zrevrangebyscore, zset(['read', 'slow'])),
  cmd('zrangebylex', -4, ['readonly'], 1, 1, 1, zrangebylex, zset(['read', 'slow'])),
  cmd('zrevrangebylex', -4, ['readonly'], 1, 1, 1, zrevrangebylex, zset(['read', 'slow'])),
  cmd('zremrangebyrank', 4, ['write'], 1, 1, 1, zremrangebyrank, zset(['write', 'slow'])),
  cmd('zremrangebyscore', 4, ['write'], 1, 1, 1, zremrangebyscore, zset(['write', 'slow'])),
  cmd('zremrangebylex', 4, ['write'], 1, 1, 1, zremrangebylex, zset(['write', 'slow'])),
  cmd('zunionstore', -4, ['write', 'denyoom', 'movablekeys'], 1, 1, 1, zunionstore, zset(['write', 'slow'])),
  cmd('zinterstore', -4, ['write', 'denyoom', 'movablekeys'], 1, 1, 1, zinterstore, zset(['write', 'slow'])),
  cmd('zdiffstore', -4, ['write', 'denyoom', 'movablekeys'], 1, 1, 1, zdiffstore, zset(['write', 'slow'])),
  cmd('zunion', -3, ['readonly', 'movablekeys'], 0, 0, 0, zunion, zset(['read', 'slow'])),
  cmd('zinter', -3, ['readonly', 'movablekeys'], 0, 0, 0, zinter, zset(['read', 'slow'])),
  cmd('zdiff', -3, ['readonly', 'movablekeys'], 0, 0, 0, zdiff, zset(['read', 'slow'])),
  cmd('zintercard', -3, ['readonly', 'movablekeys'], 0, 0, 0, zintercard, zset(['read', 'slow'])),
  cmd('zpopmin', -2, ['write', 'fast'], 1, 1, 1, zpopmin, zset(['write', 'fast'])),
  cmd('zpopmax', -2, ['write', 'fast'], 1, 1, 1, zpopmax, zset(['write', 'fast'])),
  cmd(
    'bzpopmin',
    -3,
    ['write', 'noscript', 'blocking', 'fast'],
    1,
    -2,
    1,
    bzpopmin,
    zset(['write', 'fast', 'blocking']),
  ),
  cmd(
    'bzpopmax',
    -3,
    ['write', 'noscript', 'blocking', 'fast'],
    1,
    -2,
    1,
    bzpopmax,
    zset(['write', 'fast', 'blocking']),
  ),
  cmd('zmpop', -4, ['write', 'movablekeys'], 0, 0, 0, zmpop, zset(['write', 'slow'])),
  cmd(
    'bzmpop',
    -5,
    ['write', 'blocking', 'movablekeys'],
    0,
    0,
    0,
    bzmpop,
    zset(['write', 'slow', 'blocking']),
  ),
  cmd('zrandmember', -2, ['readonly'], 1, 1, 1, zrandmember, zset(['read', 'slow'])),
];
