/**
 * `orchestrate destroy`: stop the agents and remove what apply installed, replicas before masters. Data
 * directories and logs stay unless --purge. Only paths derived from the inventory's layout are removed.
 */
import { OperationFailure, messageOf } from '../errors';
import { removeService } from '../deploy/execute';
import { stopAgent, stopByPidFile } from '../deploy/serviceControl';
import type { Session } from '../deploy/session';
import { computeDestroyPlan, describeDestroyAction, type DestroyPlan } from '../plan/destroyPlan';
import type { Step } from '../ui/progress';
import { confirm } from '../ui/prompt';
import { requireConfirmation } from './confirmation';
import {
  gatherAllFacts,
  loadInventory,
  openSession,
  type CommandContext,
  type CommandOutcome,
} from './context';

export async function runDestroy(ctx: CommandContext): Promise<CommandOutcome> {
  const loaded = loadInventory(ctx);
  const session = openSession(ctx, loaded);
  try {
    const facts = await gatherAllFacts(ctx, session, loaded.scope);
    const plan = computeDestroyPlan(loaded.scope, facts, ctx.options.purge);
    ctx.say(renderDestroyPlan(plan, ctx));
    if (plan.changedNodes === 0) return { exitCode: 0, json: { ok: true, plan } };
    await requireConfirmation(
      ctx,
      `Destroy ${plan.changedNodes} node(s)${plan.purge ? ' including their data' : ''}?`,
      confirm,
    );
    const failures: string[] = [];
    for (const [i, wave] of plan.waves.entries()) {
      const jobs = wave
        .map((name) => plan.nodes.find((n) => n.name === name)!)
        .filter((n) => n.actions.length > 0)
        .map((n) => ({ host: n.name, steps: nodeSteps(session, n) }));
      if (jobs.length === 0) continue;
      const results = await ctx.progress.runStage({
        title: `destroy wave ${i + 1}/${plan.waves.length}`,
        concurrency: ctx.options.parallel,
        jobs,
      });
      for (const r of results.filter((x) => !x.ok))
        failures.push(`${r.host}: ${r.failedStep}: ${messageOf(r.error)}`);
      if (failures.length > 0) break;
    }
    if (failures.length === 0) {
      const results = await ctx.progress.runStage({
        title: 'clean up machines',
        concurrency: ctx.options.parallel,
        jobs: plan.machines.map((m) => ({ host: m.machine, steps: [cleanupStep(session, m, plan)] })),
      });
      for (const r of results.filter((x) => !x.ok)) failures.push(`${r.host}: ${messageOf(r.error)}`);
    }
    if (failures.length > 0) {
      const err = new OperationFailure(
        'E_APPLY_STEP',
        `destroy failed on ${failures.length} node(s)`,
        failures,
      );
      err.data = { ok: false, plan, failures };
      throw err;
    }
    ctx.say(ctx.style.green(`Destroyed ${plan.changedNodes} node(s).`));
    return { exitCode: 0, json: { ok: true, plan } };
  } finally {
    await session.close();
  }
}

function renderDestroyPlan(plan: DestroyPlan, ctx: CommandContext): string {
  const s = ctx.style;
  const lines = [
    s.bold(`Destroy plan for ${ctx.inventoryPath}${plan.purge ? ' (with --purge: data is deleted)' : ''}`),
    '',
  ];
  for (const wave of plan.waves) {
    for (const name of wave) {
      const n = plan.nodes.find((x) => x.name === name)!;
      if (n.actions.length === 0) {
        lines.push(`${s.dim('=')} ${s.bold(n.name)}  ${s.dim('nothing installed')}`);
        continue;
      }
      lines.push(`${s.red('-')} ${s.bold(n.name)}`);
      for (const a of n.actions) lines.push(`    ${s.red('-')} ${describeDestroyAction(a)}`);
    }
  }
  lines.push('');
  lines.push(
    plan.changedNodes === 0
      ? s.green('Nothing to destroy.')
      : `${plan.changedNodes} node(s) to destroy${plan.purge ? '' : '; data directories are kept'}.`,
  );
  return lines.join('\n');
}

function nodeSteps(session: Session, n: DestroyPlan['nodes'][number]): Step[] {
  const node = session.node(n.name);
  const t = session.transport(node);
  return n.actions.map((a): Step => {
    switch (a.kind) {
      case 'stop':
        return {
          title: 'stop agent',
          run: async () => {
            if (a.manager === 'pidfile') await stopByPidFile(t, node);
            else await stopAgent(t, node, a.manager);
          },
        };
      case 'remove-service':
        return { title: `remove ${a.manager} service`, run: () => removeService(t, node, a.manager, a.path) };
      case 'remove-files':
      case 'purge':
        return {
          title: a.kind === 'purge' ? 'delete data and log' : 'remove config and manifest',
          run: async () => {
            const r = await t.exec(['rm', '-rf', '--', ...a.paths], { privileged: true });
            if (r.code !== 0)
              throw new OperationFailure('E_APPLY_STEP', `rm failed: ${r.stderr.trim()}`, [], node.name);
          },
        };
    }
  });
}

function cleanupStep(session: Session, m: DestroyPlan['machines'][number], plan: DestroyPlan): Step {
  const node = session.node(m.nodes[0]);
  const t = session.transport(node);
  return {
    title: 'remove agent bundle when unused',
    run: async () => {
      // Another node (outside --limit, or outside this inventory) may still use the bundle: keep it then.
      const script =
        'for f in "$1"/*.manifest.json; do [ -e "$f" ] && { echo in-use; exit 0; }; done; rm -f -- "$2"';
      const r = await t.exec(['sh', '-c', script, 'sh', node.paths.config, m.agentPath], {
        privileged: true,
      });
      if (r.code !== 0)
        throw new OperationFailure('E_APPLY_STEP', `cleanup failed: ${r.stderr.trim()}`, [], node.name);
      if (r.stdout.toString().includes('in-use')) return 'agent bundle kept: other nodes use it';
      // Remove the directories apply created, only when empty (never recursively).
      await t.exec(
        ['sh', '-c', 'for d in "$@"; do rmdir -- "$d" 2>/dev/null; done; exit 0', 'sh', ...m.dirs],
        {
          privileged: true,
        },
      );
      return plan.purge ? 'agent bundle and empty directories removed' : 'agent bundle removed (data kept)';
    },
  };
}
