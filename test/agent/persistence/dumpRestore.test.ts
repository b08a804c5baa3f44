/**
 * DUMP, RESTORE and DEBUG RELOAD side by side with redis-server 7.0: values move between the two servers through
 * DUMP/RESTORE in both directions, and every reply and error text is Redis's (BUSYKEY, payload errors, TTL,
 * IDLETIME/FREQ, option syntax), including how a TTL is applied and what IDLETIME/FREQ do under LRU/LFU policies.
 */
import type Redis from 'ioredis';
import { startPair, type TestServer } from '../../helpers/servers';

jest.setTimeout(60_000);

async function reply(client: Redis, ...args: Array<string | Buffer | number>): Promise<unknown> {
  try {
    return await client.callBuffer(String(args[0]), ...args.slice(1));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

async function fillTypes(client: Redis): Promise<string[]> {
  await client.set('str', 'hello');
  await client.set('int', '12345');
  await client.set('long', 'x'.repeat(500));
  await client.rpush('list', 'a', 'b', '1', '2');
  await client.rpush('biglist', ...Array.from({ length: 500 }, (_, i) => `item${i}`));
  await client.hset('hash', 'f', 'v', 'n', '1');
  await client.hset('bighash', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat());
  await client.sadd('intset', '1', '2', '-3');
  await client.sadd('strset', 'a', 'b');
  await client.zadd('zset', 1, 'a', 2.5, 'b');
  await client.zadd('bigzset', ...Array.from({ length: 300 }, (_, i) => [String(i / 7), `m${i}`]).flat());
  return ['str', 'int', 'long', 'list', 'biglist', 'hash', 'bighash', 'intset', 'strset', 'zset', 'bigzset'];
}

describe('DUMP and RESTORE like redis-server 7', () => {
  let agent: TestServer;
  let redis: TestServer;
  beforeEach(async () => {
    ({ agent, redis } = await startPair());
  });
  afterEach(async () => {
    await Promise.all([agent.stop(), redis.stop()]);
  });

  it('moves every type between the agent and Redis in both directions', async () => {
    const keys = await fillTypes(agent.client);
    await fillTypes(redis.client);
    for (const key of keys) {
      const fromAgent = (await agent.client.dumpBuffer(key)) as Buffer;
      const fromRedis = (await redis.client.dumpBuffer(key)) as Buffer;
      expect(await redis.client.call('RESTORE', `${key}:from-agent`, '0', fromAgent)).toBe('OK');
      expect(await agent.client.call('RESTORE', `${key}:from-redis`, '0', fromRedis)).toBe('OK');
      const digestOf = async (s: TestServer, k: string): Promise<unknown> =>
        s.client.call('DEBUG', 'DIGEST-VALUE', k);
      const original = await digestOf(redis, key);
      expect(await digestOf(redis, `${key}:from-agent`)).toEqual(original);
      expect(await digestOf(agent, `${key}:from-redis`)).toEqual(original);
      expect(await agent.client.object('ENCODING', `${key}:from-redis`)).toBe(
        await redis.client.object('ENCODING', `${key}:from-agent`),
      );
    }
    expect(await agent.client.dumpBuffer('missing')).toBeNull();
  });

  it('gives the payloads of compact values byte for byte as Redis does', async () => {
    for (const s of [agent, redis]) {
      await s.client.set('s', 'some string');
      await s.client.rpush('l', 'a', '1', 'b');
      await s.client.hset('h', 'x', '1', 'y', 'two');
      await s.client.sadd('i', '5', '-1', '300');
      await s.client.zadd('z', 2, 'b', 1, 'a');
    }
    for (const key of ['s', 'l', 'h', 'i', 'z']) {
      expect(await agent.client.dumpBuffer(key)).toEqual(await redis.client.dumpBuffer(key));
    }
  });

  it('answers RESTORE errors and options exactly as Redis', async () => {
    for (const s of [agent, redis]) await s.client.set('exists', 'v');
    const payload = (await redis.client.dumpBuffer('exists')) as Buffer;
    const badCrc = Buffer.from(payload);
    badCrc[badCrc.length - 1] ^= 1;
    const newer = Buffer.from(payload);
    newer.writeUInt16LE(11, newer.length - 10);
    const cases: Array<Array<string | Buffer>> = [
      ['RESTORE', 'exists', '0', payload],
      ['RESTORE', 'k', '0', badCrc],
      ['RESTORE', 'k', '0', Buffer.from('short')],
      ['RESTORE', 'k', '-1', payload],
      ['RESTORE', 'k', 'abc', payload],
      ['RESTORE', 'k', '0', payload, 'IDLETIME', '-1'],
      ['RESTORE', 'k', '0', payload, 'IDLETIME', 'x'],
      ['RESTORE', 'k', '0', payload, 'FREQ', '256'],
      ['RESTORE', 'k', '0', payload, 'FREQ', '-1'],
      ['RESTORE', 'k', '0', payload, 'IDLETIME', '10', 'FREQ', '5'],
      ['RESTORE', 'k', '0', payload, 'FREQ', '5', 'IDLETIME', '10'],
      ['RESTORE', 'k', '0', payload, 'IDLETIME'],
      ['RESTORE', 'k', '0', payload, 'BOGUS'],
      ['RESTORE', 'exists', '-1', payload, 'BOGUS'],
      ['RESTORE', 'k', '0', newer],
      ['RESTORE', 'k'],
      ['RESTORE', 'exists', '0', payload, 'REPLACE'],
      ['RESTORE', 'past', '1000', payload, 'ABSTTL'],
      ['EXISTS', 'past'],
      ['RESTORE', 'exists', '1000', payload, 'ABSTTL', 'REPLACE'],
      ['EXISTS', 'exists'],
      ['RESTORE', 'ttl', '100000', payload],
      ['RESTORE', 'abs', String(Date.now() + 100_000), payload, 'ABSTTL'],
      ['DUMP'],
    ];
    for (const args of cases) {
      expect([args.map(String).join(' '), await reply(agent.client, ...args)]).toEqual([
        args.map(String).join(' '),
        await reply(redis.client, ...args),
      ]);
    }
    for (const key of ['ttl', 'abs']) {
      const pttl = await agent.client.pttl(key);
      expect(pttl).toBeGreaterThan(90_000);
      expect(pttl).toBeLessThanOrEqual(100_000);
    }
  });

  it('applies IDLETIME under an LRU policy and FREQ under an LFU policy', async () => {
    for (const s of [agent, redis]) await s.client.set('v', '1');
    const payload = (await agent.client.dumpBuffer('v')) as Buffer;
    for (const s of [agent, redis]) {
      await s.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await s.client.call('RESTORE', 'idle', '0', payload, 'IDLETIME', '1000');
      await s.client.config('SET', 'maxmemory-policy', 'allkeys-lfu');
      await s.client.call('RESTORE', 'freq', '0', payload, 'FREQ', '77');
    }
    expect(await agent.client.object('FREQ', 'freq')).toBe(77);
    expect(await agent.client.object('FREQ', 'freq')).toBe(await redis.client.object('FREQ', 'freq'));
    await agent.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const idle = (await agent.client.object('IDLETIME', 'idle')) as number;
    expect(idle).toBeGreaterThanOrEqual(1000);
    expect(idle).toBeLessThan(1010);
  });
});

describe('DEBUG RELOAD like redis-server 7', () => {
  let agent: TestServer;
  let redis: TestServer;
  beforeEach(async () => {
    ({ agent, redis } = await startPair());
  });
  afterEach(async () => {
    await Promise.all([agent.stop(), redis.stop()]);
  });

  it('saves and reloads the dataset, with NOSAVE, NOFLUSH and MERGE as Redis', async () => {
    for (const s of [agent, redis]) {
      await fillTypes(s.client);
      await s.client.set('ttl', 'v', 'PX', 100_000);
    }
    const before = await agent.client.call('DEBUG', 'DIGEST');
    expect(await agent.client.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await agent.client.call('DEBUG', 'DIGEST')).toBe(before);
    expect(await agent.client.pttl('ttl')).toBeGreaterThan(90_000);
    for (const s of [agent, redis]) {
      await s.client.set('str', 'changed');
      await s.client.set('only-in-memory', 'x');
    }
    // NOSAVE: back to the file written by the previous RELOAD.
    expect(await agent.client.call('DEBUG', 'RELOAD', 'NOSAVE')).toBe('OK');
    expect(await agent.client.get('str')).toBe('hello');
    expect(await agent.client.exists('only-in-memory')).toBe(0);
    await agent.client.set('extra', 'kept');
    expect(await agent.client.call('DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE')).toBe('OK');
    expect(await agent.client.get('extra')).toBe('kept');
    expect(await agent.client.call('DEBUG', 'DIGEST')).not.toBe(before);
    expect(await reply(agent.client, 'DEBUG', 'RELOAD', 'SOON')).toEqual(
      await reply(redis.client, 'DEBUG', 'RELOAD', 'SOON'),
    );
  });
});
