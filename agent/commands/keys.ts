/**
 * Generic key commands: existence, type, deletion, renaming and copying, expiry (EXPIRE family, TTL family,
 * PERSIST), OBJECT, and whole-database operations (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, MOVE, RANDOMKEY, KEYS).
 *
 * Propagation: EXPIRE/PEXPIRE/EXPIREAT become PEXPIREAT with the absolute deadline (options kept); an expiry
 * already in the past deletes the key and propagates DEL. FLUSHDB/FLUSHALL propagate even on an empty dataset.
 * Keys that changed databases or names fire Redis's events (rename_from/rename_to, move_from/move_to, copy_to).
 */
import { Err, ReplyError } from '../errors';
import { idleTimeMs, lfuCounter, accessPolicy } from '../keyspace/access';
import type { Database, Value } from '../keyspace/database';
import { typeOf } from '../keyspace/database';
import { globMatch } from '../keyspace/glob';
import { sampleKey } from '../keyspace/sampling';
import { cloneValue, stringEncoding, isLongText } from '../keyspace/values';
import type { Client } from '../server/client';
import type { Server } from '../server/server';
import { is, parseInt64 } from './args';
import { commandTimeMs, readKey } from './keyAccess';
import { cmd, container, type CommandSpec } from './table';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
/** Attempts RANDOMKEY makes on a replica whose keys may all be logically expired. */
const RANDOMKEY_MAX_TRIES = 100;
/** Redis's OBJ_SHARED_REFCOUNT: the refcount reported for shared integer objects. */
const SHARED_REFCOUNT = 2147483647;
/** Integers below this are shared objects in Redis (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;

// ------------------------------------------------------------------ existence and deletion

function del(c: Client, argv: string[]): void {
  let n = 0;
  const db = c.db;
  for (let k = 1; k < argv.length; k++) {
    const key = argv[k];
    if (db.delete(key)) {
      c.server.keyChanged(db, key, 'g', 'del');
      n++;
    }
  }
  c.reply.integer(n);
}

function exists(c: Client, argv: string[]): void {
  let n = 0;
  for (let k = 1; k < argv.length; k++) {
    const v = c.db.lookupRead(argv[k], false);
    if (v === undefined) c.server.stats.keyspaceMisses++;
    else {
      c.server.stats.keyspaceHits++;
      n++;
    }
  }
  c.reply.integer(n);
}

function touch(c: Client, argv: string[]): void {
  let n = 0;
  for (let k = 1; k < argv.length; k++) if (readKey(c, argv[k]) !== undefined) n++;
  c.reply.integer(n);
}

function type(c: Client, argv: string[]): void {
  const v = c.db.lookupRead(argv[1], false);
  if (v === undefined) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  c.reply.simple(v === undefined ? 'none' : typeOf(v));
}

function keys(c: Client, argv: string[]): void {
  const pattern = argv[1];
  const all = pattern === '*';
  const db = c.db;
  const now = c.server.nowMs;
  const out: string[] = [];
  const expires = db.expires;
  for (const key of db.dict.keys()) {
    if (!all && !globMatch(pattern, key)) continue;
    if (expires.size > 0) {
      const at = expires.get(key);
      if (at !== undefined && at <= now) continue;
    }
    out.push(key);
  }
  c.reply.array(out.length);
  for (const k of out) c.reply.bulk(k);
}

function randomkey(c: Client): void {
  const db = c.db;
  const allVolatile = db.expires.size === db.dict.size;
  let tries = RANDOMKEY_MAX_TRIES;
  for (;;) {
    const key = sampleKey(db.dict);
    if (key === undefined) return c.reply.nullBulk();
    if (db.expires.has(key)) {
      if (allVolatile && c.server.role === 'replica' && --tries === 0) return c.reply.bulk(key);
      if (db.isExpired(key) && db.lookupRead(key, false) === undefined) continue;
    }
    return c.reply.bulk(key);
  }
}

function dbsize(c: Client): void {
  c.reply.integer(c.db.size);
}

// ------------------------------------------------------------------ rename, copy, move

/** Moves a value (and its expiry and string encoding) to another key or database. */
function placeValue(
  src: Database,
  key: string,
  dst: Database,
  newKey: string,
  value: Value,
  expireAt?: number,
): void {
  dst.set(newKey, value);
  if (expireAt !== undefined) dst.setExpire(newKey, expireAt);
  const enc = src.stringEncodings.get(key);
  if (enc !== undefined && typeof value === 'string') dst.stringEncodings.set(newKey, enc);
}

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const [, from, to] = argv;
  const db = c.db;
  const v = db.lookupWrite(from);
  if (v === undefined) throw new ReplyError(Err.noSuchKey);
  if (from === to) return nx ? c.reply.integer(0) : c.reply.ok();
  const expireAt = db.getExpire(from);
  if (db.lookupWrite(to) !== undefined) {
    if (nx) return c.reply.integer(0);
    db.delete(to);
  }
  const enc = db.stringEncodings.get(from);
  db.set(to, v);
  c.server.notify('n', 'new', to, db.id);
  if (expireAt !== undefined) db.setExpire(to, expireAt);
  if (enc !== undefined) db.stringEncodings.set(to, enc);
  db.delete(from);
  c.server.keyChanged(db, from, 'g', 'rename_from');
  c.server.keyChanged(db, to, 'g', 'rename_to', 0);
  if (nx) c.reply.integer(1);
  else c.reply.ok();
}

