/**
 * Moving the master and undoing it, on a local topology of real agents: an apply that makes a replica the master
 * is done by switchover under a steady write load (no acknowledged write lost, the former siblings continue with
 * partial resyncs), `rollback` returns to the recorded topology with the data written in between present on every
 * node (DEBUG DIGEST equal), `promote` moves it by hand, and an apply whose verification fails (a replica with a
 * wrong masterauth) rolls back by itself and reports both.
 */
import type Redis from 'ioredis';
import { waitFor } from '../helpers/waitFor';
import { digests, LocalTopology, type HostDef } from './support/localTopology';

jest.setTimeout(120_000);

const A: Record<string, HostDef> = {
  m: { port: 7271 },
  r1: { port: 7272, replicaof: 'm' },
  r2: { port: 7273, replicaof: 'm' },
};
const B: Record<string, HostDef> = {
  m: { port: 7271, replicaof: 'r1' },
  r1: { port: 7272 },
  r2: { port: 7273, replicaof: 'r1' },
};
const NAMES = ['m', 'r1', 'r2'];

let t: LocalTopology;
/** The write load of the running test, stopped after it whatever its outcome (a loop left running outlives it). */
let load: ReturnType<typeof writeLoad> | undefined;
beforeAll(() => {
  t = new LocalTopology(A);
});
afterEach(async () => {
  await load?.stop();
  load = undefined;
});
afterAll(() => t.cleanup());

