/**
 * The directive table: every configuration parameter of Redis 7.0 (and so of the agent), with its type, default,
 * bounds and whether CONFIG SET may change it. It is the single source of truth for the config file parser, the
 * command line, CONFIG GET/SET and CONFIG REWRITE.
 *
 * Values are kept in their canonical text form (what CONFIG GET prints: "yes", "0", "3600 1 300 100"); typed
 * views are derived from it. Parameters that the agent accepts for compatibility but that do not change its
 * behaviour (encoding thresholds, TLS, cluster...) are real entries all the same: clients that CONFIG SET them
 * get them back from CONFIG GET and from CONFIG REWRITE. Defaults, bounds and error texts are redis-server 7.0's
 * (its compiled defaults, which CONFIG GET shows without a config file).
 */

import { resolve } from 'node:path';
import { formatNotifyFlags, parseNotifyFlags } from '../server/pubsub';

export type DirectiveKind = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'special';

export interface Directive {
  name: string;
  aliases?: string[];
  kind: DirectiveKind;
  /** Canonical default, as CONFIG GET shows it. */
  default: string;
  /** May CONFIG SET change it? */
  mutable: boolean;
  /** CONFIG SET refuses it unless enable-protected-configs allows (dir, dbfilename). */
  protected?: boolean;
  /** Bounds for 'int' and 'memory', as decimal strings (they may exceed 2^53). */
  min?: string;
  max?: string;
  /** For 'enum'. */
  values?: string[];
  /** For 'enum': several space-separated values may be combined (shutdown-on-sigterm "nosave now"). */
  flags?: boolean;
  /** Several arguments make up one value (save, client-output-buffer-limit, replicaof...). */
  multiArg?: boolean;
  /** May appear several times in a file, each adding to the value (save, client-output-buffer-limit). */
  repeatable?: boolean;
  /** A secret: never logged, and CONFIG REWRITE writes it only to the config file itself. */
  sensitive?: boolean;
  /** Redis's HIDDEN_CONFIG (test knobs): left out of CONFIG GET patterns, still readable and settable by name. */
  hidden?: boolean;
  /** For 'special': turns the raw arguments into the canonical value, or returns an error message. */
  normalize?: (args: string[], current: string) => string | { error: string };
}