function rename(c: Client, argv: string[]): void {
  renameGeneric(c, argv, false);
}

function renamenx(c: Client, argv: string[]): void {
  renameGeneric(c, argv, true);
}

function dbArg(c: Client, text: string): Database {
  const n = parseInt64(text);
  if (n === null || n > 2147483647n || n < -2147483648n) throw new ReplyError(Err.notInteger);
  const dbs = c.server.keyspace.dbs;
  const id = Number(n);
  if (id < 0 || id >= dbs.length) throw new ReplyError(Err.dbIndexOutOfRange);
  return dbs[id];
}

function copy(c: Client, argv: string[]): void {
  const [, key, newKey] = argv;
  const src = c.db;
  let dst = src;
  let replace = false;
  for (let k = 3; k < argv.length; k++) {
    if (is(argv[k], 'REPLACE')) replace = true;
    else if (is(argv[k], 'DB') && k + 1 < argv.length) dst = dbArg(c, argv[++k]);
    else throw new ReplyError(Err.syntax);
  }
  if (src === dst && key === newKey) throw new ReplyError('ERR source and destination objects are the same');
  const v = readKey(c, key);
  if (v === undefined) return c.reply.integer(0);
  const expireAt = src.getExpire(key);
  if (dst.lookupWrite(newKey) !== undefined) {
    if (!replace) return c.reply.integer(0);
    dst.delete(newKey);
  }
  placeValue(src, key, dst, newKey, cloneValue(v), expireAt);
  c.server.notify('n', 'new', newKey, dst.id);
  c.server.keyChanged(dst, newKey, 'g', 'copy_to');
  c.reply.integer(1);
}

function move(c: Client, argv: string[]): void {
  const key = argv[1];
  const src = c.db;
  const dst = dbArg(c, argv[2]);
  if (src === dst) throw new ReplyError('ERR source and destination objects are the same');
  const v = src.lookupWrite(key);
  if (v === undefined) return c.reply.integer(0);
  const expireAt = src.getExpire(key);
  if (dst.lookupWrite(key) !== undefined) return c.reply.integer(0);
  placeValue(src, key, dst, key, v, expireAt);
  c.server.notify('n', 'new', key, dst.id);
  src.delete(key);
  c.server.keyChanged(src, key, 'g', 'move_from');
  c.server.keyChanged(dst, key, 'g', 'move_to', 0);
  c.reply.integer(1);
}

// ------------------------------------------------------------------ expiry

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

