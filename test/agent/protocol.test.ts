/**
 * The wire protocol over real sockets, agent and redis-server side by side: malformed requests get Redis's
 * exact protocol error and the connection is closed while the server keeps serving others; inline commands,
 * pipelining, large values and the unauthenticated limits behave as in Redis 7.0.
 */
import { rawExchange, startPair, startServer, type TestServer } from '../helpers/servers';

let agent: TestServer;
let redis: TestServer;

beforeAll(async () => {
  ({ agent, redis } = await startPair());
});
afterAll(async () => {
  await Promise.all([agent.stop(), redis.stop()]);
});

/** Sends the same bytes to both servers; waits until `until` holds, the server closes, or a short timeout. */
async function exchangeBoth(input: string | Buffer, until?: (s: string) => boolean, timeoutMs = 1500) {
  const [a, r] = await Promise.all([
    rawExchange(agent.port, input, until, timeoutMs),
    rawExchange(redis.port, input, until, timeoutMs),
  ]);
  return { a, r };
}

const MALFORMED: Array<[string, string]> = [
  ['non-numeric multibulk count', '*abc\r\n'],
  ['plus sign in count', '*+1\r\n$4\r\nPING\r\n'],
  ['count over INT_MAX', '*2147483648\r\n'],
  ['missing dollar', '*1\r\nfoo\r\n'],
  ['non-numeric bulk length', '*1\r\n$abc\r\n'],
  ['negative bulk length', '*1\r\n$-1\r\n'],
  ['leading zero in bulk length', '*1\r\n$04\r\nPING\r\n'],
  ['bulk over proto-max-bulk-len', '*1\r\n$600000000\r\n'],
  ['unbalanced quotes inline', 'set "a"b c\r\n'],
  ['command before the error still runs', '*1\r\n$4\r\nPING\r\n*x\r\n'],
];

describe('malformed requests', () => {
  it.each(MALFORMED)('%s: same error as Redis, connection closed, server still up', async (_name, input) => {
    const { a, r } = await exchangeBoth(input);
    expect(r.closed).toBe(true);
    expect(a).toEqual(r);
    expect(await agent.client.ping()).toBe('PONG');
  });

  it('too big inline request and too big count lines close the connection like Redis', async () => {
    for (const input of [
      'x'.repeat(70 * 1024),
      '*' + '1'.repeat(70 * 1024),
      '*1\r\n$' + '1'.repeat(70 * 1024),
    ]) {
      const { a, r } = await exchangeBoth(input);
      expect(r.closed).toBe(true);
      expect(a).toEqual(r);
    }
    expect(await agent.client.ping()).toBe('PONG');
  });

  it('incomplete requests just wait, like Redis', async () => {
    for (const input of ['*1\r\n$4\r\nPIN', '*1\n$4\nPING\n', '*', '*1\r\n$']) {
      const { a, r } = await exchangeBoth(input, undefined, 300);
      expect(a).toEqual({ received: '', closed: false });
      expect(r).toEqual({ received: '', closed: false });
    }
  });

  it('random garbage never takes the server down', async () => {
    let seed = 99;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = '*$\r\n0123456789-+ "\'\\xabcPINGSET';
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      let input = '';
      const len = 1 + Math.floor(rnd() * 200);
      for (let k = 0; k < len; k++) input += alphabet[Math.floor(rnd() * alphabet.length)];
      sends.push(rawExchange(agent.port, input, undefined, 200));
    }
    await Promise.all(sends);
    expect(await agent.client.ping()).toBe('PONG');
  });
});

describe('well-formed traffic', () => {
  it('inline commands as typed in telnet, including quoting and empty lines', async () => {
    const input = 'PING\r\n\r\nSET "in line" \'v a l\'\nGET "in line"\r\nECHO "\\x41\\x42\\n"\r\nPING\r\n';
    const until = (s: string) => s.split('\r\n').length > 5;
    const { a, r } = await exchangeBoth(input, until);
    expect(a.received).toBe(r.received);
  });

  it('ten thousand pipelined commands in one write get ten thousand replies in order', async () => {
    let input = '';
    let expected = '';
    for (let i = 0; i < 10_000; i++) {
      const v = `v${i}`;
      input += `*3\r\n$3\r\nSET\r\n$${`k${i}`.length}\r\nk${i}\r\n$${v.length}\r\n${v}\r\n`;
      input += `*2\r\n$3\r\nGET\r\n$${`k${i}`.length}\r\nk${i}\r\n`;
      expected += `+OK\r\n$${v.length}\r\n${v}\r\n`;
    }
    const res = await rawExchange(agent.port, input, (s) => s.length >= expected.length, 20_000);
    expect(res.received).toBe(expected);
  });

  it('stores and returns a 5 MB binary value sent in many TCP segments', async () => {
    const value = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 255;
    await agent.client.set('big', value);
    const back = await agent.client.getBuffer('big');
    expect(back!.equals(value)).toBe(true);
  });

  it('proto-max-bulk-len changed at runtime applies to new requests', async () => {
    const c = agent.connect();
    await c.config('SET', 'proto-max-bulk-len', '1mb');
    try {
      const input = `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${2 * 1024 * 1024}\r\n`;
      const res = await rawExchange(agent.port, input, undefined, 2000);
      expect(res).toEqual({ received: '-ERR Protocol error: invalid bulk length\r\n', closed: true });
    } finally {
      await c.config('SET', 'proto-max-bulk-len', '512mb');
    }
  });
});

describe('before authentication (requirepass set)', () => {
  let a: TestServer;
  let r: TestServer;
  beforeAll(async () => {
    const args = ['--requirepass', 'secret'];
    [a, r] = await Promise.all([
      startServer({ kind: 'agent', args, password: 'secret' }),
      startServer({ kind: 'redis', args, password: 'secret' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), r.stop()]);
  });

  it.each([
    ['more than 10 arguments', '*11\r\n'],
    ['a bulk over 16 KB', '*2\r\n$4\r\nAUTH\r\n$16385\r\n'],
    ['NOAUTH for commands, then allowed after AUTH', 'PING\r\nAUTH wrong\r\nAUTH secret\r\nPING\r\n*11\r\n'],
  ])('%s behaves as in Redis', async (_name, input) => {
    const until = (s: string) => s.includes('+PONG\r\n+OK');
    const [x, y] = await Promise.all([
      rawExchange(a.port, input, until, 1000),
      rawExchange(r.port, input, until, 1000),
    ]);
    expect(x).toEqual(y);
  });
});
