/**
 * INFO: the server's state as `field:value` lines grouped in `# Section`s, with Redis 7.0's section names, field
 * names and order, so that monitoring tools and the orchestrator can parse it as they parse Redis's.
 *
 * Sections come from `server.infoSections`; this file registers the core ones (server, clients, memory, stats,
 * cpu, modules, commandstats, errorstats, cluster, keyspace) plus minimal persistence and replication sections
 * that the persistence and replication modules replace with their own. `INFO` alone prints the default set,
 * `all` adds commandstats and latencystats, `everything` adds modules; several section names may be given.
 */
import { totalmem, platform, release, arch } from 'node:os';
import type { Client } from '../server/client';
import type { InfoFields, Server } from '../server/server';
import { AGENT_VERSION, REDIS_COMPAT_VERSION } from '../server/server';
import { cmd, type CommandSpec, type Command } from './table';

/** Redis's section order; sections registered under other names print after these, in registration order. */
const SECTION_ORDER = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'modules',
  'commandstats',
  'errorstats',
  'latencystats',
  'cluster',
  'keyspace',
];
/** Sections that only `all`, `everything` or their own name show. */
const NOT_DEFAULT = new Set(['commandstats', 'latencystats']);

/** Redis's bytesToHuman. */
export function bytesToHuman(n: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 5, 'P'],
    [1024 ** 4, 'T'],
    [1024 ** 3, 'G'],
    [1024 ** 2, 'M'],
    [1024, 'K'],
  ];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(2)}${unit}`;
  return `${n}B`;
}

function sectionTitle(name: string): string {
  if (name === 'cpu') return 'CPU';
  return name[0].toUpperCase() + name.slice(1);
}

/** Builds the INFO text for the requested section names (lowercase). */
export function infoText(server: Server, requested: string[]): string {
  const known = [...server.infoSections.keys()];
  const ordered = [
    ...SECTION_ORDER.filter((s) => server.infoSections.has(s)),
    ...known.filter((s) => !SECTION_ORDER.includes(s)),
  ];
  let wanted: Set<string>;
  if (requested.length === 0 || requested.includes('default')) {
    wanted = new Set(ordered.filter((s) => !NOT_DEFAULT.has(s)));
  } else if (requested.includes('all') || requested.includes('everything')) {
    wanted = new Set(ordered);
  } else {
    wanted = new Set(requested);
  }
  if (requested.length > 0) for (const r of requested) if (server.infoSections.has(r)) wanted.add(r);
  const parts: string[] = [];
  for (const name of ordered) {
    if (!wanted.has(name)) continue;
    const fields = server.infoSections.get(name)!();
    let text = `# ${sectionTitle(name)}\r\n`;
    for (const [k, v] of fields) text += `${k}:${v}\r\n`;
    parts.push(text);
  }
  return parts.join('\r\n');
}

function info(c: Client, argv: string[]): void {
  const requested = argv.slice(1).map((s) => s.toLowerCase());
  c.reply.verbatim(infoText(c.server, requested));
}

/** Registers the core INFO sections. */
export function installInfoSections(server: Server): void {
  const s = server.infoSections;
  s.set('server', () => serverSection(server));
  s.set('clients', () => clientsSection(server));
  s.set('memory', () => memorySection(server));
  // Placeholders until the persistence and replication modules register theirs (same names, same position).
  if (!s.has('persistence')) {
    s.set('persistence', () => [
      ['loading', server.loading ? 1 : 0],
      ['async_loading', 0],
      ['rdb_changes_since_last_save', server.dirty],
      ['rdb_bgsave_in_progress', 0],
      ['aof_enabled', server.config.getBool('appendonly') ? 1 : 0],
      ['aof_rewrite_in_progress', 0],
    ]);
  }
  s.set('stats', () => statsSection(server));
  if (!s.has('replication')) {
    s.set('replication', () => [
      ['role', server.role === 'replica' ? 'slave' : 'master'],
      ['connected_slaves', 0],
    ]);
  }
  s.set('cpu', () => cpuSection());
  s.set('modules', () => []);
  s.set('commandstats', () => commandStatsSection(server));
  s.set('latencystats', () => latencyStatsSection(server));
  s.set('errorstats', () =>
    [...server.errorCounts].map(([kind, n]): [string, string] => [`errorstat_${kind}`, `count=${n}`]),
  );
  s.set('cluster', () => [['cluster_enabled', 0]]);
  s.set('keyspace', () => keyspaceSection(server));
}

function serverSection(server: Server): InfoFields {
  const uptimeSec = Math.floor((server.nowMs - server.startedAtMs) / 1000);
  const hz = server.config.getInt('hz');
  return [
    ['redis_version', REDIS_COMPAT_VERSION],
    ['agent_version', AGENT_VERSION],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', '0'],
    ['redis_mode', 'standalone'],
    [
      'os',
      `${platform() === 'linux' ? 'Linux' : platform()} ${release()} ${arch() === 'x64' ? 'x86_64' : arch()}`,
    ],
    ['arch_bits', 64],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', server.runId],
    ['tcp_port', server.config.getInt('port')],
    ['server_time_usec', Math.floor(server.nowMs * 1000)],
    ['uptime_in_seconds', uptimeSec],
    ['uptime_in_days', Math.floor(uptimeSec / 86400)],
    ['hz', hz],
    ['configured_hz', hz],
    ['lru_clock', Math.floor(server.nowMs / 1000) & ((1 << 24) - 1)],
    ['executable', process.argv[1] ?? process.execPath],
    ['config_file', server.config.configFile ?? ''],
    ['io_threads_active', 0],
  ];
}

