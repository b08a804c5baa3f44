/**
 * `orchestrate restart` on a local topology of real agents (persistence on): replicas first, each back in sync
 * before the next, the master last, every replica continuing with a partial resync (no full sync); with
 * --switchover the master is moved to a replica and back around its restart. Writes made before are everywhere
 * afterwards (DEBUG DIGEST equal), and the run is in the history.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { OPEN_FILES_LIMIT } from '../../cli/plan/service';
import { waitFor } from '../helpers/waitFor';
import { digests, LocalTopology } from './support/localTopology';

jest.setTimeout(120_000);

let t: LocalTopology;
beforeAll(async () => {
  t = new LocalTopology({
    m: { port: 7281 },
    r1: { port: 7282, replicaof: 'm' },
    r2: { port: 7283, replicaof: 'm' },
  });
  const r = await t.cli(['apply', t.inventory, '--yes']);
  if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`);
  for (let i = 0; i < 300; i++) await t.client('m').set(`k:${i}`, String(i));
});
afterAll(() => t.cleanup());

const NAMES = ['m', 'r1', 'r2'];

/** The soft and hard open-file limits of a process, from Linux's /proc/<pid>/limits. */
function openFiles(pid: number | 'self'): { soft: number; hard: number } {
  const [, soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/m.exec(
    readFileSync(`/proc/${pid}/limits`, 'utf8'),
  )!;
  const n = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: n(soft), hard: n(hard) };
}

test('the control script starts agents with the service open-file limit where the host allows, maxclients fitting it', async () => {
  // Raising the limit takes CAP_SYS_RESOURCE or a hard limit above it; otherwise the agent runs with the hard
  // limit it inherits (Node raises its soft limit to that) and lowers maxclients to fit.
  const canRaise = spawnSync('sh', ['-c', `ulimit -n ${OPEN_FILES_LIMIT}`]).status === 0;
  const expected = canRaise ? OPEN_FILES_LIMIT : openFiles('self').hard;
  for (const name of NAMES) {
    expect({ name, limit: openFiles(t.pid(name)!).soft }).toEqual({ name, limit: expected });
  }
  expect(await t.client('m').config('GET', 'maxclients')).toEqual([
    'maxclients',
    String(Math.min(10_000, expected - 32)),
  ]);
});

test('a rolling restart restarts replicas then the master, each in sync again by partial resync', async () => {
  const pids = NAMES.map((n) => t.pid(n));
  const r = await t.cli(['restart', t.inventory, '--yes', '--json']);
  expect({ code: r.code, err: r.code ? r.stderr : '' }).toEqual({ code: 0, err: '' });
  expect(r.json.restarted.map((x: any) => [x.name, x.role])).toEqual([
    ['r1', 'replica'],
    ['r2', 'replica'],
    ['m', 'master'],
  ]);
  for (const x of r.json.restarted)
    expect({ name: x.name, full: x.fullResyncs }).toEqual({ name: x.name, full: 0 });
  expect(r.json.restarted.map((x: any) => x.partialResyncs)).toEqual([1, 1, 2]);
  NAMES.forEach((n, i) => expect({ n, pid: t.pid(n) }).not.toEqual({ n, pid: pids[i] }));
  await waitFor(async () => new Set(await digests(t, NAMES)).size === 1, { description: 'digests equal' });
  expect(await t.client('r2').get('k:299')).toBe('299');
});

test('--switchover moves the master to a replica around its restart and back, and --limit narrows the run', async () => {
  const r = await t.cli(['restart', t.inventory, '--yes', '--switchover', '--json']);
  expect({ code: r.code, err: r.code ? r.stderr : '' }).toEqual({ code: 0, err: '' });
  expect(r.json.switchovers.map((s: any) => [s.from, s.to])).toEqual([
    ['m', 'r1'],
    ['r1', 'm'],
  ]);
  const m = r.json.restarted.find((x: any) => x.name === 'm');
  expect(m).toMatchObject({ via: 'switchover to r1 and back', fullResyncs: 0 });
  expect(r.json.after.find((n: any) => n.name === 'm').role).toBe('master');

  const limited = await t.cli(['restart', t.inventory, '--yes', '--limit', 'r2', '--json']);
  expect(limited.code).toBe(0);
  expect(limited.json.restarted.map((x: any) => x.name)).toEqual(['r2']);
  const h = await t.cli(['history', t.inventory, '--json']);
  expect(h.json.entries.map((e: any) => [e.command, e.outcome])).toEqual([
    ['apply', 'ok'],
    ['restart', 'ok'],
    ['restart', 'ok'],
    ['restart', 'ok'],
  ]);
  await waitFor(async () => new Set(await digests(t, NAMES)).size === 1, { description: 'digests equal' });
});

test('a master without persistence is not restarted in place (it would come back empty): --switchover is required', async () => {
  t.write({ ...t.hosts, m: { port: 7281, server: 'persistence: "off"' } });
  const applied = await t.cli(['apply', t.inventory, '--yes']);
  expect({ code: applied.code, err: applied.code ? applied.stderr : '' }).toEqual({ code: 0, err: '' });
  const pids = NAMES.map((n) => t.pid(n));
  const r = await t.cli(['restart', t.inventory, '--yes']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    'm is a master without persistence: restarted in place it would come back empty',
  );
  expect(NAMES.map((n) => t.pid(n))).toEqual(pids);
});
