/**
 * `orchestrate restart [INVENTORY] [--limit] [--switchover]`: rolling restart under the run lock, recorded in
 * the history. Replicas first, deepest first, one at a time: stop, start, wait until the agent answers, then the
 * same sync verification as apply for that replica before the next one is touched. Masters last: restarted in
 * place (their replicas reconnect and continue partially, since the agent keeps its replication id across a
 * restart with persistence), or with --switchover moved to a replica first and back afterwards, so that writes
 * are refused only for the two short pauses. A master without persistence is never restarted in place: it would
 * come back empty and its replicas would copy the empty dataset.
 * Per node the report says how its master's sync_partial_ok / sync_full moved: a rolling restart should cause
 * partial resyncs only.
 */
import { OperationFailure } from '../errors';
import { startAgent, stopAgent, waitUntilReady } from '../deploy/serviceControl';
import type { Session } from '../deploy/session';
import { switchover, type SwitchoverReport } from '../deploy/switchover';
import type { NodeSpec } from '../inventory/model';
import type { NodeFacts } from '../plan/facts';
import { num } from '../redis/info';
import { inventoryRecord, recordedRun } from '../state/record';
import { describeTopology, observeTopology } from '../state/topology';
import { confirm } from '../ui/prompt';
import { requireConfirmation } from './confirmation';
import {
  gatherAllFacts,
  loadInventory,
  openSession,
  type CommandContext,
  type CommandOutcome,
} from './context';
import { verifyFailure, verifyObserved } from './promote';

export interface RestartedNode {
  name: string;
  role: 'master' | 'replica';
  elapsedMs: number;
  /** Growth of sync_partial_ok / sync_full on the master it follows (for a master: summed over its replicas). */
  partialResyncs: number;
  fullResyncs: number;
  via?: string;
}

async function counters(session: Session, node: NodeSpec): Promise<{ partial: number; full: number }> {
  const c = await session.connect(node);
  try {
    const i = await c.info('stats');
    return { partial: num(i, 'sync_partial_ok') ?? 0, full: num(i, 'sync_full') ?? 0 };
  } finally {
    await c.close();
  }
}

