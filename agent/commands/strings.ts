/**
 * String commands. A string value is the latin1 JS string itself (see keyspace/database.ts); integers are kept
 * as their decimal text, which is what Redis replies with anyway.
 *
 * Propagation (made deterministic, as Redis 7.0 does): relative expiries become absolute (SET ... PXAT ms,
 * PEXPIREAT), INCRBYFLOAT becomes SET key value KEEPTTL, GETSET becomes SET, GETDEL becomes DEL, and GETEX with a
 * deadline already past becomes DEL.
 */
import { Err, ReplyError, wrongArity } from '../errors';
import type { Client } from '../server/client';
import { intArg, is, parseInt64 } from './args';
import { isCanonicalInt } from '../keyspace/intText';
import { isLongText } from '../keyspace/values';
import { addKey, commandTimeMs, countRead, readKey } from './keyAccess';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from './longDouble';
import { cmd, type CommandSpec } from './table';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
/** Integers this short (at most 15 digits) add exactly as JS numbers, without bigint. */
const SMALL_INT_DIGITS = 15;

/** Reads a string value; throws WRONGTYPE for other types. Counts hits and misses. */
export function getString(c: Client, key: string): string | undefined {
  const v = readKey(c, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ReplyError(Err.wrongType);
  return v;
}

/** Looks a string up for writing; WRONGTYPE for other types. */
function getStringForWrite(c: Client, key: string): string | undefined {
  const v = c.db.lookupWrite(key);
  if (v !== undefined && typeof v !== 'string') throw new ReplyError(Err.wrongType);
  return v;
}

function expireTimeError(c: Client): ReplyError {
  return new ReplyError(`ERR invalid expire time in '${c.cmd?.fullName ?? 'set'}' command`);
}

/**
 * Turns an EX/PX/EXAT/PXAT argument into an absolute deadline in ms, as getExpireMillisecondsOrReply does.
 */
function expireDeadlineMs(c: Client, text: string, unit: string): number {
  const n = parseInt64(text);
  if (n === null) throw new ReplyError(Err.notInteger);
  if (n <= 0n || ((unit === 'EX' || unit === 'EXAT') && n > INT64_MAX / 1000n)) throw expireTimeError(c);
  let ms = Number(n) * (unit === 'EX' || unit === 'EXAT' ? 1000 : 1);
  if (unit === 'EX' || unit === 'PX') ms += commandTimeMs(c);
  if (ms <= 0) throw expireTimeError(c);
  return ms;
}

/** The longest string V8 can hold (String::kMaxLength on 64-bit); longer ones cannot be built at all. */
const MAX_STRING_BYTES = 2 ** 29 - 24;

/** Checks a string about to be built against proto-max-bulk-len (Redis's checkStringLength). */
function checkStringLength(c: Client, totalBytes: number): void {
  const limit = c.kind === 'master' ? MAX_STRING_BYTES : c.server.config.getInt('proto-max-bulk-len');
  if (totalBytes > Math.min(limit, MAX_STRING_BYTES)) {
    throw new ReplyError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  }
}

function get(c: Client, argv: string[]): void {
  // A string kept in the dict's slab goes from its slot to the reply, without a JS string in between.
  const db = c.db;
  const v = db.lookupReadStored(argv[1]);
  countRead(c, argv[1], v !== undefined);
  if (v === undefined) c.reply.nullBulk();
  else if (typeof v === 'number') c.reply.bulkCopied(db.dict.stringLength(v), db.dict, v);
  else if (typeof v === 'string') c.reply.bulk(v);
  else throw new ReplyError(Err.wrongType);
}

const SET_NX = 1;
const SET_XX = 2;
const SET_GET = 4;
const SET_KEEPTTL = 8;

/** The shared core of SET, SETNX, SETEX and PSETEX (Redis's setGenericCommand). */
function setGeneric(
  c: Client,
  argv: string[],
  flags: number,
  key: string,
  value: string,
  expireText: string | undefined,
  unit: string,
  okReply: string,
  abortReply: string,
): void {
  const expireAtMs = expireText === undefined ? -1 : expireDeadlineMs(c, expireText, unit);
  const db = c.db;
  let old: string | undefined;
  if (flags & SET_GET) {
    old = getString(c, key);
    c.reply.bulkOrNull(old);
  }
  let added: boolean;
  if ((flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL)) === 0) {
    added = db.upsert(key, value);
  } else {
    const found = db.lookupWrite(key) !== undefined;
    if ((flags & SET_NX && found) || (flags & SET_XX && !found)) {
      if (!(flags & SET_GET)) c.reply.raw(abortReply);
      return;
    }
    db.set(key, value, (flags & SET_KEEPTTL) !== 0, found);
    added = !found;
  }
  if (added) c.server.notify('n', 'new', key, db.id);
  if (expireAtMs >= 0) db.setExpire(key, expireAtMs);
  c.server.keyChanged(db, key, '$', 'set');
  if (expireAtMs >= 0) {
    if (unit !== 'PXAT') c.server.rewritePropagation(['SET', key, value, 'PXAT', String(expireAtMs)]);
    c.server.notify('g', 'expire', key, db.id);
  }
  if (!(flags & SET_GET)) c.reply.raw(okReply);
  if (flags & SET_GET && expireAtMs < 0) {
    c.server.rewritePropagation(argv.filter((a, k) => k < 3 || !is(a, 'GET')));
  }
}

