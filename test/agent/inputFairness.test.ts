/**
 * Input fairness: one client's big pipeline does not hold the others for all of it. The server runs about
 * INPUT_BYTES_PER_TURN of a connection's input per event-loop turn (at least the chunk that crossed it) and
 * serves the other connections before the rest.
 */
import net from 'node:net';
import { blockEventLoop, startServer, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';

jest.setTimeout(30_000);

/** INCRs in the big pipeline: ~80 KB, more than one socket read (64 KB), less than a socket's receive buffer. */
const PIPELINED = 3000;

describe('a client pipelining a lot', () => {
  let server: TestServer | undefined;
  let heavy: net.Socket | undefined;
  afterEach(async () => {
    heavy?.destroy();
    await server?.stop();
    server = heavy = undefined;
  });

  it('does not keep another client waiting for its whole pipeline', async () => {
    server = await startServer({ kind: 'agent', args: ['--enable-debug-command', 'yes'] });

    // Both connections exist before the server sleeps (a connection accepted later is read a turn later).
    heavy = net.connect(server.port, '127.0.0.1');
    let replies = '';
    heavy.on('data', (b) => (replies += b.toString('latin1')));
    await new Promise<void>((resolve) => heavy!.once('connect', resolve));
    const asker = server.connect();
    await asker.ping();

    const { awake } = await blockEventLoop(server, 2);

    // The pipeline reaches the server's socket while it sleeps; then the other client asks, queued behind it.
    const pipeline = Buffer.from('*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n'.repeat(PIPELINED), 'latin1');
    await new Promise<void>((resolve, reject) =>
      heavy!.write(pipeline, (err) => (err ? reject(err) : resolve())),
    );
    const seen = Number(await asker.get('counter'));
    await awake;

    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(PIPELINED);
    await waitFor(() => replies.endsWith(`:${PIPELINED}\r\n`), { description: 'every INCR answered' });
    expect(await asker.get('counter')).toBe(String(PIPELINED));
    asker.disconnect();
  });
});
