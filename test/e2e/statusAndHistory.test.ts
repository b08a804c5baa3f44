/**
 * `orchestrate status` and `orchestrate history` on a local topology of real agents (a master and two replicas):
 * healthy after apply (exit 0, table, JSON, Prometheus exposition), drift after someone runs REPLICAOF by hand
 * (exit 1, corrected by the next apply), a replica killed (exit 2), and every apply recorded with its topology
 * before and after, under a lock that is released even when the apply fails.
 */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { waitFor } from '../helpers/waitFor';
import { CLI_BUNDLE, requireBundles } from './support/runCli';
import { LocalTopology } from './support/localTopology';

jest.setTimeout(90_000);

let t: LocalTopology;
beforeAll(() => {
  t = new LocalTopology({
    m: { port: 7261 },
    r1: { port: 7262, replicaof: 'm' },
    r2: { port: 7263, replicaof: 'm' },
  });
});
afterAll(() => t.cleanup());

const stateDir = () => path.join(t.dir, '.orchestrate', 'inventory');

test('apply is recorded in the history with the topology before and after, and the lock is gone', async () => {
  const r = await t.cli(['apply', t.inventory, '--yes']);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toContain('Recorded as history 1.');
  expect(existsSync(path.join(stateDir(), 'lock'))).toBe(false);
  const h = await t.cli(['history', t.inventory, '--json']);
  expect(h.code).toBe(0);
  const [entry] = h.json.entries;
  expect(entry).toMatchObject({ id: 1, command: 'apply', outcome: 'ok', changedNodes: 3 });
  expect(entry.inventory.checksum).toMatch(/^[0-9a-f]{64}$/);
  expect(entry.before.map((n: any) => n.reachable)).toEqual([false, false, false]);
  expect(entry.after.map((n: any) => [n.name, n.role, n.master ?? null])).toEqual([
    ['m', 'master', null],
    ['r1', 'replica', 'm'],
    ['r2', 'replica', 'm'],
  ]);
  const table = await t.cli(['history', t.inventory]);
  expect(table.stdout).toMatch(/^ID\s+COMMAND\s+STARTED\s+TOOK\s+INVENTORY\s+OUTCOME/);
  expect(table.stdout).toMatch(
    /\n1\s+apply\s+\S+ \S+\s+\d+\.\ds\s+[0-9a-f]{12}\s+ok\s+apply\s+m: master; r1: replica of m/,
  );
});

