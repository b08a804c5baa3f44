/**
 * CLIENT: introspection and control of connections (ID, INFO, LIST, KILL, SETNAME, GETNAME, PAUSE, UNPAUSE,
 * REPLY, NO-EVICT, UNBLOCK) and client-side caching control (TRACKING, CACHING, GETREDIR, TRACKINGINFO), with
 * Redis 7.0's replies and error texts. CLIENT SETINFO does not exist in 7.0, so it is an unknown subcommand here
 * too (clients that send it ignore the error).
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import type { Server } from '../server/server';
import { intArg, is } from './args';
import { INVALID_CLIENT_NAME, isValidClientName } from './connection';
import { helpReply } from './help';
import { cmd, container, type CommandFlag, type CommandHandler, type CommandSpec } from './table';
import { trackingCommand, trackingInfo, cachingCommand } from '../server/tracking';

type ClientType = 'normal' | 'master' | 'replica' | 'pubsub';

function parseType(word: string): ClientType {
  const t = word.toLowerCase();
  if (t === 'normal' || t === 'master' || t === 'pubsub') return t;
  if (t === 'replica' || t === 'slave') return 'replica';
  throw new ReplyError(`ERR Unknown client type '${word}'`);
}

function typeOf(c: Client): ClientType {
  if (c.kind === 'master') return 'master';
  if (c.kind === 'replica') return 'replica';
  return c.subscriptionCount > 0 ? 'pubsub' : 'normal';
}

function list(c: Client, argv: string[]): void {
  const server = c.server;
  let clients = [...server.clients.values()];
  if (argv.length === 4 && is(argv[2], 'TYPE')) {
    const type = parseType(argv[3]);
    clients = clients.filter((x) => typeOf(x) === type);
  } else if (argv.length > 3 && is(argv[2], 'ID')) {
    const ids = new Set<number>();
    for (let i = 3; i < argv.length; i++) {
      const id = intArg(argv[i], 'ERR Invalid client ID');
      if (id <= 0) throw new ReplyError('ERR Invalid client ID');
      ids.add(id);
    }
    clients = clients.filter((x) => ids.has(x.id));
  } else if (argv.length !== 2) {
    throw new ReplyError(Err.syntax);
  }
  c.reply.verbatim(clients.map((x) => server.clientInfoLine(x) + '\n').join(''));
}

function kill(c: Client, argv: string[]): void {
  const server = c.server;
  if (argv.length === 3) {
    const target = [...server.clients.values()].find((x) => x.addr === argv[2]);
    if (!target) throw new ReplyError('ERR No such client');
    c.reply.ok();
    killClient(server, c, target);
    return;
  }
  if (argv.length % 2 !== 0) throw new ReplyError(Err.syntax);
  const filters: Array<(x: Client) => boolean> = [];
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i].toUpperCase();
    const value = argv[i + 1];
    if (opt === 'ID') {
      const id = Number(value);
      if (!/^-?\d+$/.test(value) || id <= 0) throw new ReplyError('ERR client-id should be greater than 0');
      filters.push((x) => x.id === id);
    } else if (opt === 'TYPE') {
      const type = parseType(value);
      filters.push((x) => typeOf(x) === type);
    } else if (opt === 'ADDR') {
      filters.push((x) => x.addr === value);
    } else if (opt === 'LADDR') {
      filters.push((x) => x.laddr === value);
    } else if (opt === 'USER') {
      if (value !== 'default') throw new ReplyError(`ERR No such user '${value}'`);
      filters.push((x) => x.user === value);
    } else if (opt === 'SKIPME') {
      if (is(value, 'YES')) skipMe = true;
      else if (is(value, 'NO')) skipMe = false;
      else throw new ReplyError(Err.syntax);
    } else {
      throw new ReplyError(Err.syntax);
    }
  }
  const victims = [...server.clients.values()].filter(
    // Fake clients are not killable, except the replication master client (it stands for the link socket).
    (x) => !(skipMe && x === c) && (x.socket !== null || x.kind === 'master') && filters.every((f) => f(x)),
  );
  c.reply.integer(victims.length);
  for (const v of victims) killClient(server, c, v);
}

/** Closes a client; the caller itself is closed only after its reply is written. */
function killClient(server: Server, caller: Client, victim: Client): void {
  if (victim === caller) {
    victim.closeAfterReply = true;
    return;
  }
  server.log.verbose(`Client killed by CLIENT KILL: ${server.clientInfoLine(victim)}`);
  victim.destroy();
}

