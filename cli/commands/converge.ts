/**
 * Converging the hosts on an inventory: the core that apply, rollback and promote share.
 * facts -> topology before -> plan (printed) -> confirmation -> switchovers (a tree whose master moves) ->
 * execution wave by wave -> sync verification -> topology after. The result says how far it got instead of
 * throwing once hosts may have changed, so that the caller can record it and decide to roll back.
 *
 * A master move is detected on the observed topology: the inventory's master of a tree is today a direct replica
 * of a node that is today a master and that the inventory makes a replica. It is done by switchover (see
 * deploy/switchover.ts) before the plan runs; facts are then gathered again, so the plan only has to write the
 * config files (REPLICAOF to the master already followed is a no-op) and no two masters ever take writes.
 */
import { OperationFailure, isOrchestrateError, messageOf } from '../errors';
import { diagnoseReplica } from '../deploy/diagnose';
import { executePlan, type ExecuteReport } from '../deploy/execute';
import type { AgentBundle, Session } from '../deploy/session';
import { switchover, type SwitchoverReport } from '../deploy/switchover';
import type { NodeSpec } from '../inventory/model';
import type { Plan } from '../plan/plan';
import { renderPlan } from '../plan/render';
import type { HistoryEntry } from '../state/history';
import { observeTopology, topologyNode, type Topology } from '../state/topology';
import { confirm } from '../ui/prompt';
import { verifySync, type VerifyResult } from '../verify/verify';
import { requireConfirmation } from './confirmation';
import { gatherAllFacts, openSession, planFor, type CommandContext, type Loaded } from './context';

export interface ConvergeReport {
  ok: boolean;
  plan?: Plan;
  execution?: ExecuteReport;
  verification?: VerifyResult;
  switchovers: SwitchoverReport[];
  before: Topology;
  after?: Topology;
  /** Set when !ok: what failed (E_PRECONDITION, E_SWITCHOVER, E_APPLY_STEP, E_VERIFY_FAILED, ...). */
  failure?: OperationFailure;
  /** True when some host may have been changed. */
  changed: boolean;
}

export interface ConvergeOptions {
  /** Ask before changing anything (false for an automatic rollback: the person already said yes). */
  ask: boolean;
  question?: (changedNodes: number) => string;
  onBefore?(t: Topology): void;
}

export interface MasterMove {
  from: NodeSpec;
  to: NodeSpec;
  siblings: NodeSpec[];
}

export function detectMasterMoves(
  scope: NodeSpec[],
  observed: Topology,
  inventoryNodes: NodeSpec[] = scope,
): MasterMove[] {
  const byName = new Map(scope.map((n) => [n.name, n]));
  const known = new Set(inventoryNodes.map((n) => n.name));
  const seen = new Map(observed.map((t) => [t.name, t]));
  const moves: MasterMove[] = [];
  for (const want of scope.filter((n) => n.role === 'master')) {
    const now = seen.get(want.name);
    if (!now?.reachable || now.role !== 'replica' || !now.master) continue;
    const from = byName.get(now.master);
    const fromNow = seen.get(now.master);
    if (!from && known.has(now.master)) {
      // Its master is outside --limit: promoting it alone would leave two writable masters.
      throw new OperationFailure(
        'E_PRECONDITION',
        `${want.name} is to become a master but today follows ${now.master}, which is not in scope; nothing was changed`,
        [`include ${now.master}'s host in --limit, so that the master moves by switchover`],
      );
    }
    if (!from || fromNow?.role !== 'master' || !from.replicaof) continue;
    const siblings = observed
      .filter((t) => t.role === 'replica' && t.master === from.name && t.name !== want.name)
      .map((t) => byName.get(t.name))
      .filter((n): n is NodeSpec => n !== undefined);
    moves.push({ from, to: want, siblings });
  }
  return moves;
}

