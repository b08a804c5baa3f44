/**
 * Sync verification against real redis-server 7 masters and replicas: a healthy pair passes twice in a row with a
 * probe write proven on the replica (and cleaned up); chains are verified down to replicas of replicas; a wrong
 * masterauth, a replica following the wrong master, and a master that is not there fail with per-replica reasons.
 */
import { connectAgent } from '../../cli/redis/connect';
import { parseInfo } from '../../cli/redis/info';
import { evaluateLink } from '../../cli/verify/checks';
import { PROBE_KEY_PREFIX, verifySync, type VerifyNode } from '../../cli/verify/verify';
import { waitFor } from '../helpers/waitFor';
import { freePort, startRedis, stopAll, type RedisServer } from './support/redisServers';

afterEach(async () => {
  await stopAll();
});

const PW = 'verify-test-password';

function node(name: string, s: { port: number }, master?: string): VerifyNode {
  return { name, address: '127.0.0.1', port: s.port, master };
}

async function pair(): Promise<{ master: RedisServer; replica: RedisServer }> {
  const master = await startRedis(['--requirepass', PW, '--masterauth', PW], { password: PW });
  const replica = await startRedis(
    ['--requirepass', PW, '--masterauth', PW, '--replicaof', '127.0.0.1', String(master.port)],
    { password: PW },
  );
  return { master, replica };
}

const connectTo =
  (servers: Record<string, RedisServer>, password = PW) =>
  (name: string) =>
    connectAgent({ host: '127.0.0.1', port: servers[name].port }, [password]);

test('a synced master and replica pass two polls in a row and the probe key is gone afterwards', async () => {
  const { master, replica } = await pair();
  await master.client().set('user-data', 'x');
  const passes: number[] = [];
  const result = await verifySync({
    nodes: [node('m', master), node('r', replica, 'm')],
    replicas: ['r'],
    connect: connectTo({ m: master, r: replica }),
    timeoutMs: 15_000,
    intervalMs: 100,
    onPoll: (_poll, consecutive) => passes.push(consecutive),
  });
  expect(result.ok).toBe(true);
  expect(result.replicas).toEqual([{ name: 'r', ok: true, problems: [], diagnosis: [] }]);
  expect(passes[passes.length - 1]).toBe(2);
  expect(passes[passes.length - 2]).toBe(1);
  const m = master.client();
  expect(await m.keys(`${PROBE_KEY_PREFIX}*`)).toEqual([]);
  expect(await m.get('user-data')).toBe('x');
  await waitFor(async () => (await replica.client().keys(`${PROBE_KEY_PREFIX}*`)).length === 0, {
    description: 'probe key deletion replicated',
  });
});

test('a chain master -> r1 -> r2 is verified down to the replica of the replica', async () => {
  const master = await startRedis([]);
  const r1 = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  const r2 = await startRedis(['--replicaof', '127.0.0.1', String(r1.port)]);
  const result = await verifySync({
    nodes: [node('m', master), node('r1', r1, 'm'), node('r2', r2, 'r1')],
    replicas: ['r1', 'r2'],
    connect: (name) => connectAgent({ host: '127.0.0.1', port: { m: master, r1, r2 }[name]!.port }, []),
    timeoutMs: 15_000,
    intervalMs: 100,
  });
  expect(result.ok).toBe(true);
  expect(result.replicas.map((r) => r.ok)).toEqual([true, true]);
});

test('a replica with the wrong masterauth fails with link down and gets a diagnosis', async () => {
  const master = await startRedis(['--requirepass', PW], { password: PW });
  const replica = await startRedis(
    ['--requirepass', PW, '--masterauth', 'wrong-password', '--replicaof', '127.0.0.1', String(master.port)],
    { password: PW },
  );
  const diagnosed: string[] = [];
  const result = await verifySync({
    nodes: [node('m', master), node('r', replica, 'm')],
    replicas: ['r'],
    connect: connectTo({ m: master, r: replica }),
    timeoutMs: 1500,
    intervalMs: 200,
    diagnose: async (name, problems) => {
      diagnosed.push(name);
      return [`diagnosed ${problems.length} problem(s)`];
    },
  });
  expect(result.ok).toBe(false);
  expect(result.replicas[0].ok).toBe(false);
  expect(result.replicas[0].problems.join('\n')).toMatch(/r: link to m is down/);
  expect(result.replicas[0].diagnosis).toEqual(['diagnosed 1 problem(s)']);
  expect(diagnosed).toEqual(['r']);
});

