/**
 * The append-only file through the real agent: Redis 7's multi-part layout (appendonlydir, manifest, base and incr
 * files), round trips across restarts, interchange with redis-server 7 in both directions, BGREWRITEAOF without
 * fork (writes made during the rewrite survive), appendonly switched at runtime, a last command cut short by a
 * crash (aof-load-truncated), an unfinished MULTI, an old-style single appendonly.aof, and -MISCONF while the file
 * cannot be written.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { startPair, startServer, type ServerKind, type TestServer } from '../../helpers/servers';
import { waitFor } from '../../helpers/waitFor';

jest.setTimeout(120_000);

const AOF_ON = ['--appendonly', 'yes', '--appendfsync', 'always'];

async function infoField(server: TestServer, field: string): Promise<string> {
  const text = (await server.client.info('persistence')) as string;
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`INFO persistence has no ${field}`);
  return m[1].trim();
}

async function digest(server: TestServer): Promise<string> {
  return (await server.client.call('DEBUG', 'DIGEST')) as string;
}

async function writeEverything(server: TestServer, tag: string): Promise<void> {
  const c = server.client;
  await c.set(`${tag}:s`, 'string value');
  await c.incrby(`${tag}:n`, 41);
  await c.incr(`${tag}:n`);
  await c.rpush(`${tag}:l`, 'a', 'b', 'c');
  await c.lpop(`${tag}:l`);
  await c.hset(`${tag}:h`, 'f1', 'v1', 'f2', 'v2');
  await c.sadd(`${tag}:st`, '1', '2', 'three');
  await c.zadd(`${tag}:z`, 1.5, 'x', -2, 'y');
  await c.set(`${tag}:ttl`, 'v', 'EX', 5000);
  await c.set(`${tag}:bin`, Buffer.from([0, 1, 2, 255, 13, 10]));
  await c.multi().set(`${tag}:m1`, '1').set(`${tag}:m2`, '2').exec();
  await c.select(5);
  await c.set(`${tag}:in5`, 'five');
  await c.select(0);
  await c.set(`${tag}:gone`, 'x');
  await c.del(`${tag}:gone`);
}

function manifestOf(server: TestServer): string {
  return readFileSync(path.join(server.dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
}

describe('the append-only file', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function start(kind: ServerKind, dir: string | undefined, args: string[]): Promise<TestServer> {
    const s = await startServer({ kind, dir, args });
    servers.push(s);
    return s;
  }

  it('uses the multi-part layout of Redis 7 and survives restarts', async () => {
    const agent = await start('agent', undefined, AOF_ON);
    expect(manifestOf(agent)).toBe(
      'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    expect(agent.output()).toContain('Creating AOF base file appendonly.aof.1.base.rdb on server start');
    await writeEverything(agent, 'a');
    const incr = readFileSync(path.join(agent.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1');
    expect(incr.startsWith('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$3\r\na:s\r\n')).toBe(true);
    expect(incr).toContain('*1\r\n$5\r\nMULTI\r\n');
    expect(incr).toContain('$4\r\nPXAT\r\n');
    expect(Number(await infoField(agent, 'aof_current_size'))).toBeGreaterThan(incr.length);
    const before = await digest(agent);
    await agent.kill('SIGTERM');
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await digest(again)).toBe(before);
    expect(await again.client.ttl('a:ttl')).toBeGreaterThan(4000);
  });

  it.each([
    ['agent', 'redis'],
    ['redis', 'agent'],
  ] as Array<[ServerKind, ServerKind]>)(
    'written by %s is loaded by %s with an identical dataset',
    async (from, to) => {
      const source = await start(from, undefined, AOF_ON);
      await writeEverything(source, 'x');
      expect(await source.client.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
      await waitFor(async () => (await infoField(source, 'aof_rewrite_in_progress')) === '0');
      await writeEverything(source, 'y');
      const expected = await digest(source);
      await source.kill('SIGKILL');
      const target = await start(to, undefined, AOF_ON);
      await target.kill('SIGKILL');
      cpSync(path.join(source.dir, 'appendonlydir'), path.join(target.dir, 'appendonlydir'), {
        recursive: true,
      });
      const loaded = await start(to, target.dir, AOF_ON);
      expect(await digest(loaded)).toBe(expected);
    },
  );

  it('keeps the writes made while BGREWRITEAOF runs, and retires the old files', async () => {
    const agent = await start('agent', undefined, AOF_ON);
    const p = agent.client.pipeline();
    for (let i = 0; i < 1000; i++) p.set(`k${i}`, `v${i}`);
    await p.exec();
    await agent.client.config('SET', 'rdb-key-save-delay', '2000');
    expect(await agent.client.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await expect(agent.client.call('BGREWRITEAOF')).rejects.toThrow(
      'ERR Background append only file rewriting already in progress',
    );
    expect(manifestOf(agent)).toBe(
      'file appendonly.aof.1.base.rdb seq 1 type b\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n' +
        'file appendonly.aof.2.incr.aof seq 2 type i\n',
    );
    for (let i = 0; i < 1000; i += 3) await agent.client.set(`k${i}`, `changed during the rewrite ${i}`);
    await agent.client.del('k1', 'k4');
    await agent.client.set('created-during-rewrite', 'yes');
    expect(await infoField(agent, 'aof_rewrite_in_progress')).toBe('1');
    await agent.client.config('SET', 'rdb-key-save-delay', '0');
    await waitFor(async () => (await infoField(agent, 'aof_rewrite_in_progress')) === '0');
    expect(await infoField(agent, 'aof_last_bgrewrite_status')).toBe('ok');
    expect(manifestOf(agent)).toBe(
      'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
    );
    expect(readdirSync(path.join(agent.dir, 'appendonlydir')).sort()).toEqual([
      'appendonly.aof.2.base.rdb',
      'appendonly.aof.2.incr.aof',
      'appendonly.aof.manifest',
    ]);
    const expected = await digest(agent);
    await agent.kill('SIGKILL');
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await digest(again)).toBe(expected);
    expect(await again.client.get('k3')).toBe('changed during the rewrite 3');
    expect(await again.client.exists('k4')).toBe(0);
  });

  it('writes a command base without the RDB preamble, which redis-server loads', async () => {
    const args = [...AOF_ON, '--aof-use-rdb-preamble', 'no'];
    const agent = await start('agent', undefined, args);
    await writeEverything(agent, 'p');
    await agent.client.call('BGREWRITEAOF');
    await waitFor(async () => (await infoField(agent, 'aof_rewrite_in_progress')) === '0');
    expect(manifestOf(agent)).toContain('file appendonly.aof.2.base.aof seq 2 type b\n');
    const base = readFileSync(path.join(agent.dir, 'appendonlydir', 'appendonly.aof.2.base.aof'), 'latin1');
    expect(base).toContain('$5\r\nRPUSH\r\n');
    const expected = await digest(agent);
    await agent.kill('SIGKILL');
    const redis = await start('redis', undefined, args);
    await redis.kill('SIGKILL');
    cpSync(path.join(agent.dir, 'appendonlydir'), path.join(redis.dir, 'appendonlydir'), { recursive: true });
    const loaded = await start('redis', redis.dir, args);
    expect(await digest(loaded)).toBe(expected);
  });

  it('loads an AOF whose last command was cut short and truncates it (aof-load-truncated yes)', async () => {
    const agent = await start('agent', undefined, AOF_ON);
    await writeEverything(agent, 't');
    const expected = await digest(agent);
    await agent.kill('SIGKILL');
    const incr = path.join(agent.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const size = statSync(incr).size;
    appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$3\r\nnew\r\n$10\r\nhalf');
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await digest(again)).toBe(expected);
    expect(again.output()).toContain(
      '!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!',
    );
    expect(again.output()).toContain(
      'AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled',
    );
    expect(statSync(incr).size).toBe(size);
    await again.client.set('after', 'restart');
    await again.kill('SIGKILL');
    const third = await start('agent', agent.dir, AOF_ON);
    expect(await third.client.get('after')).toBe('restart');
  });

  it('drops a MULTI left without its EXEC at the end of the file', async () => {
    const agent = await start('agent', undefined, AOF_ON);
    await agent.client.set('kept', '1');
    await agent.kill('SIGKILL');
    const incr = path.join(agent.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const size = statSync(incr).size;
    appendFileSync(incr, '*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r\n1\r\n');
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await again.client.keys('*')).toEqual(['kept']);
    expect(again.output()).toContain(
      'Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof',
    );
    expect(statSync(incr).size).toBe(size);
  });

  it('is switched on and off at runtime with CONFIG SET appendonly', async () => {
    const agent = await start('agent', undefined, ['--appendfsync', 'always']);
    await writeEverything(agent, 'before');
    expect(existsSync(path.join(agent.dir, 'appendonlydir'))).toBe(false);
    expect(await agent.client.config('SET', 'appendonly', 'yes')).toBe('OK');
    await waitFor(async () => (await infoField(agent, 'aof_rewrite_in_progress')) === '0');
    expect(await infoField(agent, 'aof_enabled')).toBe('1');
    await writeEverything(agent, 'after');
    const whileOn = await digest(agent);
    expect(await agent.client.config('SET', 'appendonly', 'no')).toBe('OK');
    expect(await infoField(agent, 'aof_enabled')).toBe('0');
    await agent.client.set('not-logged', 'x');
    await agent.kill('SIGKILL');
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await digest(again)).toBe(whileOn);
  });

  it('adopts an old-style single appendonly.aof as the base of the AOF directory', async () => {
    const agent = await start('agent', undefined, []);
    await agent.kill('SIGKILL');
    writeFileSync(
      path.join(agent.dir, 'appendonly.aof'),
      '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$6\r\nlegacy\r\n$3\r\nyes\r\n',
    );
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await again.client.get('legacy')).toBe('yes');
    expect(existsSync(path.join(agent.dir, 'appendonly.aof'))).toBe(false);
    expect(manifestOf(again)).toBe(
      'file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
  });

  it('refuses writes with -MISCONF while the AOF cannot be written, as Redis, and recovers', async () => {
    const { agent, redis } = await startPair(['--appendonly', 'yes', '--appendfsync', 'everysec']);
    servers.push(agent, redis);
    const incrOf = (s: TestServer): string => path.join(s.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const locked: string[] = [];
    try {
      for (const s of [agent, redis]) {
        await s.client.set('before', '1');
        execFileSync('chattr', ['+i', incrOf(s)]);
        locked.push(incrOf(s));
        await s.client.set('fails-to-persist', '1');
        await waitFor(async () => (await infoField(s, 'aof_last_write_status')) === 'err');
      }
      const errorOf = async (s: TestServer): Promise<string> =>
        s.client.set('k', 'v').then(
          () => '(no error)',
          (err: Error) => err.message,
        );
      const agentError = await errorOf(agent);
      expect(agentError).toBe('MISCONF Errors writing to the AOF file: Operation not permitted');
      expect(agentError).toBe(await errorOf(redis));
      expect(await agent.client.get('before')).toBe('1');
    } finally {
      for (const f of locked) execFileSync('chattr', ['-i', f]);
    }
    for (const s of [agent, redis]) {
      await waitFor(async () => (await infoField(s, 'aof_last_write_status')) === 'ok', {
        timeoutMs: 10_000,
      });
    }
    // The agent refuses writes on exactly the status it reports. Redis also checks its background fsync's status,
    // which its fsync thread updates on its own schedule: a SET right after INFO said ok was once refused there.
    expect(await agent.client.set('k', 'v')).toBe('OK');
    await waitFor(async () => (await redis.client.set('k', 'v')) === 'OK', {
      timeoutMs: 10_000,
      description: 'redis to take writes again',
    });
    const expected = await digest(agent);
    await agent.kill('SIGTERM');
    const again = await start('agent', agent.dir, AOF_ON);
    expect(await digest(again)).toBe(expected);
    expect(await again.client.get('fails-to-persist')).toBe('1');
  });
});