function expireTimeError(c: Client): ReplyError {
  return new ReplyError(`ERR invalid expire time in '${c.cmd?.fullName ?? 'expire'}' command`);
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `relative` adds the current time, `seconds` multiplies by 1000. */
function expireGeneric(c: Client, argv: string[], relative: boolean, seconds: boolean): void {
  const key = argv[1];
  let flags = 0;
  for (let k = 3; k < argv.length; k++) {
    const opt = argv[k];
    if (is(opt, 'NX')) flags |= EXPIRE_NX;
    else if (is(opt, 'XX')) flags |= EXPIRE_XX;
    else if (is(opt, 'GT')) flags |= EXPIRE_GT;
    else if (is(opt, 'LT')) flags |= EXPIRE_LT;
    else throw new ReplyError(`ERR Unsupported option ${opt}`);
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    throw new ReplyError('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    throw new ReplyError('ERR GT and LT options at the same time are not compatible');
  }
  let when = parseInt64(argv[2]);
  if (when === null) throw new ReplyError(Err.notInteger);
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw expireTimeError(c);
    when *= 1000n;
  }
  const server = c.server;
  if (relative) {
    const base = BigInt(commandTimeMs(c));
    if (when > INT64_MAX - base) throw expireTimeError(c);
    when += base;
  }
  const db = c.db;
  if (db.lookupWrite(key) === undefined) return c.reply.integer(0);
  const whenMs = Number(when);
  if (flags) {
    const current = db.getExpire(key);
    if (flags & EXPIRE_NX && current !== undefined) return c.reply.integer(0);
    if (flags & EXPIRE_XX && current === undefined) return c.reply.integer(0);
    if (flags & EXPIRE_GT && (current === undefined || whenMs <= current)) return c.reply.integer(0);
    if (flags & EXPIRE_LT && current !== undefined && whenMs >= current) return c.reply.integer(0);
  }
  if (whenMs <= server.nowMs && server.role === 'master' && !server.loading) {
    db.delete(key);
    server.keyChanged(db, key, 'g', 'del');
    server.rewritePropagation(['DEL', key]);
    return c.reply.integer(1);
  }
  db.setExpire(key, whenMs);
  c.reply.integer(1);
  if (relative || seconds) server.rewritePropagation(['PEXPIREAT', key, when.toString(), ...argv.slice(3)]);
  server.keyChanged(db, key, 'g', 'expire');
}

function expire(c: Client, argv: string[]): void {
  expireGeneric(c, argv, true, true);
}
function pexpire(c: Client, argv: string[]): void {
  expireGeneric(c, argv, true, false);
}
function expireat(c: Client, argv: string[]): void {
  expireGeneric(c, argv, false, true);
}
function pexpireat(c: Client, argv: string[]): void {
  expireGeneric(c, argv, false, false);
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME. */
function ttlGeneric(c: Client, key: string, ms: boolean, absolute: boolean): void {
  const v = c.db.lookupRead(key, false);
  if (v === undefined) {
    c.server.stats.keyspaceMisses++;
    return c.reply.integer(-2);
  }
  c.server.stats.keyspaceHits++;
  const at = c.db.getExpire(key);
  if (at === undefined) return c.reply.integer(-1);
  let ttl = absolute ? at : at - commandTimeMs(c);
  if (ttl < 0) ttl = 0;
  c.reply.integer(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function ttl(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1], false, false);
}
function pttl(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1], true, false);
}
function expiretime(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1], false, true);
}
function pexpiretime(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1], true, true);
}

function persist(c: Client, argv: string[]): void {
  const key = argv[1];
  const db = c.db;
  if (db.lookupWrite(key) === undefined || !db.removeExpire(key)) return c.reply.integer(0);
  c.server.keyChanged(db, key, 'g', 'persist');
  c.reply.integer(1);
}

// ------------------------------------------------------------------ OBJECT

function objectLookup(c: Client, key: string): Value | undefined {
  const v = c.db.lookupRead(key, false);
  if (v === undefined) c.reply.nullBulk();
  return v;
}

function objectEncoding(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v === undefined) return;
  c.reply.bulk(typeof v === 'string' ? stringEncoding(v, c.db.stringEncodings.get(argv[2])) : v.encoding());
}

