/**
 * Server-level commands that are not introspection of one subsystem: TIME, SHUTDOWN and MONITOR.
 *
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: runs the server's shutdown hooks (the final save, waiting for
 * replicas), then the process exits and the client sees the connection close. If a hook fails and FORCE was not
 * given, the server keeps running and the client gets Redis's "Errors trying to SHUTDOWN" error.
 */
import { performance } from 'node:perf_hooks';
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import type { ShutdownOptions } from '../server/server';
import { cmd, type CommandSpec } from './table';

function time(c: Client): void {
  const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.reply.array(2);
  c.reply.bulk(String(Math.floor(nowUs / 1e6)));
  c.reply.bulk(String(nowUs % 1e6));
}

function shutdown(c: Client, argv: string[]): void {
  const opts: ShutdownOptions = { save: 'default', force: false, now: false, reason: 'command' };
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i].toUpperCase();
    if (a === 'NOSAVE' && opts.save !== 'save') opts.save = 'nosave';
    else if (a === 'SAVE' && opts.save !== 'nosave') opts.save = 'save';
    else if (a === 'NOW') opts.now = true;
    else if (a === 'FORCE') opts.force = true;
    else if (a === 'ABORT') abort = true;
    else throw new ReplyError(Err.syntax);
  }
  const server = c.server;
  if (abort) {
    if (argv.length !== 2) throw new ReplyError(Err.syntax);
    if (!server.abortShutdown()) throw new ReplyError('ERR No shutdown in progress.');
    c.reply.ok();
    return;
  }
  server.log.warning('User requested shutdown...');
  server.runAsync(
    c,
    async () => {
      try {
        await server.shutdownAndExit(opts);
      } catch {
        throw new ReplyError('ERR Errors trying to SHUTDOWN. Check logs.');
      }
    },
    () => c.reply.ok(),
  );
}

function monitor(c: Client): void {
  if (c.kind !== 'normal') return;
  c.monitor = true;
  c.server.monitors.add(c);
  c.reply.ok();
}

export const serverCommands: CommandSpec[] = [
  cmd('time', 1, ['loading', 'stale', 'fast'], 0, 0, 0, time, { categories: ['fast'] }),
  cmd(
    'shutdown',
    -1,
    ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    0,
    0,
    0,
    shutdown,
    {
      categories: ['admin', 'slow', 'dangerous'],
    },
  ),
  cmd('monitor', 1, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, monitor, {
    categories: ['admin', 'slow', 'dangerous'],
  }),
];
