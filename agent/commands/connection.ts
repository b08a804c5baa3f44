/**
 * Connection commands: the ones that concern one client's session rather than the data (PING, ECHO, QUIT,
 * RESET, AUTH, HELLO, SELECT).
 *
 * Authentication: there is one user, "default", whose password is requirepass (none means "nopass": any password
 * is accepted for it, as Redis does). A failed AUTH leaves the session's state unchanged. HELLO negotiates the
 * protocol (2 or 3) and may authenticate and name the connection in the same call; its reply is Redis's map.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { REDIS_COMPAT_VERSION } from '../server/server';
import { intArg, is } from './args';
import { cmd, type CommandSpec } from './table';

const NO_PASSWORD_AUTH =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your ' +
  'configuration is correct?';
const HELLO_NOAUTH =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> ' +
  'option can be used to authenticate the client and select the RESP protocol version at the same time';
export const INVALID_CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

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
  const index = intArg(argv[1], Err.notInteger);
  const dbs = c.server.keyspace.dbs;
  if (index < 0 || index >= dbs.length) throw new ReplyError(Err.dbIndexOutOfRange);
  c.db = dbs[index];
  c.reply.ok();
}

/** Checks a username/password pair against the only user, "default". */
export function checkCredentials(c: Client, user: string, password: string): boolean {
  if (user !== 'default') return false;
  const required = c.server.config.get('requirepass');
  return required === '' || password === required;
}

function auth(c: Client, argv: string[]): void {
  if (argv.length > 3) throw new ReplyError(Err.syntax);
  if (argv.length === 2 && c.server.config.get('requirepass') === '') throw new ReplyError(NO_PASSWORD_AUTH);
  const user = argv.length === 3 ? argv[1] : 'default';
  const password = argv[argv.length - 1];
  if (!checkCredentials(c, user, password)) {
    c.server.log.verbose(`AUTH failed for client ${c.addr}`);
    throw new ReplyError(Err.wrongPass);
  }
  c.user = user;
  c.authenticated = true;
  c.reply.ok();
}

/** Valid client names are printable ASCII without spaces (or empty, which clears the name). */
export function isValidClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function hello(c: Client, argv: string[]): void {
  let version = c.reply.resp as number;
  if (argv.length >= 2) {
    const v = Number(argv[1]);
    if (!/^-?\d+$/.test(argv[1]) || !Number.isSafeInteger(v)) {
      throw new ReplyError('ERR Protocol version is not an integer or out of range');
    }
    if (v < 2 || v > 3) throw new ReplyError('NOPROTO unsupported protocol version');
    version = v;
  }
  let credentials: [string, string] | undefined;
  let name: string | undefined;
  for (let k = 2; k < argv.length; k++) {
    const more = argv.length - k - 1;
    if (is(argv[k], 'AUTH') && more >= 2) {
      credentials = [argv[k + 1], argv[k + 2]];
      k += 2;
    } else if (is(argv[k], 'SETNAME') && more >= 1) {
      name = argv[++k];
    } else {
      throw new ReplyError(`ERR Syntax error in HELLO option '${argv[k]}'`);
    }
  }
  if (!c.authenticated && credentials === undefined) throw new ReplyError(HELLO_NOAUTH);
  if (credentials !== undefined) {
    if (!checkCredentials(c, credentials[0], credentials[1])) throw new ReplyError(Err.wrongPass);
    c.user = credentials[0];
    c.authenticated = true;
  }
  if (name !== undefined) {
    if (!isValidClientName(name)) throw new ReplyError(INVALID_CLIENT_NAME);
    c.name = name;
  }
  c.reply.resp = version as 2 | 3;
  const r = c.reply;
  r.map(7);
  r.bulk('server');
  r.bulk('redis');
  r.bulk('version');
  r.bulk(REDIS_COMPAT_VERSION);
  r.bulk('proto');
  r.integer(version);
  r.bulk('id');
  r.integer(c.id);
  r.bulk('mode');
  r.bulk('standalone');
  r.bulk('role');
  r.bulk(c.server.role === 'replica' ? 'replica' : 'master');
  r.bulk('modules');
  r.array(0);
}

/** RESET: back to a fresh connection's state (keeping the socket and the id). */
function reset(c: Client): void {
  const server = c.server;
  server.resetClientState(c);
  c.reply.simple('RESET');
}

export const connectionCommands: CommandSpec[] = [
  cmd('ping', -1, ['fast'], 0, 0, 0, ping, { categories: ['fast', 'connection'] }),
  cmd('echo', 2, ['loading', 'stale', 'fast'], 0, 0, 0, echo, { categories: ['fast', 'connection'] }),
  cmd('quit', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], 0, 0, 0, quit, {
    categories: ['fast', 'connection'],
  }),
  cmd('select', 2, ['loading', 'stale', 'fast'], 0, 0, 0, select, { categories: ['fast', 'connection'] }),
  cmd('auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], 0, 0, 0, auth, {
    categories: ['fast', 'connection'],
  }),
  cmd('hello', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], 0, 0, 0, hello, {
    categories: ['fast', 'connection'],
  }),
  cmd('reset', 1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], 0, 0, 0, reset, {
    categories: ['fast', 'connection'],
  }),
];