test('a node that is not replicating at all is reported as a master, not a replica', async () => {
  const master = await startRedis([]);
  const loner = await startRedis([]);
  const result = await verifySync({
    nodes: [node('m', master), node('r', loner, 'm')],
    replicas: ['r'],
    connect: (name) => connectAgent({ host: '127.0.0.1', port: (name === 'm' ? master : loner).port }, []),
    timeoutMs: 600,
    intervalMs: 200,
  });
  expect(result.ok).toBe(false);
  expect(result.replicas[0].problems).toEqual(['r is a master, not a replica of m']);
});

test('a replica following another master is named with the master it follows', async () => {
  const master = await startRedis([]);
  const other = await startRedis([]);
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(other.port)]);
  const result = await verifySync({
    nodes: [node('m', master), node('r', replica, 'm')],
    replicas: ['r'],
    connect: (name) => connectAgent({ host: '127.0.0.1', port: (name === 'm' ? master : replica).port }, []),
    timeoutMs: 600,
    intervalMs: 200,
  });
  expect(result.ok).toBe(false);
  expect(result.replicas[0].problems[0]).toBe(
    `r follows 127.0.0.1:${other.port}, not m (127.0.0.1:${master.port})`,
  );
});

test('a master that cannot be reached is reported for its replica', async () => {
  const gone = await freePort();
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(gone)]);
  const result = await verifySync({
    nodes: [{ name: 'm', address: '127.0.0.1', port: gone }, node('r', replica, 'm')],
    replicas: ['r'],
    connect: (name) => connectAgent({ host: '127.0.0.1', port: name === 'm' ? gone : replica.port }, []),
    timeoutMs: 600,
    intervalMs: 200,
  });
  expect(result.ok).toBe(false);
  expect(result.replicas[0].problems.join('\n')).toMatch(
    /link to m is down|m \(master of r\) does not answer/,
  );
});

test('connectAgent tries passwords in order and reports which one worked', async () => {
  const s = await startRedis(['--requirepass', PW], { password: PW });
  const c = await connectAgent({ host: '127.0.0.1', port: s.port }, ['old-password', PW]);
  expect(c.passwordIndex).toBe(1);
  expect((await c.info('replication')).role).toBe('master');
  await c.close();
  await expect(connectAgent({ host: '127.0.0.1', port: s.port }, ['nope'])).rejects.toThrow(
    /refused every known password/,
  );
});

describe('evaluateLink on INFO snapshots', () => {
  const link = {
    replica: { name: 'r', address: '10.0.0.2', port: 6379 },
    master: { name: 'm', address: '10.0.0.1', port: 6379 },
  };
  const master = parseInfo(
    '# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=10.0.0.2,port=6379,state=online,offset=500,lag=0\r\nmaster_repl_offset:500\r\n',
  );
  test('an initial sync in progress is reported with its percentage', () => {
    const replica = parseInfo(
      'role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:down\r\nmaster_sync_in_progress:1\r\nmaster_sync_total_bytes:1000\r\nmaster_sync_read_bytes:420\r\n',
    );
    expect(evaluateLink(link, replica, master).problems).toEqual([
      'r: initial sync from m in progress (42%)',
    ]);
  });
  test('a replica behind the master offset is reported with the gap', () => {
    const replica = parseInfo(
      'role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:380\r\n',
    );
    expect(evaluateLink(link, replica, master).problems).toEqual([
      "r: offset 380 behind m's 500 by 120 bytes",
    ]);
  });
  test('a replica the master lists as not online fails', () => {
    const m2 = parseInfo(
      'role:master\r\nslave0:ip=10.0.0.2,port=6379,state=wait_bgsave,offset=0,lag=0\r\nmaster_repl_offset:0\r\n',
    );
    const replica = parseInfo(
      'role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:0\r\n',
    );
    expect(evaluateLink(link, replica, m2).problems).toEqual(['m lists r as wait_bgsave, not online']);
  });
  test('a link down since some seconds says for how long', () => {
    const replica = parseInfo(
      'role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:down\r\nmaster_sync_in_progress:0\r\nmaster_link_down_since_seconds:12\r\n',
    );
    expect(evaluateLink(link, replica, master).problems).toEqual(['r: link to m is down for 12 s']);
  });
});