function set(c: Client, argv: string[]): void {
  let flags = 0;
  let unit = '';
  let expireText: string | undefined;
  for (let k = 3; k < argv.length; k++) {
    const opt = argv[k];
    const hasNext = k + 1 < argv.length;
    if (is(opt, 'NX') && !(flags & SET_XX)) flags |= SET_NX;
    else if (is(opt, 'XX') && !(flags & SET_NX)) flags |= SET_XX;
    else if (is(opt, 'GET')) flags |= SET_GET;
    else if (is(opt, 'KEEPTTL') && unit === '') flags |= SET_KEEPTTL;
    else if (hasNext && !(flags & SET_KEEPTTL)) {
      const u = opt.toUpperCase();
      if ((u === 'EX' || u === 'PX' || u === 'EXAT' || u === 'PXAT') && (unit === '' || unit === u)) {
        unit = u;
        expireText = argv[++k];
      } else throw new ReplyError(Err.syntax);
    } else throw new ReplyError(Err.syntax);
  }
  setGeneric(
    c,
    argv,
    flags,
    argv[1],
    argv[2],
    expireText,
    unit,
    '+OK\r\n',
    c.reply.resp === 3 ? '_\r\n' : '$-1\r\n',
  );
}

function setnx(c: Client, argv: string[]): void {
  setGeneric(c, argv, SET_NX, argv[1], argv[2], undefined, '', ':1\r\n', ':0\r\n');
}

function setex(c: Client, argv: string[]): void {
  setGeneric(c, argv, 0, argv[1], argv[3], argv[2], 'EX', '+OK\r\n', '');
}

function psetex(c: Client, argv: string[]): void {
  setGeneric(c, argv, 0, argv[1], argv[3], argv[2], 'PX', '+OK\r\n', '');
}

function getset(c: Client, argv: string[]): void {
  const key = argv[1];
  const old = getString(c, key);
  c.reply.bulkOrNull(old);
  const db = c.db;
  const found = db.lookupWrite(key) !== undefined;
  db.set(key, argv[2], false, found);
  if (!found) c.server.notify('n', 'new', key, db.id);
  c.server.keyChanged(db, key, '$', 'set');
  c.server.rewritePropagation(['SET', key, argv[2]]);
}

function getdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = getString(c, key);
  if (v === undefined) return c.reply.nullBulk();
  c.reply.bulk(v);
  c.db.delete(key);
  c.server.keyChanged(c.db, key, 'g', 'del');
  c.server.rewritePropagation(['DEL', key]);
}

