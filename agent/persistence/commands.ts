/**
 * The persistence commands, with Redis 7.0's flags, replies and error texts: SAVE, BGSAVE [SCHEDULE], LASTSAVE,
 * BGREWRITEAOF, DUMP and RESTORE (REPLACE, ABSTTL, IDLETIME, FREQ), plus DEBUG RELOAD offered to the DEBUG
 * command through `server.debugSubcommands`.
 *
 * RESTORE checks in Redis's order: options (syntax, IDLETIME/FREQ ranges), BUSYKEY, TTL, payload footer
 * (version/CRC), payload body. A relative TTL is propagated as an absolute one with ABSTTL; a TTL already in the
 * past on a master stores nothing (and propagates DEL when REPLACE removed a key).
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { cmd, type CommandSpec } from '../commands/table';
import { decodeDumpPayload, encodeDumpPayload } from './dumpPayload';
import { restoreErrorReply } from './errors';
import { accessStampFrom, rdbToValue, valueToRdb } from './keyspaceAdapter';
import type { Persistence } from './persistence';
import { RDB_DEFAULT_WRITE_VERSION } from './rdbFormat';

const INT64_RE = /^(0|-?[1-9][0-9]*)$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** getLongLongFromObjectOrReply: an int64 or "value is not an integer or out of range". */
function int64Arg(s: string): number {
  if (s.length === 0 || s.length > 20 || !INT64_RE.test(s)) throw new ReplyError(Err.notInteger);
  const n = BigInt(s);
  if (n > INT64_MAX || n < INT64_MIN) throw new ReplyError(Err.notInteger);
  return Number(n);
}

