/**
 * Output forms of a status poll: the per-node table for people, and the Prometheus text exposition format
 * (version 0.0.4: `# HELP`, `# TYPE`, `name{labels} value` lines) for node_exporter's textfile collector.
 */
import type { Style } from '../ui/style';
import type { NodeSample } from './sample';
import type { Level, NodeVerdict } from './verdict';

function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}K`;
  return `${(n / 1024 / 1024).toFixed(1)}M`;
}

export function renderStatusTable(samples: NodeSample[], verdicts: NodeVerdict[], style: Style): string[] {
  const head = [
    'NODE',
    'ADDRESS',
    'ROLE',
    'LINK',
    'FOLLOWS',
    'OFFSET',
    'LAG',
    'LAST IO',
    'SYNC',
    'REPLICAS',
    'FULL/PART/ERR',
    'PERSISTENCE',
    'AGENT',
    'HEALTH',
  ];
  const rows = samples.map((s, i) => {
    const v = verdicts[i];
    const moved = v.countersMoved && Object.keys(v.countersMoved).length > 0 ? ' (moved)' : '';
    const follows =
      s.role === 'replica'
        ? `${s.master}${s.master !== s.expectedMaster ? ` (inventory: ${s.expectedMaster ?? 'master'})` : ''}`
        : s.up && s.expectedMaster
          ? `- (inventory: ${s.expectedMaster})`
          : '-';
    return [
      s.name,
      `${s.address}:${s.port}`,
      s.up ? (s.role ?? '?') : 'DOWN',
      s.role === 'replica' ? (s.linkStatus ?? '?') : '-',
      s.up ? follows : '-',
      s.offset !== undefined ? String(s.offset) : '-',
      s.role === 'replica' ? `${bytes(s.lagBytes)}/${s.lagSeconds ?? '-'}s` : '-',
      s.lastIoSeconds !== undefined ? `${s.lastIoSeconds}s` : '-',
      s.syncInProgress ? `${s.syncPercent ?? '?'}%` : '-',
      s.connectedReplicas !== undefined ? String(s.connectedReplicas) : '-',
      s.counters ? `${s.counters.full}/${s.counters.partialOk}/${s.counters.partialErr}${moved}` : '-',
      s.persistence
        ? [
            s.persistence.save ? `save "${s.persistence.save}"` : 'no rdb',
            s.persistence.appendonly ? 'aof' : '',
          ]
            .filter(Boolean)
            .join(' ')
        : '-',
      s.agentVersion ?? '-',
      v.level === 'ok' ? 'ok' : `${v.level}: ${v.problems.join('; ')}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const paint = (l: Level, text: string) =>
    l === 'ok' ? style.green(text) : l === 'degraded' ? style.yellow(text) : style.red(text);
  const line = (r: string[], level?: Level) =>
    r
      .map((c, i) => {
        const cell = i === r.length - 1 ? c : c.padEnd(widths[i]);
        return i === r.length - 1 && level ? paint(level, cell) : cell;
      })
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map((r, i) => line(r, verdicts[i].level))];
}

function labels(l: Record<string, string>): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;
}

export function renderPrometheus(samples: NodeSample[], verdicts: NodeVerdict[], overall: Level): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    values: Array<[Record<string, string>, number | undefined]>,
  ) => {
    const present = values.filter(([, v]) => v !== undefined);
    if (present.length === 0) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of present) out.push(`${name}${labels(l)} ${v}`);
  };
  const node = (s: NodeSample) => ({ node: s.name, address: `${s.address}:${s.port}` });
  const LEVEL = { ok: 0, degraded: 1, down: 2 } as const;
  metric('orchestrate_status', 'gauge', 'Overall replication health: 0 healthy, 1 degraded, 2 down.', [
    [{}, LEVEL[overall]],
  ]);
  metric(
    'orchestrate_node_health',
    'gauge',
    'Node health: 0 ok, 1 degraded, 2 down.',
    samples.map((s, i) => [node(s), LEVEL[verdicts[i].level]]),
  );
  metric(
    'orchestrate_node_up',
    'gauge',
    'Whether the agent answered.',
    samples.map((s) => [node(s), s.up ? 1 : 0]),
  );
  metric(
    'orchestrate_node_is_master',
    'gauge',
    'Whether the node is a master.',
    samples.filter((s) => s.up).map((s) => [node(s), s.role === 'master' ? 1 : 0]),
  );
  metric(
    'orchestrate_replica_link_up',
    'gauge',
    "Whether the replica's link to its master is up.",
    samples.filter((s) => s.role === 'replica').map((s) => [node(s), s.linkStatus === 'up' ? 1 : 0]),
  );
  metric(
    'orchestrate_drift',
    'gauge',
    'Whether role or master differ from the inventory.',
    samples.map((s, i) => [node(s), s.up ? (verdicts[i].drift ? 1 : 0) : undefined]),
  );
  metric(
    'orchestrate_replication_offset_bytes',
    'gauge',
    'Replication offset (master_repl_offset or slave_repl_offset).',
    samples.map((s) => [node(s), s.offset]),
  );
  metric(
    'orchestrate_replication_lag_bytes',
    'gauge',
    "Bytes the replica is behind its master's offset.",
    samples.map((s) => [node(s), s.lagBytes]),
  );
  metric(
    'orchestrate_replication_lag_seconds',
    'gauge',
    "Seconds since the replica's last acknowledgement as its master sees it.",
    samples.map((s) => [node(s), s.lagSeconds]),
  );
  metric(
    'orchestrate_sync_in_progress',
    'gauge',
    'Whether a full sync is in progress on the replica.',
    samples.filter((s) => s.role === 'replica').map((s) => [node(s), s.syncInProgress ? 1 : 0]),
  );
  metric(
    'orchestrate_connected_clients',
    'gauge',
    'Client connections open on the agent.',
    samples.map((s) => [node(s), s.clients?.connected]),
  );
  metric(
    'orchestrate_maxclients',
    'gauge',
    "The agent's maxclients (lowered by the agent itself under a low open-file limit).",
    samples.map((s) => [node(s), s.clients?.max]),
  );
  metric(
    'orchestrate_rejected_connections_total',
    'counter',
    'Connections the agent refused at maxclients since it started.',
    samples.map((s) => [node(s), s.clients?.rejected]),
  );
  metric(
    'orchestrate_connected_replicas',
    'gauge',
    'Replicas connected to the node.',
    samples.map((s) => [node(s), s.connectedReplicas]),
  );
  for (const [k, field] of [
    ['full', 'sync_full'],
    ['partialOk', 'sync_partial_ok'],
    ['partialErr', 'sync_partial_err'],
  ] as const) {
    metric(
      `orchestrate_${field}_total`,
      'counter',
      `INFO stats ${field} of the node.`,
      samples.map((s) => [node(s), s.counters?.[k]]),
    );
  }
  metric(
    'orchestrate_resync_loop',
    'gauge',
    'Whether sync_full or sync_partial_err grew between the last two polls.',
    samples.map((s, i) => [node(s), s.up ? (verdicts[i].resyncLoop ? 1 : 0) : undefined]),
  );
  return `${out.join('\n')}\n`;
}