function getex(c: Client, argv: string[]): void {
  const key = argv[1];
  let unit = '';
  let expireText: string | undefined;
  let persist = false;
  for (let k = 2; k < argv.length; k++) {
    const u = argv[k].toUpperCase();
    const hasNext = k + 1 < argv.length;
    if (u === 'PERSIST' && unit === '') persist = true;
    else if (
      (u === 'EX' || u === 'PX' || u === 'EXAT' || u === 'PXAT') &&
      !persist &&
      hasNext &&
      (unit === '' || unit === u)
    ) {
      unit = u;
      expireText = argv[++k];
    } else throw new ReplyError(Err.syntax);
  }
  const v = getString(c, key);
  if (v === undefined) return c.reply.nullBulk();
  const expireAtMs = expireText === undefined ? -1 : expireDeadlineMs(c, expireText, unit);
  c.reply.bulk(v);
  const db = c.db;
  const server = c.server;
  if (
    (unit === 'EXAT' || unit === 'PXAT') &&
    expireAtMs <= server.nowMs &&
    server.role === 'master' &&
    !server.loading
  ) {
    db.delete(key);
    server.keyChanged(db, key, 'g', 'del');
    server.rewritePropagation(['DEL', key]);
  } else if (expireAtMs >= 0) {
    db.setExpire(key, expireAtMs);
    server.keyChanged(db, key, 'g', 'expire');
    server.rewritePropagation(['PEXPIREAT', key, String(expireAtMs)]);
  } else if (persist && db.getExpire(key) !== undefined) {
    db.removeExpire(key);
    server.keyChanged(db, key, 'g', 'persist');
    server.rewritePropagation(['PERSIST', key]);
  }
}

function mget(c: Client, argv: string[]): void {
  c.reply.array(argv.length - 1);
  for (let k = 1; k < argv.length; k++) {
    const v = readKey(c, argv[k]);
    if (typeof v === 'string') c.reply.bulk(v);
    else c.reply.nullBulk();
  }
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) throw new ReplyError(wrongArity(c.cmd?.fullName ?? 'mset'));
  const db = c.db;
  if (nx) {
    for (let k = 1; k < argv.length; k += 2) {
      if (db.lookupWrite(argv[k]) !== undefined) {
        c.reply.integer(0);
        return;
      }
    }
  }
  for (let k = 1; k < argv.length; k += 2) {
    const key = argv[k];
    const found = db.lookupWrite(key) !== undefined;
    db.set(key, argv[k + 1], false, found);
    if (!found) c.server.notify('n', 'new', key, db.id);
    c.server.keyChanged(db, key, '$', 'set');
  }
  if (nx) c.reply.integer(1);
  else c.reply.ok();
}

function mset(c: Client, argv: string[]): void {
  msetGeneric(c, argv, false);
}

function msetnx(c: Client, argv: string[]): void {
  msetGeneric(c, argv, true);
}

function append(c: Client, argv: string[]): void {
  const key = argv[1];
  const db = c.db;
  const old = getStringForWrite(c, key);
  let result: string;
  if (old === undefined) {
    result = argv[2];
    addKey(c, key, result);
  } else {
    checkStringLength(c, old.length + argv[2].length);
    result = old + argv[2];
    db.set(key, result, true);
    db.stringEncodings.set(key, 'raw');
  }
  c.server.keyChanged(db, key, '$', 'append');
  c.reply.integer(result.length);
}

function strlen(c: Client, argv: string[]): void {
  const v = getString(c, argv[1]);
  c.reply.integer(v === undefined ? 0 : v.length);
}

/** Adds `incr` to the integer stored at argv[1] (INCR, INCRBY, DECR, DECRBY). */
function incrDecr(c: Client, key: string, incr: bigint | number): void {
  const db = c.db;
  const old = getStringForWrite(c, key);
  let result: string;
  if (typeof incr === 'number' && (old === undefined || isCanonicalInt(old, SMALL_INT_DIGITS))) {
    result = String((old === undefined ? 0 : Number(old)) + incr);
  } else {
    const value = old === undefined ? 0n : parseInt64(old);
    if (value === null) throw new ReplyError(Err.notInteger);
    const by = BigInt(incr);
    const sum = value + by;
    if (sum > INT64_MAX || sum < INT64_MIN) throw new ReplyError('ERR increment or decrement would overflow');
    result = sum.toString();
  }
  if (old === undefined) addKey(c, key, result);
  else db.set(key, result, true, true);
  c.server.keyChanged(db, key, '$', 'incrby');
  c.reply.raw(':' + result + '\r\n');
}

/** The increment argument: a small one as a number (fast path), otherwise a bigint. */
function incrementArg(s: string): number | bigint {
  if (isCanonicalInt(s, SMALL_INT_DIGITS)) return Number(s);
  const n = parseInt64(s);
  if (n === null) throw new ReplyError(Err.notInteger);
  return n;
}

function incr(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], 1);
}

function decr(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], -1);
}

function incrby(c: Client, argv: string[]): void {
  incrDecr(c, argv[1], incrementArg(argv[2]));
}

function decrby(c: Client, argv: string[]): void {
  const by = incrementArg(argv[2]);
  if (by === INT64_MIN) throw new ReplyError('ERR decrement would overflow');
  incrDecr(c, argv[1], -by);
}

