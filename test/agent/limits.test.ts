/**
 * Robustness: no client can make the server hold memory without bound. Oversized query buffers, replies nobody
 * reads (normal and pub/sub client-output-buffer-limit), slow readers without a limit, and clients flooding
 * requests while blocked — each is cut off or throttled while the server keeps serving everybody else.
 */
import net from 'node:net';
import { HOST, startServer, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ args: ['--client-query-buffer-limit', '1mb'] });
});
afterAll(async () => {
  await server.stop();
});

/** A raw socket that sends and never reads (its receive window fills up, as with a stuck client). */
async function stuckSocket(): Promise<net.Socket> {
  const s = net.connect({ host: HOST, port: server.port });
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.pause();
  return s;
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
    s.resume();
  });
}

async function clientLines(): Promise<string[]> {
  return ((await server.client.client('LIST')) as string).trim().split('\n');
}

describe('query buffer', () => {
  it('a request larger than client-query-buffer-limit closes that connection only', async () => {
    const s = await stuckSocket();
    s.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${10 * 1024 * 1024}\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 40 && !s.destroyed; i++) s.write(chunk);
    await closed(s);
    expect(await server.client.ping()).toBe('PONG');
    await waitFor(async () => /Closing client that reached max query buffer length/.test(server.output()));
  });

  it('a multibulk that never completes is bounded the same way (arguments count toward the buffer)', async () => {
    const s = await stuckSocket();
    s.write('*2147483647\r\n');
    const arg = '$1\r\na\r\n'.repeat(8192);
    for (let i = 0; i < 100 && !s.destroyed; i++) s.write(arg);
    await closed(s);
    expect(await server.client.ping()).toBe('PONG');
  });

  it('a blocked client flooding requests is cut off at the query buffer limit', async () => {
    const s = await stuckSocket();
    s.write('BLPOP nothing-will-come 0\r\n');
    await waitFor(async () => (await clientLines()).some((l) => l.includes('flags=b')));
    const ping = '*1\r\n$4\r\nPING\r\n'.repeat(16 * 1024);
    for (let i = 0; i < 10 && !s.destroyed; i++) s.write(ping);
    await closed(s);
    expect(await server.client.ping()).toBe('PONG');
  });
});

describe('output buffers', () => {
  it('a normal client over its hard limit is disconnected', async () => {
    const admin = server.connect();
    await admin.config('SET', 'client-output-buffer-limit', 'normal 2mb 0 0');
    try {
      await admin.set('big', 'v'.repeat(256 * 1024));
      const s = await stuckSocket();
      const get = '*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(200);
      s.write(get);
      await closed(s);
      await waitFor(() => /overcoming of output buffer limits/.test(server.output()));
      expect(await admin.ping()).toBe('PONG');
    } finally {
      await admin.config('SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  });

  it('a subscriber that does not read is dropped at the pubsub limit, publishers are unaffected', async () => {
    const admin = server.connect();
    await admin.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 512kb 60');
    try {
      const s = await stuckSocket();
      s.write('SUBSCRIBE flood\r\n');
      await waitFor(async () => Number((await admin.pubsub('NUMSUB', 'flood'))[1]) === 1);
      const payload = 'p'.repeat(64 * 1024);
      for (let i = 0; i < 200; i++) {
        await admin.publish('flood', payload);
        if (Number((await admin.pubsub('NUMSUB', 'flood'))[1]) === 0) break;
      }
      await closed(s);
      expect(Number((await admin.pubsub('NUMSUB', 'flood'))[1])).toBe(0);
    } finally {
      await admin.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  });

  it('a slow reader without a limit is throttled: the server stops reading it, its backlog stays bounded', async () => {
    const admin = server.connect();
    await admin.set('big1m', 'w'.repeat(1024 * 1024));
    const s = await stuckSocket();
    const id = Number(/id=(\d+)/.exec((await clientLines()).at(-1)!)![1]);
    const get = '*2\r\n$3\r\nGET\r\n$5\r\nbig1m\r\n'.repeat(50);
    // 400 MB of replies requested; the server must not buffer them all.
    for (let i = 0; i < 8; i++) s.write(get);
    await new Promise((r) => setTimeout(r, 500));
    const line = ((await admin.call('CLIENT', 'LIST', 'ID', String(id))) as string).trim();
    const omem = Number(/omem=(\d+)/.exec(line)![1]);
    const qbuf = Number(/qbuf=(\d+)/.exec(line)![1]);
    expect(omem).toBeLessThan(150 * 1024 * 1024);
    expect(qbuf).toBeLessThan(1024 * 1024);
    expect(await admin.ping()).toBe('PONG');
    // Once it reads again, it gets every reply.
    let received = 0;
    const expected = 400 * (1024 * 1024 + '$1048576\r\n'.length + 2);
    s.on('data', (d) => (received += d.length));
    s.resume();
    await waitFor(() => received >= expected, { timeoutMs: 30_000, description: 'all replies' });
    expect(received).toBe(expected);
    s.destroy();
  });

  it('an abandoned connection (closed without reading) frees its client', async () => {
    const ids = async () => new Set((await clientLines()).map((l) => /^id=(\d+)/.exec(l)![1]));
    const before = await ids();
    const s = await stuckSocket();
    s.write('*2\r\n$3\r\nGET\r\n$5\r\nbig1m\r\n'.repeat(20));
    const id = await waitFor(async () => [...(await ids())].find((x) => !before.has(x)));
    s.destroy();
    await waitFor(async () => !(await ids()).has(id), { description: `client ${id} to go away` });
  });
});
