/**
 * COMMAND: the command table as clients see it (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS). Everything
 * is derived from the table entries, so a command family only declares arity, flags and key positions once.
 *
 * Reply shapes follow Redis 7.0: an INFO entry is [name, arity, flags, first key, last key, step, ACL categories,
 * tips, key specifications, subcommands]; flags and categories are sets (status strings). Key specifications are
 * derived from (first, last, step) as one index/range spec. ACL categories come from the entry, or are derived
 * from its flags and group when it declares none.
 */
import { ReplyError, unknownSubcommand } from '../errors';
import type { Client } from '../server/client';
import { commandKeys } from '../server/server';
import { globMatch } from '../keyspace/glob';
import { helpReply } from './help';
import { F, cmd, type Command, type CommandFlag, type CommandSpec } from './table';

/** Flags COMMAND does not show (internal or not reported by Redis 7.0). */
const HIDDEN_FLAGS = new Set<CommandFlag>(['protected', 'may_replicate']);

/** Redis's ACL category table order, which COMMAND INFO follows. */
const CATEGORY_ORDER = [
  'keyspace',
  'read',
  'write',
  'set',
  'sortedset',
  'list',
  'hash',
  'string',
  'bitmap',
  'hyperloglog',
  'geo',
  'stream',
  'pubsub',
  'admin',
  'fast',
  'slow',
  'blocking',
  'dangerous',
  'connection',
  'transaction',
  'scripting',
];

function categoryRank(cat: string): number {
  const at = CATEGORY_ORDER.indexOf(cat);
  return at < 0 ? CATEGORY_ORDER.length : at;
}

/** The ACL categories of a command, without '@', in Redis's order. */
export function categoriesOf(cmd: Command): string[] {
  return [...declaredCategories(cmd)].sort((a, b) => categoryRank(a) - categoryRank(b));
}

function declaredCategories(cmd: Command): string[] {
  const spec = cmd.spec;
  if (spec.categories) return spec.categories;
  const bits = cmd.bits;
  const out: string[] = [];
  if (bits & F.write) out.push('write');
  if (bits & F.readonly) out.push('read');
  if (spec.group && spec.group !== 'server' && spec.group !== 'generic') out.push(spec.group);
  if (spec.group === 'generic') out.push('keyspace');
  if (bits & F.admin) out.push('admin');
  if (bits & F.pubsub) out.push('pubsub');
  out.push(bits & F.fast ? 'fast' : 'slow');
  if (bits & F.blocking) out.push('blocking');
  if (bits & F.admin) out.push('dangerous');
  return out;
}

function replyInfo(c: Client, cmd: Command): void {
  const r = c.reply;
  const spec = cmd.spec;
  r.array(10);
  r.bulk(cmd.fullName);
  r.integer(spec.arity);
  const flags = spec.flags.filter((f) => !HIDDEN_FLAGS.has(f));
  r.set(flags.length);
  for (const f of flags) r.simple(f);
  r.integer(spec.firstKey);
  r.integer(spec.lastKey);
  r.integer(spec.step);
  const cats = categoriesOf(cmd);
  r.set(cats.length);
  for (const cat of cats) r.simple('@' + cat);
  r.set(0);
  replyKeySpecs(c, cmd);
  const subs = cmd.subcommands ? [...cmd.subcommands.values()] : [];
  r.array(subs.length);
  for (const sub of subs) replyInfo(c, sub);
}

/** Key-spec flags: writes update their keys, reads access them (Redis refines this per command). */
function keySpecFlags(cmd: Command): string[] {
  return cmd.bits & F.write ? ['RW', 'update'] : ['RO', 'access'];
}

function replyKeySpecs(c: Client, cmd: Command): void {
  const r = c.reply;
  const { firstKey, lastKey, step } = cmd.spec;
  if (firstKey <= 0) {
    r.array(0);
    return;
  }
  const flags = keySpecFlags(cmd);
  r.array(1);
  r.map(3);
  r.bulk('flags');
  r.set(flags.length);
  for (const f of flags) r.simple(f);
  r.bulk('begin_search');
  r.map(2);
  r.bulk('type');
  r.bulk('index');
  r.bulk('spec');
  r.map(1);
  r.bulk('index');
  r.integer(firstKey);
  r.bulk('find_keys');
  r.map(2);
  r.bulk('type');
  r.bulk('range');
  r.bulk('spec');
  r.map(3);
  r.bulk('lastkey');
  r.integer(lastKey < 0 ? lastKey : lastKey - firstKey);
  r.bulk('keystep');
  r.integer(step);
  r.bulk('limit');
  r.integer(0);
}

