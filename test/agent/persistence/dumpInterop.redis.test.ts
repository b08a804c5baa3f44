/**
 * Dump files between the agent and real redis-server 7.0, both ways, through the servers themselves (SAVE, BGSAVE,
 * loading at startup): the datasets must be identical (DEBUG DIGEST and a full key/type/value/TTL walk), and the
 * values loaded must report the encodings Redis reports for the same file.
 */
import { readFileSync } from 'node:fs';
import { checkRdbWithRedis, startServer, type TestServer } from '../../helpers/servers';
import { waitFor } from '../../helpers/waitFor';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { DATASET_DBS, canonical, generateDataset, loadIntoRedis, readRedisDataset } from './support/dataset';

jest.setTimeout(120_000);

async function info(server: TestServer, field: string): Promise<string> {
  const text = (await server.client.info('persistence')) as string;
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`INFO persistence has no ${field}`);
  return m[1].trim();
}

async function digest(server: TestServer): Promise<string> {
  return (await server.client.call('DEBUG', 'DIGEST')) as string;
}

/** OBJECT ENCODING of every key of the dataset's databases. */
async function encodings(server: TestServer): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const db of DATASET_DBS) {
    await server.client.select(db);
    const keys = (await server.client.keysBuffer('*')) as Buffer[];
    for (const k of keys)
      out[`${db}:${k.toString('latin1')}`] = (await server.client.object('ENCODING', k)) as string;
  }
  await server.client.select(0);
  return out;
}

describe('dump files written by the agent', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it.each(['SAVE', 'BGSAVE'])(
    'are loaded by redis-server 7 with an identical dataset (%s)',
    async (command) => {
      const dataset = generateDataset({ seed: 11, nowMs: Date.now() });
      const agent = await startServer({ kind: 'agent' });
      servers.push(agent);
      await loadIntoRedis(agent.client, dataset);
      if (command === 'SAVE') {
        expect(await agent.client.save()).toBe('OK');
      } else {
        expect(await agent.client.bgsave()).toBe('Background saving started');
        await waitFor(async () => (await info(agent, 'rdb_bgsave_in_progress')) === '0');
        expect(await info(agent, 'rdb_last_bgsave_status')).toBe('ok');
      }
      const check = checkRdbWithRedis(agent.dumpPath);
      expect(check.output).toContain(`${dataset.length} keys read`);
      expect(check.ok).toBe(true);
      const redis = await startServer({
        kind: 'redis',
        rdbFile: agent.dumpPath,
        args: ['--sanitize-dump-payload', 'yes'],
      });
      servers.push(redis);
      expect(redis.output()).toContain(`Done loading RDB, keys loaded: ${dataset.length}, keys expired: 0.`);
      expect(await digest(redis)).toBe(await digest(agent));
      const fromRedis = canonical(await readRedisDataset(redis.client, DATASET_DBS));
      expect(fromRedis).toEqual(canonical(await readRedisDataset(agent.client, DATASET_DBS)));
      expect(fromRedis).toEqual(canonical(dataset));
    },
  );

  it('carry Redis 7.0 AUX fields and RESIZEDB hints, and an empty dataset is a valid file', async () => {
    const agent = await startServer({ kind: 'agent' });
    servers.push(agent);
    expect(await agent.client.save()).toBe('OK');
    const empty = parseRdb(readFileSync(agent.dumpPath));
    expect(empty.entries).toEqual([]);
    expect(empty.rdbVersion).toBe(10);
    expect(empty.aux.map(([k]) => k)).toEqual(['redis-ver', 'redis-bits', 'ctime', 'used-mem', 'aof-base']);
    await agent.client.set('a', '1');
    await agent.client.select(3);
    await agent.client.set('b', '2');
    await agent.client.pexpire('b', 100_000);
    await agent.client.select(0);
    expect(await agent.client.save()).toBe('OK');
    const file = parseRdb(readFileSync(agent.dumpPath));
    expect(file.checksum).toBe('verified');
    expect(file.resizeHints.map(({ db, keyCount, expiresCount }) => [db, keyCount, expiresCount])).toEqual([
      [0, 1, 0],
      [3, 1, 1],
    ]);
  });
});

describe('dump files written by redis-server 7', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it.each([
    { name: 'default encodings', args: [] as string[] },
    {
      name: 'small compact thresholds',
      args: [
        '--hash-max-listpack-entries',
        '4',
        '--zset-max-listpack-entries',
        '4',
        '--set-max-intset-entries',
        '4',
      ],
    },
  ])('are loaded by the agent with an identical dataset and encodings ($name)', async ({ args }) => {
    const dataset = generateDataset({ seed: 12, nowMs: Date.now() });
    const redis = await startServer({ kind: 'redis', args });
    servers.push(redis);
    await loadIntoRedis(redis.client, dataset);
    expect(await redis.client.save()).toBe('OK');
    // Encodings as Redis reports them right after loading its own file.
    await redis.client.call('DEBUG', 'RELOAD');
    const agent = await startServer({ kind: 'agent', rdbFile: redis.dumpPath, args });
    servers.push(agent);
    expect(agent.output()).toContain(`keys loaded: ${dataset.length}, keys expired: 0.`);
    expect(await info(agent, 'rdb_last_load_keys_loaded')).toBe(String(dataset.length));
    expect(await digest(agent)).toBe(await digest(redis));
    const fromAgent = canonical(await readRedisDataset(agent.client, DATASET_DBS));
    expect(fromAgent).toEqual(canonical(await readRedisDataset(redis.client, DATASET_DBS)));
    expect(await encodings(agent)).toEqual(await encodings(redis));
  });

  it('skip keys that expired while the file was on disk, as Redis does on a master', async () => {
    const redis = await startServer({ kind: 'redis' });
    servers.push(redis);
    await redis.client.set('stays', 'x');
    await redis.client.set('goes', 'y', 'PX', 300);
    expect(await redis.client.save()).toBe('OK');
    await waitFor(async () => (await redis.client.pttl('goes')) === -2, { description: 'the TTL to pass' });
    const agent = await startServer({ kind: 'agent', rdbFile: redis.dumpPath });
    servers.push(agent);
    expect(await agent.client.keys('*')).toEqual(['stays']);
    expect(await info(agent, 'rdb_last_load_keys_expired')).toBe('1');
  });
});