/** Redis shares integer objects 0..9999 unless an LRU/LFU maxmemory policy needs per-key metadata. */
function sharesIntegers(server: Server): boolean {
  if (server.config.getInt('maxmemory') === 0) return true;
  const policy = server.config.get('maxmemory-policy');
  return !(policy.endsWith('-lru') || policy.endsWith('-lfu'));
}

function objectRefcount(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v === undefined) return;
  const shared =
    typeof v === 'string' &&
    c.db.stringEncodings.get(argv[2]) === undefined &&
    isLongText(v) &&
    v.length <= 4 &&
    Number(v) >= 0 &&
    Number(v) < SHARED_INTEGERS &&
    sharesIntegers(c.server);
  c.reply.integer(shared ? SHARED_REFCOUNT : 1);
}

function objectIdletime(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v === undefined) return;
  if (accessPolicy.lfu) {
    throw new ReplyError(
      'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between ' +
        'policies at runtime LRU and LFU data will take some time to adjust.',
    );
  }
  const stamp = c.db.dict.stampOf(argv[2]) ?? 0;
  c.reply.integer(Math.floor(idleTimeMs(stamp, c.server.nowMs) / 1000));
}

function objectFreq(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]);
  if (v === undefined) return;
  if (!accessPolicy.lfu) {
    throw new ReplyError(
      'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when ' +
        'switching between policies at runtime LRU and LFU data will take some time to adjust.',
    );
  }
  c.reply.integer(lfuCounter(c.db.dict.stampOf(argv[2]) ?? 0, c.server.nowMs));
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

function objectHelp(c: Client): void {
  c.reply.array(OBJECT_HELP.length);
  for (const line of OBJECT_HELP) c.reply.simple(line);
}

// ------------------------------------------------------------------ whole databases

/** Tells WATCH and client-side caching that every key of `db` changed (FLUSHDB, SWAPDB). */
function touchAllKeys(server: Server, db: Database): void {
  if (server.keyModifiedHooks.length === 0 && server.blockedByKey.size === 0) return;
  for (const key of db.dict.keys()) server.signalModifiedKey(db, key);
}

function flushFlags(argv: string[]): void {
  if (argv.length === 2 && !is(argv[1], 'SYNC') && !is(argv[1], 'ASYNC')) throw new ReplyError(Err.syntax);
  if (argv.length > 2) throw new ReplyError(Err.syntax);
}

/** Empties one database; returns the number of keys removed. */
export function emptyDatabase(server: Server, db: Database): number {
  const n = db.size;
  touchAllKeys(server, db);
  db.clear();
  return n;
}

function flushdb(c: Client, argv: string[]): void {
  flushFlags(argv);
  const removed = emptyDatabase(c.server, c.db);
  if (removed > 0) c.server.dirty += removed;
  else c.server.alsoPropagate(c.db.id, argv);
  c.reply.ok();
}

function flushall(c: Client, argv: string[]): void {
  flushFlags(argv);
  let removed = 0;
  for (const db of c.server.keyspace.dbs) removed += emptyDatabase(c.server, db);
  c.server.dirty += removed + 1;
  for (const hook of flushAllHooks.get(c.server) ?? []) hook();
  c.reply.ok();
}

/** Extra work after FLUSHALL (persistence saves when save points are set, as Redis does). */
const flushAllHooks = new WeakMap<Server, Array<() => void>>();

export function onFlushAll(server: Server, hook: () => void): void {
  const list = flushAllHooks.get(server) ?? [];
  list.push(hook);
  flushAllHooks.set(server, list);
}

function swapdb(c: Client, argv: string[]): void {
  const a = parseInt64(argv[1]);
  if (a === null || a > 2147483647n || a < -2147483648n) throw new ReplyError('ERR invalid first DB index');
  const b = parseInt64(argv[2]);
  if (b === null || b > 2147483647n || b < -2147483648n) throw new ReplyError('ERR invalid second DB index');
  const dbs = c.server.keyspace.dbs;
  const ia = Number(a);
  const ib = Number(b);
  if (ia < 0 || ia >= dbs.length || ib < 0 || ib >= dbs.length) throw new ReplyError(Err.dbIndexOutOfRange);
  touchAllKeys(c.server, dbs[ia]);
  touchAllKeys(c.server, dbs[ib]);
  c.server.keyspace.swap(ia, ib);
  // Clients blocked on keys that now hold data get served.
  touchAllKeys(c.server, dbs[ia]);
  touchAllKeys(c.server, dbs[ib]);
  c.server.dirty++;
  c.reply.ok();
}

