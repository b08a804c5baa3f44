/**
 * `orchestrate history [INVENTORY]`: the recorded runs, oldest first, as a table (id, command, start, duration,
 * inventory checksum, outcome, topology after) or as JSON (the entries without the inventory texts).
 * Reads the state directory only: no host is contacted and no lock is taken.
 */
import { History, type HistoryEntry } from '../state/history';
import { stateDirOf } from '../state/record';
import { describeTopology } from '../state/topology';
import type { CommandContext, CommandOutcome } from './context';

function duration(e: HistoryEntry): string {
  if (!e.finishedAt) return '-';
  const ms = Date.parse(e.finishedAt) - Date.parse(e.startedAt);
  return `${(ms / 1000).toFixed(1)}s`;
}

export function renderHistory(entries: HistoryEntry[]): string[] {
  const rows = entries.map((e) => [
    String(e.id),
    e.command,
    e.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    duration(e),
    e.inventory.checksum.slice(0, 12),
    e.outcome,
    e.summary +
      (e.rolledBackBy ? ` (rolled back by ${e.rolledBackBy})` : '') +
      (e.switchovers?.length
        ? `; switchover ${e.switchovers.map((s) => `${s.from}->${s.to}`).join(', ')}`
        : ''),
    (e.after ? describeTopology(e.after) : ['(not recorded)']).join('; '),
  ]);
  const head = ['ID', 'COMMAND', 'STARTED', 'TOOK', 'INVENTORY', 'OUTCOME', 'WHAT', 'TOPOLOGY AFTER'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

export async function runHistory(ctx: CommandContext): Promise<CommandOutcome> {
  const dir = stateDirOf(ctx);
  const entries = new History(dir).list();
  if (entries.length === 0) ctx.say(`No runs recorded in ${dir}.`);
  else for (const l of renderHistory(entries)) ctx.say(l);
  return {
    exitCode: 0,
    json: {
      ok: true,
      stateDir: dir,
      entries: entries.map((e) => ({
        ...e,
        inventory: { file: e.inventory.file, checksum: e.inventory.checksum },
      })),
    },
  };
}
