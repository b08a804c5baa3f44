/**
 * A changing run under the lock, with its history entry: take the lock, open the entry (outcome `running`), run,
 * close the entry with the outcome and the error if any, release the lock. The lock is released and the entry
 * closed on every exit path, errors included.
 */
import { readFileSync } from 'node:fs';
import { isOrchestrateError, messageOf } from '../errors';
import type { Inventory } from '../inventory/model';
import { History, type HistoryEntry, type RunCommand } from './history';
import { acquireLock, type HeldLock } from './lock';
import { stateDirFor } from './stateDir';
import type { CommandContext } from '../commands/context';

export function stateDirOf(ctx: CommandContext): string {
  return stateDirFor({
    inventoryPath: ctx.inventoryPath,
    embeddedInventory: ctx.embeddedInventory,
    stateDir: ctx.options.stateDir,
    cwd: ctx.io.cwd,
    env: ctx.io.env,
  });
}

export interface RecordedRun {
  history: History;
  entry: HistoryEntry;
  lock: HeldLock;
}

export function inventoryRecord(inv: Inventory): HistoryEntry['inventory'] {
  return { file: inv.file, checksum: inv.checksum, text: readFileSync(inv.file, 'utf8') };
}

export function errorRecord(e: unknown): HistoryEntry['error'] {
  return isOrchestrateError(e)
    ? { code: e.code, message: e.message, details: e.details }
    : { code: 'E_INTERNAL', message: messageOf(e), details: [] };
}

export async function recordedRun<T>(
  ctx: CommandContext,
  start: { command: RunCommand; summary: string; inventory: HistoryEntry['inventory'] },
  run: (r: RecordedRun) => Promise<T>,
): Promise<T> {
  const stateDir = stateDirOf(ctx);
  const lock = acquireLock(stateDir, start.command);
  try {
    if (lock.tookOverFrom) {
      const o = lock.tookOverFrom;
      ctx.note(
        `note: took over a stale lock of pid ${o.pid} (${o.command} since ${o.startedAt}), which is gone`,
      );
    }
    const history = new History(stateDir);
    const entry = history.begin({
      command: start.command,
      summary: start.summary,
      startedAt: new Date().toISOString(),
      inventory: start.inventory,
      before: [],
    });
    try {
      const result = await run({ history, entry, lock });
      if (entry.outcome === 'running') entry.outcome = 'ok';
      return result;
    } catch (e) {
      if (entry.outcome === 'running') entry.outcome = 'failed';
      entry.error = errorRecord(e);
      throw e;
    } finally {
      entry.finishedAt = new Date().toISOString();
      history.save(entry);
    }
  } finally {
    lock.release();
  }
}
