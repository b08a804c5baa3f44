/**
 * A replica that is behind its master keeps serving its own clients: it applies the master's stream a slice per
 * event-loop turn (link.ts, INPUT_BYTES_PER_TURN) instead of everything the socket holds. Without that, a turn
 * could apply megabytes of stream (libuv reads a socket until it is empty) while a client's GET waited.
 */
import { blockEventLoop, type TestServer } from '../../helpers/servers';
import {
  replInfo,
  startNode,
  startReplica,
  stopAll,
  waitConverged,
  waitLinkUp,
} from './support/replicationCluster';

jest.setTimeout(60_000);

/** Stream written while the replica sleeps: well above one slice, well below a socket's receive buffer. */
const STREAM_KEYS = 200;
const VALUE_BYTES = 400;

describe('a replica that is behind', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  afterEach(async () => stopAll([replica, master]));

  it('answers a client after one slice of the pending stream, then catches up', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master, ['--enable-debug-command', 'yes']);
    await waitLinkUp(replica);

    // The asking client is connected and ready before the replica sleeps (a connection made during the sleep
    // would only send its request after the replica woke up and answered the client's ready check).
    const asker = replica.connect();
    await asker.ping();

    const { awake } = await blockEventLoop(replica, 3);

    // The stream reaches the replica's socket while it sleeps; then a client asks, queued behind it.
    const writes = master.client.pipeline();
    for (let i = 0; i < STREAM_KEYS; i++) writes.set(`behind:${i}`, 'v'.repeat(VALUE_BYTES));
    await writes.exec();
    const masterOffset = Number((await replInfo(master)).master_repl_offset);
    const [, infoReply] = (await asker.pipeline().ping().info('replication').exec())!;
    await awake;

    const applied = Number(/slave_repl_offset:(\d+)/.exec(infoReply[1] as string)![1]);
    expect(applied).toBeLessThan(masterOffset);
    await waitConverged(master, [replica]);
    expect(await replica.client.get(`behind:${STREAM_KEYS - 1}`)).toBe('v'.repeat(VALUE_BYTES));
    asker.disconnect();
  });
});