function incrbyfloat(c: Client, argv: string[]): void {
  const key = argv[1];
  const db = c.db;
  const old = getStringForWrite(c, key);
  const value = old === undefined ? parseLongDouble('0') : parseLongDouble(old);
  const incr = parseLongDouble(argv[2]);
  if (value === null || incr === null) throw new ReplyError(Err.notFloat);
  const sum = addLongDouble(value, incr);
  if (sum.inf) throw new ReplyError('ERR increment would produce NaN or Infinity');
  const text = formatLongDoubleHuman(sum);
  if (old === undefined) addKey(c, key, text);
  else db.set(key, text, true);
  // Redis stores the result as a plain string object, never as an integer: "3" reports "embstr".
  if (isLongText(text)) db.stringEncodings.set(key, 'embstr');
  c.server.keyChanged(db, key, '$', 'incrbyfloat');
  c.reply.bulk(text);
  c.server.rewritePropagation(['SET', key, text, 'KEEPTTL']);
}

function getrange(c: Client, argv: string[]): void {
  let start = intArg(argv[2]);
  let end = intArg(argv[3]);
  const v = getString(c, argv[1]);
  if (v === undefined) return c.reply.bulk('');
  const len = v.length;
  if (start < 0 && end < 0 && start > end) return c.reply.bulk('');
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return c.reply.bulk('');
  c.reply.bulk(v.slice(start, end + 1));
}

function setrange(c: Client, argv: string[]): void {
  const key = argv[1];
  const value = argv[3];
  const offset = intArg(argv[2]);
  if (offset < 0) throw new ReplyError('ERR offset is out of range');
  const db = c.db;
  const old = getStringForWrite(c, key);
  if (old === undefined) {
    if (value.length === 0) return c.reply.integer(0);
    checkStringLength(c, offset + value.length);
    const result = '\0'.repeat(offset) + value;
    addKey(c, key, result);
    db.stringEncodings.set(key, 'raw');
    c.server.keyChanged(db, key, '$', 'setrange');
    return c.reply.integer(result.length);
  }
  if (value.length === 0) return c.reply.integer(old.length);
  checkStringLength(c, offset + value.length);
  const padded = old.length < offset ? old + '\0'.repeat(offset - old.length) : old;
  const result = padded.slice(0, offset) + value + padded.slice(offset + value.length);
  db.set(key, result, true);
  db.stringEncodings.set(key, 'raw');
  c.server.keyChanged(db, key, '$', 'setrange');
  c.reply.integer(result.length);
}

