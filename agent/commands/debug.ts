/**
 * DEBUG: the developer tools tests and the orchestrator rely on, refused unless enable-debug-command allows it
 * (the dispatcher checks the `protected` flag). SLEEP, LOG, OBJECT, POPULATE and PROTOCOL live here; subsystems
 * add theirs through `server.debugSubcommands`: the keyspace adds DIGEST, DIGEST-VALUE and SET-ACTIVE-EXPIRE
 * (keyspace/install.ts), persistence adds RELOAD.
 *
 * DEBUG SLEEP blocks the whole server, as in Redis: that is its purpose (simulating a busy server).
 */
import { ReplyError } from '../errors';
import { idleTimeMs } from '../keyspace/access';
import { typeOf } from '../keyspace/database';
import { stringEncoding } from '../keyspace/values';
import type { Client } from '../server/client';
import { valueBytes } from '../server/memory';
import { helpReply } from './help';
import type { CommandSpec } from './table';

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds without spinning. */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(SLEEP_CELL, 0, 0, ms);
}

/** strtod-like: the leading number of the text, 0 when there is none (DEBUG SLEEP x sleeps 0, as in Redis). */
function leadingNumber(text: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(text);
  return m ? Number(m[0]) : 0;
}

function sleep(c: Client, argv: string[]): void {
  blockFor(leadingNumber(argv[2]) * 1000);
  c.reply.ok();
}

function log(c: Client, argv: string[]): void {
  c.server.log.warning(`DEBUG LOG: ${argv[2]}`);
  c.reply.ok();
}

function object(c: Client, argv: string[]): void {
  const db = c.db;
  const v = db.lookupRead(argv[2], false);
  if (v === undefined) throw new ReplyError('ERR no such key');
  const encoding = typeof v === 'string' ? stringEncoding(v, db.stringEncodings.get(argv[2])) : v.encoding();
  const stamp = db.dict.stampOf(argv[2]) ?? 0;
  const idle = Math.floor(idleTimeMs(stamp, c.server.nowMs) / 1000);
  const serialized = typeof v === 'string' ? v.length : valueBytes(v);
  let line =
    `Value at:0x${(0x7f0000000000 + c.id * 4096).toString(16)} refcount:1 encoding:${encoding} ` +
    `serializedlength:${serialized} lru:${stamp} lru_seconds_idle:${idle}`;
  if (typeof v !== 'string' && typeOf(v) === 'list') {
    line += ` ql_nodes:1 ql_avg_node:${v.size}.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:${serialized}`;
  }
  c.reply.simple(line);
}

function populate(c: Client, argv: string[]): void {
  const count = Number(argv[2]);
  if (!/^\d+$/.test(argv[2])) throw new ReplyError('ERR value is out of range, must be positive');
  const prefix = argv[3] ?? 'key';
  let size = -1;
  if (argv.length > 4) {
    if (!/^\d+$/.test(argv[4])) throw new ReplyError('ERR value is out of range, must be positive');
    size = Number(argv[4]);
  }
  const db = c.db;
  for (let i = 0; i < count; i++) {
    const key = `${prefix}:${i}`;
    if (db.lookupRead(key, false) !== undefined) continue;
    let value = `value:${i}`;
    if (size >= 0)
      value = value.length >= size ? value.slice(0, size) : value + '\0'.repeat(size - value.length);
    db.set(key, value);
  }
  c.reply.ok();
}

const PROTOCOL_TYPES = 'string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false';

/** DEBUG PROTOCOL <type>: one reply of each RESP type, for client tests. */
function protocol(c: Client, argv: string[]): void {
  const r = c.reply;
  switch (argv[2].toLowerCase()) {
    case 'string':
      return r.bulk('Hello World');
    case 'integer':
      return r.integer(12345);
    case 'double':
      return r.double(3.141);
    case 'bignum':
      return r.bigNumber('1234567999999999999999999999999999999');
    case 'null':
      return r.null();
    case 'array':
      r.array(3);
      for (let j = 0; j < 3; j++) r.integer(j);
      return;
    case 'set':
      r.set(3);
      for (let j = 0; j < 3; j++) r.integer(j);
      return;
    case 'map':
      r.map(3);
      for (let j = 0; j < 3; j++) {
        r.integer(j);
        r.bool(j === 1);
      }
      return;
    case 'attrib':
      if (r.attribute(1)) {
        r.bulk('key-popularity');
        r.array(2);
        r.bulk('key:123');
        r.integer(90);
      }
      return r.bulk('Some real reply following the attribute');
    case 'push':
      if (r.resp !== 3) throw new ReplyError('ERR RESP2 is not supported by this command');
      r.push(2);
      r.bulk('server-cpu-usage');
      r.integer(42);
      return r.bulk('Some real reply following the push reply');
    case 'true':
      return r.bool(true);
    case 'false':
      return r.bool(false);
    case 'verbatim':
      return r.verbatim('This is a verbatim\nstring');
    default:
      throw new ReplyError(
        `ERR Wrong protocol type name. Please use one of the following: ${PROTOCOL_TYPES}`,
      );
  }
}

const DEBUG_HELP = [
  'DIGEST',
  '    Output a hex signature representing the current DB content.',
  'DIGEST-VALUE <key> [<key> ...]',
  '    Output a hex signature of the values of all the specified keys.',
  'LOG <message>',
  '    Write <message> to the server log.',
  'OBJECT <key>',
  '    Show low level info about the key and associated value.',
  'POPULATE <count> [<prefix>] [<size>]',
  '    Create <count> string keys named key:<num>. If <prefix> is specified then',
  "    it is used instead of the 'key' prefix. These are not propagated to",
  '    replicas. Cluster slots are not respected so keys not belonging to the',
  '    current node can be created in cluster mode.',
  'PROTOCOL <type>',
  '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
  '    true, false.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
];

/** Built-in subcommands: name -> [minimum argc including DEBUG and the name, handler]. */
const BUILTIN: Record<string, [number, (c: Client, argv: string[]) => void]> = {
  sleep: [3, sleep],
  log: [3, log],
  object: [3, object],
  populate: [3, populate],
  protocol: [3, protocol],
  help: [2, (c) => helpReply(c, 'DEBUG', DEBUG_HELP)],
};

function debug(c: Client, argv: string[]): void {
  const name = argv[1].toLowerCase();
  const builtin = BUILTIN[name];
  if (builtin !== undefined && argv.length >= builtin[0]) return builtin[1](c, argv);
  const extension = c.server.debugSubcommands.get(name);
  if (extension !== undefined) return extension(c, argv);
  throw new ReplyError(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
  );
}

export const debugCommands: CommandSpec[] = [
  {
    name: 'debug',
    arity: -2,
    flags: ['admin', 'noscript', 'loading', 'stale', 'protected'],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    categories: ['admin', 'slow', 'dangerous'],
    handler: debug,
  },
];