export async function converge(
  ctx: CommandContext,
  loaded: Loaded,
  agent: AgentBundle,
  opts: ConvergeOptions,
): Promise<ConvergeReport> {
  const session = openSession(ctx, loaded);
  const report: ConvergeReport = { ok: false, switchovers: [], before: [], changed: false };
  try {
    let facts = await gatherAllFacts(ctx, session, loaded.scope);
    report.before = loaded.scope.map((n) =>
      topologyNode(loaded.inventory.nodes, n, facts.get(n.name)?.live.info, facts.get(n.name)?.live.error),
    );
    opts.onBefore?.(report.before);
    let planned = planFor(loaded, facts, agent);
    report.plan = planned.plan;
    const moves = detectMasterMoves(loaded.scope, report.before, loaded.inventory.nodes);
    ctx.say(renderPlan(planned.plan, ctx.style).trimEnd());
    for (const m of moves) {
      ctx.say(
        `switchover: ${m.from.name} -> ${m.to.name} (writes paused, ${m.to.name} caught up, then promoted)`,
      );
    }
    if (planned.plan.blockers.length > 0) {
      throw new OperationFailure(
        'E_PRECONDITION',
        `cannot apply: ${planned.plan.blockers.length} host precondition(s) not met; nothing was changed`,
        planned.plan.blockers.map((b) => `${b.node}: ${b.message}`),
      );
    }
    if (planned.plan.changedNodes > 0 || moves.length > 0) {
      if (opts.ask) {
        const q = opts.question ?? ((n: number) => `Apply changes to ${n} node(s)?`);
        await requireConfirmation(ctx, q(Math.max(planned.plan.changedNodes, moves.length)), confirm);
      }
      report.changed = true;
      if (moves.length > 0) {
        for (const m of moves) {
          const res = await ctx.progress.runStage({
            title: `switchover ${m.from.name} -> ${m.to.name}`,
            concurrency: 1,
            jobs: [
              {
                host: m.to.name,
                steps: [
                  {
                    title: 'switchover',
                    run: async (step) => {
                      const r = await switchover({ session, ...m, note: (l) => step.note(l) });
                      report.switchovers.push(r);
                      return `done in ${r.elapsedMs} ms; siblings resynced partially: ${r.partialResyncs}, fully: ${r.fullResyncs}`;
                    },
                  },
                ],
              },
            ],
          });
          const failed = res.find((r) => !r.ok);
          if (failed) {
            throw isOrchestrateError(failed.error)
              ? failed.error
              : new OperationFailure('E_SWITCHOVER', `switchover failed: ${messageOf(failed.error)}`);
          }
        }
        facts = await gatherAllFacts(ctx, session, loaded.scope);
        planned = planFor(loaded, facts, agent);
      }
      if (planned.plan.changedNodes > 0) {
        const execution = await executePlan({
          plan: planned.plan,
          desired: planned.desired,
          facts,
          session,
          agent,
          progress: ctx.progress,
          parallel: ctx.options.parallel,
        });
        report.execution = execution;
        if (!execution.ok) {
          const details = execution.failures.flatMap((f) => [
            `${f.node}: ${f.step}: ${f.message}`,
            ...f.details.map((d) => `  ${d}`),
          ]);
          if (execution.notRun.length > 0)
            details.push(`not started (an earlier wave failed): ${execution.notRun.join(', ')}`);
          throw new OperationFailure(
            'E_APPLY_STEP',
            `apply failed on ${execution.failures.length} node(s)`,
            details,
          );
        }
      }
    }
    const replicas = loaded.scope.filter((n) => n.replicaof);
    if (replicas.length > 0) {
      report.verification = await verify(ctx, session, replicas);
      if (!report.verification.ok) {
        const details: string[] = [];
        for (const r of report.verification.replicas.filter((x) => !x.ok)) {
          details.push(`${r.name}:`, ...r.problems.map((p) => `  ${p}`), ...r.diagnosis.map((d) => `  ${d}`));
        }
        throw new OperationFailure(
          'E_VERIFY_FAILED',
          `replication not proven in sync within ${Math.round(ctx.options.verifyTimeoutMs / 1000)} s`,
          details,
        );
      }
    }
    report.ok = true;
  } catch (e) {
    // Nothing changed (bad input, unreachable host, blocked plan, declined): a plain error, nothing to undo.
    const verifyFailed = e instanceof OperationFailure && e.code === 'E_VERIFY_FAILED';
    if (!report.changed && !verifyFailed) throw e;
    report.failure =
      e instanceof OperationFailure
        ? e
        : new OperationFailure('E_APPLY_STEP', `apply failed: ${messageOf(e)}`);
  } finally {
    if (report.changed || report.ok) {
      report.after = await observeTopology(loaded.scope, (n) => session.connect(n)).catch(() => undefined);
    }
    await session.close();
  }
  return report;
}

async function verify(ctx: CommandContext, session: Session, replicas: NodeSpec[]): Promise<VerifyResult> {
  let result: VerifyResult | undefined;
  const inv = session.inventory;
  await ctx.progress.runStage({
    title: `verify sync (${replicas.length} replica${replicas.length === 1 ? '' : 's'})`,
    concurrency: 1,
    jobs: [
      {
        host: 'replication',
        steps: [
          {
            title: 'verify',
            run: async (step) => {
              result = await verifySync({
                nodes: inv.nodes.map((n) => ({
                  name: n.name,
                  address: n.address,
                  port: n.server.port,
                  master: n.replicaof,
                })),
                replicas: replicas.map((r) => r.name),
                connect: (name) => session.connect(session.node(name)),
                timeoutMs: ctx.options.verifyTimeoutMs,
                onPoll: (_poll, passes, problems) => {
                  const failing = [...problems.values()].filter((p) => p.length > 0);
                  step.note(
                    failing.length === 0
                      ? `in sync (${passes} of 2 consecutive checks)`
                      : `waiting: ${failing.map((p) => p[0]).join('; ')}`,
                  );
                },
                diagnose: (name) => {
                  const r = session.node(name);
                  return diagnoseReplica(session, r, session.node(r.replicaof!));
                },
              });
              if (!result.ok) throw new Error('replication not in sync');
              return `in sync after ${result.polls} polls`;
            },
          },
        ],
      },
    ],
  });
  return result!;
}

/** Copies what a converge run did into its history entry (apply and rollback record the same fields). */
export function recordConvergeReport(entry: HistoryEntry, report: ConvergeReport): void {
  entry.after = report.after;
  entry.changed = report.changed;
  entry.changedNodes = report.plan?.changedNodes;
  entry.switchovers = report.switchovers.map((s) => ({ from: s.from, to: s.to }));
}
