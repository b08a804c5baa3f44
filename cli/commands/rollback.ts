/**
 * `orchestrate rollback [INVENTORY] [--to ID]`: return the hosts to a state recorded in the history.
 *
 * The target is a history entry's inventory as it was used (its text; secrets are references and are read again
 * now) with the topology observed after that run laid over it (a promote changes who is master without changing
 * the inventory). Without --to: the latest successful run before the latest run that changed hosts. The way back is an ordinary
 * converge: plan shown, confirmation, switchover when the master moves, execution, the same sync verification
 * as apply. Rollbacks are recorded in the history like any run.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import { locateAgentBundle, type AgentBundle } from '../deploy/session';
import { parseInventory } from '../inventory/load';
import type { Inventory, NodeSpec } from '../inventory/model';
import { defaultSecretReader, resolveSecrets } from '../inventory/secrets';
import { History as HistoryStore, type History, type HistoryEntry } from '../state/history';
import { acquireLock } from '../state/lock';
import { errorRecord, stateDirOf } from '../state/record';
import { describeTopology, mastersOf, type Topology } from '../state/topology';
import { resolveLimit, type CommandContext, type CommandOutcome, type Loaded } from './context';
import { converge, recordConvergeReport, type ConvergeReport } from './converge';
import { loadInventory } from './context';

export interface RollbackTarget {
  id?: number;
  description: string;
  inventory: HistoryEntry['inventory'];
  topology: Topology;
}

/** The inventory with each node's master as in the topology (nodes missing or down there keep theirs). */
export function withTopology(inv: Inventory, topology: Topology): Inventory {
  const masters = mastersOf(topology);
  const names = new Set(inv.nodes.map((n) => n.name));
  const moved: NodeSpec[] = inv.nodes.map((n) => {
    if (!masters.has(n.name)) return { ...n };
    const m = masters.get(n.name);
    if (m !== undefined && !names.has(m)) return { ...n };
    return { ...n, replicaof: m, role: m ? 'replica' : 'master' };
  });
  const byName = new Map(moved.map((n) => [n.name, n]));
  for (const n of moved) {
    let depth = 0;
    let cur = n;
    const seen = new Set<string>();
    while (cur.replicaof && byName.has(cur.replicaof) && !seen.has(cur.name)) {
      seen.add(cur.name);
      cur = byName.get(cur.replicaof)!;
      depth++;
    }
    n.depth = depth;
    n.tree = cur.name;
  }
  moved.sort((a, b) => a.depth - b.depth || a.name.localeCompare(b.name));
  return { ...inv, nodes: moved };
}

export function loadTarget(ctx: CommandContext, target: RollbackTarget): Loaded {
  const base = loadInventory(ctx);
  const text = target.inventory.text;
  const recorded = parseInventory(text, base.inventory.file, {
    dir: base.inventory.dir,
    checksum: createHash('sha256').update(text).digest('hex'),
  });
  const inventory = withTopology(recorded, target.topology);
  const secrets = resolveSecrets(inventory, defaultSecretReader(ctx.io.env));
  return { inventory, secrets, scope: resolveLimit(inventory, ctx.options.limit) };
}

function entryTarget(e: HistoryEntry): RollbackTarget {
  return {
    id: e.id,
    description: `history ${e.id} (${e.summary}, ${e.finishedAt ?? e.startedAt})`,
    inventory: e.inventory,
    topology: e.after ?? e.before,
  };
}

/** Runs a rollback as its own history entry (the lock is already held by the caller). */
export async function recordRollback(
  ctx: CommandContext,
  history: History,
  target: RollbackTarget,
  agent: AgentBundle,
  opts: { ask: boolean; summary: string },
): Promise<{ entry: HistoryEntry; report: ConvergeReport }> {
  const entry = history.begin({
    command: 'rollback',
    summary: opts.summary,
    startedAt: new Date().toISOString(),
    inventory: target.inventory,
    before: [],
    rollbackTo: target.id,
  });
  let report: ConvergeReport | undefined;
  try {
    const loaded = loadTarget(ctx, target);
    report = await converge(ctx, loaded, agent, {
      ask: opts.ask,
      question: (n) => `Roll back ${n} node(s) to ${target.description}?`,
      onBefore: (t) => {
        entry.before = t;
        history.save(entry);
      },
    });
    recordConvergeReport(entry, report);
    entry.outcome = report.ok ? 'ok' : 'failed';
    if (report.failure) entry.error = errorRecord(report.failure);
    return { entry, report };
  } catch (e) {
    entry.outcome = 'failed';
    entry.error = errorRecord(e);
    throw e;
  } finally {
    entry.finishedAt = new Date().toISOString();
    history.save(entry);
  }
}