function setname(c: Client, argv: string[]): void {
  if (!isValidClientName(argv[2])) throw new ReplyError(INVALID_CLIENT_NAME);
  c.name = argv[2];
  c.reply.ok();
}

function pause(c: Client, argv: string[]): void {
  const timeoutMs = intArg(argv[2], 'ERR timeout is not an integer or out of range');
  if (timeoutMs < 0) throw new ReplyError(Err.timeoutNegative);
  let mode: 'all' | 'write' = 'all';
  if (argv.length === 4) {
    if (is(argv[3], 'WRITE')) mode = 'write';
    else if (!is(argv[3], 'ALL')) throw new ReplyError('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  c.server.pauseClients(mode, c.server.nowMs + timeoutMs);
  c.reply.ok();
}

function reply(c: Client, argv: string[]): void {
  const mode = argv[2].toUpperCase();
  if (mode === 'ON') {
    c.replyMode = 'on';
    c.reply.enabled = true;
    c.reply.ok();
  } else if (mode === 'OFF') {
    c.replyMode = 'off';
    c.reply.enabled = false;
  } else if (mode === 'SKIP') {
    // The dispatcher turns 'skip' into "silence the next command" once this one is done.
    if (c.replyMode !== 'off') c.replyMode = 'skip';
    c.reply.enabled = false;
  } else {
    throw new ReplyError(Err.syntax);
  }
}

function noEvict(c: Client, argv: string[]): void {
  if (is(argv[2], 'ON')) c.noEvict = true;
  else if (is(argv[2], 'OFF')) c.noEvict = false;
  else throw new ReplyError(Err.syntax);
  c.reply.ok();
}

function unblock(c: Client, argv: string[]): void {
  const id = intArg(argv[2]);
  let asError = false;
  if (argv.length === 4) {
    if (is(argv[3], 'ERROR')) asError = true;
    else if (!is(argv[3], 'TIMEOUT'))
      throw new ReplyError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  }
  const target = c.server.clients.get(id);
  if (!target || target.blocked === null) {
    c.reply.integer(0);
    return;
  }
  if (asError) {
    target.blocked.onTimeout = () => target.reply.error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
  }
  c.server.wake(target);
  c.server.unblock(target, true);
  c.reply.integer(1);
}

const CLIENT_HELP = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
];

const sub = (
  name: string,
  arity: number,
  handler: CommandHandler,
  flags: CommandFlag[] = ['noscript', 'loading', 'stale'],
  categories = ['slow', 'connection'],
): CommandSpec => cmd(name, arity, flags, 0, 0, 0, handler, { categories });
const ADMIN: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];
const ADMIN_CATEGORIES = ['admin', 'slow', 'dangerous', 'connection'];

export const clientCommands: CommandSpec[] = [
  container('client', [
    sub('id', 2, (c) => c.reply.integer(c.id)),
    sub('info', 2, (c) => c.reply.verbatim(c.server.clientInfoLine(c) + '\n')),
    sub('list', -2, list, ADMIN, ADMIN_CATEGORIES),
    sub('kill', -3, kill, ADMIN, ADMIN_CATEGORIES),
    sub('setname', 3, setname),
    sub('getname', 2, (c) => c.reply.bulkOrNull(c.name === '' ? null : c.name)),
    sub('pause', -3, pause, ADMIN, ADMIN_CATEGORIES),
    sub(
      'unpause',
      2,
      (c) => {
        c.server.unpauseClients();
        c.reply.ok();
      },
      ADMIN,
      ADMIN_CATEGORIES,
    ),
    sub('reply', 3, reply),
    sub('no-evict', 3, noEvict, ADMIN, ADMIN_CATEGORIES),
    sub('unblock', -3, unblock, ADMIN, ADMIN_CATEGORIES),
    sub('tracking', -3, trackingCommand),
    sub('caching', 3, cachingCommand),
    sub('getredir', 2, (c) => c.reply.integer(c.server.tracking.redirectOf(c))),
    sub('trackinginfo', 2, trackingInfo),
    sub('help', 2, (c) => helpReply(c, 'CLIENT', CLIENT_HELP), ['loading', 'stale']),
  ]),
];
