/**
 * Connection commands (PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT) and CLIENT, compared reply for reply with
 * real redis-server; where Redis's reply holds per-process values (client ids, addresses), those are checked
 * on their own.
 */
import net from 'node:net';
import { rawExchange, startServer, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';
import { RespConnection } from './support/respConnection';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite({ flushEachTest: false });

/** Replaces the value after `id` in a HELLO reply, the one field that differs between two servers. */
function maskHelloId(raw: string): string {
  return raw.replace(/(\$2\r\nid\r\n:)\d+/, '$1<id>');
}

describe('connection commands match Redis', () => {
  it('PING, ECHO and SELECT with their errors', async () => {
    await t.same(
      'PING',
      'PING hello',
      'PING a b',
      'ECHO',
      'ECHO hi',
      ['ECHO', ''],
      'SELECT 1',
      'SELECT 15',
      'SELECT 16',
      'SELECT -1',
      'SELECT x',
      'SELECT 0',
      'ping',
      'pInG x',
    );
  });

  it('AUTH without a configured password', async () => {
    await t.same('AUTH', 'AUTH x', 'AUTH default anything', 'AUTH someone x', 'AUTH a b c');
  });

  it('HELLO negotiates RESP3 and back, with Redis errors for bad versions and options', async () => {
    for (const cmd of [
      'HELLO',
      'HELLO 3',
      'HELLO 2',
      'HELLO 1',
      'HELLO 4',
      'HELLO x',
      'HELLO 3 FOO',
      'HELLO 3 AUTH default',
      'HELLO 3 SETNAME',
      ['HELLO', '3', 'SETNAME', 'bad name'],
      'HELLO 3 SETNAME myname',
      'CLIENT GETNAME',
      'HELLO 3 AUTH default whatever',
      'HELLO 2 AUTH nobody x',
      'HELLO 2',
    ]) {
      const [a, r] = await t.both(cmd);
      expect({ cmd, reply: maskHelloId(a.raw) }).toEqual({ cmd, reply: maskHelloId(r.raw) });
    }
  });

  it('RESET drops the session state: transaction, subscriptions, protocol, name, database', async () => {
    const [a, r] = await t.connect();
    for (const c of [a, r]) {
      await c.call('HELLO', '3');
      await c.call('CLIENT', 'SETNAME', 'n1');
      await c.call('SELECT', '3');
      await c.call('MULTI');
    }
    const replies = await Promise.all([a.call('RESET'), r.call('RESET')]);
    expect(replies[0].raw).toBe('+RESET\r\n');
    expect(replies[0].raw).toBe(replies[1].raw);
    for (const cmd of [['CLIENT', 'GETNAME'], ['EXEC'], ['DEBUG', 'PROTOCOL', 'null'], ['SET', 'in3', 'x']]) {
      const [x, y] = await Promise.all([a.send(cmd), r.send(cmd)]);
      expect({ cmd, reply: x.raw }).toEqual({ cmd, reply: y.raw });
    }
    await t.same('SELECT 3', 'EXISTS in3', 'SELECT 0', 'GET in3', 'DEL in3');
  });

  it('QUIT replies OK and closes the connection', async () => {
    const input = '*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n';
    const [a, r] = await Promise.all([rawExchange(t.agent.port, input), rawExchange(t.redis.port, input)]);
    expect(a).toEqual({ received: '+OK\r\n', closed: true });
    expect(a).toEqual(r);
  });
});

describe('AUTH with requirepass', () => {
  let a: TestServer;
  let r: TestServer;
  beforeAll(async () => {
    const args = ['--requirepass', 'sekret'];
    [a, r] = await Promise.all([
      startServer({ kind: 'agent', args, password: 'sekret' }),
      startServer({ kind: 'redis', args, password: 'sekret' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), r.stop()]);
  });

  it('refuses commands with NOAUTH, wrong passwords with WRONGPASS, and accepts the right one', async () => {
    const [x, y] = [await RespConnection.open(a.port), await RespConnection.open(r.port)];
    try {
      for (const cmd of [
        ['GET', 'k'],
        ['HELLO', '3'],
        ['AUTH', 'wrong'],
        ['AUTH', 'default', 'wrong'],
        ['AUTH', 'other', 'sekret'],
        ['GET', 'k'],
        ['AUTH', 'sekret'],
        ['GET', 'k'],
        ['AUTH', 'wrong'],
        ['GET', 'k'],
        ['RESET'],
        ['GET', 'k'],
        ['HELLO', '2', 'AUTH', 'default', 'sekret', 'SETNAME', 'me'],
        ['CLIENT', 'GETNAME'],
      ]) {
        const [p, q] = await Promise.all([x.send(cmd), y.send(cmd)]);
        expect({ cmd, reply: maskHelloId(p.raw) }).toEqual({ cmd, reply: maskHelloId(q.raw) });
      }
    } finally {
      x.close();
      y.close();
    }
  });
});

describe('CLIENT', () => {
  it('errors and simple subcommands match Redis', async () => {
    await t.same(
      'CLIENT',
      'CLIENT FOO',
      'CLIENT GETNAME',
      ['CLIENT', 'SETNAME', 'has space'],
      ['CLIENT', 'SETNAME', 'new\nline'],
      'CLIENT SETNAME ok-name',
      'CLIENT GETNAME',
      'CLIENT SETNAME',
      ['CLIENT', 'SETNAME', ''],
      'CLIENT GETNAME',
      'CLIENT ID x',
      'CLIENT REPLY',
      'CLIENT REPLY maybe',
      'CLIENT NO-EVICT maybe',
      'CLIENT NO-EVICT on',
      'CLIENT NO-EVICT off',
      'CLIENT PAUSE',
      'CLIENT PAUSE x',
      'CLIENT PAUSE -1',
      'CLIENT PAUSE 10 maybe',
      'CLIENT UNPAUSE',
      'CLIENT KILL 1.2.3.4:5',
      'CLIENT KILL ID abc',
      'CLIENT KILL ID 999999',
      'CLIENT KILL TYPE foo',
      'CLIENT KILL USER nobody',
      'CLIENT KILL SKIPME maybe',
      'CLIENT KILL ADDR 1.2.3.4:5',
      'CLIENT KILL ID',
      'CLIENT LIST TYPE foo',
      'CLIENT LIST ID abc',
      'CLIENT LIST ID 999999',
      'CLIENT LIST FOO',
      'CLIENT UNBLOCK x',
      'CLIENT UNBLOCK 999999',
      'CLIENT UNBLOCK 1 MAYBE',
      'CLIENT SETINFO lib-name x',
      'CLIENT TRACKINGINFO',
      'CLIENT GETREDIR',
      'CLIENT CACHING yes',
      'CLIENT TRACKING maybe',
      'CLIENT TRACKING on optin optout',
      'CLIENT TRACKING on bcast optin',
      'CLIENT TRACKING on prefix a',
      'CLIENT TRACKING on redirect 999999',
      'CLIENT TRACKING on bcast prefix a prefix ab',
      'CLIENT TRACKING on optin noloop',
      'CLIENT TRACKINGINFO',
      'CLIENT CACHING no',
      'CLIENT CACHING yes',
      'CLIENT TRACKINGINFO',
      'CLIENT TRACKING off',
      'CLIENT TRACKINGINFO',
    );
  });

  it('CLIENT ID, INFO and LIST describe connections with Redis field names', async () => {
    const c = t.agent.connect({ connectionName: 'lister' });
    const id = await c.client('ID');
    const info = (await c.client('INFO')) as string;
    expect(info).toMatch(
      new RegExp(
        `^id=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${t.agent.port} fd=\\d+ name=lister `,
      ),
    );
    const redisInfo = (await t.redis.client.client('INFO')) as string;
    const fields = (line: string) =>
      line
        .trim()
        .split(' ')
        .map((f) => f.split('=')[0]);
    expect(fields(info)).toEqual(fields(redisInfo));
    const list = (await c.client('LIST')) as string;
    expect(list.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
    expect(list).toContain(`id=${id} `);
    const one = (await c.client('LIST', 'ID', String(id))) as string;
    expect(one.startsWith(`id=${id} addr=`)).toBe(true);
    expect(one.trim().split('\n')).toHaveLength(1);
  });

  it('CLIENT KILL by id, by address and by type, skipping the caller unless asked', async () => {
    const victim = t.agent.connect();
    const victimId = (await victim.client('ID')) as number;
    const admin = t.agent.connect();
    expect(await admin.client('KILL', 'ID', String(victimId))).toBe(1);
    await waitFor(async () => !((await admin.client('LIST')) as string).includes(`id=${victimId} `));
    const victim2 = t.agent.connect();
    const addr = ((await victim2.client('INFO')) as string).match(/addr=(\S+)/)![1];
    expect(await admin.client('KILL', addr)).toBe('OK');
    const selfAddr = ((await admin.client('INFO')) as string).match(/ addr=(\S+)/)![1];
    expect(await admin.client('KILL', 'ADDR', selfAddr)).toBe(0);
    const subscriber = t.agent.connect();
    await subscriber.subscribe('kill-me');
    expect(
      ((await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string).trim().split('\n'),
    ).toHaveLength(1);
    expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBe(1);
    await waitFor(async () => (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) === '');
  });

  it('CLIENT REPLY OFF and SKIP silence replies as in Redis', async () => {
    const input =
      'CLIENT REPLY SKIP\r\nPING skipped\r\nPING shown\r\nCLIENT REPLY OFF\r\nPING hidden\r\nCLIENT REPLY ON\r\nPING last\r\n';
    const until = (s: string) => s.includes('last');
    const [a, r] = await Promise.all([
      rawExchange(t.agent.port, input, until),
      rawExchange(t.redis.port, input, until),
    ]);
    expect(a.received).toBe('$5\r\nshown\r\n+OK\r\n$4\r\nlast\r\n');
    expect(a).toEqual(r);
  });

  it('CLIENT PAUSE WRITE holds writes, not reads, until it ends', async () => {
    const admin = t.agent.connect();
    const writer = t.agent.connect();
    await admin.client('PAUSE', '500', 'WRITE');
    const started = Date.now();
    const write = writer.set('paused-key', '1');
    expect(await admin.get('paused-key')).toBeNull();
    await write;
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(await admin.get('paused-key')).toBe('1');
  });

  it('CLIENT UNPAUSE ends a WRITE pause at once', async () => {
    const admin = t.agent.connect();
    const writer = t.agent.connect();
    await admin.client('PAUSE', '60000', 'WRITE');
    let answered = false;
    const write = writer.set('unpaused-key', '1').then(() => (answered = true));
    expect(await admin.get('unpaused-key')).toBeNull();
    expect(answered).toBe(false);
    await admin.client('UNPAUSE');
    await write;
    expect(await admin.get('unpaused-key')).toBe('1');
  });

  it('CLIENT PAUSE ALL holds every command, even CLIENT UNPAUSE, until it times out (as Redis)', async () => {
    const admin = t.agent.connect();
    const other = t.agent.connect();
    await other.ping();
    await admin.client('PAUSE', '400', 'ALL');
    const started = Date.now();
    const [pong, unpaused] = await Promise.all([other.ping(), admin.client('UNPAUSE')]);
    expect([pong, unpaused]).toEqual(['PONG', 'OK']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('CLIENT UNBLOCK ends a blocking command with a timeout or an error', async () => {
    const blocker = t.agent.connect();
    const admin = t.agent.connect();
    const id = (await blocker.client('ID')) as number;
    const pop = blocker.blpop('nothing-here', 0);
    await waitFor(async () => ((await admin.client('LIST', 'ID', String(id))) as string).includes('flags=b'));
    expect(await admin.client('UNBLOCK', String(id))).toBe(1);
    expect(await pop).toBeNull();
    const pop2 = blocker.blpop('nothing-here', 0).catch((e: Error) => e.message);
    await waitFor(async () => ((await admin.client('LIST', 'ID', String(id))) as string).includes('flags=b'));
    expect(await admin.client('UNBLOCK', String(id), 'ERROR')).toBe(1);
    expect(await pop2).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
  });
});

describe('client-side caching (CLIENT TRACKING)', () => {
  it('RESP3 tracking sends an invalidate push when a read key changes, once per read', async () => {
    const [a, r] = await t.connect();
    for (const c of [a, r]) {
      await c.call('HELLO', '3');
      await c.call('CLIENT', 'TRACKING', 'on');
      await c.call('GET', 'tracked');
    }
    await t.same('SET tracked 1');
    // The tracking connections now have an unread invalidation; a PING reads it, then its own reply.
    const [x, y] = await Promise.all([a.call('PING'), r.call('PING')]);
    expect(x.raw).toBe('>2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\ntracked\r\n');
    expect(x.raw).toBe(y.raw);
  });

  it('RESP2 tracking redirects invalidations to a connection subscribed to __redis__:invalidate', async () => {
    const received: string[] = [];
    const sockets: net.Socket[] = [];
    try {
      for (const server of [t.agent, t.redis]) {
        const sub = net.connect(server.port, '127.0.0.1');
        sockets.push(sub);
        let text = '';
        sub.on('data', (d) => (text += d.toString('latin1')));
        sub.write('CLIENT ID\r\nSUBSCRIBE __redis__:invalidate\r\n');
        await waitFor(() => text.includes('subscribe'));
        const subId = /^:(\d+)/.exec(text)![1];
        const reader = server.connect();
        await reader.client('TRACKING', 'on', 'REDIRECT', subId);
        await reader.get('cached-key');
        await server.client.set('cached-key', 'x');
        await waitFor(() => text.includes('cached-key'));
        received.push(text.slice(text.indexOf('*3\r\n$7\r\nmessage')));
      }
      expect(received[0]).toBe(
        '*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$10\r\ncached-key\r\n',
      );
      expect(received[0]).toBe(received[1]);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
