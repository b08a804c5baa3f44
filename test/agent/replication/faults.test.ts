/**
 * Faults, each ending with the replica holding exactly the master's dataset (equal digests) and nothing lost
 * that the master acknowledged before WAIT returned:
 * - a replica killed with SIGKILL and restarted from its config file (`replicaof` there);
 * - the link cut (fault proxy) for less than the backlog holds (partial resync) and for more (full resync);
 * - a silent link (stalled proxy): both sides detect repl-timeout, then the replica continues partially;
 * - the master restarted with persistence on (it waits for its replica at shutdown and saves its replication
 *   ids, so the replica continues partially after the restart), and a replica restarted the same way;
 * - the master stopped in the middle of a full sync: the replica keeps serving its old data (or -MASTERDOWN
 *   with replica-serve-stale-data no), discards the partial snapshot and syncs once a master is back;
 * - a replica that cannot keep up overruns client-output-buffer-limit: the master drops it (never growing
 *   itself) and the replica recovers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServer, type TestServer } from '../../helpers/servers';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { waitFor } from '../../helpers/waitFor';
import {
  FAST_REPLICATION_ARGS,
  countLog,
  digest,
  info,
  mixedWrites,
  replInfo,
  startNode,
  startReplica,
  stopAll,
  waitConverged,
} from './support/replicationCluster';

jest.setTimeout(90_000);

async function stats(node: TestServer): Promise<{ full: number; ok: number; err: number }> {
  const s = await info(node.client, 'stats');
  return { full: Number(s.sync_full), ok: Number(s.sync_partial_ok), err: Number(s.sync_partial_err) };
}

/** A value of `bytes` hex characters that LZF cannot shrink, determined by the key. */
function blobValue(key: string, bytes: number): string {
  let out = '';
  let block = createHash('sha256').update(key).digest();
  while (out.length < bytes) {
    out += block.toString('hex');
    block = createHash('sha256').update(block).digest();
  }
  return out.slice(0, bytes);
}

/** Writes `count` incompressible keys of `bytes` each. */
async function writeBlob(node: TestServer, prefix: string, count: number, bytes: number): Promise<void> {
  const p = node.client.pipeline();
  for (let i = 0; i < count; i++) p.set(`${prefix}:${i}`, blobValue(`${prefix}:${i}`, bytes));
  await p.exec();
}

