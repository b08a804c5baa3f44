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
import { cmd, container, type CommandSpec } from './table';

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

const CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';

function clusterDisabled(): void {
  throw new ReplyError(CLUSTER_DISABLED);
}

/** CLUSTER subcommands and their arities, so clients probing them get Redis's standalone-mode answers. */
const CLUSTER_SUBCOMMANDS: Array<[string, number]> = [
  ['addslots', -3],
  ['addslotsrange', -4],
  ['bumpepoch', 2],
  ['count-failure-reports', 3],
  ['countkeysinslot', 3],
  ['delslots', -3],
  ['delslotsrange', -4],
  ['failover', -2],
  ['flushslots', 2],
  ['forget', 3],
  ['getkeysinslot', 4],
  ['help', 2],
  ['info', 2],
  ['keyslot', 3],
  ['links', 2],
  ['meet', -4],
  ['myid', 2],
  ['nodes', 2],
  ['replicas', 3],
  ['replicate', 3],
  ['reset', -2],
  ['saveconfig', 2],
  ['set-config-epoch', 3],
  ['setslot', -4],
  ['shards', 2],
  ['slaves', 3],
  ['slots', 2],
];

export const serverCommands: CommandSpec[] = [
  container(
    'cluster',
    CLUSTER_SUBCOMMANDS.map(([name, arity]) =>
      cmd(name, arity, ['stale'], 0, 0, 0, clusterDisabled, { categories: ['slow'] }),
    ),
  ),
  cmd('readonly', 1, ['loading', 'stale', 'fast'], 0, 0, 0, clusterDisabled, {
    categories: ['fast', 'connection'],
  }),
  cmd('readwrite', 1, ['loading', 'stale', 'fast'], 0, 0, 0, clusterDisabled, {
    categories: ['fast', 'connection'],
  }),
  cmd('asking', 1, ['fast'], 0, 0, 0, clusterDisabled, { categories: ['fast', 'connection'] }),
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
