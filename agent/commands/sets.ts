/**
 * Set commands. Values are SetValue (keyspace/set.ts): O(1) membership and random picks, intset or hashtable
 * reported as Redis would, intsets iterated in numeric order.
 *
 * Propagation: SPOP becomes the concrete SREM of the popped members (or DEL when it emptied the set), so the
 * random choice is made once, on the master. Store commands propagate as sent (their result is deterministic).
 */
import { Err, ReplyError } from '../errors';
import { SetValue } from '../keyspace/values';
import type { Client } from '../server/client';
import { intArg, is } from './args';
import { addKey, checkType, deleteIfEmpty, readTyped, writeTyped } from './keyAccess';
import { randomCountArg, randomSample, randomSource } from './random';
import { cmd, type CommandSpec } from './table';

/** SPOP with a count propagates SREM commands of at most this many members each. */
const SREM_BATCH_MEMBERS = 1024;

function replySetMembers(c: Client, members: readonly string[]): void {
  c.reply.set(members.length);
  for (const m of members) c.reply.bulk(m);
}

function sadd(c: Client, argv: string[]): void {
  const key = argv[1];
  let s = writeTyped<SetValue>(c, key, 'set');
  if (s === undefined) {
    s = new SetValue();
    addKey(c, key, s);
  }
  let added = 0;
  for (let k = 2; k < argv.length; k++) if (s.add(argv[k])) added++;
  if (added > 0) c.server.keyChanged(c.db, key, 's', 'sadd', added);
  c.reply.integer(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = writeTyped<SetValue>(c, key, 'set');
  if (s === undefined) return c.reply.integer(0);
  let removed = 0;
  for (let k = 2; k < argv.length; k++) {
    if (s.delete(argv[k])) {
      removed++;
      if (s.size === 0) break;
    }
  }
  if (removed > 0) {
    c.server.notify('s', 'srem', key, c.db.id);
    deleteIfEmpty(c, key, s);
    c.server.dirty += removed;
    c.server.signalModifiedKey(c.db, key);
  }
  c.reply.integer(removed);
}

function smove(c: Client, argv: string[]): void {
  const [, srcKey, dstKey, member] = argv;
  const src = c.db.lookupWrite(srcKey);
  const dst = c.db.lookupWrite(dstKey);
  if (src === undefined) return c.reply.integer(0);
  checkType(src, 'set');
  checkType(dst, 'set');
  const srcSet = src as SetValue;
  if (src === dst) return c.reply.integer(srcSet.has(member) ? 1 : 0);
  if (!srcSet.delete(member)) return c.reply.integer(0);
  c.server.notify('s', 'srem', srcKey, c.db.id);
  deleteIfEmpty(c, srcKey, srcSet);
  let dstSet = dst as SetValue | undefined;
  if (dstSet === undefined) {
    dstSet = new SetValue();
    addKey(c, dstKey, dstSet);
  }
  c.server.signalModifiedKey(c.db, srcKey);
  c.server.dirty++;
  if (dstSet.add(member)) c.server.keyChanged(c.db, dstKey, 's', 'sadd');
  c.reply.integer(1);
}

function sismember(c: Client, argv: string[]): void {
  c.reply.integer(readTyped<SetValue>(c, argv[1], 'set')?.has(argv[2]) ? 1 : 0);
}

function smismember(c: Client, argv: string[]): void {
  const s = readTyped<SetValue>(c, argv[1], 'set');
  c.reply.array(argv.length - 2);
  for (let k = 2; k < argv.length; k++) c.reply.integer(s?.has(argv[k]) ? 1 : 0);
}

function scard(c: Client, argv: string[]): void {
  c.reply.integer(readTyped<SetValue>(c, argv[1], 'set')?.size ?? 0);
}

function spop(c: Client, argv: string[]): void {
  if (argv.length > 3) throw new ReplyError(Err.syntax);
  const key = argv[1];
  const db = c.db;
  const server = c.server;
  if (argv.length === 2) {
    const s = writeTyped<SetValue>(c, key, 'set');
    if (s === undefined) return c.reply.nullBulk();
    const member = s.randomMember(randomSource.next);
    s.delete(member);
    server.notify('s', 'spop', key, db.id);
    server.rewritePropagation(['SREM', key, member]);
    c.reply.bulk(member);
    deleteIfEmpty(c, key, s);
    server.signalModifiedKey(db, key);
    server.dirty++;
    return;
  }
  const count = intArg(argv[2], 'ERR value is out of range, must be positive');
  if (count < 0) throw new ReplyError('ERR value is out of range, must be positive');
  const s = writeTyped<SetValue>(c, key, 'set');
  if (s === undefined || count === 0) return c.reply.set(0);
  server.notify('s', 'spop', key, db.id);
  server.dirty += count;
  if (count >= s.size) {
    replySetMembers(c, s.toArray());
    db.delete(key);
    server.notify('g', 'del', key, db.id);
    server.rewritePropagation(['DEL', key]);
    server.signalModifiedKey(db, key);
    return;
  }
  const popped: string[] = [];
  for (let i = 0; i < count; i++) {
    const member = s.randomMember(randomSource.next);
    s.delete(member);
    popped.push(member);
  }
  replySetMembers(c, popped);
  for (let i = 0; i < popped.length; i += SREM_BATCH_MEMBERS) {
    server.alsoPropagate(db.id, ['SREM', key, ...popped.slice(i, i + SREM_BATCH_MEMBERS)]);
  }
  server.rewritePropagation(null);
  server.signalModifiedKey(db, key);
}

function srandmember(c: Client, argv: string[]): void {
  if (argv.length > 3) throw new ReplyError(Err.syntax);
  if (argv.length === 2) {
    const s = readTyped<SetValue>(c, argv[1], 'set');
    if (s === undefined) return c.reply.nullBulk();
    return c.reply.bulk(s.randomMember(randomSource.next));
  }
  const n = randomCountArg(argv[2]);
  const s = readTyped<SetValue>(c, argv[1], 'set');
  if (s === undefined || n === 0) return c.reply.array(0);
  if (n < 0) {
    const count = -n;
    c.reply.array(count);
    for (let i = 0; i < count; i++) c.reply.bulk(s.randomMember(randomSource.next));
    return;
  }
  // SRANDMEMBER answers arrays (not RESP3 sets), even when the count covers the whole set.
  const picked = n >= s.size ? s.toArray() : randomSample(s.toArray(), n, 'unique');
  c.reply.array(picked.length);
  for (const m of picked) c.reply.bulk(m);
}

/** Looks up the operand sets (write lookups when storing); missing keys are null, other types WRONGTYPE. */
function operandSets(c: Client, keys: readonly string[], forStore: boolean): Array<SetValue | null> {
  return keys.map((k) => {
    const v = forStore ? c.db.lookupWrite(k) : readTyped<SetValue>(c, k, 'set');
    checkType(v, 'set');
    return (v as SetValue | undefined) ?? null;
  });
}

/** Members of the intersection, iterating the smallest set; stops at `limit` (0 = none). */
function intersect(sets: SetValue[], limit: number): string[] {
  const sorted = [...sets].sort((a, b) => a.size - b.size);
  const out: string[] = [];
  const [first, ...rest] = sorted;
  for (const m of first) {
    let inAll = true;
    for (const other of rest) {
      if (other !== first && !other.has(m)) {
        inAll = false;
        break;
      }
    }
    if (!inAll) continue;
    out.push(m);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

/** Stores `result` at `dstKey` (or deletes it when empty), replying with the size, as the *STORE commands do. */
function storeResult(c: Client, dstKey: string, result: SetValue, event: string): void {
  const db = c.db;
  if (result.size > 0) {
    const existed = db.lookupWrite(dstKey) !== undefined;
    db.set(dstKey, result);
    if (!existed) c.server.notify('n', 'new', dstKey, db.id);
    c.reply.integer(result.size);
    c.server.keyChanged(db, dstKey, 's', event);
  } else {
    c.reply.integer(0);
    if (db.delete(dstKey)) c.server.keyChanged(db, dstKey, 'g', 'del');
  }
}

function interGeneric(c: Client, keys: string[], dstKey: string | null): void {
  const sets = operandSets(c, keys, dstKey !== null);
  if (sets.some((s) => s === null)) {
    if (dstKey === null) return c.reply.set(0);
    c.reply.integer(0);
    if (c.db.delete(dstKey)) c.server.keyChanged(c.db, dstKey, 'g', 'del');
    return;
  }
  const members = intersect(sets as SetValue[], 0);
  if (dstKey === null) return replySetMembers(c, members);
  storeResult(c, dstKey, SetValue.from(members), 'sinterstore');
}

function unionDiffGeneric(c: Client, keys: string[], dstKey: string | null, diff: boolean): void {
  const sets = operandSets(c, keys, dstKey !== null);
  const result = new SetValue();
  if (!diff) {
    for (const s of sets) if (s !== null) for (const m of s) result.add(m);
  } else if (sets[0] !== null) {
    const first = sets[0];
    const others = sets.slice(1).filter((s): s is SetValue => s !== null);
    if (others.includes(first)) {
      // SDIFF s s ...: the difference with itself is empty.
    } else {
      for (const m of first) if (!others.some((o) => o.has(m))) result.add(m);
    }
  }
  if (dstKey === null) return replySetMembers(c, result.toArray());
  storeResult(c, dstKey, result, diff ? 'sdiffstore' : 'sunionstore');
}

function smembers(c: Client, argv: string[]): void {
  const s = readTyped<SetValue>(c, argv[1], 'set');
  if (s === undefined) return c.reply.set(0);
  replySetMembers(c, s.toArray());
}

const sinter = (c: Client, argv: string[]) => interGeneric(c, argv.slice(1), null);
const sinterstore = (c: Client, argv: string[]) => interGeneric(c, argv.slice(2), argv[1]);
const sunion = (c: Client, argv: string[]) => unionDiffGeneric(c, argv.slice(1), null, false);
const sunionstore = (c: Client, argv: string[]) => unionDiffGeneric(c, argv.slice(2), argv[1], false);
const sdiff = (c: Client, argv: string[]) => unionDiffGeneric(c, argv.slice(1), null, true);
const sdiffstore = (c: Client, argv: string[]) => unionDiffGeneric(c, argv.slice(2), argv[1], true);

function sintercard(c: Client, argv: string[]): void {
  const numkeys = intArg(argv[1], 'ERR numkeys should be greater than 0');
  if (numkeys < 1) throw new ReplyError('ERR numkeys should be greater than 0');
  if (numkeys > argv.length - 2)
    throw new ReplyError("ERR Number of keys can't be greater than number of args");
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (is(argv[j], 'LIMIT') && j < argv.length - 1) {
      limit = intArg(argv[++j], "ERR LIMIT can't be negative");
      if (limit < 0) throw new ReplyError("ERR LIMIT can't be negative");
    } else throw new ReplyError(Err.syntax);
  }
  const sets = operandSets(c, argv.slice(2, 2 + numkeys), false);
  if (sets.some((s) => s === null)) return c.reply.integer(0);
  c.reply.integer(intersect(sets as SetValue[], limit).length);
}

const set = (extra: string[]): { categories: string[] } => ({ categories: [...extra, 'set'] });

export const setCommands: CommandSpec[] = [
  cmd('sadd', -3, ['write', 'denyoom', 'fast'], 1, 1, 1, sadd, set(['write', 'fast'])),
  cmd('srem', -3, ['write', 'fast'], 1, 1, 1, srem, set(['write', 'fast'])),
  cmd('smove', 4, ['write', 'fast'], 1, 2, 1, smove, set(['write', 'fast'])),
  cmd('sismember', 3, ['readonly', 'fast'], 1, 1, 1, sismember, set(['read', 'fast'])),
  cmd('smismember', -3, ['readonly', 'fast'], 1, 1, 1, smismember, set(['read', 'fast'])),
  cmd('scard', 2, ['readonly', 'fast'], 1, 1, 1, scard, set(['read', 'fast'])),
  cmd('spop', -2, ['write', 'fast'], 1, 1, 1, spop, set(['write', 'fast'])),
  cmd('srandmember', -2, ['readonly'], 1, 1, 1, srandmember, set(['read', 'slow'])),
  cmd('smembers', 2, ['readonly'], 1, 1, 1, smembers, set(['read', 'slow'])),
  cmd('sinter', -2, ['readonly'], 1, -1, 1, sinter, set(['read', 'slow'])),
  cmd('sinterstore', -3, ['write', 'denyoom'], 1, -1, 1, sinterstore, set(['write', 'slow'])),
  cmd('sintercard', -3, ['readonly', 'movablekeys'], 0, 0, 0, sintercard, set(['read', 'slow'])),
  cmd('sunion', -2, ['readonly'], 1, -1, 1, sunion, set(['read', 'slow'])),
  cmd('sunionstore', -3, ['write', 'denyoom'], 1, -1, 1, sunionstore, set(['write', 'slow'])),
  cmd('sdiff', -2, ['readonly'], 1, -1, 1, sdiff, set(['read', 'slow'])),
  cmd('sdiffstore', -3, ['write', 'denyoom'], 1, -1, 1, sdiffstore, set(['write', 'slow'])),
];