test('status on the healthy topology exits 0 with every node ok, as a table, JSON and Prometheus text', async () => {
  const r = await t.cli(['status', t.inventory]);
  expect({ code: r.code, out: r.code === 0 ? '' : r.stdout + r.stderr }).toEqual({ code: 0, out: '' });
  expect(r.stdout).toMatch(/^NODE\s+ADDRESS\s+ROLE\s+LINK\s+FOLLOWS\s+OFFSET\s+LAG/);
  expect(r.stdout).toMatch(/\nr1\s+127\.0\.0\.1:7262\s+replica\s+up\s+m\s+\d+/);
  expect(r.stdout).toContain('healthy');

  const j = await t.cli(['health', t.inventory, '--json']);
  expect(j.code).toBe(0);
  expect(j.json.status).toBe('ok');
  const byName = Object.fromEntries(j.json.nodes.map((n: any) => [n.name, n]));
  expect(byName.m).toMatchObject({
    up: true,
    role: 'master',
    connectedReplicas: 2,
    via: 'direct',
    health: 'ok',
  });
  expect(byName.m.counters.full).toBeGreaterThanOrEqual(2);
  expect(byName.m.agentVersion).toMatch(/\d+\.\d+/);
  expect(byName.m.persistence).toMatchObject({ appendonly: false });
  expect(byName.r1).toMatchObject({
    role: 'replica',
    master: 'm',
    linkStatus: 'up',
    drift: false,
    resyncLoop: false,
  });
  expect(byName.r1.lagBytes).toBeGreaterThanOrEqual(0);
  expect(byName.r1.countersMoved).toEqual({});

  const p = await t.cli(['status', t.inventory, '--prometheus']);
  expect(p.code).toBe(0);
  expect(p.stdout).toContain('# TYPE orchestrate_status gauge\norchestrate_status{} 0\n');
  expect(p.stdout).toContain('orchestrate_replica_link_up{node="r1",address="127.0.0.1:7262"} 1');
  expect(p.stdout).toMatch(
    /# TYPE orchestrate_sync_full_total counter\norchestrate_sync_full_total\{node="m",address="127\.0\.0\.1:7261"\} \d+/,
  );
  for (const line of p.stdout.trim().split('\n')) {
    expect(line).toMatch(/^(# (HELP|TYPE) orchestrate_\w+ .+|orchestrate_\w+\{[^}]*\} -?\d+(\.\d+)?)$/);
  }
});

test('a node near its maxclients is degraded (exit 1), and the Prometheus output carries its clients', async () => {
  // Under a low open-file limit the agent runs with a maxclients below its default: put back what it was.
  const [, before] = (await t.client('r2').config('GET', 'maxclients')) as string[];
  // r2's link to its master, the test's client and status's own connection fill a limit of 3.
  await t.client('r2').config('SET', 'maxclients', '3');
  try {
    const r = await t.cli(['status', t.inventory, '--json']);
    expect(r.code).toBe(1);
    const r2 = r.json.nodes.find((n: any) => n.name === 'r2');
    expect(r2).toMatchObject({ health: 'degraded', clients: { connected: 3, max: 3 } });
    expect(r2.problems).toEqual(['3 clients of maxclients 3']);
  } finally {
    await t.client('r2').config('SET', 'maxclients', before);
  }
  const p = await t.cli(['status', t.inventory, '--prometheus']);
  expect(p.stdout).toContain('# TYPE orchestrate_maxclients gauge\n');
  expect(p.stdout).toContain(`orchestrate_maxclients{node="r2",address="127.0.0.1:7263"} ${before}`);
  expect(p.stdout).toMatch(
    /orchestrate_rejected_connections_total\{node="m",address="127\.0\.0\.1:7261"\} 0\n/,
  );
});

test('a REPLICAOF run by hand shows as drift (exit 1), and the next apply puts it back', async () => {
  await t.client('r2').call('REPLICAOF', '127.0.0.1', '7262');
  await waitFor(async () => /master_link_status:up/.test(String(await t.client('r2').info('replication'))), {
    description: 'r2 linked to r1',
  });
  const r = await t.cli(['status', t.inventory, '--json']);
  expect(r.code).toBe(1);
  const r2 = r.json.nodes.find((n: any) => n.name === 'r2');
  expect(r2).toMatchObject({ master: 'r1', expectedMaster: 'm', drift: true, health: 'degraded' });
  expect(r2.problems).toContain('drift: follows r1, the inventory says m');

  const fix = await t.cli(['apply', t.inventory, '--yes']);
  expect(fix.code).toBe(0);
  expect(fix.stdout).toContain('correct runtime drift');
  const again = await t.cli(['status', t.inventory]);
  expect(again.code).toBe(0);
});

test('status --watch polls until interrupted, one JSON line per poll, and exits with the last verdict', async () => {
  requireBundles();
  const child = spawn(process.execPath, [CLI_BUNDLE, 'status', t.inventory, '--watch', '0.2', '--json'], {
    env: { PATH: process.env.PATH, HOME: t.dir, NO_COLOR: '1', ...t.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitFor(async () => out.split('\n').filter(Boolean).length >= 3, { description: 'three polls' });
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  const polls = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(polls.length).toBeGreaterThanOrEqual(3);
  for (const p of polls) expect(p).toMatchObject({ status: 'ok' });
  // From the second poll on, counters are compared with the poll before.
  expect(polls[0].nodes[0].countersMoved).toBeNull();
  expect(polls[1].nodes[0].countersMoved).toEqual({});
});

test('a killed replica makes status exit 2 and name the node that does not answer', async () => {
  t.kill('r1');
  await waitFor(
    async () => !/slave\d+:ip=127\.0\.0\.1,port=7262/.test(String(await t.client('m').info('replication'))),
    {
      description: 'm notices r1 is gone',
    },
  );
  const r = await t.cli(['status', t.inventory]);
  expect(r.code).toBe(2);
  expect(r.stdout).toMatch(/\nr1\s+127\.0\.0\.1:7262\s+DOWN/);
  expect(r.stdout).toContain('down: a node or a link is down');
  const p = await t.cli(['status', t.inventory, '--prometheus']);
  expect(p.code).toBe(2);
  expect(p.stdout).toContain('orchestrate_node_up{node="r1",address="127.0.0.1:7262"} 0');
});

test('a second apply is refused while another run holds the lock; a failed apply still releases it', async () => {
  writeFileSync(
    path.join(stateDir(), 'lock'),
    JSON.stringify({
      pid: process.pid,
      host: os.hostname(),
      command: 'apply',
      startedAt: 'now',
    }),
  );
  const refused = await t.cli(['apply', t.inventory, '--yes']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`another apply holds the lock: pid ${process.pid}`);
  unlinkSync(path.join(stateDir(), 'lock'));

  // r1 is down, so the plan has changes; without --yes and without a terminal the apply fails after taking the lock.
  const noYes = await t.cli(['apply', t.inventory]);
  expect(noYes.code).toBe(2);
  expect(existsSync(path.join(stateDir(), 'lock'))).toBe(false);
  const h = await t.cli(['history', t.inventory, '--json']);
  const last = h.json.entries[h.json.entries.length - 1];
  expect(last).toMatchObject({
    command: 'apply',
    outcome: 'failed',
    error: { code: 'E_CONFIRMATION_REQUIRED' },
  });
});

test('an apply killed by SIGTERM releases its lock and its history entry reads as interrupted', async () => {
  requireBundles();
  const other = new LocalTopology({ a: { port: 7264 }, b: { port: 7265, replicaof: 'a' } });
  try {
    const lock = path.join(other.dir, '.orchestrate', 'inventory', 'lock');
    const child = spawn(
      process.execPath,
      [CLI_BUNDLE, 'apply', other.inventory, '--yes', '--agent', other.agent],
      {
        env: { PATH: process.env.PATH, HOME: other.dir, NO_COLOR: '1', ...other.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('close', (_c, sig) => resolve(sig)),
    );
    await waitFor(async () => existsSync(lock) && /wave 1\/2/.test(err), { description: 'apply under way' });
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(existsSync(lock)).toBe(false);
    const h = await other.cli(['history', other.inventory, '--json']);
    expect(h.json.entries.map((e: any) => [e.command, e.outcome])).toEqual([['apply', 'interrupted']]);
  } finally {
    await other.cleanup();
  }
});
