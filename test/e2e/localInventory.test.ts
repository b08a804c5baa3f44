/**
 * The README's main command on this machine: `node dist/orchestrate.js apply inventories/local.yaml --yes`
 * installs a master (7151) and a replica (7152) under ~/.local/state/orchestrate/local, unprivileged, and proves
 * the replica in sync; plan then sees no changes (also when the inventory argument is left out: it is the
 * embedded default); destroy --purge removes it all. HOME points at a temporary directory, and so does apply's
 * history and lock directory (`--state-dir`; by default it sits beside the inventory, which is in this repository).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/waitFor';
import { requireBundles, runCli, testClient } from './support/runCli';

jest.setTimeout(120_000);

let home: string;
let env: NodeJS.ProcessEnv;
const state = () => path.join(home, '.local/state/orchestrate/local');
/** apply with a history and lock directory of the test's own (the other commands keep none). */
const apply = () =>
  runCli(
    ['apply', 'inventories/local.yaml', '--yes', '--state-dir', path.join(home, 'orchestrate-state')],
    env,
  );

beforeAll(() => {
  requireBundles();
  home = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-home-'));
  env = { HOME: home };
});

afterAll(() => {
  // Whatever a failed test left running.
  const run = path.join(state(), 'run');
  if (existsSync(run)) {
    for (const f of readdirSync(run).filter((x) => x.endsWith('.pid'))) {
      try {
        process.kill(Number(readFileSync(path.join(run, f), 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  rmSync(home, { recursive: true, force: true });
});

test('apply on the local inventory runs a master and a replica in sync, without root paths', async () => {
  const r = await apply();
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toMatch(/Applied changes to 2 node\(s\)\. Sync verified on 1 replica\(s\)/);
  expect(r.stdout).toContain('[daemon]');
  expect(readdirSync(path.join(state(), 'etc')).sort()).toEqual([
    'local-master.conf',
    'local-master.manifest.json',
    'local-replica.conf',
    'local-replica.manifest.json',
  ]);
  const master = testClient('127.0.0.1', 7151);
  const replica = testClient('127.0.0.1', 7152);
  try {
    await master.set('local:key', 'v');
    await waitFor(async () => (await replica.get('local:key')) === 'v', { description: 'key replicated' });
    expect(String(await replica.info('replication'))).toContain('master_port:7151');
  } finally {
    master.disconnect();
    replica.disconnect();
  }
});

test('plan afterwards has no changes, with or without the inventory argument', async () => {
  const explicit = await runCli(['plan', 'inventories/local.yaml'], env);
  expect(explicit.code).toBe(0);
  expect(explicit.stdout).toContain('No changes: 2 nodes already as the inventory says.');
  const embedded = await runCli(['plan', '--json'], env);
  expect(embedded.code).toBe(0);
  expect(embedded.json.plan.changedNodes).toBe(0);
  expect(embedded.stderr).toContain('using the embedded inventory');
});

test('destroy --purge stops both agents and removes everything', async () => {
  const r = await runCli(['destroy', 'inventories/local.yaml', '--yes', '--purge'], env);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  const leftovers = existsSync(state()) ? readdirSync(state(), { recursive: true }) : [];
  expect(leftovers).toEqual([]);
  const probe = testClient('127.0.0.1', 7151, undefined, { reconnect: false });
  await expect(probe.connect()).rejects.toThrow();
  probe.disconnect();
});
