/**
 * CONFIG GET / SET / RESETSTAT / REWRITE over the directive table (config/directives.ts).
 *
 * GET takes one or more glob patterns (case-insensitive) and lists every matching parameter once, aliases
 * included; an exact name is echoed as the client spelled it. SET takes one or more pairs and is atomic: names
 * are checked first (unknown, immutable, protected, duplicate), then every value, then values are applied in
 * order, and a failure to apply rolls the earlier ones back. Error texts are Redis 7.0's.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import type { Server } from '../server/server';
import { rewriteConfigFile } from '../config/rewrite';
import { globMatch } from '../keyspace/glob';
import { helpReply } from './help';
import { cmd, container, type CommandSpec } from './table';

function configGet(c: Client, argv: string[]): void {
  const config = c.server.config;
  const out = new Map<string, string>();
  const entries = config.entries();
  for (let i = 2; i < argv.length; i++) {
    const pattern = argv[i];
    if (!/[*?[\\]/.test(pattern)) {
      const d = config.lookup(pattern);
      if (d && !out.has(pattern.toLowerCase())) out.set(pattern, config.get(d.name));
      continue;
    }
    for (const [name, value] of entries) if (globMatch(pattern, name, true)) out.set(name, value);
  }
  c.reply.map(out.size);
  for (const [name, value] of out) {
    c.reply.bulk(name);
    c.reply.bulk(value);
  }
}

function setFailed(name: string, reason: string): ReplyError {
  return new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`);
}

function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0) throw new ReplyError(Err.syntax);
  const config = c.server.config;
  const pairs: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (let i = 2; i < argv.length; i += 2) {
    const d = config.lookup(argv[i]);
    if (!d) throw new ReplyError(`ERR Unknown option or number of arguments for CONFIG SET - '${argv[i]}'`);
    if (!d.mutable) throw setFailed(argv[i], "can't set immutable config");
    if (d.protected && !protectedConfigAllowed(c)) throw setFailed(argv[i], "can't set protected config");
    if (seen.has(d.name)) throw setFailed(argv[i], 'duplicate parameter');
    seen.add(d.name);
    pairs.push([argv[i], argv[i + 1]]);
  }
  const listening = pairs.filter(([name]) => LISTEN_DIRECTIVES.has(config.lookup(name)!.name));
  if (listening.length === 0) {
    const failure = config.setMany(pairs);
    if (failure) throw setFailed(failure[0], failure[1]);
    c.reply.ok();
    return;
  }
  // port/bind: validate everything, rebind asynchronously (the reply waits), then store the values.
  for (const [name, raw] of pairs) {
    const checked = config.validate(config.lookup(name)!, [raw]);
    if (typeof checked !== 'string') throw setFailed(name, checked.error);
  }
  const value = (directive: string) => {
    const given = listening.find(([name]) => config.lookup(name)!.name === directive);
    return given ? (config.validate(config.lookup(directive)!, [given[1]]) as string) : config.get(directive);
  };
  const port = Number(value('port'));
  const bind = value('bind');
  const server = c.server;
  server.runAsync(
    c,
    async () => {
      if (port === server.config.getInt('port') && bind === server.config.get('bind')) return;
      try {
        await server.rebind(port, bind);
      } catch (err) {
        server.log.warning(
          `CONFIG SET could not listen on port ${port} (bind ${bind}): ${(err as Error).message}`,
        );
        const [name] = listening[0];
        throw setFailed(
          name,
          config.lookup(name)!.name === 'port'
            ? 'Unable to listen on this port. Check server logs.'
            : 'Failed to bind to specified addresses.',
        );
      }
    },
    () => {
      const failure = config.setMany(pairs);
      if (failure) c.reply.error(setFailed(failure[0], failure[1]).reply);
      else c.reply.ok();
    },
  );
}

/** Directives whose change means new listening sockets. */
const LISTEN_DIRECTIVES = new Set(['port', 'bind']);

/** enable-protected-configs: yes, no, or local (loopback connections only). */
function protectedConfigAllowed(c: Client): boolean {
  const mode = c.server.config.get('enable-protected-configs');
  if (mode === 'yes') return true;
  if (mode === 'local') return c.server.isLocalClient(c);
  return c.socket === null;
}

/** CONFIG RESETSTAT: the counters INFO reports (not the slow log or latency history). */
export function resetStats(server: Server): void {
  for (const key of Object.keys(server.stats) as Array<keyof Server['stats']>) server.stats[key] = 0;
  server.errorCounts.clear();
  const visit = (cmd: import('./table').Command) => {
    cmd.calls = 0;
    cmd.usec = 0;
    cmd.rejectedCalls = 0;
    cmd.failedCalls = 0;
    if (cmd.subcommands) for (const sub of cmd.subcommands.values()) visit(sub);
  };
  for (const cmd of server.commands.commands.values()) visit(cmd);
  server.peakMemoryBytes = 0;
}

function configRewrite(c: Client): void {
  const server = c.server;
  if (server.config.configFile === undefined)
    throw new ReplyError('ERR The server is running without a config file');
  try {
    rewriteConfigFile(server.config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    server.log.warning(`CONFIG REWRITE failed: ${e.message}`);
    throw new ReplyError(`ERR Rewriting config file: ${e.message}`);
  }
  server.log.notice('CONFIG REWRITE executed with success.');
  c.reply.ok();
}

const CONFIG_HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

export const configCommands: CommandSpec[] = [
  container('config', [
    cmd('get', -3, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, configGet, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('set', -4, ['admin', 'noscript', 'loading', 'stale', 'may_replicate'], 0, 0, 0, configSet, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd(
      'resetstat',
      2,
      ['admin', 'noscript', 'loading', 'stale'],
      0,
      0,
      0,
      (c) => {
        resetStats(c.server);
        c.reply.ok();
      },
      { categories: ['admin', 'slow', 'dangerous'] },
    ),
    cmd('rewrite', 2, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, configRewrite, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('help', 2, ['loading', 'stale'], 0, 0, 0, (c) => helpReply(c, 'CONFIG', CONFIG_HELP), {
      categories: ['slow'],
    }),
  ]),
];
