/**
 * Pub/sub compared with real redis-server: subscription confirmations, messages and pattern messages in RESP2
 * and RESP3 (push frames), the RESP2 subscribed-context restrictions, PUBSUB introspection, and keyspace
 * notifications driven by notify-keyspace-events.
 */
import net from 'node:net';
import { HOST, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite({ flushEachTest: false });

/** A raw connection that accumulates everything the server sends. */
class Listener {
  text = '';
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => (this.text += d.toString('latin1')));
    socket.on('error', () => undefined);
  }
  static async open(server: TestServer): Promise<Listener> {
    const socket = net.connect(server.port, HOST);
    await new Promise((r) => socket.once('connect', r));
    return new Listener(socket);
  }
  send(line: string): void {
    this.socket.write(line + '\r\n');
  }
  async until(fragment: string): Promise<void> {
    await waitFor(() => this.text.includes(fragment), {
      timeoutMs: 3000,
      description: JSON.stringify(fragment),
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

/** Runs the same steps on a listener of each server; returns both transcripts. */
async function bothListeners(
  steps: (l: Listener, server: TestServer) => Promise<void>,
): Promise<[string, string]> {
  const out: string[] = [];
  for (const server of [t.agent, t.redis]) {
    const l = await Listener.open(server);
    try {
      await steps(l, server);
      out.push(l.text);
    } finally {
      l.close();
    }
  }
  return [out[0], out[1]];
}

describe('pub/sub matches Redis', () => {
  it('RESP2: subscribe, receive messages and pattern messages, context restrictions, unsubscribe', async () => {
    const [a, r] = await bothListeners(async (l, server) => {
      l.send('SUBSCRIBE news sport');
      l.send('PSUBSCRIBE n*');
      l.send('PING');
      l.send('PING hi');
      l.send('GET x');
      await l.until('$2\r\nhi');
      await server.client.publish('news', 'hello');
      await l.until('$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello');
      l.send('PUNSUBSCRIBE n*');
      l.send('UNSUBSCRIBE news');
      l.send('UNSUBSCRIBE sport');
      l.send('UNSUBSCRIBE');
      l.send('PING');
      await l.until('+PONG');
    });
    expect(a).toBe(r);
  });

  it('RESP3: confirmations and messages are push frames, and other commands are allowed', async () => {
    const [a, r] = await bothListeners(async (l, server) => {
      l.send('HELLO 3');
      await l.until('modules');
      l.text = '';
      l.send('SUBSCRIBE ch');
      l.send('GET nothing');
      l.send('PING');
      await l.until('+PONG');
      await server.client.publish('ch', 'm1');
      await l.until('m1');
      l.send('UNSUBSCRIBE ch');
      await l.until('unsubscribe');
    });
    expect(a).toBe(r);
  });

  it('PUBLISH counts receivers; PUBSUB CHANNELS, NUMSUB and NUMPAT', async () => {
    const subs = await Promise.all([Listener.open(t.agent), Listener.open(t.redis)]);
    try {
      for (const l of subs) {
        l.send('SUBSCRIBE alpha beta');
        l.send('PSUBSCRIBE a*');
      }
      for (const l of subs) await l.until('psubscribe');
      await t.same(
        'PUBLISH alpha x',
        'PUBLISH gamma x',
        'PUBLISH apple x',
        { args: 'PUBSUB CHANNELS', compare: 'sorted' },
        'PUBSUB CHANNELS al*',
        'PUBSUB NUMSUB alpha beta gamma',
        'PUBSUB NUMSUB',
        'PUBSUB NUMPAT',
        'PUBSUB',
        'PUBSUB FOO',
        'PUBSUB NUMPAT extra',
        'PUBSUB SHARDCHANNELS',
        'SPUBLISH alpha x',
      );
    } finally {
      for (const l of subs) l.close();
    }
  });

  it('unsubscribing when subscribed to nothing replies with a null channel', async () => {
    const [a, r] = await bothListeners(async (l) => {
      l.send('UNSUBSCRIBE');
      l.send('PUNSUBSCRIBE');
      l.send('UNSUBSCRIBE x');
      await l.until('$1\r\nx');
    });
    expect(a).toBe(r);
  });
});

describe('keyspace notifications match Redis', () => {
  it('notify-keyspace-events KEA publishes keyspace and keyevent messages for writes and expiry', async () => {
    await t.same('CONFIG SET notify-keyspace-events KEA', 'CONFIG GET notify-keyspace-events');
    try {
      const [a, r] = await bothListeners(async (l, server) => {
        l.send('PSUBSCRIBE __key*__:*');
        await l.until('psubscribe');
        const c = server.client;
        await c.set('nk', 'v');
        await c.append('nk', 'w');
        await c.expire('nk', 100);
        await c.del('nk');
        await c.lpush('nl', 'a');
        await c.set('nx', '1', 'PX', 1);
        await l.until('__keyevent@0__:expired');
      });
      expect(a).toBe(r);
    } finally {
      await t.same(['CONFIG', 'SET', 'notify-keyspace-events', '']);
    }
  });

  it('the canonical form of notify-keyspace-events matches Redis', async () => {
    for (const flags of ['K$', 'Elg', 'AKE', 'g$lshzxetdKE', 'Kx', 'Em', 'KEn', 'AKEnm', 'A', '']) {
      await t.same(['CONFIG', 'SET', 'notify-keyspace-events', flags], 'CONFIG GET notify-keyspace-events');
    }
    await t.same('CONFIG SET notify-keyspace-events Q', ['CONFIG', 'SET', 'notify-keyspace-events', '']);
  });
});