/** Writes load:<n> = n one at a time to the master, following it when it moves; remembers what was acknowledged. */
function writeLoad(start: string) {
  const acked: number[] = [];
  let stop = false;
  let target = start;
  let errors = 0;
  const done = (async () => {
    let n = 0;
    while (!stop) {
      n++;
      try {
        await t.client(target).set(`load:${n}`, String(n));
        acked.push(n);
      } catch {
        errors++;
        for (const name of NAMES) {
          const role = String(
            await t
              .client(name)
              .call('ROLE')
              .catch(() => ['?']),
          );
          if (role.startsWith('master')) target = name;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  })();
  return {
    acked,
    errors: () => errors,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

async function roleOf(c: Redis): Promise<string> {
  return String(((await c.call('ROLE')) as unknown[])[0]);
}

async function expectSameEverywhere(keys: string[]) {
  await waitFor(async () => new Set(await digests(t, NAMES)).size === 1, { description: 'digests equal' });
  for (const name of NAMES) {
    const values = await t.client(name).mget(...keys);
    expect({ name, missing: keys.filter((_k, i) => values[i] === null) }).toEqual({ name, missing: [] });
  }
}

test('an apply that moves the master switches over under writes: nothing acknowledged is lost, siblings resync partially', async () => {
  const first = await t.cli(['apply', t.inventory, '--yes']);
  expect({ code: first.code, err: first.code ? first.stderr : '' }).toEqual({ code: 0, err: '' });
  for (let i = 0; i < 200; i++) await t.client('m').set(`before:${i}`, String(i));

  load = writeLoad('m');
  const { acked } = load;
  await waitFor(async () => acked.length > 200, { description: 'load running' });
  t.write(B);
  const r = await t.cli(['apply', t.inventory, '--yes', '--json']);
  await waitFor(async () => acked.length > 0 && (await roleOf(t.client('r1'))) === 'master', {
    description: 'r1 master',
  });
  const ackedAtSwitch = acked.length;
  await waitFor(async () => acked.length > ackedAtSwitch + 100, { description: 'load continues on r1' });
  await load.stop();
  expect({ code: r.code, err: r.code ? r.stderr : '' }).toEqual({ code: 0, err: '' });
  expect(r.json.switchovers).toHaveLength(1);
  expect(r.json.switchovers[0]).toMatchObject({ from: 'm', to: 'r1', siblings: ['r2'], fullResyncs: 0 });
  // The old master and the sibling both continued the stream partially.
  expect(r.json.switchovers[0].partialResyncs).toBe(2);
  expect(r.json.after.map((n: any) => [n.name, n.role, n.master ?? null]).sort()).toEqual([
    ['m', 'replica', 'r1'],
    ['r1', 'master', null],
    ['r2', 'replica', 'r1'],
  ]);
  await expectSameEverywhere([
    ...Array.from({ length: 200 }, (_, i) => `before:${i}`),
    ...acked.map((n) => `load:${n}`),
  ]);
});

test('rollback returns the master to m by switchover, with the data written in between everywhere', async () => {
  // Moving the master back with its current master outside --limit would leave two masters: refused.
  t.write(A);
  const limited = await t.cli(['apply', t.inventory, '--yes', '--limit', 'm']);
  expect(limited.code).toBe(1);
  expect(limited.stderr).toContain('m is to become a master but today follows r1, which is not in scope');
  expect(await roleOf(t.client('m'))).toBe('slave');
  t.write(B);
  for (let i = 0; i < 100; i++) await t.client('r1').set(`between:${i}`, String(i));
  const r = await t.cli(['rollback', t.inventory, '--yes', '--json']);
  expect({ code: r.code, err: r.code ? r.stderr : '' }).toEqual({ code: 0, err: '' });
  expect(r.json).toMatchObject({ ok: true, to: 1 });
  expect(r.json.switchovers[0]).toMatchObject({ from: 'r1', to: 'm', fullResyncs: 0, partialResyncs: 2 });
  expect(await roleOf(t.client('m'))).toBe('master');
  await expectSameEverywhere(Array.from({ length: 100 }, (_, i) => `between:${i}`));
  const h = await t.cli(['history', t.inventory, '--json']);
  expect(h.json.entries.map((e: any) => [e.id, e.command, e.outcome, e.rollbackTo ?? null])).toEqual([
    [1, 'apply', 'ok', null],
    [2, 'apply', 'ok', null],
    [3, 'apply', 'failed', null],
    [4, 'rollback', 'ok', 1],
  ]);
});

test('promote moves the master by hand and status shows the drift from the inventory', async () => {
  const r = await t.cli(['promote', t.inventory, 'r2', '--yes', '--json']);
  expect({ code: r.code, err: r.code ? r.stderr : '' }).toEqual({ code: 0, err: '' });
  expect(r.json.switchover).toMatchObject({
    from: 'm',
    to: 'r2',
    siblings: ['r1'],
    fullResyncs: 0,
    partialResyncs: 2,
  });
  // The inventory file (B) says r1 is the master: everything drifts.
  const s = await t.cli(['status', t.inventory, '--json']);
  expect(s.code).toBe(1);
  expect(s.json.nodes.find((n: any) => n.name === 'r2')).toMatchObject({ role: 'master', drift: true });
  t.write(A);
  const back = await t.cli(['rollback', t.inventory, '--to', '1', '--yes']);
  expect({ code: back.code, err: back.code ? back.stderr : '' }).toEqual({ code: 0, err: '' });
  expect((await t.cli(['status', t.inventory])).code).toBe(0);
});

test('an apply whose verification fails (wrong masterauth) rolls back by itself and reports both', async () => {
  await t.client('m').set('kept', 'yes');
  t.write({ ...A, r2: { port: 7273, replicaof: 'r1', server: 'masterauth: { env: WRONG }' } });
  const r = await t.cli(['apply', t.inventory, '--yes', '--verify-timeout', '3s', '--json']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('replication not proven in sync within 3 s; rolled back');
  expect(r.stderr).toMatch(/r2:\n\s+r2: link to r1 is down/);
  expect(r.stderr).toMatch(/rolled back by itself \(history \d+\) to history \d+/);
  expect(r.json.rollback.ok).toBe(true);
  expect(r.json.rollback.after.find((n: any) => n.name === 'r2')).toMatchObject({
    master: 'm',
    linkStatus: 'up',
  });
  await waitFor(async () => (await t.client('r2').get('kept')) === 'yes', {
    description: 'r2 follows m again',
  });
  await expectSameEverywhere(['kept']);
  const h = await t.cli(['history', t.inventory, '--json']);
  const [apply, rollback] = h.json.entries.slice(-2);
  expect(apply).toMatchObject({ command: 'apply', outcome: 'rolled-back', rolledBackBy: rollback.id });
  expect(rollback).toMatchObject({
    command: 'rollback',
    outcome: 'ok',
    summary: `automatic rollback of apply ${apply.id}`,
  });

  t.write({ ...A, r2: { port: 7273, replicaof: 'r1', server: 'masterauth: { env: WRONG }' } });
  const kept = await t.cli(['apply', t.inventory, '--yes', '--verify-timeout', '2s', '--no-rollback']);
  expect(kept.code).toBe(1);
  expect(kept.stderr).not.toContain('rolled back');
  expect(String(await t.client('r2').info('replication'))).toContain('master_port:7272');
});
