/**
 * The command line of status, history, rollback, promote and restart, in-process, without hosts: help texts and
 * aliases, refusals as bad input (exit 2) before any host is contacted (a missing or unknown HOST, nothing to roll
 * back to, an unknown --to entry), an empty history, and --state-dir.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localInventoryYaml } from '../e2e/support/localTopology';
import { runInProcess } from '../helpers/cliInProcess';

let dir: string;
let inv: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-cmds-'));
  inv = path.join(dir, 'inv.yaml');
  const root = path.join(dir, 'hosts');
  writeFileSync(inv, localInventoryYaml(root, { m: { port: 7291 }, r: { port: 7292, replicaof: 'm' } }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return runInProcess(args, { env: { HOME: dir } });
}

test('the general help lists the new commands, and each has its own help', async () => {
  const h = await run(['--help']);
  for (const c of ['status', 'history', 'rollback', 'promote', 'restart'])
    expect(h.stdout).toContain(`  ${c} `);
  const status = await run(['health', '--help']);
  expect(status.stdout).toContain('Usage: orchestrate status [INVENTORY] [options]');
  expect(status.stdout).toContain('Alias: health');
  expect(status.stdout).toMatch(/--watch \[SECONDS\][\s\S]*--prometheus/);
  expect((await run(['promote', '--help'])).stdout).toContain(
    'Usage: orchestrate promote [INVENTORY] HOST [options]',
  );
  expect((await run(['rollback', '--help'])).stdout).toMatch(/--to ID[\s\S]*--state-dir DIR/);
  expect((await run(['restart', '--help'])).stdout).toContain('--switchover');
  expect((await run(['apply', '--help'])).stdout).toContain('--no-rollback');
});

test('promote without HOST, or with a host not in the inventory, is bad input', async () => {
  const none = await run(['promote']);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('promote needs HOST');
  for (const args of [
    ['promote', inv, 'nosuch'],
    ['promote', 'nosuch', inv],
  ]) {
    const unknown = await run(args);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('promote: no host "nosuch" in the inventory');
  }
  expect(existsSync(path.join(dir, 'hosts'))).toBe(false);
});

test('history of an inventory never applied is empty, in the state directory beside it or in --state-dir', async () => {
  const h = await run(['history', inv]);
  expect(h.code).toBe(0);
  expect(h.stdout).toBe(`No runs recorded in ${path.join(dir, '.orchestrate', 'inv')}.\n`);
  const other = await run(['history', inv, '--state-dir', path.join(dir, 'st'), '--json']);
  expect(JSON.parse(other.stdout)).toEqual({ ok: true, stateDir: path.join(dir, 'st'), entries: [] });
});

test('rollback with nothing recorded, or to an unknown entry, is refused before any host is contacted', async () => {
  const r = await run(['rollback', inv, '--yes']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('no earlier successful run to roll back to');
  const to = await run(['rollback', inv, '--yes', '--to', '7']);
  expect(to.code).toBe(2);
  expect(to.stderr).toContain('--to 7: no such history entry');
  expect(existsSync(path.join(dir, 'hosts'))).toBe(false);
  expect(existsSync(path.join(dir, '.orchestrate', 'inv', 'lock'))).toBe(false);
});

test('status --watch refuses a non-positive interval', async () => {
  const r = await run(['status', inv, '--watch', '0']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--watch takes seconds > 0, not "0"');
});
