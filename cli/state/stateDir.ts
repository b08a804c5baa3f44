/**
 * Where the orchestrator keeps what it remembers about an inventory between runs: a state directory beside the
 * inventory (`<dir>/.orchestrate/<inventory name>/`, or `--state-dir`), holding the apply history
 * (`history/<id>.json`, one file per run) and the lock of the run in progress (`lock`). The embedded inventory lives
 * in the package, which may be read-only, so its state goes under ~/.local/state/orchestrate/embedded instead.
 * Files are written atomically (temporary file, then rename) with mode 0600: they hold topology, not secrets, but
 * nobody else needs them.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface StateDirInput {
  inventoryPath: string;
  embeddedInventory: boolean;
  stateDir?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function stateDirFor(input: StateDirInput): string {
  if (input.stateDir) return path.resolve(input.cwd, input.stateDir);
  if (input.embeddedInventory) {
    const home = input.env.HOME || os.homedir();
    return path.join(home, '.local/state/orchestrate/embedded');
  }
  const abs = path.resolve(input.cwd, input.inventoryPath);
  const base = path.basename(abs).replace(/\.(ya?ml|json)$/i, '');
  return path.join(path.dirname(abs), '.orchestrate', base);
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Writes a file so that readers see the old contents or the new, never a part. */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}
