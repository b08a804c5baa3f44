/**
 * `orchestrate apply`: plan, confirm, switch masters over where the inventory moves one, execute wave by wave,
 * verify sync (cli/commands/converge.ts), under the run lock and recorded in the history.
 *
 * Order of refusals, all before any host is changed: bad inventory or secrets (exit 2), another run holding the
 * lock, a host that cannot be reached or a blocked plan (exit 1), no confirmation (exit 2 without a terminal and
 * --yes, exit 1 when the person answers no). A plan without changes touches no host and still proves sync.
 * When hosts were changed and verification fails, apply rolls back by itself to the last recorded good state
 * (unless --no-rollback) and reports both what failed and what the rollback restored; it still exits 1.
 */
import { locateAgentBundle } from '../deploy/session';
import { isOrchestrateError, messageOf, OperationFailure } from '../errors';
import { describeTopology } from '../state/topology';
import { inventoryRecord, recordedRun } from '../state/record';
import type { CommandContext, CommandOutcome } from './context';
import { loadInventory } from './context';
import { converge, recordConvergeReport, type ConvergeReport } from './converge';
import { rollbackAfterFailure } from './rollback';

export async function runApply(ctx: CommandContext): Promise<CommandOutcome> {
  const loaded = loadInventory(ctx);
  const agent = locateAgentBundle(ctx.options.agent, ctx.io.cwd);
  return recordedRun(
    ctx,
    { command: 'apply', summary: 'apply', inventory: inventoryRecord(loaded.inventory) },
    async ({ history, entry }) => {
      const report = await converge(ctx, loaded, agent, {
        ask: true,
        onBefore: (t) => {
          entry.before = t;
          history.save(entry);
        },
      });
      recordConvergeReport(entry, report);
      const doc = (r: ConvergeReport) => ({
        plan: r.plan,
        execution: r.execution ?? null,
        verification: r.verification ?? null,
        switchovers: r.switchovers,
        before: r.before,
        after: r.after ?? null,
      });
      if (report.failure) {
        const failure = report.failure;
        const data: Record<string, unknown> = { ok: false, historyId: entry.id, ...doc(report) };
        if (report.changed && failure.code === 'E_VERIFY_FAILED' && !ctx.options.noRollback) {
          history.save(entry);
          let rb: Awaited<ReturnType<typeof rollbackAfterFailure>>;
          try {
            rb = await rollbackAfterFailure(ctx, history, entry, agent);
          } catch (e) {
            // The rollback could not even start (a host unreachable, the recorded inventory unusable).
            const err = new OperationFailure('E_VERIFY_FAILED', `${failure.message}; rollback failed`, [
              ...failure.details,
              `the automatic rollback failed: ${messageOf(e)}`,
              ...(isOrchestrateError(e) ? e.details.map((d) => `  ${d}`) : []),
            ]);
            err.data = data;
            throw err;
          }
          entry.outcome = 'rolled-back';
          entry.rolledBackBy = rb.entry.id;
          data.rollback = { historyId: rb.entry.id, to: rb.target, ok: rb.report.ok, ...doc(rb.report) };
          const details = [
            ...failure.details,
            rb.report.ok
              ? `rolled back by itself (history ${rb.entry.id}) to ${rb.target.description}; sync verified:`
              : `the automatic rollback (history ${rb.entry.id}) failed too: ${rb.report.failure?.message}`,
            ...(rb.report.failure?.details ?? []).map((d) => `  ${d}`),
            ...(rb.report.after ? describeTopology(rb.report.after).map((l) => `  ${l}`) : []),
          ];
          const err = new OperationFailure(
            'E_VERIFY_FAILED',
            `${failure.message}; ${rb.report.ok ? 'rolled back' : 'rollback failed'}`,
            details,
          );
          err.data = data;
          throw err;
        }
        failure.data = data;
        throw failure;
      }
      const s = ctx.style;
      const replicas = loaded.scope.filter((n) => n.replicaof).length;
      const plan = report.plan!;
      const v = report.verification;
      ctx.say('');
      ctx.say(
        plan.changedNodes === 0 && report.switchovers.length === 0
          ? s.green('No changes applied.') + (v ? ` Sync verified on ${replicas} replica(s).` : '')
          : s.green(`Applied changes to ${plan.changedNodes} node(s).`) +
              (v ? ` Sync verified on ${replicas} replica(s) in ${(v.elapsedMs / 1000).toFixed(1)} s.` : ''),
      );
      for (const sw of report.switchovers) {
        ctx.say(
          `Switched the master from ${sw.from} to ${sw.to}; ${sw.siblings.length} sibling(s) repointed (partial resyncs ${sw.partialResyncs}, full ${sw.fullResyncs}).`,
        );
      }
      ctx.say(s.dim(`Recorded as history ${entry.id}.`));
      return { exitCode: 0, json: { ok: true, historyId: entry.id, ...doc(report) } };
    },
  );
}
