/**
 * The directive table: every configuration parameter the agent knows, with its type, default and whether
 * CONFIG SET may change it at runtime. It is the single source of truth for the config file parser, the
 * command line, CONFIG GET/SET and CONFIG REWRITE.
 *
 * Values are kept in their canonical text form (what CONFIG GET prints: "yes", "0", "3600 1 300 100"); typed
 * views are derived from it. Parameters that the agent accepts for compatibility but that do not change its
 * internal representation (encoding thresholds, for instance) are real entries all the same: clients that
 * CONFIG SET them get them back from CONFIG GET and from CONFIG REWRITE.
 */

export type DirectiveKind = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'special';

export interface Directive {
  name: string;
  aliases?: string[];
  kind: DirectiveKind;
  /** Canonical default, as CONFIG GET shows it. */
  default: string;
  /** May CONFIG SET change it? */
  mutable: boolean;
  min?: number;
  max?: number;
  /** For 'enum'; for flag-like enums several values may be given when `multi` is set. */
  values?: string[];
  /** Several arguments make up one value (save, client-output-buffer-limit, replicaof...). */
  multiArg?: boolean;
  /** May appear several times in a file, each adding to the value (save, include, rename-command...). */
  repeatable?: boolean;
  /** Hide secrets from CONFIG REWRITE comments and logs (values are still returned by CONFIG GET, as Redis). */
  sensitive?: boolean;
  /**
   * For 'special': turns the raw arguments into the canonical value, or returns an error message
   * (the text after "argument couldn't be parsed" in Redis terms).
   */
  normalize?: (args: string[], current: string) => string | { error: string };
}

const MB = 1024 * 1024;

const b = (name: string, def: 'yes' | 'no', mutable = true, extra: Partial<Directive> = {}): Directive => ({
  name,
  kind: 'bool',
  default: def,
  mutable,
  ...extra,
});
const i = (
  name: string,
  def: number,
  min: number,
  max: number,
  mutable = true,
  extra: Partial<Directive> = {},
) => ({ name, kind: 'int', default: String(def), min, max, mutable, ...extra }) as Directive;
const m = (name: string, def: number, mutable = true, extra: Partial<Directive> = {}): Directive => ({
  name,
  kind: 'memory',
  default: String(def),
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  mutable,
  ...extra,
});
const e = (name: string, def: string, values: string[], mutable = true, extra: Partial<Directive> = {}) =>
  ({ name, kind: 'enum', default: def, values, mutable, ...extra }) as Directive;
const s = (name: string, def: string, mutable = true, extra: Partial<Directive> = {}): Directive => ({
  name,
  kind: 'string',
  default: def,
  mutable,
  ...extra,
});

/** `save 3600 1 300 100` pairs, or "" to disable. */
function normalizeSave(args: string[]): string | { error: string } {
  const words = args.join(' ').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  if (words.length % 2 !== 0) return { error: 'Invalid save parameters' };
  for (const w of words) if (!/^\d+$/.test(w)) return { error: 'Invalid save parameters' };
  return words.join(' ');
}

