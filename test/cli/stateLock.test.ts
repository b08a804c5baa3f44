/**
 * The run lock and the history journal on disk: one holder at a time, stale locks (dead pid on this host) taken
 * over, foreign-host locks reported with their owner, release that never removes someone else's lock; history ids
 * counting up, and a run that never finished read back as interrupted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { History } from '../../cli/state/history';
import { acquireLock, type LockEnv } from '../../cli/state/lock';
import { stateDirFor } from '../../cli/state/stateDir';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (pid: number, alive: (pid: number) => boolean = () => true, host = 'here'): LockEnv => ({
  pid,
  host,
  now: () => new Date('2026-01-01T00:00:00Z'),
  alive,
});

test('the state directory sits beside the inventory unless --state-dir says otherwise', () => {
  const base = { embeddedInventory: false, cwd: '/work', env: { HOME: '/home/u' } };
  expect(stateDirFor({ ...base, inventoryPath: 'inv/prod.yaml' })).toBe('/work/inv/.orchestrate/prod');
  expect(stateDirFor({ ...base, inventoryPath: 'prod.yaml', stateDir: '/var/s' })).toBe('/var/s');
  expect(stateDirFor({ ...base, inventoryPath: 'x', embeddedInventory: true })).toBe(
    '/home/u/.local/state/orchestrate/embedded',
  );
});

test('a second holder is refused while the first holds the lock, and may take it after release', () => {
  const first = acquireLock(dir, 'apply', env(100));
  expect(JSON.parse(readFileSync(first.file, 'utf8'))).toMatchObject({
    pid: 100,
    host: 'here',
    command: 'apply',
  });
  expect(() => acquireLock(dir, 'restart', env(200))).toThrow(
    /another apply holds the lock: pid 100 on here since 2026-01-01T00:00:00.000Z/,
  );
  first.release();
  expect(existsSync(first.file)).toBe(false);
  const second = acquireLock(dir, 'restart', env(200));
  second.release();
});

test('a lock whose process is gone is taken over, and the old holder cannot release the new lock', () => {
  const dead = acquireLock(dir, 'apply', env(100));
  const taker = acquireLock(
    dir,
    'apply',
    env(200, (pid) => pid !== 100),
  );
  expect(taker.tookOverFrom).toMatchObject({ pid: 100 });
  dead.release();
  expect(JSON.parse(readFileSync(taker.file, 'utf8')).pid).toBe(200);
  taker.release();
  expect(existsSync(taker.file)).toBe(false);
});

test('a lock from another host is reported with how to clear it, never taken over', () => {
  writeFileSync(
    path.join(dir, 'lock'),
    JSON.stringify({ pid: 1, host: 'elsewhere', command: 'apply', startedAt: 'then' }),
  );
  let message = '';
  try {
    acquireLock(
      dir,
      'apply',
      env(5, () => false),
    );
  } catch (e) {
    message = `${(e as Error).message} ${(e as { details: string[] }).details.join(' ')}`;
  }
  expect(message).toContain('pid 1 on elsewhere since then');
  expect(message).toContain(`if no orchestrate runs on elsewhere any more, remove ${path.join(dir, 'lock')}`);
});

test('history ids count up, entries round-trip, and an unfinished run reads as interrupted', () => {
  const h = new History(dir);
  const inventory = { file: 'inv.yaml', checksum: 'abc', text: 'version: 1\n' };
  const a = h.begin({ command: 'apply', summary: 'apply', startedAt: 't0', inventory, before: [] });
  a.outcome = 'ok';
  a.after = [{ name: 'm', address: '127.0.0.1', port: 1, reachable: true, role: 'master' }];
  h.save(a);
  const b = h.begin({ command: 'apply', summary: 'apply', startedAt: 't1', inventory, before: [] });
  expect([a.id, b.id]).toEqual([1, 2]);
  const list = new History(dir).list();
  expect(list.map((e) => [e.id, e.outcome])).toEqual([
    [1, 'ok'],
    [2, 'interrupted'],
  ]);
  expect(list[0].after).toEqual(a.after);
  expect(new History(dir).list(2)[1].outcome).toBe('running');
});