describe('replication faults', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  let proxy: FaultProxy | undefined;
  /** Directories that outlive one process (restarts); removed after each test. */
  let dirs: string[] = [];
  const keptDir = (): string => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'test-repl-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await stopAll([replica, master]);
    replica = master = undefined;
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs = [];
  });

  it('a replica killed with SIGKILL and restarted from its config file resynchronizes', async () => {
    master = await startNode('agent');
    await mixedWrites(master.client, 2000, 31);
    const dir = keptDir();
    const port = await freePort();
    const configFile = path.join(dir, 'replica.conf');
    writeFileSync(
      configFile,
      [
        `replicaof 127.0.0.1 ${master.port}`,
        'save ""',
        'appendonly no',
        'repl-timeout 5',
        `port ${port}`,
        `dir ${dir}`,
        '',
      ].join('\n'),
    );
    replica = await startServer({ kind: 'agent', configFile, dir, port });
    await waitConverged(master, [replica]);
    await replica.kill('SIGKILL');
    await mixedWrites(master.client, 2000, 32);
    expect(await master.client.call('WAIT', '0', '100')).toBe(0);
    replica = await startServer({ kind: 'agent', configFile, dir, port });
    expect((await replInfo(replica)).role).toBe('slave');
    await waitConverged(master, [replica]);
    const acked = await master.client.call('WAIT', '1', '5000');
    expect(acked).toBe(1);
    expect((await stats(master)).full).toBe(2);
  });

  it('a link cut shorter than the backlog continues partially; a longer one falls back to a full sync', async () => {
    master = await startNode('agent', ['--repl-backlog-size', '64kb']);
    await mixedWrites(master.client, 1000, 41);
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port });
    await waitConverged(master, [replica]);
    const s0 = await stats(master);

    proxy.refuse(true);
    proxy.cut();
    await waitFor(async () => (await replInfo(replica!)).master_link_status === 'down');
    await writeBlob(master, 'short', 20, 500); // ~10 KB: fits the backlog
    proxy.refuse(false);
    await waitConverged(master, [replica]);
    const s1 = await stats(master);
    expect(s1).toEqual({ full: s0.full, ok: s0.ok + 1, err: s0.err });
    expect(await master.client.call('WAIT', '1', '5000')).toBe(1);

    proxy.refuse(true);
    proxy.cut();
    await waitFor(async () => (await replInfo(replica!)).master_link_status === 'down');
    await writeBlob(master, 'long', 200, 1000); // ~200 KB: more than the backlog holds
    proxy.refuse(false);
    await waitConverged(master, [replica]);
    const s2 = await stats(master);
    expect(s2).toEqual({ full: s1.full + 1, ok: s1.ok, err: s1.err + 1 });
    expect(await replica.client.get('long:199')).toBe(blobValue('long:199', 1000));
    expect(countLog(master, /for lack of backlog/)).toBe(1);
  });

  it('a replica that continues partially while another one streams under a write load gets each byte once', async () => {
    // Online replicas share one buffer of stream bytes written at the end of a turn; a replica that comes online
    // mid-turn must get what was appended before it from the backlog only, and what follows from that buffer.
    master = await startNode('agent', ['--repl-backlog-size', '16mb']);
    const other = await startReplica('agent', master);
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port });
    try {
      await waitConverged(master, [other, replica]);
      const s0 = await stats(master);
      let writing = true;
      const writer = (first: number) => async () => {
        const client = master!.client.duplicate();
        for (let seed = first; writing; seed += 2) await mixedWrites(client, 500, seed);
        client.disconnect();
      };
      const load = Promise.all([writer(100)(), writer(101)()]);
      const cuts = 20;
      for (let i = 0; i < cuts; i++) {
        const okBefore = (await stats(master)).ok;
        proxy.cut();
        await waitFor(async () => (await stats(master!)).ok > okBefore);
      }
      writing = false;
      await load;
      await waitConverged(master, [other, replica]);
      expect(await stats(master)).toEqual({ full: s0.full, ok: s0.ok + cuts, err: s0.err });
    } finally {
      await stopAll([other]);
    }
  });

  it('a silent link is detected by repl-timeout on both sides and continues partially afterwards', async () => {
    master = await startNode('agent', ['--repl-timeout', '2']);
    await mixedWrites(master.client, 500, 51);
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port }, ['--repl-timeout', '2']);
    await waitConverged(master, [replica]);
    const s0 = await stats(master);
    proxy.stall(true);
    await waitFor(() => countLog(replica!, /MASTER timeout: no data nor PING received/) > 0, {
      timeoutMs: 10_000,
    });
    await waitFor(() => countLog(master!, /Disconnecting timedout replica/) > 0, { timeoutMs: 10_000 });
    proxy.cut();
    proxy.stall(false);
    await mixedWrites(master.client, 300, 52);
    await waitConverged(master, [replica]);
    const s1 = await stats(master);
    expect(s1.ok).toBe(s0.ok + 1);
    expect(s1.full).toBe(s0.full);
  });

  it('the master restarted with persistence on: the replica continues partially and keeps every acknowledged write', async () => {
    const masterDir = keptDir();
    master = await startNode('agent', ['--save', '3600 1'], { dir: masterDir });
    const masterPort = master.port;
    replica = await startReplica('agent', master);
    await mixedWrites(master.client, 2000, 61);
    await master.client.set('acked', 'yes');
    expect(await master.client.call('WAIT', '1', '5000')).toBe(1);
    const before = await digest(master);
    const replid = (await replInfo(master)).master_replid;
    // SIGTERM: the master waits for its replica to have the whole stream, then saves with its replication ids.
    await master.kill('SIGTERM');
    expect(countLog(master, /1 of 1 replicas are in sync when shutting down/)).toBe(1);
    await master.stop();
    await waitFor(async () => (await replInfo(replica!)).master_link_status === 'down');
    expect(await replica.client.get('acked')).toBe('yes');
    master = await startServer({
      kind: 'agent',
      dir: masterDir,
      port: masterPort,
      args: [...FAST_REPLICATION_ARGS, '--save', '3600 1'],
    });
    expect(await digest(master)).toBe(before);
    await waitFor(async () => (await replInfo(replica!)).master_link_status === 'up', { timeoutMs: 10_000 });
    expect((await replInfo(master)).master_replid).toBe(replid);
    expect(await stats(master)).toEqual({ full: 0, ok: 1, err: 0 });
    await mixedWrites(master.client, 500, 62);
    await waitConverged(master, [replica]);
    expect(await replica.client.get('acked')).toBe('yes');
  });

  it('a replica restarted with persistence on continues partially from the offset in its dump', async () => {
    master = await startNode('agent');
    const replicaDir = keptDir();
    const replicaPort = await freePort();
    const replicaArgs = ['--replicaof', '127.0.0.1', String(master.port), '--save', '3600 1'];
    replica = await startNode('agent', replicaArgs, { dir: replicaDir, port: replicaPort });
    await mixedWrites(master.client, 2000, 65);
    await waitConverged(master, [replica]);
    await replica.kill('SIGTERM');
    await replica.stop();
    await mixedWrites(master.client, 200, 66);
    const s0 = await stats(master);
    replica = await startNode('agent', replicaArgs, { dir: replicaDir, port: replicaPort });
    await waitConverged(master, [replica]);
    expect(await stats(master)).toEqual({ full: s0.full, ok: s0.ok + 1, err: s0.err });
  });

  it('the master stopped mid-transfer: the replica serves its old data, discards the partial snapshot, resyncs', async () => {
    master = await startNode('agent');
    await writeBlob(master, 'big', 4000, 1000); // ~4 MB snapshot
    const masterPort = master.port;
    replica = await startNode('agent');
    await replica.client.set('old', 'data');
    proxy = await startFaultProxy(master.port);
    proxy.limitFromTarget(1_000_000); // the transfer stops after about a quarter
    await replica.client.call('REPLICAOF', '127.0.0.1', String(proxy.port));
    await waitFor(async () => {
      const r = await replInfo(replica!);
      return r.master_sync_in_progress === '1' && Number(r.master_sync_read_bytes) > 0;
    });
    // Stale data is served while the snapshot loads...
    expect(await replica.client.get('old')).toBe('data');
    expect(await replica.client.exists('big:1')).toBe(0);
    // ...or refused, when the replica is configured so.
    await replica.client.config('SET', 'replica-serve-stale-data', 'no');
    await expect(replica.client.get('old')).rejects.toThrow(
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    );
    await replica.client.config('SET', 'replica-serve-stale-data', 'yes');

    await master.stop();
    master = undefined;
    await waitFor(() => countLog(replica!, /discarding the partially received snapshot/) > 0);
    expect(await replica.client.get('old')).toBe('data');
    expect((await replInfo(replica)).master_link_status).toBe('down');

    proxy.limitFromTarget(Infinity);
    master = await startNode('agent', [], { port: masterPort });
    await mixedWrites(master.client, 1000, 71);
    await waitConverged(master, [replica]);
    expect(await replica.client.exists('old')).toBe(0);
  });

  it('writes buffered for a replica during its full sync are bounded too: overrun drops it, it recovers', async () => {
    master = await startNode('agent', ['--client-output-buffer-limit', 'replica 256kb 128kb 1']);
    await writeBlob(master, 'base', 2000, 100);
    // A slow snapshot (1 ms per key): the sync lasts about two seconds.
    await master.client.config('SET', 'rdb-key-save-delay', '1000');
    replica = await startReplica('agent', master);
    await waitFor(async () => (await replInfo(replica!)).master_sync_in_progress === '1');
    await writeBlob(master, 'during', 100, 10_000); // ~1 MB while the snapshot is being sent
    await waitFor(() => countLog(master!, /overcoming of output buffer limits/) > 0, { timeoutMs: 10_000 });
    await waitFor(() => countLog(replica!, /discarding the partially received snapshot/) > 0);
    await master.client.config('SET', 'rdb-key-save-delay', '0');
    await waitConverged(master, [replica], 30_000);
    expect(await replica.client.get('during:99')).toBe(blobValue('during:99', 10_000));
  });

  it('CLIENT LIST counts the writes buffered for a syncing replica in its omem, as Redis does', async () => {
    master = await startNode('agent');
    await writeBlob(master, 'base', 2000, 100);
    await master.client.config('SET', 'rdb-key-save-delay', '1000');
    replica = await startReplica('agent', master);
    await waitFor(async () => (await replInfo(replica!)).master_sync_in_progress === '1');
    await writeBlob(master, 'during', 50, 10_000); // ~500 KB while the snapshot is being sent
    const line = String(await master.client.call('CLIENT', 'LIST', 'TYPE', 'replica'));
    expect(line).toMatch(/flags=S /);
    expect(Number(/omem=(\d+)/.exec(line)![1])).toBeGreaterThanOrEqual(50 * 10_000);
    await master.client.config('SET', 'rdb-key-save-delay', '0');
    await waitConverged(master, [replica], 30_000);
  });

  it('a replica overrunning its output buffer limit is dropped, the master does not grow, and it recovers', async () => {
    master = await startNode('agent', ['--client-output-buffer-limit', 'replica 512kb 256kb 1']);
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port });
    await waitConverged(master, [replica]);
    proxy.stall(true);
    // About 16 MB of writes: more than the socket buffers can absorb, far more than the limit.
    for (let round = 0; round < 8; round++) await writeBlob(master, `flood${round}`, 200, 10_000);
    await waitFor(() => countLog(master!, /overcoming of output buffer limits/) > 0, { timeoutMs: 10_000 });
    expect((await replInfo(master)).connected_slaves).toBe('0');
    proxy.cut();
    proxy.stall(false);
    await waitConverged(master, [replica], 30_000);
    expect(await replica.client.get('flood7:199')).toBe(blobValue('flood7:199', 10_000));
  });
});