export async function runRestart(ctx: CommandContext): Promise<CommandOutcome> {
  const loaded = loadInventory(ctx);
  return recordedRun(
    ctx,
    { command: 'restart', summary: 'rolling restart', inventory: inventoryRecord(loaded.inventory) },
    async ({ history, entry }) => {
      const session = openSession(ctx, loaded);
      const nodes = loaded.inventory.nodes;
      const byName = new Map(nodes.map((n) => [n.name, n]));
      const restarted: RestartedNode[] = [];
      const switchovers: SwitchoverReport[] = [];
      try {
        const facts = await gatherAllFacts(ctx, session, loaded.scope);
        const all = await observeTopology(nodes, (n) => session.connect(n));
        entry.before = all;
        history.save(entry);
        const managerOf = (n: NodeSpec) => managerFor(facts.get(n.name), n);
        const seen = new Map(all.map((t) => [t.name, t]));
        const down = all.filter((t) => !t.reachable);
        if (down.length > 0) {
          throw new OperationFailure(
            'E_RESTART',
            `not restarting while ${down.map((d) => d.name).join(', ')} do(es) not answer`,
          );
        }
        const depthOf = (name: string): number => {
          let d = 0;
          let cur = seen.get(name);
          while (cur?.role === 'replica' && cur.master && d < nodes.length) {
            d++;
            cur = seen.get(cur.master);
          }
          return d;
        };
        const order = [...loaded.scope].sort(
          (a, b) => depthOf(b.name) - depthOf(a.name) || a.name.localeCompare(b.name),
        );
        const masters = order.filter((n) => seen.get(n.name)?.role === 'master');
        for (const m of masters) {
          if (!ctx.options.switchover && m.server.persistence === 'off') {
            throw new OperationFailure(
              'E_RESTART',
              `${m.name} is a master without persistence: restarted in place it would come back empty and its replicas would copy that; use --switchover`,
            );
          }
        }
        ctx.say(
          `Rolling restart, in this order: ${order.map((n) => n.name).join(', ')}${ctx.options.switchover ? ' (masters via switchover)' : ''}`,
        );
        await requireConfirmation(ctx, `Restart ${order.length} node(s) one by one?`, confirm);

        const restartOne = async (n: NodeSpec) => {
          const t = session.transport(n);
          const manager = managerOf(n);
          await stopAgent(t, n, manager);
          await startAgent(t, n, manager);
          await waitUntilReady(session, n);
        };
        const verifyAll = async (names: string[]) => {
          if (names.length === 0) return;
          const topo = await observeTopology(nodes, (x) => session.connect(x));
          const v = await verifyObserved(session, nodes, topo, names, ctx.options.verifyTimeoutMs);
          if (!v.ok) throw verifyFailure(v, ctx.options.verifyTimeoutMs);
        };

        for (const n of order) {
          const now = (
            await observeTopology([n, ...nodes.filter((x) => x !== n)], (x) => session.connect(x))
          ).find((x) => x.name === n.name)!;
          const started = Date.now();
          if (now.role === 'replica') {
            const master = byName.get(now.master!)!;
            const c0 = await counters(session, master);
            ctx.note(`restarting replica ${n.name}`);
            await restartOne(n);
            await verifyAll([n.name]);
            const c1 = await counters(session, master);
            restarted.push({
              name: n.name,
              role: 'replica',
              elapsedMs: Date.now() - started,
              partialResyncs: c1.partial - c0.partial,
              fullResyncs: c1.full - c0.full,
            });
            continue;
          }
          const replicas = (await observeTopology(nodes, (x) => session.connect(x))).filter(
            (t) => t.role === 'replica' && t.master === n.name,
          );
          if (ctx.options.switchover && replicas.length > 0) {
            const to = byName.get(replicas[0].name)!;
            const siblings = replicas.slice(1).map((r) => byName.get(r.name)!);
            ctx.note(`moving the master from ${n.name} to ${to.name} to restart ${n.name}`);
            switchovers.push(await switchover({ session, from: n, to, siblings }));
            const c0 = await counters(session, to);
            await restartOne(n);
            await verifyAll([n.name, ...siblings.map((s) => s.name)]);
            const c1 = await counters(session, to);
            ctx.note(`moving the master back to ${n.name}`);
            const back = await switchover({ session, from: to, to: n, siblings });
            switchovers.push(back);
            await verifyAll(replicas.map((r) => r.name));
            restarted.push({
              name: n.name,
              role: 'master',
              elapsedMs: Date.now() - started,
              partialResyncs: c1.partial - c0.partial + back.partialResyncs,
              fullResyncs: c1.full - c0.full + back.fullResyncs,
              via: `switchover to ${to.name} and back`,
            });
          } else {
            ctx.note(`restarting master ${n.name}`);
            const c0 = await counters(session, n);
            await restartOne(n);
            await verifyAll(replicas.map((r) => r.name));
            const c1 = await counters(session, n);
            // A restarted master's counters start again from zero: what it counts now is all since the restart.
            const restartedCounters = c1.partial < c0.partial || c1.full < c0.full;
            restarted.push({
              name: n.name,
              role: 'master',
              elapsedMs: Date.now() - started,
              partialResyncs: restartedCounters ? c1.partial : c1.partial - c0.partial,
              fullResyncs: restartedCounters ? c1.full : c1.full - c0.full,
            });
          }
        }
        entry.after = await observeTopology(nodes, (x) => session.connect(x));
        entry.switchovers = switchovers.map((s) => ({ from: s.from, to: s.to }));
        // Restarts leave the topology as it was: nothing for a rollback to undo.
        entry.changed = false;
        for (const r of restarted) {
          ctx.say(
            `  ${r.name} (${r.role}): ${(r.elapsedMs / 1000).toFixed(1)} s, partial resyncs ${r.partialResyncs}, full ${r.fullResyncs}${r.via ? `, ${r.via}` : ''}`,
          );
        }
        ctx.say(ctx.style.green(`Restarted ${restarted.length} node(s), each verified in sync.`));
        for (const l of describeTopology(entry.after)) ctx.say(`  ${l}`);
        return {
          exitCode: 0,
          json: { ok: true, historyId: entry.id, restarted, switchovers, after: entry.after },
        };
      } catch (e) {
        entry.after = await observeTopology(nodes, (x) => session.connect(x)).catch(() => undefined);
        if (e instanceof OperationFailure)
          e.data = { ok: false, historyId: entry.id, restarted, switchovers };
        throw e;
      } finally {
        await session.close();
      }
    },
  );
}

function managerFor(f: NodeFacts | undefined, n: NodeSpec) {
  if (!f?.manifest) {
    throw new OperationFailure(
      'E_RESTART',
      `${n.name} was not installed by apply (no manifest): nothing to restart`,
    );
  }
  return f.manifest.manager;
}
