/**
 * The history journal: one JSON file per changing run (apply, rollback, promote, restart) in
 * `<state dir>/history/<id>.json`, ids counting up from 1 (taken under the run lock, so never shared).
 *
 * An entry records the inventory as it was used (its text: inventories hold secret references, never secret
 * values, so the text is safe to keep), its checksum, the observed topology before and after, times, the outcome
 * and, for a rollback, the entry it returned to. An entry is written when the run starts (outcome `running`) and
 * rewritten when it ends, so a run killed half-way still leaves a trace (`running` with no end is reported as
 * `interrupted`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationFailure, messageOf } from '../errors';
import { ensureDir, writeAtomically } from './stateDir';
import type { Topology } from './topology';

export const HISTORY_FORMAT = 1;
export const HISTORY_DIR = 'history';

export type RunCommand = 'apply' | 'rollback' | 'promote' | 'restart';
export type Outcome = 'running' | 'ok' | 'failed' | 'rolled-back' | 'interrupted';

export interface HistoryEntry {
  format: typeof HISTORY_FORMAT;
  id: number;
  command: RunCommand;
  /** Free text: what the run was asked to do (e.g. "promote r1", "rollback to 3"). */
  summary: string;
  startedAt: string;
  finishedAt?: string;
  inventory: { file: string; checksum: string; text: string };
  before: Topology;
  after?: Topology;
  outcome: Outcome;
  error?: { code: string; message: string; details: string[] };
  /** For rollback runs (asked for, or automatic after a failed apply): the entry whose topology was restored. */
  rollbackTo?: number;
  /** For an apply that rolled back by itself: the id of that rollback's entry. */
  rolledBackBy?: number;
  /** Whether the run may have changed hosts (false: refused or nothing to do). Rollback undoes the latest such run. */
  changed?: boolean;
  /** Nodes that changed, and switchovers done. */
  changedNodes?: number;
  switchovers?: Array<{ from: string; to: string }>;
}

export class History {
  readonly dir: string;
  constructor(stateDir: string) {
    this.dir = path.join(stateDir, HISTORY_DIR);
  }

  private file(id: number): string {
    return path.join(this.dir, `${String(id).padStart(6, '0')}.json`);
  }

  ids(): number[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((f) => /^(\d+)\.json$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /** All entries, oldest first. An entry still `running` whose run is over reads as `interrupted`. */
  list(runningId?: number): HistoryEntry[] {
    return this.ids().map((id) => {
      const e = this.get(id);
      if (e.outcome === 'running' && id !== runningId) e.outcome = 'interrupted';
      return e;
    });
  }

  get(id: number): HistoryEntry {
    try {
      return JSON.parse(readFileSync(this.file(id), 'utf8')) as HistoryEntry;
    } catch (e) {
      throw new OperationFailure('E_STATE', `cannot read history entry ${id}: ${messageOf(e)}`);
    }
  }

  has(id: number): boolean {
    return existsSync(this.file(id));
  }

  /** Starts a new entry (call under the run lock). */
  begin(fields: Omit<HistoryEntry, 'format' | 'id' | 'outcome'>): HistoryEntry {
    ensureDir(this.dir);
    const ids = this.ids();
    const entry: HistoryEntry = {
      format: HISTORY_FORMAT,
      id: (ids[ids.length - 1] ?? 0) + 1,
      outcome: 'running',
      ...fields,
    };
    this.save(entry);
    return entry;
  }

  save(entry: HistoryEntry): void {
    ensureDir(this.dir);
    writeAtomically(this.file(entry.id), `${JSON.stringify(entry, null, 2)}\n`);
  }
}
