/**
 * The agent's data across restarts: kept with persistence on (save points: saved at shutdown; SAVE/BGSAVE; the
 * AOF), lost with persistence off (`save ""` and `appendonly no`: no file is written at all). Startup loading:
 * INFO loading:1 and -LOADING while the file is read, then the data; and SHUTDOWN's save rules.
 */
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { HOST, startServer, type TestServer } from '../../helpers/servers';
import { waitFor } from '../../helpers/waitFor';

jest.setTimeout(60_000);

async function fill(server: TestServer): Promise<string> {
  const c = server.client;
  await c.set('s', 'string');
  await c.rpush('l', 'a', 'b', 'c');
  await c.hset('h', 'f', 'v', 'g', 'w');
  await c.sadd('st', 'x', 'y');
  await c.zadd('z', 1, 'one', 2.5, 'two');
  await c.set('ttl', 'v', 'EX', 1000);
  await c.select(7);
  await c.set('in7', 'seven');
  await c.select(0);
  return (await c.call('DEBUG', 'DIGEST')) as string;
}

/** One command on a plain socket, its first reply line (to see -LOADING, which ioredis would hide). */
function rawCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let data = '';
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (b) => {
      data += b.toString('latin1');
      const eol = data.indexOf('\r\n');
      if (eol >= 0) {
        socket.destroy();
        resolve(data.slice(0, eol));
      }
    });
    socket.on('error', reject);
  });
}

describe('restarting the agent', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function start(dir: string | undefined, args: string[]): Promise<TestServer> {
    const s = await startServer({ kind: 'agent', dir, args });
    servers.push(s);
    return s;
  }

  it('keeps the data when save points are configured (saved at SIGTERM)', async () => {
    const first = await start(undefined, ['--save', '3600 1']);
    const before = await fill(first);
    await first.kill('SIGTERM');
    expect(first.output()).toContain('Saving the final RDB snapshot before exiting.');
    const second = await start(first.dir, ['--save', '3600 1']);
    expect(await second.client.call('DEBUG', 'DIGEST')).toBe(before);
    expect(await second.client.ttl('ttl')).toBeGreaterThan(900);
  });

  it('keeps the data written by BGSAVE even after kill -9', async () => {
    const first = await start(undefined, []);
    const before = await fill(first);
    await first.client.bgsave();
    await waitFor(async () =>
      /rdb_bgsave_in_progress:0/.test((await first.client.info('persistence')) as string),
    );
    await first.client.set('after-bgsave', 'lost');
    await first.kill('SIGKILL');
    const second = await start(first.dir, []);
    expect(await second.client.call('DEBUG', 'DIGEST')).toBe(before);
  });

  it('keeps the data with the AOF on (appendfsync always) even after kill -9', async () => {
    const args = ['--appendonly', 'yes', '--appendfsync', 'always'];
    const first = await start(undefined, args);
    const before = await fill(first);
    await first.client.multi().incr('counter').lpush('l', 'z').exec();
    const after = await first.client.call('DEBUG', 'DIGEST');
    expect(after).not.toBe(before);
    await first.kill('SIGKILL');
    const second = await start(first.dir, args);
    expect(await second.client.call('DEBUG', 'DIGEST')).toBe(after);
  });

  it('loses the data with persistence off, and writes no file', async () => {
    const first = await start(undefined, ['--save', '', '--appendonly', 'no']);
    await fill(first);
    await first.kill('SIGTERM');
    expect(readdirSync(first.dir)).toEqual([]);
    const second = await start(first.dir, ['--save', '', '--appendonly', 'no']);
    expect(await second.client.dbsize()).toBe(0);
  });

  it('does not save on SHUTDOWN NOSAVE, saves on SHUTDOWN SAVE even without save points', async () => {
    const first = await start(undefined, ['--save', '3600 1']);
    await first.client.set('k', 'v');
    await first.client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    await first.exited;
    expect(existsSync(first.dumpPath)).toBe(false);
    const second = await start(first.dir, ['--save', '']);
    await second.client.set('k', 'v2');
    await second.client.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    await second.exited;
    const third = await start(first.dir, ['--save', '']);
    expect(await third.client.get('k')).toBe('v2');
  });

  it('answers -LOADING and reports loading:1 while the dump is being loaded', async () => {
    const first = await start(undefined, []);
    const pipeline = first.client.pipeline();
    for (let i = 0; i < 3000; i++) pipeline.set(`key:${i}`, `value:${i}`);
    await pipeline.exec();
    await first.client.save();
    await first.kill('SIGKILL');
    const loading = await startServer({
      kind: 'agent',
      dir: first.dir,
      args: ['--key-load-delay', '1000'],
      waitForPong: false,
    });
    servers.push(loading);
    const reply = await waitFor(async () => {
      const r = await rawCommand(loading.port, 'GET key:1');
      return r.startsWith('-LOADING') ? r : undefined;
    });
    expect(reply).toBe('-LOADING Redis is loading the dataset in memory');
    const infoText = await waitFor(async () => {
      const r = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: HOST, port: loading.port });
        let data = '';
        socket.on('connect', () => socket.write('INFO persistence\r\n'));
        socket.on('data', (b) => {
          data += b.toString('latin1');
          if (/loading_eta_seconds:\d+\r\n/.test(data) || /aof_last_cow_size/.test(data)) {
            socket.destroy();
            resolve(data);
          }
        });
        socket.on('error', reject);
      });
      return r.includes('loading:1') ? r : undefined;
    });
    expect(infoText).toMatch(/loading_total_bytes:\d+/);
    expect(infoText).toMatch(/loading_loaded_perc:\d+\.\d\d/);
    await waitFor(async () => (await rawCommand(loading.port, 'GET key:1')) === '$7', { timeoutMs: 30_000 });
    expect(await loading.client.dbsize()).toBe(3000);
  });
});
