/**
 * Hash commands. Values are HashValue (keyspace/hash.ts): a Map kept in listpack order, reporting listpack or
 * hashtable as Redis would.
 *
 * Propagation: HINCRBYFLOAT becomes HSET key field result (so float formatting never diverges); everything else
 * propagates as sent. A hash emptied by HDEL is deleted.
 */
import { Err, ReplyError, wrongArity } from '../errors';
import { HashValue } from '../keyspace/values';
import type { Client } from '../server/client';
import { is, parseInt64 } from './args';
import { addKey, deleteIfEmpty, readTyped, writeTyped } from './keyAccess';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from './longDouble';
import { forEachRepeatedPick, randomCountArg, randomSample } from './random';
import { cmd, type CommandSpec } from './table';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
/** HRANDFIELD ... WITHVALUES refuses counts beyond LONG_MAX / 2 (the reply would double them). */
const HALF_LONG_MAX = INT64_MAX / 2n;

/** The hash at `key` for writing, created (and stored) when missing. */
function hashForWrite(c: Client, key: string): HashValue {
  let h = writeTyped<HashValue>(c, key, 'hash');
  if (h === undefined) {
    h = new HashValue();
    addKey(c, key, h);
  }
  return h;
}

function hsetGeneric(c: Client, argv: string[], replyOk: boolean): void {
  if (argv.length % 2 === 1) throw new ReplyError(wrongArity(c.cmd?.fullName ?? 'hset'));
  const key = argv[1];
  const h = hashForWrite(c, key);
  let created = 0;
  for (let k = 2; k < argv.length; k += 2) if (h.set(argv[k], argv[k + 1])) created++;
  if (replyOk) c.reply.ok();
  else c.reply.integer(created);
  c.server.keyChanged(c.db, key, 'h', 'hset', (argv.length - 2) / 2);
}

const hset = (c: Client, argv: string[]) => hsetGeneric(c, argv, false);
const hmset = (c: Client, argv: string[]) => hsetGeneric(c, argv, true);

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1];
  const existing = writeTyped<HashValue>(c, key, 'hash');
  if (existing !== undefined && existing.has(argv[2])) return c.reply.integer(0);
  const h = existing ?? hashForWrite(c, key);
  h.set(argv[2], argv[3]);
  c.reply.integer(1);
  c.server.keyChanged(c.db, key, 'h', 'hset');
}

function hget(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  c.reply.bulkOrNull(h?.get(argv[2]));
}

function hmget(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  c.reply.array(argv.length - 2);
  for (let k = 2; k < argv.length; k++) c.reply.bulkOrNull(h?.get(argv[k]));
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const h = writeTyped<HashValue>(c, key, 'hash');
  if (h === undefined) return c.reply.integer(0);
  let deleted = 0;
  for (let k = 2; k < argv.length; k++) {
    if (h.delete(argv[k])) {
      deleted++;
      if (h.size === 0) break;
    }
  }
  if (deleted > 0) {
    c.server.notify('h', 'hdel', key, c.db.id);
    deleteIfEmpty(c, key, h);
    c.server.dirty += deleted;
    c.server.signalModifiedKey(c.db, key);
  }
  c.reply.integer(deleted);
}

function hlen(c: Client, argv: string[]): void {
  c.reply.integer(readTyped<HashValue>(c, argv[1], 'hash')?.size ?? 0);
}

function hexists(c: Client, argv: string[]): void {
  c.reply.integer(readTyped<HashValue>(c, argv[1], 'hash')?.has(argv[2]) ? 1 : 0);
}

function hstrlen(c: Client, argv: string[]): void {
  c.reply.integer(readTyped<HashValue>(c, argv[1], 'hash')?.get(argv[2])?.length ?? 0);
}

function hgetall(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  if (h === undefined) return c.reply.map(0);
  c.reply.map(h.size);
  for (const [f, v] of h.entries()) {
    c.reply.bulk(f);
    c.reply.bulk(v);
  }
}

function hkeys(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  if (h === undefined) return c.reply.array(0);
  c.reply.array(h.size);
  for (const f of h.keys()) c.reply.bulk(f);
}

function hvals(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  if (h === undefined) return c.reply.array(0);
  c.reply.array(h.size);
  for (const v of h.values()) c.reply.bulk(v);
}

