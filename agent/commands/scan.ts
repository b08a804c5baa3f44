/**
 * SCAN, HSCAN, SSCAN, ZSCAN. Cursors are parked live iterators (keyspace/scanCursors.ts): a full iteration
 * returns every element that was present from its start to its end, even with concurrent inserts and deletes.
 *
 * As in Redis, a collection in a compact encoding (listpack hash or zset, intset) is returned whole in one reply
 * with cursor 0 whatever COUNT says, in its encoding's order; larger ones are walked COUNT entries at a time.
 * Options are parsed after the cursor and the key, with Redis's errors (COUNT < 1 is a syntax error; TYPE only
 * applies to SCAN). Expired keys are filtered out (and deleted on a master).
 */
import { Err, ReplyError } from '../errors';
import { typeOf } from '../keyspace/database';
import { globMatch } from '../keyspace/glob';
import { ScanCursors, parseCursor } from '../keyspace/scanCursors';
import type { HashValue, SetValue, ZSetValue } from '../keyspace/values';
import { formatDouble } from '../resp/writer';
import type { Client } from '../server/client';
import type { Server } from '../server/server';
import { intArg, is } from './args';
import { readTyped } from './keyAccess';
import { cmd, type CommandSpec } from './table';

/** COUNT when the client gives none. */
const DEFAULT_SCAN_COUNT = 10;

const cursorsByServer = new WeakMap<Server, ScanCursors>();

function cursors(server: Server): ScanCursors {
  let s = cursorsByServer.get(server);
  if (s === undefined) {
    s = new ScanCursors();
    cursorsByServer.set(server, s);
  }
  return s;
}

interface ScanOptions {
  count: number;
  pattern: string | null;
  type: string | null;
}

function cursorArg(text: string): string {
  const cursor = parseCursor(text);
  if (cursor === null) throw new ReplyError('ERR invalid cursor');
  return cursor;
}

function parseOptions(argv: string[], from: number, allowType: boolean): ScanOptions {
  const opts: ScanOptions = { count: DEFAULT_SCAN_COUNT, pattern: null, type: null };
  for (let i = from; i < argv.length;) {
    const remaining = argv.length - i;
    if (is(argv[i], 'COUNT') && remaining >= 2) {
      opts.count = intArg(argv[i + 1]);
      if (opts.count < 1) throw new ReplyError(Err.syntax);
      i += 2;
    } else if (is(argv[i], 'MATCH') && remaining >= 2) {
      opts.pattern = argv[i + 1] === '*' ? null : argv[i + 1];
      i += 2;
    } else if (is(argv[i], 'TYPE') && allowType && remaining >= 2) {
      opts.type = argv[i + 1].toLowerCase();
      i += 2;
    } else throw new ReplyError(Err.syntax);
  }
  return opts;
}

function replyScan(c: Client, next: string, items: string[]): void {
  c.reply.array(2);
  c.reply.bulk(next);
  c.reply.array(items.length);
  for (const s of items) c.reply.bulk(s);
}

function scan(c: Client, argv: string[]): void {
  const cursor = cursorArg(argv[1]);
  const opts = parseOptions(argv, 2, true);
  const db = c.db;
  const dict = db.dict;
  const { items, next } = cursors(c.server).step(cursor, dict, () => dict.keys(), opts.count);
  const out: string[] = [];
  for (const key of items) {
    if (opts.pattern !== null && !globMatch(opts.pattern, key)) continue;
    const v = db.lookupRead(key, false);
    if (v === undefined) continue;
    if (opts.type !== null && typeOf(v) !== opts.type) continue;
    out.push(key);
  }
  replyScan(c, next, out);
}

function emptyScan(c: Client): void {
  c.reply.array(2);
  c.reply.bulk('0');
  c.reply.array(0);
}

function hscan(c: Client, argv: string[]): void {
  const cursor = cursorArg(argv[2]);
  const h = readTyped<HashValue>(c, argv[1], 'hash');
  if (h === undefined) return emptyScan(c);
  const opts = parseOptions(argv, 3, false);
  const out: string[] = [];
  const take = (field: string, value: string) => {
    if (opts.pattern === null || globMatch(opts.pattern, field)) out.push(field, value);
  };
  if (h.compact) {
    for (const [f, v] of h.entries()) take(f, v);
    return replyScan(c, '0', out);
  }
  const map = h.map;
  const { items, next } = cursors(c.server).step(cursor, map, () => map.keys(), opts.count);
  for (const field of items) {
    const value = map.get(field);
    if (value !== undefined) take(field, value);
  }
  replyScan(c, next, out);
}

function sscan(c: Client, argv: string[]): void {
  const cursor = cursorArg(argv[2]);
  const s = readTyped<SetValue>(c, argv[1], 'set');
  if (s === undefined) return emptyScan(c);
  const opts = parseOptions(argv, 3, false);
  const keep = (m: string) => opts.pattern === null || globMatch(opts.pattern, m);
  if (s.intset) return replyScan(c, '0', s.toArray().filter(keep));
  const { items, next } = cursors(c.server).step(cursor, s, () => s.liveMembers(), opts.count);
  replyScan(
    c,
    next,
    items.filter((m) => s.has(m) && keep(m)),
  );
}

function zscan(c: Client, argv: string[]): void {
  const cursor = cursorArg(argv[2]);
  const z = readTyped<ZSetValue>(c, argv[1], 'zset');
  if (z === undefined) return emptyScan(c);
  const opts = parseOptions(argv, 3, false);
  const out: string[] = [];
  const take = (member: string, score: number) => {
    if (opts.pattern === null || globMatch(opts.pattern, member)) out.push(member, formatDouble(score));
  };
  if (z.compact) {
    for (const [m, s] of z.entries()) take(m, s);
    return replyScan(c, '0', out);
  }
  const scores = z.scores;
  const { items, next } = cursors(c.server).step(cursor, scores, () => scores.keys(), opts.count);
  for (const member of items) {
    const score = scores.get(member);
    if (score !== undefined) take(member, score);
  }
  replyScan(c, next, out);
}

export const scanCommands: CommandSpec[] = [
  cmd('scan', -2, ['readonly'], 0, 0, 0, scan, { categories: ['keyspace', 'read', 'slow'] }),
  cmd('hscan', -3, ['readonly'], 1, 1, 1, hscan, { categories: ['read', 'hash', 'slow'] }),
  cmd('sscan', -3, ['readonly'], 1, 1, 1, sscan, { categories: ['read', 'set', 'slow'] }),
  cmd('zscan', -3, ['readonly'], 1, 1, 1, zscan, { categories: ['read', 'sortedset', 'slow'] }),
];
