/**
 * maxmemory and eviction: the OOM error as Redis words it, each eviction policy choosing the right victims,
 * memory staying under the limit while writes go on, evictions counted, notified and propagated as DEL to a
 * replica.
 */
import { startPair, startServer, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await server.client.config('SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction');
  await server.client.flushall();
});

async function usedMemory(): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await server.client.info('memory'))![1]);
}

/**
 * A maxmemory that leaves room for `fraction` of the current dataset: what maxmemory is checked against
 * (used_memory less replica buffers, as Redis counts it) minus the rest of the dataset. Scaling the whole figure
 * instead could ask for less than the fixed overheads (startup heap, a 1 MB replication backlog), and then every
 * key would go.
 */
async function limitKeeping(fraction: number): Promise<number> {
  const info = await server.client.info('memory');
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)![1]);
  const counted = field('used_memory') - field('mem_not_counted_for_evict');
  return counted - Math.floor(field('used_memory_dataset') * (1 - fraction));
}

/** Fills keys prefix:0..n-1 with values of `size` bytes, in pipelines. */
async function fill(prefix: string, n: number, size: number, ttlSeconds?: number): Promise<void> {
  const value = 'x'.repeat(size);
  for (let i = 0; i < n; i += 1000) {
    const p = server.client.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      if (ttlSeconds === undefined) p.set(`${prefix}:${j}`, value);
      else p.set(`${prefix}:${j}`, value, 'EX', ttlSeconds + j);
    }
    await p.exec();
  }
}

async function countExisting(prefix: string, n: number): Promise<number> {
  const p = server.client.pipeline();
  for (let i = 0; i < n; i++) p.exists(`${prefix}:${i}`);
  return (await p.exec())!.reduce((sum, [, v]) => sum + (v as number), 0);
}

describe('OOM with noeviction', () => {
  it('refuses writes with the same error as Redis, still serves reads and deletions', async () => {
    const { agent, redis } = await startPair();
    try {
      for (const s of [agent, redis]) {
        await s.client.set('before', 'v');
        await s.client.config('SET', 'maxmemory', '1');
      }
      for (const cmd of [
        ['SET', 'k', 'v'],
        ['GET', 'before'],
        ['LPUSH', 'l', 'a'],
        ['DEL', 'before'],
        ['INCR', 'n'],
      ]) {
        const [a, r] = await Promise.all(
          [agent, redis].map((s) =>
            s.client.call(cmd[0], ...cmd.slice(1)).catch((e: Error) => `error: ${e.message}`),
          ),
        );
        expect({ cmd, reply: a }).toEqual({ cmd, reply: r });
      }
    } finally {
      await Promise.all([agent.stop(), redis.stop()]);
    }
  });

  it('refuses MULTI queueing of any command while over the limit, like Redis', async () => {
    const c = server.connect();
    await fill('q', 100, 100);
    await c.config('SET', 'maxmemory', '1');
    await c
      .multi()
      .exec()
      .catch(() => undefined);
    await c.call('MULTI');
    await expect(c.call('GET', 'q:1')).rejects.toThrow(/^OOM command not allowed/);
    await expect(c.call('EXEC')).rejects.toThrow(/^EXECABORT/);
  });
});

