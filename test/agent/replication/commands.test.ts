/**
 * The replication commands' behaviour and exact replies: REPLICAOF / SLAVEOF (and NO ONE), ROLE, WAIT, REPLCONF
 * and PSYNC errors compared with real redis-server, admission errors (READONLY, NOREPLICAS), CONFIG REWRITE
 * persisting a runtime REPLICAOF, PSYNC2 (siblings continue partially with a promoted replica), and FAILOVER.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, rawExchange, startServer, type TestServer } from '../../helpers/servers';
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

describe('replication command replies match redis-server', () => {
  let agent: TestServer | undefined;
  let redis: TestServer | undefined;
  beforeAll(async () => {
    [agent, redis] = await Promise.all([startNode('agent'), startNode('redis')]);
  });
  afterAll(async () => stopAll([agent, redis]));

  const cases: string[][] = [
    ['REPLICAOF', 'localhost'],
    ['REPLICAOF', 'localhost', 'notaport'],
    ['REPLICAOF', 'localhost', '70000'],
    ['REPLICAOF', 'NO', 'ONE'],
    ['SLAVEOF', 'no', 'one'],
    ['WAIT', '0', '0'],
    ['WAIT', 'x', '0'],
    ['WAIT', '0', '-1'],
    ['WAIT', '0', 'x'],
    ['WAIT', '1', '10'],
    ['REPLCONF'],
    ['REPLCONF', 'listening-port'],
    ['REPLCONF', 'listening-port', 'x'],
    ['REPLCONF', 'listening-port', '1234', 'capa', 'eof', 'capa', 'whatever'],
    ['REPLCONF', 'bogus', '1'],
    ['PSYNC', 'x'],
    ['PSYNC', '?', 'notanumber'],
    ['FAILOVER'],
    ['FAILOVER', 'ABORT'],
    ['FAILOVER', 'TIMEOUT', '0'],
    ['FAILOVER', 'TIMEOUT', 'x'],
    ['FAILOVER', 'FORCE'],
    ['FAILOVER', 'TO', 'localhost'],
    ['FAILOVER', 'bogus'],
  ];
  for (const argv of cases) {
    it(`${argv.join(' ')}`, async () => {
      const run = async (s: TestServer) => {
        try {
          return { ok: await s.client.call(argv[0], ...argv.slice(1)) };
        } catch (err) {
          return { error: (err as Error).message };
        }
      };
      expect(await run(agent!)).toEqual(await run(redis!));
    });
  }

  it('REPLCONF ACK and GETACK from a normal client get no reply at all', async () => {
    for (const s of [agent!, redis!]) {
      const { received } = await rawExchange(
        s.port,
        'REPLCONF ACK 10\r\nREPLCONF GETACK *\r\nPING\r\n',
        (r) => r.includes('PONG'),
      );
      expect(received).toBe('+PONG\r\n');
    }
  });

  it('ROLE of a master without replicas', async () => {
    const a = (await agent!.client.call('ROLE')) as unknown[];
    expect(a[0]).toBe('master');
    expect(typeof a[1]).toBe('number');
    expect(a[2]).toEqual([]);
  });
});

describe('INFO replication', () => {
  let nodes: TestServer[] = [];
  afterEach(async () => {
    await stopAll(nodes.reverse());
    nodes = [];
  });

  /** A master and its replica of one kind, linked (stopped after the test). */
  async function linkedPair(kind: 'redis' | 'agent'): Promise<{ master: TestServer; replica: TestServer }> {
    const master = await startNode(kind);
    nodes.push(master);
    const replica = await startReplica(kind, master);
    nodes.push(replica);
    await waitLinkUp(replica);
    return { master, replica };
  }

  it("has Redis's field names in Redis's order, on a master and on a replica", async () => {
    const names: Record<string, string[][]> = {};
    for (const kind of ['redis', 'agent'] as const) {
      const { master, replica } = await linkedPair(kind);
      names[kind] = [Object.keys(await replInfo(master)), Object.keys(await replInfo(replica))];
    }
    expect(names.agent).toEqual(names.redis);
    const slaveFields = names.agent[0].filter((n) => /^slave\d+$/.test(n));
    expect(slaveFields).toEqual(['slave0']);
  });

  it("counts a replica's link to its master as a client, in INFO and against maxclients, as Redis does", async () => {
    const seen: Record<string, unknown> = {};
    for (const kind of ['redis', 'agent'] as const) {
      const { master, replica } = await linkedPair(kind);
      const clients = async (s: TestServer) =>
        /connected_clients:(\d+)/.exec(await s.client.info('clients'))![1];
      // The master link and the test's client fill a limit of 2: one more connection is refused.
      await replica.client.config('SET', 'maxclients', '2');
      const extra = await rawExchange(replica.port, ''); // unread input would make the close a reset
      seen[kind] = { master: await clients(master), replica: await clients(replica), extra: extra.received };
    }
    expect(seen.agent).toEqual(seen.redis);
    expect(seen.agent).toEqual({
      master: '1',
      replica: '2',
      extra: '-ERR max number of clients reached\r\n',
    });
  });

  it('shows the transfer progress fields while a replica loads a snapshot', async () => {
    const master = await startNode('agent');
    nodes.push(master);
    const p = master.client.pipeline();
    for (let i = 0; i < 2000; i++) p.set(`k${i}`, `${i}`.padStart(200, 'x'));
    await p.exec();
    // A slow snapshot (0.5 ms per key) so the transfer can be watched.
    await master.client.config('SET', 'rdb-key-save-delay', '500');
    const replica = await startReplica('agent', master);
    nodes.push(replica);
    const during = await waitFor(async () => {
      const r = await replInfo(replica);
      return r.master_sync_in_progress === '1' && Number(r.master_sync_read_bytes) > 0 ? r : undefined;
    });
    expect(Object.keys(during)).toEqual(
      expect.arrayContaining([
        'master_sync_total_bytes',
        'master_sync_read_bytes',
        'master_sync_left_bytes',
        'master_sync_perc',
        'master_sync_last_io_seconds_ago',
        'master_link_down_since_seconds',
      ]),
    );
    // Diskless transfer: the size is unknown (0), as Redis reports it.
    expect(during.master_sync_total_bytes).toBe('0');
    expect(Number(during.master_sync_left_bytes)).toBe(-Number(during.master_sync_read_bytes));
    await master.client.config('SET', 'rdb-key-save-delay', '0');
    await waitLinkUp(replica);
    expect(Object.keys(await replInfo(replica))).not.toContain('master_sync_total_bytes');
  });
});