/** After a failed apply: back to the last good recorded state, else to the topology seen before the apply. */
export async function rollbackAfterFailure(
  ctx: CommandContext,
  history: History,
  failed: HistoryEntry,
  agent: AgentBundle,
): Promise<{ entry: HistoryEntry; report: ConvergeReport; target: RollbackTarget }> {
  const good = history
    .list(failed.id)
    .filter((e) => e.id < failed.id && e.outcome === 'ok')
    .pop();
  const target: RollbackTarget = good
    ? entryTarget(good)
    : {
        description: 'the topology observed before the apply',
        inventory: failed.inventory,
        topology: failed.before,
      };
  ctx.note(`verification failed: rolling back to ${target.description}`);
  const { entry, report } = await recordRollback(ctx, history, target, agent, {
    ask: false,
    summary: `automatic rollback of apply ${failed.id}`,
  });
  return { entry, report, target };
}

export async function runRollback(ctx: CommandContext): Promise<CommandOutcome> {
  const current = loadInventory(ctx);
  const agent = locateAgentBundle(ctx.options.agent, ctx.io.cwd);
  // The outer record is a lock holder only: the rollback itself is one entry (recordRollback).
  return recordedRunWithoutEntry(ctx, current, async (history) => {
    const entries = history.list();
    let targetEntry: HistoryEntry | undefined;
    if (ctx.options.to !== undefined) {
      const id = Number(ctx.options.to);
      if (!Number.isInteger(id) || !history.has(id)) {
        throw new UserError('E_HISTORY_ENTRY', `--to ${ctx.options.to}: no such history entry`, [
          `entries: ${entries.map((e) => e.id).join(', ') || '(none)'}`,
        ]);
      }
      targetEntry = history.get(id);
    } else {
      // Undo the latest run that changed hosts: back to the last good state recorded before it.
      const latestChange = entries.filter((e) => e.changed).pop();
      targetEntry = latestChange
        ? entries.filter((e) => e.outcome === 'ok' && e.id < latestChange.id).pop()
        : undefined;
      if (!targetEntry) {
        throw new UserError('E_HISTORY_ENTRY', 'no earlier successful run to roll back to', [
          `history: ${entries.map((e) => `${e.id} ${e.command} ${e.outcome}`).join(', ') || '(empty)'}`,
        ]);
      }
    }
    if (!targetEntry.after && targetEntry.before.length === 0) {
      throw new UserError('E_HISTORY_ENTRY', `history entry ${targetEntry.id} recorded no topology`);
    }
    const target = entryTarget(targetEntry);
    ctx.say(`Rolling back to ${target.description}:`);
    for (const l of describeTopology(target.topology)) ctx.say(`  ${l}`);
    const { entry, report } = await recordRollback(ctx, history, target, agent, {
      ask: true,
      summary: `rollback to ${targetEntry.id}`,
    });
    const json = {
      ok: report.ok,
      historyId: entry.id,
      to: targetEntry.id,
      plan: report.plan,
      switchovers: report.switchovers,
      verification: report.verification ?? null,
      before: report.before,
      after: report.after ?? null,
    };
    if (report.failure) {
      report.failure.data = json;
      throw report.failure;
    }
    ctx.say('');
    ctx.say(
      ctx.style.green(`Rolled back to history ${targetEntry.id}.`) +
        (report.verification ? ' Sync verified.' : '') +
        ctx.style.dim(` Recorded as history ${entry.id}.`),
    );
    return { exitCode: 0, json };
  });
}

async function recordedRunWithoutEntry<T>(
  ctx: CommandContext,
  _loaded: Loaded,
  run: (h: HistoryStore) => Promise<T>,
): Promise<T> {
  const dir = stateDirOf(ctx);
  const lock = acquireLock(dir, 'rollback');
  try {
    return await run(new HistoryStore(dir));
  } finally {
    lock.release();
  }
}
