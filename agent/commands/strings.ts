/**
 * String commands. A string value is the latin1 JS string itself (see keyspace/database.ts).
 *
 * Propagation: relative expiries become absolute (SET ... PXAT ms) so a replica or the AOF applies the same
 * deadline whenever it runs the command.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { intArg, is } from './args';
import { cmd, type CommandSpec } from './table';

/** Reads a string value; throws WRONGTYPE for other types. */
export function getString(c: Client, key: string): string | undefined {
  const v = c.db.lookupRead(key);
  if (v === undefined) {
    c.server.stats.keyspaceMisses++;
    return undefined;
  }
  c.server.stats.keyspaceHits++;
  if (typeof v !== 'string') throw new ReplyError(Err.wrongType);
  return v;
}

function get(c: Client, argv: string[]): void {
  const v = getString(c, argv[1]);
  if (v === undefined) c.reply.nullBulk();
  else c.reply.bulk(v);
}

function set(c: Client, argv: string[]): void {
  const key = argv[1];
  const value = argv[2];
  let nx = false;
  let xx = false;
  let returnOld = false;
  let keepTtl = false;
  let expireAtMs = -1;
  let unit: '' | 'EX' | 'PX' | 'EXAT' | 'PXAT' = '';
  for (let k = 3; k < argv.length; k++) {
    const opt = argv[k].toUpperCase();
    const hasNext = k + 1 < argv.length;
    if (opt === 'NX' && !xx) nx = true;
    else if (opt === 'XX' && !nx) xx = true;
    else if (opt === 'GET') returnOld = true;
    else if (opt === 'KEEPTTL' && unit === '') keepTtl = true;
    else if (
      (opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') &&
      unit === '' &&
      !keepTtl &&
      hasNext
    ) {
      unit = opt;
      const n = intArg(argv[++k]);
      if (n <= 0) throw new ReplyError("ERR invalid expire time in 'set' command");
      const now = c.server.nowMs;
      expireAtMs = opt === 'EX' ? now + n * 1000 : opt === 'PX' ? now + n : opt === 'EXAT' ? n * 1000 : n;
      if (!Number.isSafeInteger(expireAtMs)) throw new ReplyError("ERR invalid expire time in 'set' command");
    } else throw new ReplyError(Err.syntax);
  }
  const db = c.db;
  const old = db.lookupWrite(key);
  if (returnOld && old !== undefined && typeof old !== 'string') throw new ReplyError(Err.wrongType);
  if ((nx && old !== undefined) || (xx && old === undefined)) {
    if (returnOld) c.reply.bulkOrNull(old as string | undefined);
    else c.reply.nullBulk();
    return;
  }
  db.set(key, value, keepTtl);
  if (expireAtMs >= 0) db.setExpire(key, expireAtMs);
  c.server.keyChanged(db, key, '$', 'set');
  if (expireAtMs >= 0) c.server.notify('g', 'expire', key, db.id);
  if (unit !== '' && unit !== 'PXAT') {
    c.server.rewritePropagation(['SET', key, value, 'PXAT', String(expireAtMs)]);
  } else if (returnOld) {
    c.server.rewritePropagation(argv.filter((a, k) => k < 3 || !is(a, 'GET')));
  }
  if (returnOld) c.reply.bulkOrNull(old as string | undefined);
  else c.reply.ok();
}

export const stringCommands: CommandSpec[] = [
  cmd('get', 2, ['readonly', 'fast'], 1, 1, 1, get, { categories: ['read', 'string', 'fast'] }),
  cmd('set', -3, ['write', 'denyoom'], 1, 1, 1, set, { categories: ['write', 'string', 'slow'] }),
];
