/**
 * One health sample per node: what `orchestrate status` reads from an agent (INFO of the default sections plus
 * CONFIG GET of the persistence settings), reduced to the fields an operator looks at. Pure functions turn INFO
 * into a sample; the poll loop (status command) supplies the INFO and the previous sample (for counter deltas).
 */
import type { NodeSpec } from '../inventory/model';
import { num, replicaEntries, type Info } from '../redis/info';
import { nameOfAddress } from '../state/topology';
import { syncPercent } from '../verify/checks';

export interface SyncCounters {
  full: number;
  partialOk: number;
  partialErr: number;
}

export interface NodeSample {
  name: string;
  address: string;
  port: number;
  up: boolean;
  error?: string;
  /** How the agent was reached: direct TCP, or through the node's SSH tunnel. */
  via?: 'direct' | 'tunnel';
  role?: 'master' | 'replica';
  /** Inventory: the node it should follow (undefined: a master). */
  expectedMaster?: string;
  /** Observed: the node (or host:port) it follows. */
  master?: string;
  linkStatus?: string;
  offset?: number;
  lagBytes?: number;
  lagSeconds?: number;
  lastIoSeconds?: number;
  linkDownSeconds?: number;
  syncInProgress?: boolean;
  syncPercent?: number;
  connectedReplicas?: number;
  counters?: SyncCounters;
  persistence?: { save: string; appendonly: boolean; lastBgsaveStatus?: string };
  /** Client connections: open now, the agent's maxclients, and refused at that limit since it started. */
  clients?: { connected: number; max: number; rejected: number };
  agentVersion?: string;
}

export function baseSample(node: NodeSpec): NodeSample {
  return {
    name: node.name,
    address: node.address,
    port: node.server.port,
    up: false,
    expectedMaster: node.replicaof,
  };
}

export function sampleFromInfo(
  nodes: NodeSpec[],
  node: NodeSpec,
  info: Info,
  config: { save?: string; appendonly?: string },
): NodeSample {
  const s = baseSample(node);
  s.up = true;
  s.role = info.role === 'slave' ? 'replica' : 'master';
  s.agentVersion = info.agent_version ?? info.redis_version;
  s.connectedReplicas = num(info, 'connected_slaves') ?? 0;
  s.counters = {
    full: num(info, 'sync_full') ?? 0,
    partialOk: num(info, 'sync_partial_ok') ?? 0,
    partialErr: num(info, 'sync_partial_err') ?? 0,
  };
  const max = num(info, 'maxclients');
  if (max !== undefined) {
    s.clients = {
      connected: num(info, 'connected_clients') ?? 0,
      max,
      rejected: num(info, 'rejected_connections') ?? 0,
    };
  }
  s.persistence = {
    save: (config.save ?? '').trim(),
    appendonly: (config.appendonly ?? info.aof_enabled) === 'yes' || info.aof_enabled === '1',
    lastBgsaveStatus: info.rdb_last_bgsave_status,
  };
  if (s.role === 'replica') {
    s.master = nameOfAddress(nodes, info.master_host, num(info, 'master_port'));
    s.linkStatus = info.master_link_status;
    s.offset = num(info, 'slave_repl_offset');
    const io = num(info, 'master_last_io_seconds_ago');
    s.lastIoSeconds = io !== undefined && io >= 0 ? io : undefined;
    const down = num(info, 'master_link_down_since_seconds');
    s.linkDownSeconds = down !== undefined && down >= 0 && s.linkStatus !== 'up' ? down : undefined;
    s.syncInProgress = info.master_sync_in_progress === '1';
    s.syncPercent = s.syncInProgress ? syncPercent(info) : undefined;
  } else {
    s.offset = num(info, 'master_repl_offset');
  }
  return s;
}

/**
 * Fills lag of each replica from its master's sample: bytes = master offset - replica offset; seconds = the
 * master's view of the replica's last ACK (INFO `lag`), else the replica's last I/O.
 */
export function fillLag(samples: NodeSample[], masterInfos: Map<string, Info>): void {
  const byName = new Map(samples.map((s) => [s.name, s]));
  for (const s of samples) {
    if (s.role !== 'replica' || !s.master) continue;
    const m = byName.get(s.master);
    if (m?.up && m.offset !== undefined && s.offset !== undefined)
      s.lagBytes = Math.max(0, m.offset - s.offset);
    const mi = masterInfos.get(s.master);
    const entry = mi ? replicaEntries(mi).find((e) => e.ip === s.address && e.port === s.port) : undefined;
    s.lagSeconds = entry ? entry.lag : s.lastIoSeconds;
  }
}