function lcs(c: Client, argv: string[]): void {
  const va = readKey(c, argv[1]);
  const vb = readKey(c, argv[2]);
  if ((va !== undefined && typeof va !== 'string') || (vb !== undefined && typeof vb !== 'string')) {
    throw new ReplyError('ERR The specified keys must contain string values');
  }
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let k = 3; k < argv.length; k++) {
    const opt = argv[k];
    if (is(opt, 'IDX')) getIdx = true;
    else if (is(opt, 'LEN')) getLen = true;
    else if (is(opt, 'WITHMATCHLEN')) withMatchLen = true;
    else if (is(opt, 'MINMATCHLEN') && k + 1 < argv.length) {
      minMatchLen = intArg(argv[++k]);
      if (minMatchLen < 0) minMatchLen = 0;
    } else throw new ReplyError(Err.syntax);
  }
  if (getIdx && getLen) {
    throw new ReplyError('ERR If you want both the length and indexes, please just use IDX.');
  }
  const a = va ?? '';
  const b = vb ?? '';
  const alen = a.length;
  const blen = b.length;
  // Dynamic programming table of LCS lengths, (alen+1) x (blen+1), row-major.
  const w = blen + 1;
  const dp = new Uint32Array((alen + 1) * w);
  for (let i = 1; i <= alen; i++) {
    for (let j = 1; j <= blen; j++) {
      dp[i * w + j] =
        a.charCodeAt(i - 1) === b.charCodeAt(j - 1)
          ? dp[(i - 1) * w + j - 1] + 1
          : Math.max(dp[(i - 1) * w + j], dp[i * w + j - 1]);
    }
  }
  const total = dp[alen * w + blen];
  if (getLen) return c.reply.integer(total);
  const out = new Array<string>(total);
  const matches: Array<[[number, number], [number, number], number]> = [];
  let i = alen;
  let j = blen;
  let idx = total;
  let arangeStart = alen;
  let arangeEnd = 0;
  let brangeStart = 0;
  let brangeEnd = 0;
  while (i > 0 && j > 0) {
    let emitRange = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      out[--idx] = a[i - 1];
      if (arangeStart === alen) {
        arangeStart = i - 1;
        arangeEnd = i - 1;
        brangeStart = j - 1;
        brangeEnd = j - 1;
      } else if (arangeStart === i && brangeStart === j) {
        arangeStart--;
        brangeStart--;
      } else {
        emitRange = true;
      }
      if (arangeStart === 0 || brangeStart === 0) emitRange = true;
      i--;
      j--;
    } else {
      const lcs1 = dp[(i - 1) * w + j];
      const lcs2 = dp[i * w + j - 1];
      if (lcs1 > lcs2) i--;
      else j--;
      if (arangeStart !== alen) emitRange = true;
    }
    if (emitRange) {
      const matchLen = arangeEnd - arangeStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) {
        matches.push([[arangeStart, arangeEnd], [brangeStart, brangeEnd], matchLen]);
      }
      arangeStart = alen;
    }
  }
  if (!getIdx) return c.reply.bulk(out.join(''));
  c.reply.map(2);
  c.reply.bulk('matches');
  c.reply.array(matches.length);
  for (const [ra, rb, len] of matches) {
    c.reply.array(withMatchLen ? 3 : 2);
    c.reply.array(2);
    c.reply.integer(ra[0]);
    c.reply.integer(ra[1]);
    c.reply.array(2);
    c.reply.integer(rb[0]);
    c.reply.integer(rb[1]);
    if (withMatchLen) c.reply.integer(len);
  }
  c.reply.bulk('len');
  c.reply.integer(total);
}

const str = (extra: string[]): { categories: string[] } => ({ categories: [...extra, 'string'] });

export const stringCommands: CommandSpec[] = [
  cmd('get', 2, ['readonly', 'fast'], 1, 1, 1, get, str(['read', 'fast'])),
  cmd('set', -3, ['write', 'denyoom'], 1, 1, 1, set, str(['write', 'slow'])),
  cmd('setnx', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, setnx, str(['write', 'fast'])),
  cmd('setex', 4, ['write', 'denyoom'], 1, 1, 1, setex, str(['write', 'slow'])),
  cmd('psetex', 4, ['write', 'denyoom'], 1, 1, 1, psetex, str(['write', 'slow'])),
  cmd('getset', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, getset, str(['write', 'fast'])),
  cmd('getdel', 2, ['write', 'fast'], 1, 1, 1, getdel, str(['write', 'fast'])),
  cmd('getex', -2, ['write', 'fast'], 1, 1, 1, getex, str(['write', 'fast'])),
  cmd('mget', -2, ['readonly', 'fast'], 1, -1, 1, mget, str(['read', 'fast'])),
  cmd('mset', -3, ['write', 'denyoom'], 1, -1, 2, mset, str(['write', 'slow'])),
  cmd('msetnx', -3, ['write', 'denyoom'], 1, -1, 2, msetnx, str(['write', 'slow'])),
  cmd('append', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, append, str(['write', 'fast'])),
  cmd('strlen', 2, ['readonly', 'fast'], 1, 1, 1, strlen, str(['read', 'fast'])),
  cmd('incr', 2, ['write', 'denyoom', 'fast'], 1, 1, 1, incr, str(['write', 'fast'])),
  cmd('decr', 2, ['write', 'denyoom', 'fast'], 1, 1, 1, decr, str(['write', 'fast'])),
  cmd('incrby', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, incrby, str(['write', 'fast'])),
  cmd('decrby', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, decrby, str(['write', 'fast'])),
  cmd('incrbyfloat', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, incrbyfloat, str(['write', 'fast'])),
  cmd('getrange', 4, ['readonly'], 1, 1, 1, getrange, str(['read', 'slow'])),
  cmd('substr', 4, ['readonly'], 1, 1, 1, getrange, str(['read', 'slow'])),
  cmd('setrange', 4, ['write', 'denyoom'], 1, 1, 1, setrange, str(['write', 'slow'])),
  cmd('lcs', -3, ['readonly'], 1, 2, 1, lcs, str(['read', 'slow'])),
];
