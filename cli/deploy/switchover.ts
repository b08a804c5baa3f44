/**
 * Switchover: move the master role of a tree from `from` (the current master) to `to` (one of its direct
 * replicas) without losing an acknowledged write and without two writable masters.
 *
 * The agent's FAILOVER TO does the delicate part on the old master, as in Redis 7: it pauses writes, waits until
 * the target has acknowledged the whole replication stream, then becomes a replica of the target and sends it
 * `PSYNC <replid> <offset> FAILOVER`, which promotes the target with the old history as its secondary id; writes
 * held during the pause then get READONLY (never a silent loss). We then repoint the former siblings at the new
 * master; since the new master knows the old replication id they continue with a partial resync, which we check
 * (sync_partial_ok on the new master grows by the number of siblings, sync_full does not).
 */
import { OperationFailure, messageOf } from '../errors';
import type { NodeSpec } from '../inventory/model';
import type { AgentConnection } from '../redis/connect';
import { num, type Info } from '../redis/info';
import type { Session } from './session';

export const SWITCHOVER_TIMEOUT_MS = 30_000;
export const SWITCHOVER_POLL_MS = 50;

export interface SwitchoverReport {
  from: string;
  to: string;
  siblings: string[];
  /** Master offset at the switch (the old master's, reached by the new one). */
  offset?: number;
  /** sync_partial_ok / sync_full growth on the new master while the others reattached. */
  partialResyncs: number;
  fullResyncs: number;
  elapsedMs: number;
}

export interface SwitchoverInput {
  session: Session;
  from: NodeSpec;
  to: NodeSpec;
  /** Other replicas of `from` to repoint at `to`. */
  siblings: NodeSpec[];
  timeoutMs?: number;
  note?(line: string): void;
}

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = messageOf(e);
    }
    await new Promise((r) => setTimeout(r, SWITCHOVER_POLL_MS));
  }
  throw new OperationFailure(
    'E_SWITCHOVER',
    `switchover: timed out waiting for ${what}${last ? `: ${last}` : ''}`,
  );
}

export async function switchover(input: SwitchoverInput): Promise<SwitchoverReport> {
  const { session, from, to, siblings } = input;
  const timeoutMs = input.timeoutMs ?? SWITCHOVER_TIMEOUT_MS;
  const started = Date.now();
  const conns: AgentConnection[] = [];
  const open = async (n: NodeSpec) => {
    const c = await session.connect(n);
    conns.push(c);
    return c;
  };
  try {
    const old = await open(from);
    const target = await open(to);
    const ti = await target.info('replication');
    if (
      ti.role !== 'slave' ||
      ti.master_host !== from.address ||
      num(ti, 'master_port') !== from.server.port
    ) {
      throw new OperationFailure('E_SWITCHOVER', `switchover: ${to.name} is not a replica of ${from.name}`);
    }
    if (ti.master_link_status !== 'up') {
      throw new OperationFailure(
        'E_SWITCHOVER',
        `switchover: ${to.name}'s link to ${from.name} is down; refusing to promote a replica that is behind`,
      );
    }
    const before = await target.info('stats');
    const partial0 = num(before, 'sync_partial_ok') ?? 0;
    const full0 = num(before, 'sync_full') ?? 0;

    input.note?.(`FAILOVER TO ${to.name} on ${from.name}`);
    try {
      await old.redis.call(
        'FAILOVER',
        'TO',
        to.address,
        String(to.server.port),
        'TIMEOUT',
        String(timeoutMs),
      );
    } catch (e) {
      throw new OperationFailure(
        'E_SWITCHOVER',
        `switchover: ${from.name} refused FAILOVER: ${messageOf(e)}`,
      );
    }
    // Done when the old master follows the target and its failover state is clear (aborted: it is a master again).
    const oldInfo: Info = await waitUntil(
      `${from.name} to hand over to ${to.name}`,
      timeoutMs + 5000,
      async () => {
        const i = await old.info('replication');
        if (i.master_failover_state && i.master_failover_state !== 'no-failover') return undefined;
        if (i.role === 'master') {
          throw new OperationFailure(
            'E_SWITCHOVER',
            `switchover: FAILOVER on ${from.name} was aborted (see its log)`,
          );
        }
        return i;
      },
    );
    const offset = num(oldInfo, 'master_repl_offset');
    await waitUntil(`${to.name} to become master`, timeoutMs, async () => {
      const i = await target.info('replication');
      return i.role === 'master' ? i : undefined;
    });

    for (const s of siblings) {
      input.note?.(`REPLICAOF ${to.name} on ${s.name}`);
      const c = await open(s);
      await c.redis.call('REPLICAOF', to.address, String(to.server.port));
    }
    const wanted = [from, ...siblings];
    await waitUntil(
      `${wanted.map((n) => n.name).join(', ')} to follow ${to.name} with links up`,
      timeoutMs,
      async () => {
        const infos = await Promise.all(conns.filter((c) => c !== target).map((c) => c.info('replication')));
        const ok = infos.every(
          (i) =>
            i.role === 'slave' &&
            i.master_host === to.address &&
            num(i, 'master_port') === to.server.port &&
            i.master_link_status === 'up',
        );
        return ok ? true : undefined;
      },
    );
    // Persist the new roles, so that a restart of any of them keeps the topology (the next apply compares files
    // by meaning and shows the difference from the inventory).
    const unpersisted: string[] = [];
    for (const [n, c] of [
      [to, target],
      [from, old],
      ...siblings.map((s, i) => [s, conns[2 + i]] as const),
    ] as const) {
      try {
        await c.redis.config('REWRITE');
      } catch (e) {
        unpersisted.push(`${n.name}: ${messageOf(e)}`);
      }
    }
    if (unpersisted.length > 0) input.note?.(`CONFIG REWRITE refused: ${unpersisted.join('; ')}`);
    const after = await target.info('stats');
    return {
      from: from.name,
      to: to.name,
      siblings: siblings.map((s) => s.name),
      offset,
      partialResyncs: (num(after, 'sync_partial_ok') ?? 0) - partial0,
      fullResyncs: (num(after, 'sync_full') ?? 0) - full0,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}