export function persistenceCommands(p: Persistence): CommandSpec[] {
  const server = p.server;

  const save = (c: Client): void => {
    if (p.bgsave !== null) throw new ReplyError('ERR Background save already in progress');
    if (p.saveSync()) c.reply.ok();
    else c.reply.error('ERR');
  };

  const bgsave = (c: Client, argv: string[]): void => {
    let schedule = false;
    if (argv.length > 1) {
      if (argv.length === 2 && argv[1].toLowerCase() === 'schedule') schedule = true;
      else throw new ReplyError(Err.syntax);
    }
    if (p.bgsave !== null) throw new ReplyError('ERR Background save already in progress');
    if (p.aof.rewriting || c.inExec) {
      if (schedule || c.inExec) {
        p.bgsaveScheduled = true;
        c.reply.simple('Background saving scheduled');
        return;
      }
      throw new ReplyError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to " +
          'schedule a BGSAVE whenever possible.',
      );
    }
    const error = p.startBgsave();
    if (error !== undefined) throw new ReplyError(error);
    c.reply.simple('Background saving started');
  };

  const lastsave = (c: Client): void => {
    c.reply.integer(p.lastSaveSec);
  };

  const bgrewriteaof = (c: Client): void => {
    if (p.aof.rewriting)
      throw new ReplyError('ERR Background append only file rewriting already in progress');
    if (p.bgsave !== null || c.inExec) {
      p.aof.rewriteScheduled = true;
      p.aof.consecutiveFailures = 0;
      c.reply.simple('Background append only file rewriting scheduled');
      return;
    }
    if (p.aof.startRewrite() !== undefined) {
      throw new ReplyError(
        "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
      );
    }
    c.reply.simple('Background append only file rewriting started');
  };

  const dump = (c: Client, argv: string[]): void => {
    const v = c.db.lookupRead(argv[1]);
    if (v === undefined) {
      server.stats.keyspaceMisses++;
      c.reply.nullBulk();
      return;
    }
    server.stats.keyspaceHits++;
    const o = p.rdbWriterOptions();
    const payload = encodeDumpPayload(valueToRdb(v), {
      compress: o.compress,
      encodingLimits: o.encodingLimits,
    });
    c.reply.bulkBuffer(payload);
  };

  const restore = (c: Client, argv: string[]): void => {
    let replace = false;
    let absttl = false;
    let idle = -1;
    let freq = -1;
    for (let j = 4; j < argv.length; j++) {
      const opt = argv[j].toLowerCase();
      const additional = argv.length - j - 1;
      if (opt === 'replace') replace = true;
      else if (opt === 'absttl') absttl = true;
      else if (opt === 'idletime' && additional >= 1 && freq === -1) {
        idle = int64Arg(argv[++j]);
        if (idle < 0) throw new ReplyError('ERR Invalid IDLETIME value, must be >= 0');
      } else if (opt === 'freq' && additional >= 1 && idle === -1) {
        freq = int64Arg(argv[++j]);
        if (freq < 0 || freq > 255) throw new ReplyError('ERR Invalid FREQ value, must be >= 0 and <= 255');
      } else {
        throw new ReplyError(Err.syntax);
      }
    }
    const db = c.db;
    const key = argv[1];
    if (!replace && db.lookupRead(key, false) !== undefined) {
      throw new ReplyError('BUSYKEY Target key name already exists.');
    }
    let ttl = int64Arg(argv[2]);
    if (ttl < 0) throw new ReplyError('ERR Invalid TTL value, must be >= 0');
    let value;
    try {
      value = decodeDumpPayload(Buffer.from(argv[3], 'latin1'), {
        maxRdbVersion: RDB_DEFAULT_WRITE_VERSION,
      }).value;
    } catch (err) {
      const reply = restoreErrorReply(err);
      if (reply === null) throw err;
      throw new ReplyError(reply);
    }
    const deleted = replace ? db.delete(key) : false;
    const now = Math.floor(server.nowMs);
    if (ttl !== 0 && !absttl) ttl += now;
    if (ttl !== 0 && ttl <= now && !server.loading && server.role === 'master') {
      if (deleted) {
        server.rewritePropagation([
          server.config.getBool('lazyfree-lazy-server-del') ? 'UNLINK' : 'DEL',
          key,
        ]);
        server.keyChanged(db, key, 'g', 'del');
      }
      c.reply.ok();
      return;
    }
    db.set(key, rdbToValue(value));
    if (ttl !== 0) {
      db.setExpire(key, ttl);
      if (!absttl) {
        const rewritten = argv.slice();
        rewritten[2] = String(ttl);
        rewritten.push('ABSTTL');
        server.rewritePropagation(rewritten);
      }
    }
    const stamp = accessStampFrom(idle >= 0 ? idle : undefined, freq >= 0 ? freq : undefined, now);
    if (stamp !== undefined) db.dict.setStamp(key, stamp);
    server.keyChanged(db, key, 'g', 'restore');
    c.reply.ok();
  };

  const admin = { categories: ['admin', 'slow', 'dangerous'], group: 'server' };
  return [
    cmd('save', 1, ['admin', 'noscript', 'no_async_loading', 'no_multi'], 0, 0, 0, save, {
      ...admin,
      summary: 'Synchronously save the dataset to disk',
      since: '1.0.0',
    }),
    cmd('bgsave', -1, ['admin', 'noscript', 'no_async_loading'], 0, 0, 0, bgsave, {
      ...admin,
      summary: 'Asynchronously save the dataset to disk',
      since: '1.0.0',
    }),
    cmd('lastsave', 1, ['loading', 'stale', 'fast'], 0, 0, 0, lastsave, {
      categories: ['admin', 'fast', 'dangerous'],
      group: 'server',
      summary: 'Get the UNIX time stamp of the last successful save to disk',
      since: '1.0.0',
    }),
    cmd('bgrewriteaof', 1, ['admin', 'noscript', 'no_async_loading'], 0, 0, 0, bgrewriteaof, {
      ...admin,
      summary: 'Asynchronously rewrite the append-only file',
      since: '1.0.0',
    }),
    cmd('dump', 2, ['readonly'], 1, 1, 1, dump, {
      categories: ['keyspace', 'read', 'slow'],
      group: 'generic',
      summary: 'Return a serialized version of the value stored at the specified key.',
      since: '2.6.0',
    }),
    cmd('restore', -4, ['write', 'denyoom'], 1, 1, 1, restore, {
      categories: ['keyspace', 'write', 'slow', 'dangerous'],
      group: 'generic',
      summary: 'Create a key using the provided serialized value, previously obtained using DUMP.',
      since: '2.6.0',
    }),
  ];
}
