/**
 * `orchestrate apply`: plan, confirm, execute wave by wave, verify sync.
 *
 * Order of refusals, all before any host is changed: bad inventory or secrets (exit 2), a host that cannot be
 * reached or a blocked plan (exit 1), no confirmation (exit 2 without a terminal and --yes, exit 1 when the person
 * answers no). A plan without changes touches no host and still proves sync. The JSON document carries the plan,
 * what execution did, and the verification verdict (what issue-6 history will record).
 */
import { OperationFailure } from '../errors';
import { diagnoseReplica } from '../deploy/diagnose';
import { executePlan, type ExecuteReport } from '../deploy/execute';
import type { Session } from '../deploy/session';
import type { NodeSpec } from '../inventory/model';
import { renderPlan } from '../plan/render';
import { confirm } from '../ui/prompt';
import { verifySync, type VerifyResult } from '../verify/verify';
import type { CommandContext, CommandOutcome } from './context';
import { preparePlan } from './plan';
import { requireConfirmation } from './confirmation';

export async function runApply(ctx: CommandContext): Promise<CommandOutcome> {
  const planned = await preparePlan(ctx);
  const { session } = planned;
  try {
    const { plan, desired } = planned.result;
    ctx.say(renderPlan(plan, ctx.style).trimEnd());
    if (plan.blockers.length > 0) {
      throw new OperationFailure(
        'E_PRECONDITION',
        `cannot apply: ${plan.blockers.length} host precondition(s) not met; nothing was changed`,
        plan.blockers.map((b) => `${b.node}: ${b.message}`),
      );
    }
    let execution: ExecuteReport | undefined;
    if (plan.changedNodes > 0) {
      await requireConfirmation(ctx, `Apply changes to ${plan.changedNodes} node(s)?`, confirm);
      execution = await executePlan({
        plan,
        desired,
        facts: planned.facts,
        session,
        agent: planned.agent,
        progress: ctx.progress,
        parallel: ctx.options.parallel,
      });
      if (!execution.ok) {
        const details = execution.failures.flatMap((f) => [
          `${f.node}: ${f.step}: ${f.message}`,
          ...f.details.map((d) => `  ${d}`),
        ]);
        if (execution.notRun.length > 0)
          details.push(`not started (an earlier wave failed): ${execution.notRun.join(', ')}`);
        const err = new OperationFailure(
          'E_APPLY_STEP',
          `apply failed on ${execution.failures.length} node(s)`,
          details,
        );
        err.data = { ok: false, plan, execution };
        throw err;
      }
    }

    const replicas = planned.loaded.scope.filter((n) => n.replicaof);
    let verification: VerifyResult | undefined;
    if (replicas.length > 0) {
      verification = await verify(ctx, session, replicas);
      if (!verification.ok) {
        const details: string[] = [];
        for (const r of verification.replicas.filter((x) => !x.ok)) {
          details.push(`${r.name}:`, ...r.problems.map((p) => `  ${p}`), ...r.diagnosis.map((d) => `  ${d}`));
        }
        const err = new OperationFailure(
          'E_VERIFY_FAILED',
          `replication not proven in sync within ${Math.round(ctx.options.verifyTimeoutMs / 1000)} s`,
          details,
        );
        err.data = { ok: false, plan, execution, verification };
        throw err;
      }
    }
    const s = ctx.style;
    ctx.say('');
    ctx.say(
      plan.changedNodes === 0
        ? s.green('No changes applied.') +
            (verification ? ` Sync verified on ${replicas.length} replica(s).` : '')
        : s.green(`Applied changes to ${plan.changedNodes} node(s).`) +
            (verification
              ? ` Sync verified on ${replicas.length} replica(s) in ${(verification.elapsedMs / 1000).toFixed(1)} s.`
              : ''),
    );
    return {
      exitCode: 0,
      json: { ok: true, plan, execution: execution ?? null, verification: verification ?? null },
    };
  } finally {
    await session.close();
  }
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
