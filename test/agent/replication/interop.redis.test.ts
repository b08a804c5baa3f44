/**
 * Interoperability with real Redis 7 (Debian's redis-server), both directions: a real Redis replica of an agent
 * master and an agent replica of a real Redis master. Each: full sync (diskless and disk-based framing), a
 * stream of every data type, a link drop through the fault proxy followed by a partial resync, and equal
 * DEBUG DIGESTs (the agent computes Redis's digest algorithm, so equal digests mean equal datasets). Also a
 * mixed chain Redis -> agent -> Redis, where the agent forwards the stream it receives byte for byte.
 */
import type { ServerKind, TestServer } from '../../helpers/servers';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { waitFor } from '../../helpers/waitFor';
import {
  digest,
  info,
  mixedWrites,
  replInfo,
  startNode,
  startReplica,
  stopAll,
  waitConverged,
  waitLinkUp,
} from './support/replicationCluster';

jest.setTimeout(90_000);

async function partialOk(node: TestServer): Promise<number> {
  return Number((await info(node.client, 'stats')).sync_partial_ok);
}

const DIRECTIONS: Array<{ name: string; master: ServerKind; replica: ServerKind }> = [
  { name: 'a real Redis replica of an agent master', master: 'agent', replica: 'redis' },
  { name: 'an agent replica of a real Redis master', master: 'redis', replica: 'agent' },
];

for (const { name, master: masterKind, replica: replicaKind } of DIRECTIONS) {
  describe(name, () => {
    let master: TestServer | undefined;
    let replica: TestServer | undefined;
    let proxy: FaultProxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
      await stopAll([replica, master]);
      replica = master = undefined;
    });

    for (const diskless of ['yes', 'no']) {
      it(`full sync (repl-diskless-sync ${diskless}), every data type streamed, partial resync after a drop`, async () => {
        master = await startNode(masterKind, [
          '--repl-diskless-sync',
          diskless,
          '--repl-backlog-size',
          '1mb',
        ]);
        await mixedWrites(master.client, 3000, 101);
        proxy = await startFaultProxy(master.port);
        replica = await startReplica(replicaKind, { port: proxy.port });
        await mixedWrites(master.client, 2000, 102);
        await waitLinkUp(replica);
        await mixedWrites(master.client, 2000, 103);
        const d = await waitConverged(master, [replica]);
        expect(d).not.toBe('0'.repeat(40));
        expect((await replInfo(replica)).master_replid).toBe((await replInfo(master)).master_replid);

        const okBefore = await partialOk(master);
        proxy.refuse(true);
        proxy.cut();
        await waitFor(async () => (await replInfo(replica!)).master_link_status === 'down');
        await mixedWrites(master.client, 300, 104);
        proxy.refuse(false);
        await waitConverged(master, [replica]);
        expect(await partialOk(master)).toBe(okBefore + 1);
        expect(await master.client.call('WAIT', '1', '5000')).toBe(1);
      });
    }
  });
}

describe('a mixed chain real Redis -> agent -> real Redis', () => {
  let nodes: TestServer[] = [];
  afterEach(async () => {
    await stopAll(nodes.reverse());
    nodes = [];
  });

  it('the agent in the middle forwards the exact stream: same ids, offsets and digests everywhere', async () => {
    const master = await startNode('redis');
    nodes.push(master);
    await mixedWrites(master.client, 2000, 111);
    const middle = await startReplica('agent', master);
    nodes.push(middle);
    await waitLinkUp(middle);
    const leaf = await startReplica('redis', middle);
    nodes.push(leaf);
    await mixedWrites(master.client, 2000, 112);
    await waitLinkUp(leaf);
    await waitConverged(master, [middle]);
    await waitConverged(middle, [leaf]);
    // The master's periodic PINGs move its offset, so poll until the leaf has caught up with the same stream.
    const [m, l] = await waitFor(
      async () => {
        const infos = await Promise.all([replInfo(master), replInfo(leaf)]);
        return infos[0].master_repl_offset === infos[1].master_repl_offset ? infos : null;
      },
      { description: 'leaf offset equal to the master offset' },
    );
    expect(l.master_replid).toBe(m.master_replid);
    expect(l.master_repl_offset).toBe(m.master_repl_offset);
    expect(await digest(leaf)).toBe(await digest(master));
  });
});

describe('an agent replica of a master that refuses PSYNC (real Redis with PSYNC renamed away)', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  afterEach(async () => stopAll([replica, master]));

  it('falls back to SYNC and converges', async () => {
    master = await startNode('redis', ['--rename-command', 'PSYNC', '']);
    await mixedWrites(master.client, 1000, 121);
    replica = await startReplica('agent', master);
    await waitLinkUp(replica);
    await mixedWrites(master.client, 500, 122);
    await waitConverged(master, [replica]);
    expect(replica.output()).toMatch(/Retrying with SYNC/);
  });
});