function clientsSection(server: Server): InfoFields {
  let blocked = 0;
  let maxIn = 0;
  let maxOut = 0;
  let normal = 0;
  for (const c of server.clients.values()) {
    // A replica's link to its master counts as a client, as in Redis (it also takes one of maxclients).
    if (c.socket === null && c.kind !== 'master') continue;
    if (c.kind !== 'replica') normal++;
    if (c.blocked !== null) blocked++;
    maxIn = Math.max(maxIn, c.queryBufferBytes);
    maxOut = Math.max(maxOut, c.outputBytes);
  }
  return [
    ['connected_clients', normal],
    ['cluster_connections', 0],
    ['maxclients', server.config.getInt('maxclients')],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', blocked],
    ['tracking_clients', server.tracking.clients.size],
    ['clients_in_timeout_table', blocked],
  ];
}

function memorySection(server: Server): InfoFields {
  const used = server.usedMemoryBytes();
  const rss = process.memoryUsage.rss();
  const peak = server.peakMemoryBytes;
  const startup = server.startupMemoryBytes;
  const dataset = server.memory.datasetBytes();
  const overhead = Math.max(0, used - dataset);
  const maxmemory = server.config.getInt('maxmemory');
  const total = totalmem();
  const heap = process.memoryUsage();
  const overheads: InfoFields = [...server.memoryOverheads].map(([name, f]) => [name, f()]);
  const field = (name: string, fallback: number): [string, number] => [
    name,
    Number(overheads.find(([n]) => n === name)?.[1] ?? fallback),
  ];
  const pct = (a: number, b: number) => (b > 0 ? `${((a * 100) / b).toFixed(2)}%` : '0.00%');
  return [
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', bytesToHuman(rss)],
    ['used_memory_peak', peak],
    ['used_memory_peak_human', bytesToHuman(peak)],
    ['used_memory_peak_perc', pct(used, peak)],
    ['used_memory_overhead', overhead],
    ['used_memory_startup', startup],
    ['used_memory_dataset', dataset],
    ['used_memory_dataset_perc', pct(dataset, used - startup)],
    ['allocator_allocated', heap.heapUsed + heap.external],
    ['allocator_active', heap.heapTotal + heap.external],
    ['allocator_resident', rss],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ['used_memory_lua', 0],
    ['used_memory_vm_eval', 0],
    ['used_memory_lua_human', '0B'],
    ['used_memory_scripts_eval', 0],
    ['number_of_cached_scripts', 0],
    ['number_of_functions', 0],
    ['number_of_libraries', 0],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', 0],
    ['used_memory_vm_total_human', '0B'],
    ['used_memory_functions', 0],
    ['used_memory_scripts', 0],
    ['used_memory_scripts_human', '0B'],
    ['maxmemory', maxmemory],
    ['maxmemory_human', bytesToHuman(maxmemory)],
    ['maxmemory_policy', server.config.get('maxmemory-policy')],
    ['allocator_frag_ratio', '1.00'],
    ['allocator_frag_bytes', 0],
    ['allocator_rss_ratio', '1.00'],
    ['allocator_rss_bytes', 0],
    ['rss_overhead_ratio', '1.00'],
    ['rss_overhead_bytes', 0],
    ['mem_fragmentation_ratio', used > 0 ? (rss / used).toFixed(2) : '0.00'],
    ['mem_fragmentation_bytes', rss - used],
    ['mem_not_counted_for_evict', Math.max(0, used - server.evictionUsedBytes())],
    field('mem_replication_backlog', 0),
    field('mem_total_replication_buffers', 0),
    field('mem_clients_slaves', 0),
    ['mem_clients_normal', server.clientsMemoryBytes()],
    ['mem_cluster_links', 0],
    field('mem_aof_buffer', 0),
    ['mem_allocator', `v8-${process.versions.v8}`],
    ['active_defrag_running', 0],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', 0],
  ];
}