const generic = (extra: string[]): { categories: string[] } => ({ categories: [...extra, 'keyspace'] });

export const keyCommands: CommandSpec[] = [
  cmd('del', -2, ['write'], 1, -1, 1, del, generic(['write', 'slow'])),
  cmd('unlink', -2, ['write', 'fast'], 1, -1, 1, del, generic(['write', 'fast'])),
  cmd('exists', -2, ['readonly', 'fast'], 1, -1, 1, exists, generic(['read', 'fast'])),
  cmd('touch', -2, ['readonly', 'fast'], 1, -1, 1, touch, generic(['read', 'fast'])),
  cmd('type', 2, ['readonly', 'fast'], 1, 1, 1, type, generic(['read', 'fast'])),
  cmd('keys', 2, ['readonly'], 0, 0, 0, keys, generic(['read', 'slow', 'dangerous'])),
  cmd('randomkey', 1, ['readonly'], 0, 0, 0, randomkey, generic(['read', 'slow'])),
  cmd('dbsize', 1, ['readonly', 'fast'], 0, 0, 0, dbsize, generic(['read', 'fast'])),
  cmd('rename', 3, ['write'], 1, 2, 1, rename, generic(['write', 'slow'])),
  cmd('renamenx', 3, ['write', 'fast'], 1, 2, 1, renamenx, generic(['write', 'fast'])),
  cmd('copy', -3, ['write', 'denyoom'], 1, 2, 1, copy, generic(['write', 'slow'])),
  cmd('move', 3, ['write', 'fast'], 1, 1, 1, move, generic(['write', 'fast'])),
  cmd('expire', -3, ['write', 'fast'], 1, 1, 1, expire, generic(['write', 'fast'])),
  cmd('pexpire', -3, ['write', 'fast'], 1, 1, 1, pexpire, generic(['write', 'fast'])),
  cmd('expireat', -3, ['write', 'fast'], 1, 1, 1, expireat, generic(['write', 'fast'])),
  cmd('pexpireat', -3, ['write', 'fast'], 1, 1, 1, pexpireat, generic(['write', 'fast'])),
  cmd('ttl', 2, ['readonly', 'fast'], 1, 1, 1, ttl, generic(['read', 'fast'])),
  cmd('pttl', 2, ['readonly', 'fast'], 1, 1, 1, pttl, generic(['read', 'fast'])),
  cmd('expiretime', 2, ['readonly', 'fast'], 1, 1, 1, expiretime, generic(['read', 'fast'])),
  cmd('pexpiretime', 2, ['readonly', 'fast'], 1, 1, 1, pexpiretime, generic(['read', 'fast'])),
  cmd('persist', 2, ['write', 'fast'], 1, 1, 1, persist, generic(['write', 'fast'])),
  container('object', [
    cmd('encoding', 3, ['readonly'], 2, 2, 1, objectEncoding, generic(['read', 'slow'])),
    cmd('freq', 3, ['readonly'], 2, 2, 1, objectFreq, generic(['read', 'slow'])),
    cmd('idletime', 3, ['readonly'], 2, 2, 1, objectIdletime, generic(['read', 'slow'])),
    cmd('refcount', 3, ['readonly'], 2, 2, 1, objectRefcount, generic(['read', 'slow'])),
    cmd('help', 2, ['loading', 'stale'], 0, 0, 0, objectHelp, generic(['slow'])),
  ]),
  cmd('flushdb', -1, ['write'], 0, 0, 0, flushdb, generic(['write', 'slow', 'dangerous'])),
  cmd('flushall', -1, ['write'], 0, 0, 0, flushall, generic(['write', 'slow', 'dangerous'])),
  cmd('swapdb', 3, ['write', 'fast'], 0, 0, 0, swapdb, generic(['write', 'fast', 'dangerous'])),
];
