/**
 * Helpers for replication tests: start masters and replicas (agent or real redis-server) with small, fast
 * replication settings, read INFO fields, wait for links and convergence, compare dataset digests
 * (DEBUG DIGEST: equal exactly when the datasets are equal, on the agent and on real Redis alike), and drive a
 * mixed write load covering every data type and the effects that must be made deterministic.
 */
import type Redis from 'ioredis';
import { startServer, type ServerKind, type StartOptions, type TestServer } from '../../../helpers/servers';
import { waitFor } from '../../../helpers/waitFor';
import { prng } from '../../../helpers/prng';

/** Replication settings that keep tests fast: no batching delay, short timeouts, a small backlog. */
export const FAST_REPLICATION_ARGS = [
  '--repl-diskless-sync-delay',
  '0',
  '--repl-timeout',
  '5',
  '--repl-ping-replica-period',
  '1',
];

export async function startNode(
  kind: ServerKind,
  args: string[] = [],
  options: Omit<StartOptions, 'kind' | 'args'> = {},
): Promise<TestServer> {
  return startServer({ kind, ...options, args: [...FAST_REPLICATION_ARGS, ...args] });
}

export async function startReplica(
  kind: ServerKind,
  master: { port: number },
  args: string[] = [],
  options: Omit<StartOptions, 'kind' | 'args'> = {},
): Promise<TestServer> {
  return startNode(kind, ['--replicaof', '127.0.0.1', String(master.port), ...args], options);
}

/** INFO <section> as a field map. */
export async function info(client: Redis, section: string): Promise<Record<string, string>> {
  const text = (await client.info(section)) as string;
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

export async function replInfo(node: TestServer): Promise<Record<string, string>> {
  return info(node.client, 'replication');
}

export async function digest(node: TestServer): Promise<string> {
  return (await node.client.call('DEBUG', 'DIGEST')) as string;
}

export async function waitLinkUp(replica: TestServer, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await replInfo(replica)).master_link_status === 'up', {
    timeoutMs,
    description: `replica ${replica.port} link up`,
  });
}

/**
 * Waits until every replica has applied the master's stream (its offset reached the master's, read first) and
 * holds the same dataset (same digest). The master's offset may move on meanwhile through PINGs, which do not
 * change data. Returns the digest.
 */
export async function waitConverged(
  master: TestServer,
  replicas: TestServer[],
  timeoutMs = 20_000,
): Promise<string> {
  let last = '';
  await waitFor(
    async () => {
      const target = Number((await replInfo(master)).master_repl_offset);
      for (const r of replicas) {
        const ri = await replInfo(r);
        if (ri.master_link_status !== 'up') {
          last = `replica ${r.port} link ${ri.master_link_status}`;
          return false;
        }
        if (Number(ri.master_repl_offset) < target) {
          last = `replica ${r.port} at ${ri.master_repl_offset}, master at ${target}`;
          return false;
        }
      }
      const expected = await digest(master);
      for (const r of replicas) {
        const d = await digest(r);
        if (d !== expected) {
          last = `replica ${r.port} digest ${d} != ${expected}`;
          return false;
        }
      }
      last = expected;
      return true;
    },
    { timeoutMs, intervalMs: 100, description: 'replicas converged' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; ${last}`);
  });
  return last;
}

/**
 * `count` random writes over every data type, several databases, TTLs and the commands whose effects must be
 * propagated deterministically (SPOP, INCRBYFLOAT, EXPIRE relative, SET EX, LMOVE...). Pipelined in batches.
 */
export async function mixedWrites(client: Redis, count: number, seed: number, prefix = 'k'): Promise<void> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const key = (kind: string) => `${prefix}:${kind}:${Math.floor(rand() * 40)}`;
  const val = () => (rand() < 0.1 ? 'v'.repeat(Math.floor(rand() * 300)) : `v${Math.floor(rand() * 1000)}`);
  const BATCH = 200;
  for (let done = 0; done < count; done += BATCH) {
    const p = client.pipeline();
    for (let i = 0; i < Math.min(BATCH, count - done); i++) {
      const db = rand() < 0.2 ? 1 : 0;
      p.select(db);
      const op = pick([
        'set',
        'setex',
        'incr',
        'incrbyfloat',
        'append',
        'del',
        'expire',
        'lpush',
        'rpush',
        'lpop',
        'lmove',
        'hset',
        'hdel',
        'hincrby',
        'sadd',
        'srem',
        'spop',
        'zadd',
        'zincrby',
        'zrem',
        'zpopmin',
        'mset',
      ] as const);
      switch (op) {
        case 'set':
          p.set(key('s'), val());
          break;
        case 'setex':
          p.set(key('s'), val(), 'EX', 1000 + Math.floor(rand() * 1000));
          break;
        case 'incr':
          p.incr(key('n'));
          break;
        case 'incrbyfloat':
          p.incrbyfloat(key('f'), (rand() * 10).toFixed(3));
          break;
        case 'append':
          p.append(key('s'), 'x');
          break;
        case 'del':
          p.del(key(pick(['s', 'l', 'h', 'z', 'set'])));
          break;
        case 'expire':
          p.expire(key(pick(['s', 'l', 'h'])), 500 + Math.floor(rand() * 500));
          break;
        case 'lpush':
          p.lpush(key('l'), val(), val());
          break;
        case 'rpush':
          p.rpush(key('l'), val());
          break;
        case 'lpop':
          p.lpop(key('l'));
          break;
        case 'lmove':
          p.lmove(key('l'), key('l'), 'LEFT', 'RIGHT');
          break;
        case 'hset':
          p.hset(key('h'), `f${Math.floor(rand() * 20)}`, val());
          break;
        case 'hdel':
          p.hdel(key('h'), `f${Math.floor(rand() * 20)}`);
          break;
        case 'hincrby':
          p.hincrby(key('h'), 'counter', 3);
          break;
        case 'sadd':
          p.sadd(key('set'), `m${Math.floor(rand() * 30)}`, String(Math.floor(rand() * 30)));
          break;
        case 'srem':
          p.srem(key('set'), `m${Math.floor(rand() * 30)}`);
          break;
        case 'spop':
          p.spop(key('set'));
          break;
        case 'zadd':
          p.zadd(key('z'), (rand() * 100).toFixed(2), `m${Math.floor(rand() * 30)}`);
          break;
        case 'zincrby':
          p.zincrby(key('z'), 1.5, `m${Math.floor(rand() * 30)}`);
          break;
        case 'zrem':
          p.zrem(key('z'), `m${Math.floor(rand() * 30)}`);
          break;
        case 'zpopmin':
          p.zpopmin(key('z'));
          break;
        case 'mset':
          p.mset(key('s'), val(), key('s'), val());
          break;
      }
    }
    p.select(0);
    const results = (await p.exec()) ?? [];
    for (const [err] of results) {
      // WRONGTYPE is expected (keys of one name change type); anything else is a bug of the test or server.
      if (err && !/WRONGTYPE/.test(err.message)) throw err;
    }
  }
}

/** Count of log lines matching `pattern` in a server's output. */
export function countLog(node: TestServer, pattern: RegExp): number {
  return node
    .output()
    .split('\n')
    .filter((l) => pattern.test(l)).length;
}

export async function stopAll(nodes: Array<TestServer | undefined>): Promise<void> {
  await Promise.all(nodes.map((n) => n?.stop()));
}
