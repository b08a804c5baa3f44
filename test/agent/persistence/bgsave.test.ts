/**
 * BGSAVE without fork, through the real agent: the file is the dataset at the instant BGSAVE started even though
 * keys are written, changed, deleted, flushed and swapped while it runs (rdb-key-save-delay slows the snapshot
 * down so the writes interleave with it); a failed or interrupted save never damages the previous dump; the
 * replies, errors, -MISCONF refusals and INFO persistence fields are redis-server 7.0's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { startPair, startServer, type TestServer } from '../../helpers/servers';
import { waitFor } from '../../helpers/waitFor';
import { canonical, readRedisDataset } from './support/dataset';

jest.setTimeout(120_000);

async function infoField(server: TestServer, field: string): Promise<string> {
  const text = (await server.client.info('persistence')) as string;
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`INFO persistence has no ${field}`);
  return m[1].trim();
}

async function bgsaveFinished(server: TestServer): Promise<void> {
  await waitFor(async () => (await infoField(server, 'rdb_bgsave_in_progress')) === '0', {
    timeoutMs: 60_000,
    description: 'the BGSAVE to finish',
  });
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  return '(no error)';
}

function chattr(flag: '+i' | '-i', path: string): void {
  execFileSync('chattr', [flag, path]);
}

const DBS = [0, 1, 2, 3];

describe('BGSAVE point in time', () => {
  let agent: TestServer;
  afterEach(async () => agent?.stop());

  it('writes, changes and deletions made during a BGSAVE do not leak into the file', async () => {
    agent = await startServer({ kind: 'agent' });
    const c = agent.client;
    const p = c.pipeline();
    for (let i = 0; i < 1500; i++) p.set(`k:${i}`, `v:${i}:${'x'.repeat(i % 50)}`);
    for (let i = 0; i < 30; i++) p.rpush(`list:${i}`, ...Array.from({ length: 20 }, (_, j) => `e${j}`));
    for (let i = 0; i < 30; i++) p.hset(`hash:${i}`, 'a', '1', 'b', '2');
    for (let i = 0; i < 30; i++) p.sadd(`set:${i}`, 'm1', 'm2', String(i));
    for (let i = 0; i < 30; i++) p.zadd(`zset:${i}`, 1, 'a', 2, 'b');
    for (let i = 0; i < 100; i += 7) p.pexpire(`k:${i}`, 10_000_000);
    p.select(1);
    for (let i = 0; i < 100; i++) p.set(`flushed:${i}`, 'gone after FLUSHDB');
    p.select(2);
    for (let i = 0; i < 50; i++) p.set(`two:${i}`, 'in db 2');
    p.select(3);
    for (let i = 0; i < 50; i++) p.rpush(`three:${i}`, 'in db 3');
    p.select(0);
    await p.exec();
    const expected = canonical(await readRedisDataset(c, DBS));
    const keysAtCut = expected.length;

    await c.config('SET', 'rdb-key-save-delay', '1000');
    expect(await c.bgsave()).toBe('Background saving started');
    const writer = agent.connect();
    let round = 0;
    let writesDuringSave = 0;
    while ((await infoField(agent, 'rdb_bgsave_in_progress')) === '1' && round < 40) {
      const w = writer.pipeline();
      for (let i = 0; i < 25; i++) {
        const n = round * 25 + i;
        w.set(`k:${(n * 37) % 1500}`, `changed during the save ${n}`);
        w.del(`k:${(n * 53 + 11) % 1500}`);
        w.set(`new:${n}`, 'created during the save');
        w.lpush(`list:${n % 30}`, `pushed ${n}`);
        w.hset(`hash:${n % 30}`, 'a', `changed ${n}`, `new${n}`, 'x');
        w.sadd(`set:${n % 30}`, `added ${n}`);
        w.srem(`set:${n % 30}`, 'm1');
        w.zincrby(`zset:${n % 30}`, 10, 'a');
        w.pexpire(`k:${(n * 13) % 1500}`, 5_000_000);
        w.persist(`k:${(n * 7) % 1500}`);
        w.rename(`list:${(n + 15) % 30}`, `renamed:${n}`);
      }
      w.select(1);
      w.flushdb();
      w.set(`flushed:${round}`, 'recreated after FLUSHDB');
      w.swapdb(2, 3);
      w.select(0);
      await w.exec();
      writesDuringSave += 25;
      round++;
    }
    const processed = Number(await infoField(agent, 'current_save_keys_processed'));
    await bgsaveFinished(agent);
    expect(writesDuringSave).toBeGreaterThan(0);
    expect(await infoField(agent, 'rdb_last_bgsave_status')).toBe('ok');
    // The snapshot was still running when the last writes were made.
    expect(processed).toBeLessThan(keysAtCut);
    expect(Number(await infoField(agent, 'rdb_last_cow_size'))).toBeGreaterThan(0);
    const file = parseRdb(readFileSync(agent.dumpPath));
    expect(file.checksum).toBe('verified');
    expect(canonical(file.entries)).toEqual(expected);
    // ...while the live dataset did change.
    expect(await c.exists('new:0')).toBe(1);
  });
});

describe('BGSAVE point in time under every kind of write command', () => {
  let agent: TestServer;
  afterEach(async () => agent?.stop());

  it('keeps the image of the cut whatever command changes the keys meanwhile', async () => {
    agent = await startServer({ kind: 'agent' });
    const c = agent.client;
    const n = 40;
    const p = c.pipeline();
    for (let i = 0; i < n; i++) {
      p.set(`s${i}`, `${i}`);
      p.rpush(`l${i}`, 'a', 'b', 'c', 'b', 'd');
      p.hset(`h${i}`, 'f', '1', 'g', 'x');
      p.sadd(`t${i}`, 'a', 'b', 'c', String(i));
      p.zadd(`z${i}`, 1, 'a', 2, 'b', 3, 'c');
    }
    // Keys no command below touches, created last (so walked last): the walk must still write them itself, one
    // per 20 ms, which keeps the snapshot running until the delay is lifted. Without them, the commands' change
    // hook wrote every key of the cut before the last commands ran, and on a loaded machine the walk could finish
    // before the check below (2 full runs in ~10).
    for (let i = 0; i < 100; i++) p.set(`untouched${i}`, `${i}`);
    await p.exec();
    const expected = canonical(await readRedisDataset(c, [0, 1]));
    await c.config('SET', 'rdb-key-save-delay', '20000');
    await c.bgsave();
    const w = agent.connect();
    const failures: string[] = [];
    for (let i = 0; i < n; i++) {
      const commands: Array<Array<string | number>> = [
        ['APPEND', `s${i}`, 'x'],
        ['SETRANGE', `s${i}`, 0, 'y'],
        ['INCRBYFLOAT', `s${(i + 1) % n}`, '1.5'],
        ['GETDEL', `s${(i + 2) % n}`],
        ['GETEX', `s${(i + 3) % n}`, 'EX', 100],
        ['SETEX', `s${(i + 4) % n}`, 100, 'v'],
        ['LSET', `l${i}`, 0, 'changed'],
        ['LINSERT', `l${i}`, 'BEFORE', 'b', 'ins'],
        ['LREM', `l${i}`, 1, 'b'],
        ['LTRIM', `l${(i + 1) % n}`, 1, 2],
        ['LMOVE', `l${(i + 2) % n}`, `l${(i + 3) % n}`, 'LEFT', 'RIGHT'],
        ['RPOP', `l${(i + 4) % n}`],
        ['HINCRBY', `h${i}`, 'f', 5],
        ['HDEL', `h${i}`, 'g'],
        ['HSETNX', `h${(i + 1) % n}`, 'new', 'v'],
        ['SMOVE', `t${i}`, `t${(i + 1) % n}`, 'a'],
        ['SPOP', `t${(i + 2) % n}`],
        ['SINTERSTORE', `t${(i + 3) % n}`, `t${i}`, `t${(i + 4) % n}`],
        ['ZADD', `z${i}`, 'INCR', 10, 'a'],
        ['ZREM', `z${i}`, 'b'],
        ['ZPOPMIN', `z${(i + 1) % n}`],
        ['ZUNIONSTORE', `z${(i + 2) % n}`, 2, `z${i}`, `z${(i + 3) % n}`],
        ['COPY', `h${(i + 2) % n}`, `h${(i + 3) % n}`, 'REPLACE'],
        ['MOVE', `t${(i + 5) % n}`, 1],
        ['EXPIRE', `l${(i + 5) % n}`, 100],
        ['SORT', `l${(i + 6) % n}`, 'ALPHA', 'STORE', `l${(i + 7) % n}`],
        ['UNLINK', `z${(i + 4) % n}`],
        ['RENAMENX', `h${(i + 5) % n}`, `fresh${i}`],
      ];
      const results = await w
        .pipeline(commands.map(([name, ...args]) => ['call', String(name), ...args.map(String)]))
        .exec();
      for (const [err] of results ?? []) if (err) failures.push(err.message);
    }
    // Some commands legitimately fail (a key already moved away...), but they must mostly run.
    expect(failures.length).toBeLessThan(n * 2);
    await w.swapdb(0, 1);
    await w.flushdb();
    expect(await infoField(agent, 'rdb_bgsave_in_progress')).toBe('1');
    await c.config('SET', 'rdb-key-save-delay', '0');
    await bgsaveFinished(agent);
    const file = parseRdb(readFileSync(agent.dumpPath));
    expect(canonical(file.entries)).toEqual(expected);
  });
});

describe('BGSAVE and SAVE like redis-server 7', () => {
  const servers: TestServer[] = [];
  const immutable: string[] = [];
  afterEach(async () => {
    for (const p of immutable.splice(0)) chattr('-i', p);
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('answers BGSAVE, BGSAVE SCHEDULE, SAVE and LASTSAVE as Redis while a save runs', async () => {
    const { agent, redis } = await startPair();
    servers.push(agent, redis);
    for (const s of [agent, redis]) {
      const p = s.client.pipeline();
      for (let i = 0; i < 300; i++) p.set(`k${i}`, 'v');
      await p.exec();
      await s.client.config('SET', 'rdb-key-save-delay', '3000');
    }
    for (const s of [agent, redis]) {
      expect(await s.client.bgsave()).toBe('Background saving started');
      expect(await errorOf(s.client.bgsave())).toBe('ERR Background save already in progress');
      expect(await errorOf(s.client.call('BGSAVE', 'SCHEDULE'))).toBe(
        'ERR Background save already in progress',
      );
      expect(await errorOf(s.client.save())).toBe('ERR Background save already in progress');
      expect(await errorOf(s.client.call('BGSAVE', 'NOW'))).toBe('ERR syntax error');
      expect(await s.client.call('BGREWRITEAOF')).toBe('Background append only file rewriting scheduled');
      expect(await infoField(s, 'rdb_bgsave_in_progress')).toBe('1');
      expect(await infoField(s, 'aof_rewrite_scheduled')).toBe('1');
      await s.client.config('SET', 'rdb-key-save-delay', '0');
    }
    for (const s of [agent, redis]) {
      await bgsaveFinished(s);
      const last = await s.client.lastsave();
      expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(5);
      expect(await infoField(s, 'rdb_changes_since_last_save')).toBe('0');
    }
  });

  it('refuses writes and PING with -MISCONF after a failed BGSAVE, until a save succeeds', async () => {
    const { agent, redis } = await startPair(['--save', '3600 1']);
    servers.push(agent, redis);
    for (const s of [agent, redis]) {
      await s.client.set('before', '1');
      chattr('+i', s.dir);
      immutable.push(s.dir);
    }
    for (const s of [agent, redis]) {
      expect(await s.client.bgsave()).toBe('Background saving started');
      await waitFor(async () => (await infoField(s, 'rdb_last_bgsave_status')) === 'err');
    }
    const agentError = await errorOf(agent.client.set('k', 'v'));
    expect(agentError).toMatch(/^MISCONF /);
    expect(agentError).toBe(await errorOf(redis.client.set('k', 'v')));
    expect(await errorOf(agent.client.ping())).toBe(agentError);
    expect(await errorOf(redis.client.ping())).toBe(agentError);
    expect(await agent.client.get('before')).toBe('1');
    expect(await errorOf(agent.client.save())).toBe('ERR');
    expect(await errorOf(redis.client.save())).toBe('ERR');
    for (const s of [agent, redis]) {
      chattr('-i', s.dir);
      immutable.splice(immutable.indexOf(s.dir), 1);
      expect(await s.client.save()).toBe('OK');
      expect(await s.client.set('k', 'v')).toBe('OK');
    }
    expect(readdirSync(agent.dir).filter((f) => f.startsWith('temp-'))).toEqual([]);
  });

  it('never damages the previous dump: a failed BGSAVE and a kill -9 in the middle leave it as it was', async () => {
    const agent = await startServer({ kind: 'agent' });
    servers.push(agent);
    await agent.client.set('old', 'dataset');
    expect(await agent.client.save()).toBe('OK');
    const previous = readFileSync(agent.dumpPath);
    const p = agent.client.pipeline();
    for (let i = 0; i < 500; i++) p.set(`new${i}`, 'x'.repeat(100));
    await p.exec();
    // The dump itself cannot be replaced: the save fails at the rename, the file stays.
    chattr('+i', agent.dumpPath);
    immutable.push(agent.dumpPath);
    await agent.client.bgsave();
    await waitFor(async () => (await infoField(agent, 'rdb_last_bgsave_status')) === 'err');
    expect(readFileSync(agent.dumpPath).equals(previous)).toBe(true);
    chattr('-i', agent.dumpPath);
    immutable.pop();
    // Killed while a slow BGSAVE is writing its temporary file.
    await agent.client.config('SET', 'rdb-key-save-delay', '2000');
    await agent.client.bgsave();
    await waitFor(async () => readdirSync(agent.dir).some((f) => f.startsWith('temp-')));
    await agent.kill('SIGKILL');
    expect(readFileSync(agent.dumpPath).equals(previous)).toBe(true);
    const restarted = await startServer({ kind: 'agent', dir: agent.dir });
    servers.push(restarted);
    expect(await restarted.client.keys('*')).toEqual(['old']);
  });

  it('starts a BGSAVE by itself when a save point is reached', async () => {
    const agent = await startServer({ kind: 'agent', args: ['--save', '1 2'] });
    servers.push(agent);
    await agent.client.set('a', '1');
    await agent.client.set('b', '2');
    await waitFor(async () => (await infoField(agent, 'rdb_saves')) === '1', { timeoutMs: 10_000 });
    expect(agent.output()).toContain('2 changes in 1 seconds. Saving...');
    expect(await infoField(agent, 'rdb_changes_since_last_save')).toBe('0');
    expect(
      parseRdb(readFileSync(agent.dumpPath))
        .entries.map((e) => e.key)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('stops a running BGSAVE at FLUSHALL and saves the empty dataset when save points are configured', async () => {
    const agent = await startServer({ kind: 'agent', args: ['--save', '3600 100'] });
    servers.push(agent);
    for (let i = 0; i < 100; i++) await agent.client.set(`k${i}`, 'v');
    expect(existsSync(agent.dumpPath)).toBe(false);
    // A BGSAVE running at the FLUSHALL is stopped (its image is stale), as Redis kills its child.
    await agent.client.config('SET', 'rdb-key-save-delay', '10000');
    await agent.client.bgsave();
    await agent.client.flushall();
    expect(await infoField(agent, 'rdb_bgsave_in_progress')).toBe('0');
    expect(await infoField(agent, 'rdb_last_bgsave_status')).toBe('ok');
    expect(parseRdb(readFileSync(agent.dumpPath)).entries).toEqual([]);
    expect(await infoField(agent, 'rdb_changes_since_last_save')).toBe('1');
    await waitFor(() => readdirSync(agent.dir).every((f) => !f.startsWith('temp-')), {
      description: 'the stopped BGSAVE to remove its temporary file',
    });
  });

  it('reports the INFO persistence fields of Redis 7.0, in its order', async () => {
    const { agent, redis } = await startPair();
    servers.push(agent, redis);
    const names = async (s: TestServer): Promise<string[]> =>
      ((await s.client.info('persistence')) as string)
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => l.split(':')[0]);
    expect(await names(agent)).toEqual(await names(redis));
    await agent.client.config('SET', 'appendonly', 'yes');
    await redis.client.config('SET', 'appendonly', 'yes');
    await waitFor(async () => (await infoField(agent, 'aof_rewrite_in_progress')) === '0');
    await waitFor(async () => (await infoField(redis, 'aof_rewrite_in_progress')) === '0');
    expect(await names(agent)).toEqual(await names(redis));
  });
});