const MB = 1024 * 1024;
const INT_MAX = '2147483647';
const INT_MIN = '-2147483648';
const UINT_MAX = '4294967295';
const LLONG_MAX = '9223372036854775807';

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
  min: number | string,
  max: number | string,
  mutable = true,
  extra: Partial<Directive> = {},
): Directive => ({
  name,
  kind: 'int',
  default: String(def),
  min: String(min),
  max: String(max),
  mutable,
  ...extra,
});
const m = (
  name: string,
  def: number,
  min = 0,
  mutable = true,
  extra: Partial<Directive> = {},
): Directive => ({
  name,
  kind: 'memory',
  default: String(def),
  min: String(min),
  max: LLONG_MAX,
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
const special = (
  name: string,
  def: string,
  normalize: Directive['normalize'],
  extra: Partial<Directive> = {},
): Directive => ({ name, kind: 'special', default: def, mutable: true, multiArg: true, normalize, ...extra });

const words = (args: string[]): string[] => args.join(' ').trim().split(/\s+/).filter(Boolean);

/** `save 3600 1 300 100` pairs, or "" to disable. */
function normalizeSave(args: string[]): string | { error: string } {
  const w = words(args);
  if (w.length === 0) return '';
  if (w.length % 2 !== 0) return { error: 'Invalid save parameters' };
  for (const x of w) if (!/^\d+$/.test(x)) return { error: 'Invalid save parameters' };
  return w.map((x) => String(Number(x))).join(' ');
}

/** `replicaof <host> <port>` or `no one`. Canonical: "host port" or "". */
function normalizeReplicaof(args: string[]): string | { error: string } {
  const w = words(args);
  if (w.length === 0) return '';
  if (w.length !== 2) return { error: 'wrong number of arguments' };
  if (w[0].toLowerCase() === 'no' && w[1].toLowerCase() === 'one') return '';
  const port = Number(w[1]);
  if (!/^\d+$/.test(w[1]) || port > 65535) return { error: 'Invalid master port' };
  return `${w[0]} ${port}`;
}

/** Output-buffer classes in CONFIG GET order; `replica` is spelled `slave` there, as Redis does. */
const OUTPUT_CLASSES = ['normal', 'slave', 'pubsub'];

/** `client-output-buffer-limit <class> <hard> <soft> <seconds> ...` (repeatable per class). */
function normalizeClientOutputBufferLimit(args: string[], current: string): string | { error: string } {
  const w = words(args);
  if (w.length % 4 !== 0 || w.length === 0) {
    return { error: 'Wrong number of arguments in buffer limit configuration.' };
  }
  const byClass = new Map<string, string[]>();
  const cur = current.split(/\s+/).filter(Boolean);
  for (let k = 0; k + 3 < cur.length; k += 4) byClass.set(cur[k], cur.slice(k + 1, k + 4));
  for (let k = 0; k < w.length; k += 4) {
    let cls = w[k].toLowerCase();
    if (cls === 'replica') cls = 'slave';
    if (!OUTPUT_CLASSES.includes(cls)) {
      return { error: 'Invalid client class specified in buffer limit configuration.' };
    }
    const hard = parseMemory(w[k + 1]);
    const soft = parseMemory(w[k + 2]);
    const secs = Number(w[k + 3]);
    if (hard === null || soft === null || !/^\d+$/.test(w[k + 3]) || secs < 0) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    byClass.set(cls, [String(hard), String(soft), String(secs)]);
  }
  return OUTPUT_CLASSES.map((c) => `${c} ${(byClass.get(c) ?? ['0', '0', '0']).join(' ')}`).join(' ');
}

/** `bind addr [addr ...]`. */
function normalizeBind(args: string[]): string | { error: string } {
  const w = words(args);
  if (w.length === 0) return { error: 'Failed to bind to specified addresses.' };
  return w.join(' ');
}

/** notify-keyspace-events: letters of Redis's classes; canonical order as Redis prints it. */
function normalizeNotify(args: string[]): string | { error: string } {
  const bits = parseNotifyFlags(args.join(''));
  if (bits === null) return { error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
  return formatNotifyFlags(bits);
}

/** oom-score-adj-values: three integers between -2000 and 2000. */
function normalizeOomValues(args: string[]): string | { error: string } {
  const w = words(args);
  if (w.length !== 3) return { error: 'wrong number of arguments' };
  for (const x of w) {
    const n = Number(x);
    if (!/^-?\d+$/.test(x) || n < -2000 || n > 2000) return { error: 'Invalid oom-score-adj-values' };
  }
  return w.map(Number).join(' ');
}

/** latency-tracking-info-percentiles: numbers between 0 and 100. */
function normalizePercentiles(args: string[]): string | { error: string } {
  const w = words(args);
  for (const x of w) {
    const n = Number(x);
    if (!Number.isFinite(n) || n < 0 || n > 100) {
      return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
    }
  }
  return w.map((x) => String(Number(x))).join(' ');
}

/** maxmemory-clients: a memory value or a percentage of maxmemory. */
function normalizeMaxmemoryClients(args: string[]): string | { error: string } {
  const text = args.join(' ').trim();
  const pct = /^(\d+)%$/.exec(text);
  if (pct)
    return Number(pct[1]) <= 100
      ? `${Number(pct[1])}%`
      : { error: 'argument must be a memory or percent value' };
  const n = parseMemory(text);
  return n === null ? { error: 'argument must be a memory or percent value' } : String(n);
}

/** hz: any non-negative int is accepted; like Redis, values are clamped to 1..500. */
function normalizeHz(args: string[]): string | { error: string } {
  const text = args.join(' ');
  if (!/^-?\d+$/.test(text)) return { error: "argument couldn't be parsed into an integer" };
  const n = BigInt(text);
  if (n < 0n || n > BigInt(INT_MAX)) return { error: `argument must be between 0 and ${INT_MAX} inclusive` };
  return String(n < 1n ? 1 : n > 500n ? 500 : Number(n));
}

const POLICIES = [
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'noeviction',
];
const SHUTDOWN_FLAGS = ['default', 'save', 'nosave', 'now', 'force'];

export const DIRECTIVES: Directive[] = [
  // Network
  special('bind', '* -::*', normalizeBind),
  s('bind-source-addr', ''),
  i('port', 6379, 0, 65535),
  b('protected-mode', 'yes'),
  i('tcp-backlog', 511, 0, INT_MAX, false),
  i('timeout', 0, 0, INT_MAX),
  i('tcp-keepalive', 300, 0, INT_MAX),
  s('unixsocket', '', false),
  i('unixsocketperm', 0, 0, 0o777, false),
  i('socket-mark-id', 0, 0, UINT_MAX, false),
  i('maxclients', 10000, 1, UINT_MAX),
  // General
  b('daemonize', 'no', false),
  s('pidfile', '', false),
  e('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning']),
  s('logfile', '', false),
  b('syslog-enabled', 'no', false),
  s('syslog-ident', 'redis', false),
  s('syslog-facility', 'local0', false),
  i('databases', 16, 1, INT_MAX, false),
  b('always-show-logo', 'no', false),
  b('set-proc-title', 'yes', false),
  s('proc-title-template', '{title} {listen-addr} {server-mode}'),
  e('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], false),
  e('enable-debug-command', 'no', ['no', 'yes', 'local'], false),
  e('enable-protected-configs', 'no', ['no', 'yes', 'local'], false),
  e('enable-module-command', 'no', ['no', 'yes', 'local'], false),
  special('hz', '10', normalizeHz, { multiArg: false }),
  b('dynamic-hz', 'yes'),
  s('ignore-warnings', ''),
  b('crash-log-enabled', 'yes'),
  b('crash-memcheck-enabled', 'yes'),
  b('disable-thp', 'yes', false),
  s('server_cpulist', '', false),
  s('bio_cpulist', '', false),
  s('aof_rewrite_cpulist', '', false),
  s('bgsave_cpulist', '', false),
  e('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute']),
  special('oom-score-adj-values', '0 200 800', normalizeOomValues),
  e('shutdown-on-sigint', 'default', SHUTDOWN_FLAGS, true, { flags: true, multiArg: true }),
  e('shutdown-on-sigterm', 'default', SHUTDOWN_FLAGS, true, { flags: true, multiArg: true }),
  i('shutdown-timeout', 10, 0, INT_MAX),
  // Security
  s('requirepass', '', true, { sensitive: true }),
  s('masterauth', '', true, { sensitive: true }),
  s('masteruser', ''),
  s('aclfile', '', false),
  i('acllog-max-len', 128, 0, LLONG_MAX),
  e('acl-pubsub-default', 'resetchannels', ['allchannels', 'resetchannels']),
  // Persistence
  special('save', '3600 1 300 100 60 10000', normalizeSave, { repeatable: true }),
  b('stop-writes-on-bgsave-error', 'yes'),
  b('rdbcompression', 'yes'),
  b('rdbchecksum', 'yes', false),
  e('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']),
  s('dbfilename', 'dump.rdb', true, { protected: true }),
  b('rdb-del-sync-files', 'no'),
  special('dir', '.', (args) => resolve(args.join(' ')), { multiArg: false, protected: true }),
  b('appendonly', 'no'),
  s('appendfilename', 'appendonly.aof', false),
  s('appenddirname', 'appendonlydir', false),
  e('appendfsync', 'everysec', ['everysec', 'always', 'no']),
  b('no-appendfsync-on-rewrite', 'no'),
  i('auto-aof-rewrite-percentage', 100, 0, INT_MAX),
  m('auto-aof-rewrite-min-size', 64 * MB),
  b('aof-load-truncated', 'yes'),
  b('aof-use-rdb-preamble', 'yes'),
  b('aof-timestamp-enabled', 'no'),
  b('aof-disable-auto-gc', 'no'),
  b('rdb-save-incremental-fsync', 'yes'),
  // Test knobs of Redis 7.0 (hidden configs): delay per key in microseconds while saving / loading.
  i('rdb-key-save-delay', 0, INT_MIN, INT_MAX, true, { hidden: true }),
  i('key-load-delay', 0, INT_MIN, INT_MAX, true, { hidden: true }),
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
  b('replica-ignore-disk-write-errors', 'no'),
  b('repl-diskless-sync', 'yes'),
  i('repl-diskless-sync-delay', 5, 0, INT_MAX),
  i('repl-diskless-sync-max-replicas', 0, 0, INT_MAX),
  e('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']),
  i('repl-ping-replica-period', 10, 1, INT_MAX, true, { aliases: ['repl-ping-slave-period'] }),
  i('repl-timeout', 60, 1, INT_MAX),
  b('repl-disable-tcp-nodelay', 'no'),
  m('repl-backlog-size', 1 * MB, 1),
  i('repl-backlog-ttl', 3600, 0, LLONG_MAX),
  i('replica-priority', 100, 0, INT_MAX, true, { aliases: ['slave-priority'] }),
  s('replica-announce-ip', '', true, { aliases: ['slave-announce-ip'] }),
  i('replica-announce-port', 0, 0, 65535, true, { aliases: ['slave-announce-port'] }),
  b('replica-announced', 'yes'),
  b('replica-ignore-maxmemory', 'yes', true, { aliases: ['slave-ignore-maxmemory'] }),
  b('replica-lazy-flush', 'no', true, { aliases: ['slave-lazy-flush'] }),
  i('min-replicas-to-write', 0, 0, INT_MAX, true, { aliases: ['min-slaves-to-write'] }),
  i('min-replicas-max-lag', 10, 0, INT_MAX, true, { aliases: ['min-slaves-max-lag'] }),
  e('propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas']),
  // Limits
  m('proto-max-bulk-len', 512 * MB, MB),
  m('client-query-buffer-limit', 1024 * MB, MB),
  special(
    'client-output-buffer-limit',
    'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    normalizeClientOutputBufferLimit,
    { repeatable: true },
  ),
  // Memory
  m('maxmemory', 0),
  e('maxmemory-policy', 'noeviction', POLICIES),
  i('maxmemory-samples', 5, 1, INT_MAX),
  i('maxmemory-eviction-tenacity', 10, 0, 100),
  special('maxmemory-clients', '0', normalizeMaxmemoryClients, { multiArg: false }),
  b('lazyfree-lazy-eviction', 'no'),
  b('lazyfree-lazy-expire', 'no'),
  b('lazyfree-lazy-server-del', 'no'),
  b('lazyfree-lazy-user-del', 'no'),
  b('lazyfree-lazy-user-flush', 'no'),
  i('lfu-log-factor', 10, 0, INT_MAX),
  i('lfu-decay-time', 1, 0, INT_MAX),
  i('active-expire-effort', 1, 1, 10),
  b('activedefrag', 'no'),
  b('activerehashing', 'yes'),
  b('jemalloc-bg-thread', 'yes'),
  i('active-defrag-cycle-min', 1, 1, 99),
  i('active-defrag-cycle-max', 25, 1, 99),
  i('active-defrag-threshold-lower', 10, 0, 1000),
  i('active-defrag-threshold-upper', 100, 0, 1000),
  m('active-defrag-ignore-bytes', 100 * MB, 1),
  i('active-defrag-max-scan-fields', 1000, 1, LLONG_MAX),
  i('io-threads', 1, 1, 128, false),
  b('io-threads-do-reads', 'no', false),
  // Encodings (accepted and reported; the data types read them to report OBJECT ENCODING)
  i('hash-max-listpack-entries', 512, 0, LLONG_MAX, true, { aliases: ['hash-max-ziplist-entries'] }),
  m('hash-max-listpack-value', 64, 0, true, { aliases: ['hash-max-ziplist-value'] }),
  i('list-max-listpack-size', -2, INT_MIN, INT_MAX, true, { aliases: ['list-max-ziplist-size'] }),
  i('list-compress-depth', 0, 0, INT_MAX),
  i('set-max-intset-entries', 512, 0, LLONG_MAX),
  i('zset-max-listpack-entries', 128, 0, LLONG_MAX, true, { aliases: ['zset-max-ziplist-entries'] }),
  m('zset-max-listpack-value', 64, 0, true, { aliases: ['zset-max-ziplist-value'] }),
  m('hll-sparse-max-bytes', 3000),
  m('stream-node-max-bytes', 4096),
  i('stream-node-max-entries', 100, 0, LLONG_MAX),
  // Observability
  special('notify-keyspace-events', '', normalizeNotify, { multiArg: false }),
  i('slowlog-log-slower-than', 10000, -1, LLONG_MAX),
  i('slowlog-max-len', 128, 0, LLONG_MAX),
  i('latency-monitor-threshold', 0, 0, LLONG_MAX),
  special('latency-tracking-info-percentiles', '50 99 99.9', normalizePercentiles),
  b('latency-tracking', 'yes'),
  i('lua-time-limit', 5000, 0, LLONG_MAX),
  i('busy-reply-threshold', 5000, 0, LLONG_MAX),
  i('tracking-table-max-keys', 1000000, 0, LLONG_MAX),
  // Cluster (standalone only: accepted and reported)
  b('cluster-enabled', 'no', false),
  s('cluster-config-file', 'nodes.conf', false),
  i('cluster-port', 0, 0, 65535, false),
  i('cluster-node-timeout', 15000, 0, LLONG_MAX),
  s('cluster-announce-ip', ''),
  s('cluster-announce-hostname', ''),
  i('cluster-announce-port', 0, 0, 65535),
  i('cluster-announce-bus-port', 0, 0, 65535),
  i('cluster-announce-tls-port', 0, 0, 65535),
  i('cluster-replica-validity-factor', 10, 0, INT_MAX, true, { aliases: ['cluster-slave-validity-factor'] }),
  i('cluster-migration-barrier', 1, 0, INT_MAX),
  b('cluster-allow-replica-migration', 'yes'),
  b('cluster-require-full-coverage', 'yes'),
  b('cluster-replica-no-failover', 'no', true, { aliases: ['cluster-slave-no-failover'] }),
  b('cluster-allow-reads-when-down', 'no'),
  b('cluster-allow-pubsubshard-when-down', 'yes'),
  m('cluster-link-sendbuf-limit', 0),
  e('cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint']),
  // TLS (no TLS listener in the agent: accepted and reported)
  i('tls-port', 0, 0, 65535),
  s('tls-cert-file', ''),
  s('tls-key-file', ''),
  s('tls-key-file-pass', '', true, { sensitive: true }),
  s('tls-client-cert-file', ''),
  s('tls-client-key-file', ''),
  s('tls-client-key-file-pass', '', true, { sensitive: true }),
  s('tls-dh-params-file', ''),
  s('tls-ca-cert-file', ''),
  s('tls-ca-cert-dir', ''),
  e('tls-auth-clients', 'yes', ['no', 'yes', 'optional']),
  b('tls-replication', 'no'),
  b('tls-cluster', 'no'),
  s('tls-protocols', ''),
  s('tls-ciphers', ''),
  s('tls-ciphersuites', ''),
  b('tls-prefer-server-ciphers', 'no'),
  b('tls-session-caching', 'yes'),
  i('tls-session-cache-size', 20480, 0, INT_MAX),
  i('tls-session-cache-timeout', 300, 0, INT_MAX),
];

/** Parses Redis memory units: 1k = 1000, 1kb = 1024, 1m, 1mb, 1g, 1gb (case-insensitive); null if invalid. */
export function parseMemory(text: string): number | null {
  const big = parseMemoryBig(text);
  return big === null ? null : Number(big);
}

/** Like parseMemory, exact for values beyond 2^53. */
export function parseMemoryBig(text: string): bigint | null {
  const match = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text.trim());
  if (!match) return null;
  const unit = (match[2] ?? '').toLowerCase();
  const mult: Record<string, bigint> = {
    '': 1n,
    b: 1n,
    k: 1000n,
    kb: 1024n,
    m: 1000000n,
    mb: 1048576n,
    g: 1000000000n,
    gb: 1073741824n,
  };
  return BigInt(match[1]) * mult[unit];
}