describe('replica behaviour', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  let other: TestServer | undefined;
  let proxy: FaultProxy | undefined;
  let cleanup: string[] = [];
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await stopAll([other, replica, master]);
    other = replica = master = undefined;
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
    cleanup = [];
  });

  it('REPLICAOF at runtime, ROLE on both sides, READONLY, REPLICAOF NO ONE keeps the data', async () => {
    master = await startNode('agent');
    replica = await startNode('agent');
    await master.client.set('a', '1');
    await replica.client.set('mine', 'x');
    expect(await replica.client.call('REPLICAOF', '127.0.0.1', String(master.port))).toBe('OK');
    expect(await replica.client.call('REPLICAOF', '127.0.0.1', String(master.port))).toBe(
      'OK Already connected to specified master',
    );
    await waitConverged(master, [replica]);
    expect(await replica.client.get('mine')).toBeNull();
    const role = (await replica.client.call('ROLE')) as unknown[];
    expect(role.slice(0, 4)).toEqual(['slave', '127.0.0.1', master.port, 'connected']);
    expect(role[4]).toBe(Number((await replInfo(master)).master_repl_offset));
    const mrole = (await master.client.call('ROLE')) as [string, number, string[][]];
    expect(mrole[0]).toBe('master');
    expect(mrole[2]).toEqual([['127.0.0.1', String(replica.port), expect.stringMatching(/^\d+$/)]]);
    await expect(replica.client.set('b', '2')).rejects.toThrow('READONLY');
    await expect(replica.client.call('WAIT', '0', '0')).rejects.toThrow(
      'WAIT cannot be used with replica instances',
    );
    await replica.client.config('SET', 'replica-read-only', 'no');
    expect(await replica.client.set('local', '1')).toBe('OK');
    await replica.client.config('SET', 'replica-read-only', 'yes');

    expect(await replica.client.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    const promoted = await replInfo(replica);
    expect(promoted.role).toBe('master');
    expect(promoted.master_replid2).toBe((await replInfo(master)).master_replid);
    expect(await replica.client.get('a')).toBe('1');
    expect(await replica.client.set('b', '2')).toBe('OK');
  });

  it('CONFIG REWRITE persists a runtime REPLICAOF so a restart follows the same master', async () => {
    master = await startNode('agent');
    await master.client.set('k', 'v');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'test-repl-'));
    cleanup.push(dir);
    const port = await freePort();
    const configFile = path.join(dir, 'agent.conf');
    writeFileSync(configFile, `# my replica\nport ${port}\ndir ${dir}\nsave ""\n`);
    replica = await startServer({ kind: 'agent', configFile, dir, port });
    await replica.client.call('REPLICAOF', '127.0.0.1', String(master.port));
    expect(await replica.client.config('REWRITE')).toBe('OK');
    expect(readFileSync(configFile, 'latin1')).toMatch(
      new RegExp(`^replicaof 127\\.0\\.0\\.1 ${master.port}$`, 'm'),
    );
    await replica.stop();
    replica = await startServer({ kind: 'agent', configFile, dir, port });
    await waitConverged(master, [replica]);
    expect(await replica.client.get('k')).toBe('v');
  });

  it('WAIT returns once the replicas acknowledged, and the count after its timeout otherwise', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master);
    await waitLinkUp(replica);
    await master.client.set('w', '1');
    expect(await master.client.call('WAIT', '1', '0')).toBe(1);
    const started = Date.now();
    expect(await master.client.call('WAIT', '2', '300')).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('min-replicas-to-write refuses writes with NOREPLICAS until enough replicas are connected', async () => {
    master = await startNode('agent', ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '10']);
    await expect(master.client.set('x', '1')).rejects.toThrow(
      'NOREPLICAS Not enough good replicas to write.',
    );
    expect(await master.client.get('x')).toBeNull();
    replica = await startReplica('agent', master);
    await waitLinkUp(replica);
    await waitFor(async () => (await master!.client.set('x', '1')) === 'OK');
  });

  it('PSYNC2: after a promotion, the former sibling continues partially with the new master', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master);
    other = await startReplica('agent', master);
    await mixedWrites(master.client, 1000, 81);
    await waitConverged(master, [replica, other]);
    await master.stop();
    master = undefined;
    await replica.client.call('REPLICAOF', 'NO', 'ONE');
    await other.client.call('REPLICAOF', '127.0.0.1', String(replica.port));
    await waitLinkUp(other);
    const s = await info(replica.client, 'stats');
    expect(s.sync_partial_ok).toBe('1');
    expect(s.sync_full).toBe('0');
    await mixedWrites(replica.client, 500, 82);
    await waitConverged(replica, [other]);
  });

  it('FAILOVER switches roles without losing writes, and the former master follows the new one', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master);
    await mixedWrites(master.client, 1000, 91);
    await waitConverged(master, [replica]);
    const before = await digest(master);
    expect(
      await master.client.call('FAILOVER', 'TO', '127.0.0.1', String(replica.port), 'TIMEOUT', '5000'),
    ).toBe('OK');
    await waitFor(async () => (await replInfo(replica!)).role === 'master', { timeoutMs: 10_000 });
    await waitFor(async () => {
      const m = await replInfo(master!);
      return m.role === 'slave' && m.master_link_status === 'up' && m.master_failover_state === 'no-failover';
    });
    expect(await digest(replica)).toBe(before);
    await mixedWrites(replica.client, 300, 92);
    await waitConverged(replica, [master]);
    expect((await info(replica.client, 'stats')).sync_partial_ok).toBe('1');
    await expect(master.client.set('x', '1')).rejects.toThrow('READONLY');
  });

  it('FAILOVER without a target picks a caught-up replica', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master);
    await mixedWrites(master.client, 500, 93);
    await waitConverged(master, [replica]);
    expect(await master.client.call('FAILOVER')).toBe('OK');
    await waitFor(async () => (await replInfo(replica!)).role === 'master', { timeoutMs: 10_000 });
    await waitFor(async () => (await replInfo(master!)).master_link_status === 'up');
    expect(countLog(master, new RegExp(`Failover target 127\\.0\\.0\\.1:${replica.port} is synced`))).toBe(1);
  });

  it('FAILOVER TIMEOUT aborts when the target cannot catch up; writes held meanwhile then run', async () => {
    master = await startNode('agent');
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port });
    await waitConverged(master, [replica]);
    proxy.stall(true);
    await master.client.set('before', '1');
    expect(
      await master.client.call('FAILOVER', 'TO', '127.0.0.1', String(replica.port), 'TIMEOUT', '800'),
    ).toBe('OK');
    expect((await replInfo(master)).master_failover_state).toBe('waiting-for-sync');
    // A write during the failover waits (writes are paused), then runs once the failover is aborted.
    const started = Date.now();
    expect(await master.connect().set('during', '1')).toBe('OK');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect((await replInfo(master)).role).toBe('master');
    expect((await replInfo(master)).master_failover_state).toBe('no-failover');
    expect(countLog(master, /aborted: Replica never caught up before timeout/)).toBe(1);
    proxy.stall(false);
  });

  it('FAILOVER FORCE switches at the deadline even if the target is behind; all converge afterwards', async () => {
    master = await startNode('agent');
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port });
    await waitConverged(master, [replica]);
    proxy.stall(true);
    await master.client.set('maybe-lost', '1');
    expect(
      await master.client.call(
        'FAILOVER',
        'TO',
        '127.0.0.1',
        String(replica.port),
        'TIMEOUT',
        '500',
        'FORCE',
      ),
    ).toBe('OK');
    await waitFor(async () => (await replInfo(replica!)).role === 'master', { timeoutMs: 10_000 });
    proxy.cut();
    proxy.stall(false);
    await waitFor(async () => (await replInfo(master!)).master_link_status === 'up', { timeoutMs: 10_000 });
    await waitConverged(replica, [master]);
  });

  it('FAILOVER ABORT while waiting for the target resumes writes at once', async () => {
    master = await startNode('agent');
    proxy = await startFaultProxy(master.port);
    replica = await startReplica('agent', { port: proxy.port });
    await waitConverged(master, [replica]);
    proxy.stall(true);
    await master.client.set('x', '1');
    await master.client.call('FAILOVER', 'TO', '127.0.0.1', String(replica.port));
    const held = master.connect().set('held', '1');
    expect(await master.client.call('FAILOVER', 'ABORT')).toBe('OK');
    expect(await held).toBe('OK');
    expect((await replInfo(master)).master_failover_state).toBe('no-failover');
    proxy.stall(false);
  });

  it('FAILOVER errors: not a replica, no failover in progress, target not a replica', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master);
    await waitLinkUp(replica);
    await expect(replica.client.call('FAILOVER')).rejects.toThrow(
      'ERR FAILOVER is not valid when server is a replica.',
    );
    await expect(master.client.call('FAILOVER', 'TO', '127.0.0.1', '1')).rejects.toThrow(
      'ERR FAILOVER target HOST and PORT is not a replica.',
    );
    await expect(master.client.call('FAILOVER', 'ABORT')).rejects.toThrow('ERR No failover in progress.');
  });

  it('CLIENT KILL TYPE master drops the link; the replica reconnects and continues partially', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master);
    await mixedWrites(master.client, 300, 95);
    await waitConverged(master, [replica]);
    expect(await replica.client.call('CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    await mixedWrites(master.client, 300, 96);
    await waitConverged(master, [replica]);
    const s = await info(master.client, 'stats');
    expect([s.sync_full, s.sync_partial_ok]).toEqual(['1', '1']);
  });

  it('authenticates with masterauth (and masteruser); a wrong password keeps the link down and retrying', async () => {
    master = await startNode('agent', ['--requirepass', 's3cret'], { password: 's3cret' });
    replica = await startReplica('agent', master, ['--masterauth', 'wrong']);
    await waitFor(() => countLog(replica!, /Unable to AUTH to MASTER/) >= 2);
    expect((await replInfo(replica)).master_link_status).toBe('down');
    await replica.client.config('SET', 'masterauth', 's3cret');
    await waitLinkUp(replica);
    other = await startReplica('agent', master, ['--masterauth', 's3cret', '--masteruser', 'default']);
    await waitLinkUp(other);
    await master.client.set('k', 'v');
    await waitConverged(master, [replica, other]);
  });

  it('announces replica-announce-ip and replica-announce-port to its master', async () => {
    master = await startNode('agent');
    replica = await startReplica('agent', master, [
      '--replica-announce-ip',
      '10.1.2.3',
      '--replica-announce-port',
      '7777',
    ]);
    await waitLinkUp(replica);
    expect((await replInfo(master)).slave0).toMatch(/^ip=10\.1\.2\.3,port=7777,state=online,/);
  });

  it('a replica answers PSYNC with NOMASTERLINK while its own link is down', async () => {
    replica = await startNode('agent', ['--replicaof', '127.0.0.1', '1']);
    const { received } = await rawExchange(replica.port, 'PSYNC ? -1\r\n', (r) => r.includes('\r\n'));
    expect(received).toBe("-NOMASTERLINK Can't SYNC while not connected with my master\r\n");
  });
});