function statsSection(server: Server): InfoFields {
  const st = server.stats;
  let patterns = 0;
  for (const set of server.pubsub.patterns.values()) patterns += set.size;
  return [
    ['total_connections_received', st.totalConnections],
    ['total_commands_processed', st.totalCommands],
    ['instantaneous_ops_per_sec', Math.round(server.opsSampler.rate)],
    ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes],
    ['total_net_repl_input_bytes', st.netReplInputBytes],
    ['total_net_repl_output_bytes', st.netReplOutputBytes],
    ['instantaneous_input_kbps', (server.inputSampler.rate / 1024).toFixed(2)],
    ['instantaneous_output_kbps', (server.outputSampler.rate / 1024).toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', st.rejectedConnections],
    ['sync_full', st.syncFull],
    ['sync_partial_ok', st.syncPartialOk],
    ['sync_partial_err', st.syncPartialErr],
    ['expired_keys', st.expiredKeys],
    ['expired_stale_perc', '0.00'],
    ['expired_time_cap_reached_count', 0],
    ['expire_cycle_cpu_milliseconds', 0],
    ['evicted_keys', st.evictedKeys],
    ['evicted_clients', 0],
    ['total_eviction_exceeded_time', 0],
    ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', st.keyspaceHits],
    ['keyspace_misses', st.keyspaceMisses],
    ['pubsub_channels', server.pubsub.channels.size],
    ['pubsub_patterns', patterns],
    ['pubsubshard_channels', server.pubsub.shardChannels.size],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', 0],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', server.tracking.trackedKeys],
    ['tracking_total_items', server.tracking.trackedItems],
    ['tracking_total_prefixes', server.tracking.prefixCount],
    ['unexpected_error_replies', 0],
    ['total_error_replies', st.errorReplies],
    ['dump_payload_sanitizations', 0],
    ['total_reads_processed', st.readsProcessed],
    ['total_writes_processed', st.writesProcessed],
    ['io_threaded_reads_processed', 0],
    ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', 0],
    ['reply_buffer_expands', 0],
  ];
}

function cpuSection(): InfoFields {
  const u = process.cpuUsage();
  const secs = (micros: number) => (micros / 1e6).toFixed(6);
  return [
    ['used_cpu_sys', secs(u.system)],
    ['used_cpu_user', secs(u.user)],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', secs(u.system)],
    ['used_cpu_user_main_thread', secs(u.user)],
  ];
}

/** Every command (and subcommand) that was called, rejected or failed at least once. */
export function commandStatsSection(server: Server): InfoFields {
  const out: InfoFields = [];
  const visit = (cmd: Command) => {
    if (cmd.calls > 0 || cmd.rejectedCalls > 0 || cmd.failedCalls > 0) {
      const usec = Math.round(cmd.usec);
      const perCall = cmd.calls > 0 ? (cmd.usec / cmd.calls).toFixed(2) : '0.00';
      out.push([
        `cmdstat_${cmd.fullName}`,
        `calls=${cmd.calls},usec=${usec},usec_per_call=${perCall},rejected_calls=${cmd.rejectedCalls},` +
          `failed_calls=${cmd.failedCalls}`,
      ]);
    }
    if (cmd.subcommands) for (const sub of cmd.subcommands.values()) visit(sub);
  };
  for (const cmd of server.commands.commands.values()) visit(cmd);
  return out;
}

/** The upper bound in microseconds of each histogram bucket at a percentile (INFO latencystats). */
export function percentileUsec(buckets: Uint32Array, percentile: number): number {
  let total = 0;
  for (const n of buckets) total += n;
  const target = Math.max(1, Math.ceil((percentile / 100) * total));
  let seen = 0;
  for (let b = 0; b < buckets.length; b++) {
    seen += buckets[b];
    if (seen >= target) return 2 ** b;
  }
  return 2 ** (buckets.length - 1);
}

function latencyStatsSection(server: Server): InfoFields {
  const percentiles = server.config
    .get('latency-tracking-info-percentiles')
    .split(' ')
    .filter(Boolean)
    .map(Number);
  const out: InfoFields = [];
  const visit = (cmd: Command) => {
    const buckets = cmd.latencyBuckets;
    if (buckets !== undefined && cmd.calls > 0) {
      const parts = percentiles.map((p) => `p${p}=${percentileUsec(buckets, p).toFixed(3)}`);
      out.push([`latency_percentiles_usec_${cmd.fullName}`, parts.join(',')]);
    }
    if (cmd.subcommands) for (const sub of cmd.subcommands.values()) visit(sub);
  };
  for (const cmd of server.commands.commands.values()) visit(cmd);
  return out;
}

function keyspaceSection(server: Server): InfoFields {
  const out: InfoFields = [];
  for (const db of server.keyspace.dbs) {
    if (db.size === 0) continue;
    let ttlSum = 0;
    let ttlCount = 0;
    // avg_ttl is an estimate in Redis too: sample the first keys with an expiry.
    for (const at of db.expires.values()) {
      if (ttlCount >= AVG_TTL_SAMPLES) break;
      const left = at - server.nowMs;
      if (left > 0) {
        ttlSum += left;
        ttlCount++;
      }
    }
    out.push([
      `db${db.id}`,
      `keys=${db.size},expires=${db.expires.size},avg_ttl=${ttlCount ? Math.round(ttlSum / ttlCount) : 0}`,
    ]);
  }
  return out;
}

/** Keys looked at to estimate avg_ttl. */
const AVG_TTL_SAMPLES = 128;

export const infoCommands: CommandSpec[] = [
  cmd('info', -1, ['loading', 'stale'], 0, 0, 0, info, { categories: ['slow', 'dangerous'] }),
];