describe('eviction policies', () => {
  it('allkeys-random keeps used memory under maxmemory while writes go on', async () => {
    await fill('r', 2000, 500);
    const limit = await limitKeeping(0.5);
    await server.client.config('SET', 'maxmemory', String(limit), 'maxmemory-policy', 'allkeys-random');
    await fill('r2', 1000, 500);
    await waitFor(async () => (await usedMemory()) <= limit);
    const left = await countExisting('r', 2000);
    expect(left).toBeLessThan(1500);
    expect(await countExisting('r2', 1000)).toBeGreaterThan(0);
    expect(await server.client.info('stats')).toMatch(/evicted_keys:[1-9]\d*\r\n/);
  });

  it('allkeys-lru evicts keys not used recently and keeps the ones being read', async () => {
    await fill('l', 2000, 500);
    // LRU clocks tick once a second: wait until the filled keys are two ticks old, so reads stamp newer.
    await waitFor(async () => Number(await server.client.object('IDLETIME', 'l:1999')) >= 2, {
      timeoutMs: 5000,
    });
    const p = server.client.pipeline();
    for (let i = 0; i < 200; i++) p.get(`l:${i}`);
    await p.exec();
    const limit = await limitKeeping(0.6);
    await server.client.config('SET', 'maxmemory', String(limit), 'maxmemory-policy', 'allkeys-lru');
    await server.client.set('trigger', '1');
    await waitFor(async () => (await usedMemory()) <= limit);
    const hot = await countExisting('l', 200);
    let cold = 0;
    const q = server.client.pipeline();
    for (let i = 200; i < 2000; i++) q.exists(`l:${i}`);
    for (const [, v] of (await q.exec())!) cold += v as number;
    expect(hot).toBeGreaterThanOrEqual(190);
    expect(cold).toBeLessThan(1800 * 0.7);
  });

  it('volatile-ttl evicts the keys closest to expiry first and never keys without a TTL', async () => {
    await fill('persist', 500, 500);
    await fill('ttl', 1000, 500, 1000);
    const limit = await limitKeeping(0.8);
    await server.client.config('SET', 'maxmemory', String(limit), 'maxmemory-policy', 'volatile-ttl');
    await server.client.set('trigger', '1');
    await waitFor(async () => (await usedMemory()) <= limit);
    expect(await countExisting('persist', 500)).toBe(500);
    const soonest = await countExisting('ttl', 100);
    const latest = (await countExisting('ttl', 1000)) - (await countExisting('ttl', 900));
    expect(soonest).toBeLessThan(latest);
  });

  it('volatile-lru with nothing volatile left refuses writes with OOM', async () => {
    await fill('v', 200, 500, 1000);
    await fill('p', 200, 500);
    await server.client.config(
      'SET',
      'maxmemory',
      String(await limitKeeping(1 / 3)),
      'maxmemory-policy',
      'volatile-lru',
    );
    // Eviction runs in time-budgeted passes, as in Redis: on a busy machine the first write may be let through
    // while the rest of the volatile keys are evicted right after it. Once none is left, writes are refused.
    await server.client.set('trigger', 'x').catch(() => undefined);
    await waitFor(async () => (await countExisting('v', 200)) === 0, {
      description: 'volatile keys evicted',
    });
    await expect(server.client.set('more', 'x')).rejects.toThrow(/^OOM command not allowed/);
    expect(await countExisting('v', 200)).toBe(0);
    expect(await countExisting('p', 200)).toBe(200);
  });
});

describe('evictions as events', () => {
  it('fire the "evicted" keyspace notification', async () => {
    const sub = server.connect();
    const events: string[] = [];
    sub.on('message', (_ch: string, key: string) => events.push(key));
    await server.client.config('SET', 'notify-keyspace-events', 'Ee');
    try {
      // Subscribing on a connection that is not established yet can be lost by ioredis: connect first.
      await sub.ping();
      await sub.subscribe('__keyevent@0__:evicted');
      await fill('n', 500, 500);
      await server.client.config(
        'SET',
        'maxmemory',
        String(await limitKeeping(0.5)),
        'maxmemory-policy',
        'allkeys-random',
      );
      await server.client.set('trigger', '1');
      await waitFor(() => events.length > 0);
      expect(events[0]).toMatch(/^n:\d+$/);
    } finally {
      await server.client.config('SET', 'notify-keyspace-events', '');
    }
  });

  it('propagate as DEL: a redis-server replica of the agent ends with the same keys', async () => {
    const replica = await startServer({ kind: 'redis' });
    try {
      await fill('rep', 1000, 500);
      await replica.client.call('REPLICAOF', '127.0.0.1', String(server.port));
      await waitFor(async () => /master_link_status:up/.test(await replica.client.info('replication')), {
        timeoutMs: 15_000,
      });
      await waitFor(async () => (await replica.client.dbsize()) === 1000, { timeoutMs: 10_000 });
      await server.client.config(
        'SET',
        'maxmemory',
        String(await limitKeeping(0.5)),
        'maxmemory-policy',
        'allkeys-random',
      );
      await server.client.set('trigger', '1');
      const masterSize = await waitFor(async () => {
        const n = await server.client.dbsize();
        return n < 1000 ? { n } : undefined;
      });
      await waitFor(async () => (await replica.client.dbsize()) === (await server.client.dbsize()), {
        timeoutMs: 10_000,
        description: 'replica to apply the evictions',
      });
      expect(masterSize.n).toBeGreaterThan(0);
    } finally {
      await replica.stop();
    }
  });
});