function replyDocs(c: Client, cmd: Command): void {
  const r = c.reply;
  const spec = cmd.spec;
  const fields: Array<[string, string]> = [];
  if (spec.summary) fields.push(['summary', spec.summary]);
  if (spec.since) fields.push(['since', spec.since]);
  fields.push(['group', spec.group ?? 'server']);
  const subs = cmd.subcommands ? [...cmd.subcommands.values()] : [];
  r.map(fields.length + (subs.length > 0 ? 1 : 0));
  for (const [k, v] of fields) {
    r.bulk(k);
    r.bulk(v);
  }
  if (subs.length > 0) {
    r.bulk('subcommands');
    r.map(subs.length);
    for (const sub of subs) {
      r.bulk(sub.fullName);
      replyDocs(c, sub);
    }
  }
}

function all(c: Client): Command[] {
  return [...c.server.commands.commands.values()];
}

function command(c: Client, argv: string[]): void {
  if (argv.length > 1) throw new ReplyError(unknownSubcommand(argv));
  const cmds = all(c);
  c.reply.array(cmds.length);
  for (const x of cmds) replyInfo(c, x);
}

function info(c: Client, argv: string[]): void {
  if (argv.length === 2) return command(c, argv.slice(0, 1));
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const found = findByFullName(c, argv[i]);
    if (found) replyInfo(c, found);
    else c.reply.nullBulk();
  }
}

function findByFullName(c: Client, name: string): Command | undefined {
  const [main, sub] = name.toLowerCase().split('|');
  const found = c.server.commands.commands.get(main);
  if (sub === undefined) return found;
  return found?.subcommands?.get(sub);
}

function docs(c: Client, argv: string[]): void {
  const cmds =
    argv.length === 2
      ? all(c)
      : argv
          .slice(2)
          .map((n) => findByFullName(c, n))
          .filter((x): x is Command => x !== undefined);
  c.reply.map(cmds.length);
  for (const x of cmds) {
    c.reply.bulk(x.fullName);
    replyDocs(c, x);
  }
}

function list(c: Client, argv: string[]): void {
  let names: string[] = [];
  const visit = (x: Command) => {
    names.push(x.fullName);
    if (x.subcommands) for (const s of x.subcommands.values()) visit(s);
  };
  for (const x of all(c)) visit(x);
  if (argv.length > 2) {
    if (argv.length !== 5 || argv[2].toUpperCase() !== 'FILTERBY') throw new ReplyError('ERR syntax error');
    const kind = argv[3].toUpperCase();
    const value = argv[4];
    if (kind === 'MODULE') names = [];
    else if (kind === 'PATTERN') names = names.filter((n) => globMatch(value, n, true));
    else if (kind === 'ACLCAT') {
      const cat = value.toLowerCase();
      names = names.filter((n) => categoriesOf(findByFullName(c, n)!).includes(cat));
    } else throw new ReplyError('ERR syntax error');
  }
  c.reply.bulkArray(names);
}

/** Resolves the command of a GETKEYS request and checks its arity, with Redis's errors. */
function keysOf(c: Client, argv: string[]): { cmd: Command; keys: string[] } {
  const target = argv.slice(2);
  const found = c.server.commands.lookup(target);
  if (!found) throw new ReplyError('ERR Invalid command specified');
  if (found.spec.firstKey <= 0) throw new ReplyError('ERR The command has no key arguments');
  const arity = found.spec.arity;
  if ((arity > 0 && target.length !== arity) || target.length < -arity) {
    throw new ReplyError('ERR Invalid number of arguments specified for command');
  }
  const keys = commandKeys(found, target);
  if (keys.length === 0) throw new ReplyError('ERR Invalid number of arguments specified for command');
  return { cmd: found, keys };
}

function getkeys(c: Client, argv: string[]): void {
  c.reply.bulkArray(keysOf(c, argv).keys);
}

function getkeysAndFlags(c: Client, argv: string[]): void {
  const { cmd: found, keys } = keysOf(c, argv);
  const flags = keySpecFlags(found);
  c.reply.array(keys.length);
  for (const k of keys) {
    c.reply.array(2);
    c.reply.bulk(k);
    c.reply.set(flags.length);
    for (const f of flags) c.reply.simple(f);
  }
}

const COMMAND_HELP = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
];

const sub = (name: string, arity: number, handler: (c: Client, argv: string[]) => void): CommandSpec =>
  cmd(name, arity, ['loading', 'stale'], 0, 0, 0, handler, { categories: ['slow', 'connection'] });

export const introspectionCommands: CommandSpec[] = [
  {
    name: 'command',
    arity: -1,
    flags: ['loading', 'stale'],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    categories: ['slow', 'connection'],
    handler: command,
    subcommands: [
      sub('count', 2, (c) => c.reply.integer(c.server.commands.commands.size)),
      sub('info', -2, info),
      sub('docs', -2, docs),
      sub('list', -2, list),
      sub('getkeys', -4, getkeys),
      sub('getkeysandflags', -4, getkeysAndFlags),
      sub('help', 2, (c) => helpReply(c, 'COMMAND', COMMAND_HELP)),
    ],
  },
];
