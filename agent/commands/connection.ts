/**
 * Connection commands: the ones that concern one client's session rather than the data.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { intArg } from './args';
import { cmd, type CommandSpec } from './table';

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) throw new ReplyError("ERR wrong number of arguments for 'ping' command");
  if (c.subscriptionCount > 0 && c.reply.resp === 2) {
    c.reply.array(2);
    c.reply.bulk('pong');
    c.reply.bulk(argv[1] ?? '');
    return;
  }
  if (argv.length === 2) c.reply.bulk(argv[1]);
  else c.reply.simple('PONG');
}

function echo(c: Client, argv: string[]): void {
  c.reply.bulk(argv[1]);
}

function quit(c: Client): void {
  c.reply.ok();
  c.closeAfterReply = true;
}

function select(c: Client, argv: string[]): void {
  const index = intArg(argv[1], 'ERR value is not an integer or out of range');
  const dbs = c.server.keyspace.dbs;
  if (index < 0 || index >= dbs.length) throw new ReplyError(Err.dbIndexOutOfRange);
  c.db = dbs[index];
  c.reply.ok();
}

export const connectionCommands: CommandSpec[] = [
  cmd('ping', -1, ['fast', 'stale'], 0, 0, 0, ping, { categories: ['fast', 'connection'] }),
  cmd('echo', 2, ['fast'], 0, 0, 0, echo, { categories: ['fast', 'connection'] }),
  cmd('quit', -1, ['allow_busy', 'no_auth', 'loading', 'stale', 'fast'], 0, 0, 0, quit, {
    categories: ['fast', 'connection'],
  }),
  cmd('select', 2, ['loading', 'stale', 'fast'], 0, 0, 0, select, { categories: ['fast', 'connection'] }),
];