/** `replicaof <host> <port>` or `no one`. Canonical: "host port" or "". */
function normalizeReplicaof(args: string[]): string | { error: string } {
  const words = args.join(' ').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  if (words.length !== 2) return { error: 'wrong number of arguments' };
  if (words[0].toLowerCase() === 'no' && words[1].toLowerCase() === 'one') return '';
  const port = Number(words[1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return { error: 'Invalid master port' };
  return `${words[0]} ${port}`;
}

/** `client-output-buffer-limit <class> <hard> <soft> <seconds>` (repeatable per class). */
function normalizeClientOutputBufferLimit(args: string[], current: string): string | { error: string } {
  const words = args.join(' ').trim().split(/\s+/).filter(Boolean);
  if (words.length % 4 !== 0 || words.length === 0)
    return { error: 'Wrong number of arguments in buffer limit configuration.' };
  const byClass = new Map<string, string[]>();
  const cur = current.split(/\s+/).filter(Boolean);
  for (let k = 0; k + 3 < cur.length; k += 4) byClass.set(cur[k], cur.slice(k + 1, k + 4));
  for (let k = 0; k < words.length; k += 4) {
    let cls = words[k].toLowerCase();
    if (cls === 'slave') cls = 'replica';
    if (!['normal', 'replica', 'pubsub'].includes(cls))
      return { error: 'Invalid client class specified in buffer limit configuration.' };
    const hard = parseMemory(words[k + 1]);
    const soft = parseMemory(words[k + 2]);
    const secs = Number(words[k + 3]);
    if (hard === null || soft === null || !Number.isInteger(secs) || secs < 0) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    byClass.set(cls, [String(hard), String(soft), String(secs)]);
  }
  return ['normal', 'replica', 'pubsub']
    .map((c) => `${c} ${(byClass.get(c) ?? ['0', '0', '0']).join(' ')}`)
    .join(' ');
}

/** `bind addr [addr ...]`. */
function normalizeWords(args: string[]): string | { error: string } {
  return args.join(' ').trim().split(/\s+/).filter(Boolean).join(' ');
}

export const DIRECTIVES: Directive[] = [
  // Network
  {
    name: 'bind',
    kind: 'special',
    default: '* -::*',
    mutable: true,
    multiArg: true,
    normalize: normalizeWords,
  },
  i('port', 6379, 0, 65535),
  b('protected-mode', 'yes'),
  i('tcp-backlog', 511, 0, 65535, false),
  i('timeout', 0, 0, 2147483647),
  i('tcp-keepalive', 300, 0, 2147483647),
  s('unixsocket', '', false),
  i('unixsocketperm', 0, 0, 0o777, false),
  i('maxclients', 10000, 1, 1000000),
  // General
  b('daemonize', 'no', false),
  s('pidfile', '', false),
  e('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning', 'nothing']),
  s('logfile', '', false),
  b('syslog-enabled', 'no', false),
  s('syslog-ident', 'redis', false),
  i('databases', 16, 1, 1000000, false),
  b('always-show-logo', 'no', false),
  b('set-proc-title', 'yes', false),
  e('supervised', 'no', ['no', 'upstart', 'systemd', 'auto'], false),
  e('enable-debug-command', 'no', ['yes', 'no', 'local'], false),
  e('enable-protected-configs', 'no', ['yes', 'no', 'local'], false),
  e('enable-module-command', 'no', ['yes', 'no', 'local'], false),
  i('hz', 10, 1, 500),
  b('dynamic-hz', 'yes'),
  // Security
  s('requirepass', '', true, { sensitive: true }),
  s('masterauth', '', true, { sensitive: true }),
  s('masteruser', ''),
  s('aclfile', '', false),
  i('acllog-max-len', 128, 0, 2147483647),
  // Persistence
  {
    name: 'save',
    kind: 'special',
    default: '3600 1 300 100 60 10000',
    mutable: true,
    multiArg: true,
    repeatable: true,
    normalize: normalizeSave,
  },
  b('stop-writes-on-bgsave-error', 'yes'),
  b('rdbcompression', 'yes'),
  b('rdbchecksum', 'yes'),
  b('sanitize-dump-payload', 'no'),
  s('dbfilename', 'dump.rdb'),
  b('rdb-del-sync-files', 'no'),
  s('dir', '.'),
  b('appendonly', 'no'),
  s('appendfilename', 'appendonly.aof', false),
  s('appenddirname', 'appendonlydir', false),
  e('appendfsync', 'everysec', ['always', 'everysec', 'no']),
  b('no-appendfsync-on-rewrite', 'no'),
  i('auto-aof-rewrite-percentage', 100, 0, 2147483647),
  m('auto-aof-rewrite-min-size', 64 * MB),
  b('aof-load-truncated', 'yes'),
  b('aof-use-rdb-preamble', 'yes'),
  b('aof-timestamp-enabled', 'no'),
  b('rdb-save-incremental-fsync', 'yes'),
  b('aof-rewrite-incremental-fsync', 'yes'),
  // Replication
  {
    name: 'replicaof',
    aliases: ['slaveof'],
    kind: 'special',
    default: '',
    mutable: false,
    multiArg: true,
    normalize: normalizeReplicaof,
  },
  b('replica-serve-stale-data', 'yes', true, { aliases: ['slave-serve-stale-data'] }),
  b('replica-read-only', 'yes', true, { aliases: ['slave-read-only'] }),
  b('repl-diskless-sync', 'yes'),
  i('repl-diskless-sync-delay', 5, 0, 2147483647),
  i('repl-diskless-sync-max-replicas', 0, 0, 2147483647),
  e('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']),
  i('repl-ping-replica-period', 10, 1, 2147483647, true, { aliases: ['repl-ping-slave-period'] }),
  i('repl-timeout', 60, 1, 2147483647),
  b('repl-disable-tcp-nodelay', 'no'),
  m('repl-backlog-size', 1 * MB, true, { min: 1 }),
  i('repl-backlog-ttl', 3600, 0, 2147483647),
  i('replica-priority', 100, 0, 2147483647, true, { aliases: ['slave-priority'] }),
  s('replica-announce-ip', '', true, { aliases: ['slave-announce-ip'] }),
  i('replica-announce-port', 0, 0, 65535, true, { aliases: ['slave-announce-port'] }),
  b('replica-announced', 'yes'),
  b('replica-ignore-maxmemory', 'yes', true, { aliases: ['slave-ignore-maxmemory'] }),
  b('replica-lazy-flush', 'no', true, { aliases: ['slave-lazy-flush'] }),
  i('min-replicas-to-write', 0, 0, 2147483647, true, { aliases: ['min-slaves-to-write'] }),
  i('min-replicas-max-lag', 10, 0, 2147483647, true, { aliases: ['min-slaves-max-lag'] }),
  // Limits
  m('proto-max-bulk-len', 512 * MB, true, { min: 1024 * 1024 }),
  m('client-query-buffer-limit', 1024 * MB, true, { min: 1024 * 1024 }),
  {
    name: 'client-output-buffer-limit',
    kind: 'special',
    default: 'normal 0 0 0 replica 268435456 67108864 60 pubsub 33554432 8388608 60',
    mutable: true,
    multiArg: true,
    repeatable: true,
    normalize: normalizeClientOutputBufferLimit,
  },
  // Memory
  m('maxmemory', 0),
  e('maxmemory-policy', 'noeviction', [
    'volatile-lru',
    'volatile-lfu',
    'volatile-random',
    'volatile-ttl',
    'allkeys-lru',
    'allkeys-lfu',
    'allkeys-random',
    'noeviction',
  ]),
  i('maxmemory-samples', 5, 1, 64),
  i('maxmemory-eviction-tenacity', 10, 0, 100),
  b('lazyfree-lazy-eviction', 'no'),
  b('lazyfree-lazy-expire', 'no'),
  b('lazyfree-lazy-server-del', 'no'),
  b('lazyfree-lazy-user-del', 'no'),
  b('lazyfree-lazy-user-flush', 'no'),
  i('lfu-log-factor', 10, 0, 2147483647),
  i('lfu-decay-time', 1, 0, 2147483647),
  i('active-expire-effort', 1, 1, 10),
  b('activedefrag', 'no'),
  b('activerehashing', 'yes'),
  b('jemalloc-bg-thread', 'yes'),
  // Encodings (accepted and reported)
  i('hash-max-listpack-entries', 128, 0, 2147483647, true, { aliases: ['hash-max-ziplist-entries'] }),
  i('hash-max-listpack-value', 64, 0, 2147483647, true, { aliases: ['hash-max-ziplist-value'] }),
  i('list-max-listpack-size', -2, -5, 2147483647, true, { aliases: ['list-max-ziplist-size'] }),
  i('list-compress-depth', 0, 0, 2147483647),
  i('set-max-intset-entries', 512, 0, 2147483647),
  i('zset-max-listpack-entries', 128, 0, 2147483647, true, { aliases: ['zset-max-ziplist-entries'] }),
  i('zset-max-listpack-value', 64, 0, 2147483647, true, { aliases: ['zset-max-ziplist-value'] }),
  i('hll-sparse-max-bytes', 3000, 0, 2147483647),
  i('stream-node-max-bytes', 4096, 0, 2147483647),
  i('stream-node-max-entries', 100, 0, 2147483647),
  // Observability
  s('notify-keyspace-events', ''),
  i('slowlog-log-slower-than', 10000, -1, 2147483647),
  i('slowlog-max-len', 128, 0, 2147483647),
  i('latency-monitor-threshold', 0, 0, 2147483647),
  s('latency-tracking-info-percentiles', '50 99 99.9'),
  b('latency-tracking', 'yes'),
  i('lua-time-limit', 5000, 0, 2147483647),
  i('busy-reply-threshold', 5000, 0, 2147483647),
  b('cluster-enabled', 'no', false),
  i('tracking-table-max-keys', 1000000, 0, 2147483647),
  e('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute']),
  s('oom-score-adj-values', '0 200 800'),
  b('crash-log-enabled', 'yes'),
  b('crash-memcheck-enabled', 'yes'),
  b('disable-thp', 'yes', false),
  i('io-threads', 1, 1, 128, false),
  b('io-threads-do-reads', 'no', false),
  i('active-defrag-cycle-min', 1, 1, 99),
  i('active-defrag-cycle-max', 25, 1, 99),
  i('active-defrag-threshold-lower', 10, 0, 1000),
  i('active-defrag-threshold-upper', 100, 0, 1000),
  m('active-defrag-ignore-bytes', 100 * MB),
];

/** Parses Redis memory units: 1k = 1000, 1kb = 1024, 1m, 1mb, 1g, 1gb (case-insensitive). */
export function parseMemory(text: string): number | null {
  const match = /^(-?\d+)(k|kb|m|mb|g|gb)?$/i.exec(text.trim());
  if (!match) return null;
  const n = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const mult: Record<string, number> = { '': 1, k: 1e3, kb: 1024, m: 1e6, mb: MB, g: 1e9, gb: 1024 * MB };
  return n * mult[unit];
}
