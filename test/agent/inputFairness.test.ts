/**
 * Input fairness: one client's big pipeline does not hold the others for all of it. The server runs about
 * INPUT_BYTES_PER_TURN of a connection's input per event-loop turn (at least the chunk that crossed it) and
 * serves the other connections before the rest; the bytes of one big argument are not cut into turns (Redis
 * reads those whole too), so a large value uploads at full speed.
 *
 * How the tests see turns: both clients connect, the server is blocked (DEBUG SLEEP), one client's bytes and then
 * the other client's GET reach the server's sockets meanwhile, and the GET's reply shows what ran before it.
 */
import net from 'node:net';
import { blockEventLoop, startServer, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';

jest.setTimeout(30_000);

/** INCRs in the big pipeline: ~80 KB, more than one socket read (64 KB), less than a socket's receive buffer. */
const PIPELINED = 3000;
/** A value of more than one socket read, less than a socket's receive buffer. */
const BIG_VALUE_BYTES = 100_000;

describe('input fairness', () => {
  let server: TestServer | undefined;
  let heavy: net.Socket | undefined;
  afterEach(async () => {
    heavy?.destroy();
    await server?.stop();
    server = heavy = undefined;
  });

  /**
   * Sends `bytes` on one connection while the server sleeps, then `GET key` on another; returns the GET's reply
   * and the first connection's replies so far.
   */
  async function getQueuedBehind(
    bytes: Buffer,
    key: string,
  ): Promise<{ seen: string | null; replies: () => string }> {
    server = await startServer({ kind: 'agent', args: ['--enable-debug-command', 'yes'] });
    // Both connections exist before the server sleeps (a connection accepted later is read a turn later).
    heavy = net.connect(server.port, '127.0.0.1');
    let replies = '';
    heavy.on('data', (b) => (replies += b.toString('latin1')));
    await new Promise<void>((resolve) => heavy!.once('connect', resolve));
    const asker = server.connect();
    await asker.ping();

    const { awake } = await blockEventLoop(server, 2);
    await new Promise<void>((resolve, reject) =>
      heavy!.write(bytes, (err) => (err ? reject(err) : resolve())),
    );
    const seen = await asker.get(key);
    await awake;
    return { seen, replies: () => replies };
  }

  it('a big pipeline does not keep another client waiting for all of it', async () => {
    const pipeline = Buffer.from('*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n'.repeat(PIPELINED), 'latin1');
    const { seen, replies } = await getQueuedBehind(pipeline, 'counter');

    expect(Number(seen)).toBeGreaterThan(0);
    expect(Number(seen)).toBeLessThan(PIPELINED);
    await waitFor(() => replies().endsWith(`:${PIPELINED}\r\n`), { description: 'every INCR answered' });
    expect(await server!.client.get('counter')).toBe(String(PIPELINED));
  });

  it('a big value is received whole, not a read per turn', async () => {
    const value = 'v'.repeat(BIG_VALUE_BYTES);
    const set = Buffer.from(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${value.length}\r\n${value}\r\n`, 'latin1');
    const { seen, replies } = await getQueuedBehind(set, 'big');

    expect(seen).toBe(value);
    expect(replies()).toBe('+OK\r\n');
  });
});