function hincrby(c: Client, argv: string[]): void {
  const [, key, field] = argv;
  const incr = parseInt64(argv[3]);
  if (incr === null) throw new ReplyError(Err.notInteger);
  const h = hashForWrite(c, key);
  const old = h.get(field);
  let value = 0n;
  if (old !== undefined) {
    const parsed = parseInt64(old);
    if (parsed === null) throw new ReplyError('ERR hash value is not an integer');
    value = parsed;
  }
  const sum = value + incr;
  if (sum > INT64_MAX || sum < INT64_MIN) throw new ReplyError(Err.overflow);
  const text = sum.toString();
  h.set(field, text);
  c.reply.raw(':' + text + '\r\n');
  c.server.keyChanged(c.db, key, 'h', 'hincrby');
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const [, key, field] = argv;
  const incr = parseLongDouble(argv[3]);
  if (incr === null) throw new ReplyError(Err.notFloat);
  if (incr.inf) throw new ReplyError('ERR value is NaN or Infinity');
  const h = hashForWrite(c, key);
  const old = h.get(field);
  let value = parseLongDouble('0')!;
  if (old !== undefined) {
    const parsed = parseLongDouble(old);
    if (parsed === null) throw new ReplyError('ERR hash value is not a float');
    value = parsed;
  }
  const sum = addLongDouble(value, incr);
  if (sum.inf) throw new ReplyError('ERR increment would produce NaN or Infinity');
  const text = formatLongDoubleHuman(sum);
  h.set(field, text);
  c.reply.bulk(text);
  c.server.keyChanged(c.db, key, 'h', 'hincrbyfloat');
  c.server.rewritePropagation(['HSET', key, field, text]);
}

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length < 3) {
    const h = readTyped<HashValue>(c, argv[1], 'hash');
    if (h === undefined) return c.reply.nullBulk();
    const fields = [...h.keys()];
    return c.reply.bulk(fields[Math.floor(Math.random() * fields.length)]);
  }
  const n = randomCountArg(argv[2]);
  let withValues = false;
  if (argv.length > 4 || (argv.length === 4 && !is(argv[3], 'WITHVALUES'))) throw new ReplyError(Err.syntax);
  if (argv.length === 4) {
    withValues = true;
    const exact = parseInt64(argv[2]) as bigint;
    if (exact < -HALF_LONG_MAX || exact > HALF_LONG_MAX) throw new ReplyError('ERR value is out of range');
  }
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  if (h === undefined) return c.reply.array(0);
  const entries = [...h.entries()];
  const count = n >= 0 ? Math.min(n, entries.length) : -n;
  if (withValues && c.reply.resp === 2) c.reply.array(count * 2);
  else c.reply.array(count);
  const emit = ([f, v]: [string, string]): void => {
    if (withValues && c.reply.resp === 3) c.reply.array(2);
    c.reply.bulk(f);
    if (withValues) c.reply.bulk(v);
  };
  if (n < 0) forEachRepeatedPick(entries, count, emit);
  else randomSample(entries, count, 'unique').forEach(emit);
}

const hash = (extra: string[]): { categories: string[] } => ({ categories: [...extra, 'hash'] });

export const hashCommands: CommandSpec[] = [
  cmd('hset', -4, ['write', 'denyoom', 'fast'], 1, 1, 1, hset, hash(['write', 'fast'])),
  cmd('hmset', -4, ['write', 'denyoom', 'fast'], 1, 1, 1, hmset, hash(['write', 'fast'])),
  cmd('hsetnx', 4, ['write', 'denyoom', 'fast'], 1, 1, 1, hsetnx, hash(['write', 'fast'])),
  cmd('hget', 3, ['readonly', 'fast'], 1, 1, 1, hget, hash(['read', 'fast'])),
  cmd('hmget', -3, ['readonly', 'fast'], 1, 1, 1, hmget, hash(['read', 'fast'])),
  cmd('hdel', -3, ['write', 'fast'], 1, 1, 1, hdel, hash(['write', 'fast'])),
  cmd('hlen', 2, ['readonly', 'fast'], 1, 1, 1, hlen, hash(['read', 'fast'])),
  cmd('hexists', 3, ['readonly', 'fast'], 1, 1, 1, hexists, hash(['read', 'fast'])),
  cmd('hstrlen', 3, ['readonly', 'fast'], 1, 1, 1, hstrlen, hash(['read', 'fast'])),
  cmd('hgetall', 2, ['readonly'], 1, 1, 1, hgetall, hash(['read', 'slow'])),
  cmd('hkeys', 2, ['readonly'], 1, 1, 1, hkeys, hash(['read', 'slow'])),
  cmd('hvals', 2, ['readonly'], 1, 1, 1, hvals, hash(['read', 'slow'])),
  cmd('hincrby', 4, ['write', 'denyoom', 'fast'], 1, 1, 1, hincrby, hash(['write', 'fast'])),
  cmd('hincrbyfloat', 4, ['write', 'denyoom', 'fast'], 1, 1, 1, hincrbyfloat, hash(['write', 'fast'])),
  cmd('hrandfield', -2, ['readonly'], 1, 1, 1, hrandfield, hash(['read', 'slow'])),
];
