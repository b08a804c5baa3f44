/**
 * Health verdicts: each node's sample against the inventory and the thresholds, giving problems in three levels.
 * `down` (exit 2): the node does not answer, or a replica's link to its master is not up.
 * `degraded` (exit 1): drift from the inventory (role or master), lag beyond the thresholds, a sync still in
 * progress, a resync loop (sync_full or sync_partial_err grew since the previous poll), a failed background save,
 * client connections near maxclients or refused at it since the previous poll (an agent under a low open-file
 * limit lowers maxclients by itself, so this is where an operator learns of it).
 * `ok` otherwise. The status is the worst level over all nodes.
 */
import type { NodeSample, SyncCounters } from './sample';

export type Level = 'ok' | 'degraded' | 'down';

export interface Thresholds {
  lagBytes: number;
  lagSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { lagBytes: 1024 * 1024, lagSeconds: 10 };

/** Share of maxclients in use from which a node is degraded: the next clients are about to be refused. */
export const CLIENTS_NEAR_LIMIT_SHARE = 0.9;

export interface NodeVerdict {
  name: string;
  level: Level;
  problems: string[];
  drift: boolean;
  /** Counters that moved since the previous poll (undefined on the first poll). */
  countersMoved?: Partial<SyncCounters>;
  resyncLoop: boolean;
}

const RANK: Record<Level, number> = { ok: 0, degraded: 1, down: 2 };

export function worst(levels: Level[]): Level {
  return levels.reduce<Level>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');
}

export function exitCodeOf(level: Level): 0 | 1 | 2 {
  return RANK[level] as 0 | 1 | 2;
}

export function judge(s: NodeSample, previous: NodeSample | undefined, t: Thresholds): NodeVerdict {
  const problems: string[] = [];
  let level: Level = 'ok';
  const raise = (l: Level, msg: string) => {
    problems.push(msg);
    level = worst([level, l]);
  };
  if (!s.up) {
    raise('down', `does not answer: ${s.error ?? 'no reply'}`);
    return { name: s.name, level, problems, drift: false, resyncLoop: false };
  }
  const wantRole = s.expectedMaster ? 'replica' : 'master';
  let drift = false;
  if (s.role !== wantRole) {
    drift = true;
    raise(
      'degraded',
      `drift: is a ${s.role}${s.master ? ` of ${s.master}` : ''}, the inventory says ${wantRole}${s.expectedMaster ? ` of ${s.expectedMaster}` : ''}`,
    );
  } else if (s.role === 'replica' && s.master !== s.expectedMaster) {
    drift = true;
    raise('degraded', `drift: follows ${s.master}, the inventory says ${s.expectedMaster}`);
  }
  if (s.role === 'replica') {
    if (s.linkStatus !== 'up') {
      raise(
        'down',
        `link to ${s.master} is ${s.linkStatus ?? 'unknown'}${s.linkDownSeconds !== undefined ? ` for ${s.linkDownSeconds} s` : ''}${s.syncInProgress ? ` (sync in progress${s.syncPercent !== undefined ? ` ${s.syncPercent}%` : ''})` : ''}`,
      );
    } else {
      if (s.lagBytes !== undefined && s.lagBytes > t.lagBytes)
        raise('degraded', `lag ${s.lagBytes} bytes > ${t.lagBytes}`);
      if (s.lagSeconds !== undefined && s.lagSeconds > t.lagSeconds)
        raise('degraded', `lag ${s.lagSeconds} s > ${t.lagSeconds}`);
    }
  }
  if (s.persistence?.lastBgsaveStatus && s.persistence.lastBgsaveStatus !== 'ok')
    raise('degraded', `last background save: ${s.persistence.lastBgsaveStatus}`);
  if (s.clients) {
    const { connected, max, rejected } = s.clients;
    if (connected >= CLIENTS_NEAR_LIMIT_SHARE * max)
      raise('degraded', `${connected} clients of maxclients ${max}`);
    const refused = previous?.clients ? rejected - previous.clients.rejected : 0;
    if (refused > 0)
      raise('degraded', `refused ${refused} connections at maxclients ${max} since the previous poll`);
  }
  let countersMoved: Partial<SyncCounters> | undefined;
  let resyncLoop = false;
  if (previous?.up && previous.counters && s.counters) {
    countersMoved = {};
    for (const k of ['full', 'partialOk', 'partialErr'] as const) {
      const d = s.counters[k] - previous.counters[k];
      if (d !== 0) countersMoved[k] = d;
    }
    if ((countersMoved.full ?? 0) > 0 || (countersMoved.partialErr ?? 0) > 0) {
      resyncLoop = true;
      raise(
        'degraded',
        `resync loop: sync_full +${countersMoved.full ?? 0}, sync_partial_err +${countersMoved.partialErr ?? 0} since the previous poll`,
      );
    }
  }
  return { name: s.name, level, problems, drift, countersMoved, resyncLoop };
}
