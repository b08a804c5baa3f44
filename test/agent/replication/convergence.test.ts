/**
 * Convergence: after a mixed write load on the master during and after the initial sync, every replica holds
 * exactly the master's dataset (equal DEBUG DIGEST) at the master's offset. Also for a chain
 * master -> replica -> sub-replica (same replication id and offsets on every node, and a sub-replica that
 * partially resynchronizes against the middle node), and for three replicas arriving together, which must be
 * served by one snapshot.
 */
import type { TestServer } from '../../helpers/servers';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { waitFor } from '../../helpers/waitFor';
import {
  countLog,
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

jest.setTimeout(60_000);

describe('agent master -> agent replica', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  afterEach(async () => stopAll([replica, master]));

  it('converges to equal digests after writes made before, during and after the initial sync', async () => {
    master = await startNode('agent');
    await mixedWrites(master.client, 3000, 1);
    replica = await startReplica('agent', master);
    // Writes while the replica handshakes, loads and starts streaming.
    await mixedWrites(master.client, 3000, 2);
    await waitLinkUp(replica);
    await mixedWrites(master.client, 3000, 3);
    const d = await waitConverged(master, [replica]);
    expect(d).not.toBe('0'.repeat(40));
    const m = await replInfo(master);
    const r = await replInfo(replica);
    expect(r.role).toBe('slave');
    expect(r.master_replid).toBe(m.master_replid);
    expect(m.connected_slaves).toBe('1');
    expect(m.slave0).toMatch(
      new RegExp(`^ip=127\\.0\\.0\\.1,port=${replica.port},state=online,offset=\\d+,lag=\\d+$`),
    );
    expect((await info(master.client, 'stats')).sync_full).toBe('1');
    // The link's state machine went through its states in order, each change logged `from -> to`.
    const transitions = replica
      .output()
      .split('\n')
      .map((l) => /Replication link (\S+) -> (\S+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]}>${m[2]}`);
    expect(transitions).toEqual([
      'none>connect',
      'connect>connecting',
      'connecting>receive-pong',
      'receive-pong>receive-port',
      'receive-port>receive-capa',
      'receive-capa>receive-psync',
      'receive-psync>transfer',
      'transfer>connected',
    ]);
    // A replica is read-only.
    await expect(replica.client.set('x', '1')).rejects.toThrow(
      "READONLY You can't write against a read only replica.",
    );
  });
});

describe('expiry on a replica', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  afterEach(async () => stopAll([replica, master]));

  it('hides keys whose TTL passed and deletes them only when the master propagates the DEL', async () => {
    master = await startNode('agent', ['--hz', '1']);
    replica = await startReplica('agent', master);
    await waitLinkUp(replica);
    await master.client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await master.client.set('short', 'v', 'PX', 300);
    await master.client.set('long', 'v', 'EX', 1000);
    await waitConverged(master, [replica]);
    // Past the TTL: the replica answers as if the key were gone but keeps it until the master says so.
    await waitFor(async () => (await replica!.client.get('short')) === null);
    expect(await replica.client.dbsize()).toBe(2);
    expect(await replica.client.pttl('long')).toBeGreaterThan(0);
    // The master expires it on access and propagates DEL: now the replica drops it too.
    expect(await master.client.get('short')).toBeNull();
    await waitFor(async () => (await replica!.client.dbsize()) === 1);
    expect((await info(master.client, 'stats')).expired_keys).toBe('1');
    await waitConverged(master, [replica]);
  });
});

describe('chain master -> replica -> sub-replica', () => {
  let master: TestServer | undefined;
  let middle: TestServer | undefined;
  let leaf: TestServer | undefined;
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await stopAll([leaf, middle, master]);
    leaf = middle = master = undefined;
  });

  it('forwards the exact stream: same replid and offsets on every node, equal digests', async () => {
    master = await startNode('agent', ['--repl-backlog-size', '1mb']);
    await mixedWrites(master.client, 2000, 11);
    middle = await startReplica('agent', master);
    await waitLinkUp(middle);
    proxy = await startFaultProxy(middle.port);
    leaf = await startReplica('agent', { port: proxy.port });
    await mixedWrites(master.client, 2000, 12);
    await waitLinkUp(leaf);
    await mixedWrites(master.client, 2000, 13);
    await waitConverged(master, [middle]);
    await waitConverged(middle, [leaf]);
    const [m, mid, l] = await Promise.all([replInfo(master), replInfo(middle), replInfo(leaf)]);
    expect(mid.master_replid).toBe(m.master_replid);
    expect(l.master_replid).toBe(m.master_replid);
    expect(l.master_repl_offset).toBe(m.master_repl_offset);
    expect(await digest(leaf)).toBe(await digest(master));

    // The leaf loses its link to the middle node briefly: it continues from the middle node's backlog.
    const before = await info(middle.client, 'stats');
    proxy.cut();
    await mixedWrites(master.client, 300, 14);
    await waitConverged(master, [middle]);
    await waitConverged(middle, [leaf]);
    const after = await info(middle.client, 'stats');
    expect(Number(after.sync_partial_ok)).toBe(Number(before.sync_partial_ok) + 1);
    expect(after.sync_full).toBe(before.sync_full);
    expect(await digest(leaf)).toBe(await digest(master));
  });
  it('when the middle node is promoted, the sub-replica continues partially with it (replid2)', async () => {
    master = await startNode('agent');
    middle = await startReplica('agent', master);
    await waitLinkUp(middle);
    leaf = await startReplica('agent', middle);
    await mixedWrites(master.client, 1000, 15);
    await waitLinkUp(leaf);
    await waitConverged(master, [middle]);
    await waitConverged(middle, [leaf]);
    const oldId = (await replInfo(master)).master_replid;
    await master.stop();
    master = undefined;
    await middle.client.call('REPLICAOF', 'NO', 'ONE');
    await mixedWrites(middle.client, 300, 16);
    await waitConverged(middle, [leaf]);
    const mid = await replInfo(middle);
    expect(mid.master_replid2).toBe(oldId);
    expect((await replInfo(leaf)).master_replid).toBe(mid.master_replid);
    const s = await info(middle.client, 'stats');
    expect([s.sync_full, s.sync_partial_ok]).toEqual(['1', '1']);
  });
});

describe('three replicas arriving together', () => {
  let master: TestServer | undefined;
  let replicas: TestServer[] = [];
  afterEach(async () => {
    await stopAll([...replicas, master]);
    replicas = [];
  });

  it('are served by one snapshot (diskless batching) and all converge', async () => {
    master = await startNode('agent', ['--repl-diskless-sync-delay', '2']);
    await mixedWrites(master.client, 3000, 21);
    // The processes start first, so that on a busy machine their startup times cannot spread the arrivals
    // beyond the 2 s batching window; then the three ask within a few ms.
    replicas = await Promise.all([0, 1, 2].map(() => startNode('agent')));
    await Promise.all(replicas.map((r) => r.client.call('REPLICAOF', '127.0.0.1', String(master!.port))));
    await Promise.all(replicas.map((r) => waitLinkUp(r, 20_000)));
    await mixedWrites(master.client, 1000, 22);
    await waitConverged(master, replicas);
    expect(countLog(master, /Starting BGSAVE for SYNC/)).toBe(1);
    expect(
      countLog(master, /Starting BGSAVE for SYNC with target: replicas sockets .*for 3 replica\(s\)/),
    ).toBe(1);
    expect((await info(master.client, 'stats')).sync_full).toBe('3');
    expect((await replInfo(master)).connected_slaves).toBe('3');
  });

  it('are served by one dump file when diskless sync is off', async () => {
    master = await startNode('agent', ['--repl-diskless-sync', 'no']);
    await mixedWrites(master.client, 2000, 23);
    replicas = await Promise.all([0, 1].map(() => startReplica('agent', master!)));
    await Promise.all(replicas.map((r) => waitLinkUp(r, 20_000)));
    await mixedWrites(master.client, 500, 24);
    await waitConverged(master, replicas);
    expect(countLog(master, /Starting BGSAVE for SYNC with target: disk/)).toBeGreaterThanOrEqual(1);
    await waitFor(async () => countLog(replicas[0], /receiving \d+ bytes from master/) === 1);
  });
});
