/**
 * `orchestrate promote [INVENTORY] HOST`: switchover of HOST's tree to HOST (deploy/switchover.ts), under the run
 * lock and recorded in the history; then the same sync verification as apply, over the topology as it now is.
 * The inventory is left as it is: status reports the drift, and the next apply would move the master back (by
 * switchover) unless the inventory is updated.
 */
import { OperationFailure, UserError } from '../errors';
import { switchover } from '../deploy/switchover';
import { diagnoseReplica } from '../deploy/diagnose';
import { inventoryRecord, recordedRun } from '../state/record';
import { describeTopology, observeTopology, type Topology } from '../state/topology';
import { confirm } from '../ui/prompt';
import { verifySync, type VerifyResult } from '../verify/verify';
import { requireConfirmation } from './confirmation';
import { loadInventory, openSession, type CommandContext, type CommandOutcome } from './context';
import type { Session } from '../deploy/session';
import type { NodeSpec } from '../inventory/model';

/** Sync verification of every replica of the observed topology (not the inventory's). */
export async function verifyObserved(
  session: Session,
  nodes: NodeSpec[],
  topology: Topology,
  replicas: string[],
  timeoutMs: number,
): Promise<VerifyResult> {
  const masterOf = new Map(topology.map((t) => [t.name, t.role === 'replica' ? t.master : undefined]));
  return verifySync({
    nodes: nodes.map((n) => ({
      name: n.name,
      address: n.address,
      port: n.server.port,
      master: masterOf.get(n.name),
    })),
    replicas,
    connect: (name) => session.connect(session.node(name)),
    timeoutMs,
    diagnose: (name) => diagnoseReplica(session, session.node(name), session.node(masterOf.get(name)!)),
  });
}

export function verifyFailure(v: VerifyResult, timeoutMs: number): OperationFailure {
  const details: string[] = [];
  for (const r of v.replicas.filter((x) => !x.ok)) {
    details.push(`${r.name}:`, ...r.problems.map((p) => `  ${p}`), ...r.diagnosis.map((d) => `  ${d}`));
  }
  return new OperationFailure(
    'E_VERIFY_FAILED',
    `replication not proven in sync within ${Math.round(timeoutMs / 1000)} s`,
    details,
  );
}

export async function runPromote(ctx: CommandContext): Promise<CommandOutcome> {
  const loaded = loadInventory(ctx);
  const host = ctx.argument!;
  const node = loaded.inventory.nodes.find((n) => n.name === host);
  if (!node) {
    throw new UserError('E_NODE_UNKNOWN', `promote: no host "${host}" in the inventory`, [
      `hosts: ${loaded.inventory.nodes.map((n) => n.name).join(', ')}`,
    ]);
  }
  return recordedRun(
    ctx,
    { command: 'promote', summary: `promote ${host}`, inventory: inventoryRecord(loaded.inventory) },
    async ({ history, entry }) => {
      const session = openSession(ctx, loaded);
      const nodes = loaded.inventory.nodes;
      const connect = (n: NodeSpec) => session.connect(n);
      try {
        entry.before = await observeTopology(nodes, connect);
        history.save(entry);
        const me = entry.before.find((t) => t.name === host)!;
        if (!me.reachable) throw new OperationFailure('E_SWITCHOVER', `${host} does not answer: ${me.error}`);
        if (me.role === 'master') {
          entry.after = entry.before;
          ctx.say(`${host} is already a master; nothing to do.`);
          return {
            exitCode: 0,
            json: { ok: true, historyId: entry.id, switchover: null, after: entry.after },
          };
        }
        const fromName = me.master!;
        const fromNow = entry.before.find((t) => t.name === fromName);
        const from = nodes.find((n) => n.name === fromName);
        if (!from || fromNow?.role !== 'master') {
          throw new OperationFailure(
            'E_SWITCHOVER',
            `${host} follows ${fromName}, which is not a master of this inventory; promote works on direct replicas of a master`,
          );
        }
        const siblings = entry.before
          .filter((t) => t.role === 'replica' && t.master === fromName && t.name !== host)
          .map((t) => nodes.find((n) => n.name === t.name)!);
        ctx.say(
          `Switchover: ${fromName} -> ${host}; ${siblings.map((s) => s.name).join(', ') || 'no other replicas'} repointed.`,
        );
        await requireConfirmation(ctx, `Promote ${host} and demote ${fromName}?`, confirm);
        const sw = await switchover({ session, from, to: node, siblings, note: (l) => ctx.note(l) });
        entry.switchovers = [{ from: fromName, to: host }];
        entry.changed = true;
        const mid = await observeTopology(nodes, connect);
        const replicas = mid.filter((t) => t.role === 'replica').map((t) => t.name);
        const v = await verifyObserved(session, nodes, mid, replicas, ctx.options.verifyTimeoutMs);
        entry.after = await observeTopology(nodes, connect);
        const json = { ok: v.ok, historyId: entry.id, switchover: sw, verification: v, after: entry.after };
        if (!v.ok) {
          const f = verifyFailure(v, ctx.options.verifyTimeoutMs);
          f.data = json;
          throw f;
        }
        ctx.say(
          ctx.style.green(`Promoted ${host} in ${sw.elapsedMs} ms.`) +
            ` Siblings resynced partially: ${sw.partialResyncs}, fully: ${sw.fullResyncs}. Sync verified on ${replicas.length} replica(s).`,
        );
        for (const l of describeTopology(entry.after)) ctx.say(`  ${l}`);
        ctx.say(
          ctx.style.dim(
            `The inventory still says otherwise: update it, or the next apply moves the master back.`,
          ),
        );
        return { exitCode: 0, json };
      } finally {
        await session.close();
      }
    },
  );
}
