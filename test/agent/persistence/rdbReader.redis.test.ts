/**
 * The reader against dumps written by a real redis-server 7.0: every key, value and expiry must be what the server
 * reports, whatever encodings the server chose and however the bytes are fed to the parser.
 */

import { readFileSync } from 'node:fs';
import { parseRdb, readRdbStream } from '../../../agent/persistence/rdbReader';
import type { RdbEvent } from '../../../agent/persistence/rdbReader';
import { DATASET_DBS, canonical, generateDataset, loadIntoRedis, readRedisDataset } from './support/dataset';
import { entriesOf, parseByteByByte, parseRandomChunks, parseWhole } from './support/feed';
import { startServer, type TestServer } from '../../helpers/servers';

const NOW_MS = Date.now();

const CONFIGS = [
  {
    name: 'small compact-encoding limits, compressed quicklist nodes',
    args: [
      ...['--hash-max-listpack-entries', '8', '--hash-max-listpack-value', '32'],
      ...['--zset-max-listpack-entries', '8', '--zset-max-listpack-value', '32'],
      ...['--set-max-intset-entries', '16', '--list-max-listpack-size', '5', '--list-compress-depth', '1'],
    ],
    encodings: ['int', 'embstr', 'raw', 'quicklist', 'listpack', 'hashtable', 'intset', 'skiplist'],
  },
  {
    name: 'default limits, rdbcompression no',
    args: ['--rdbcompression', 'no'],
    encodings: ['int', 'embstr', 'raw', 'quicklist', 'listpack', 'hashtable', 'intset', 'skiplist'],
  },
];

describe.each(CONFIGS)('reading a dump written by redis-server 7.0 ($name)', ({ args, encodings }) => {
  let redis: TestServer;
  let image: Buffer;
  let expected: ReturnType<typeof canonical>;
  const dataset = generateDataset({ seed: 42, nowMs: NOW_MS });

  beforeAll(async () => {
    redis = await startServer({ kind: 'redis', args });
    await loadIntoRedis(redis.client, dataset);
    await redis.client.save();
    image = readFileSync(redis.dumpPath);
    expected = canonical(await readRedisDataset(redis.client, DATASET_DBS));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('holds values in every encoding the server has (fixture sanity)', async () => {
    const seen = new Set<string>();
    for (const e of dataset) {
      await redis.client.select(e.db);
      seen.add(String(await redis.client.object('ENCODING', Buffer.from(e.key, 'latin1'))));
    }
    await redis.client.select(0);
    for (const enc of encodings) expect(seen).toContain(enc);
    expect(expected).toEqual(canonical(dataset));
  });

  it('reads every key, type, value and exact expiry the server reports, with a verified checksum', () => {
    const contents = parseRdb(image);
    expect(contents.rdbVersion).toBe(10);
    expect(contents.checksum).toBe('verified');
    expect(canonical(contents.entries)).toEqual(expected);
    expect(contents.notices).toEqual([]);
  });

  it('returns the AUX fields and RESIZEDB hints', () => {
    const contents = parseRdb(image);
    const aux = new Map(contents.aux);
    expect(aux.get('redis-ver')).toBe('7.0.15');
    expect(aux.get('redis-bits')).toBe('64');
    expect(Number(aux.get('ctime'))).toBeGreaterThan(NOW_MS / 1000 - 3600);
    expect(aux.has('used-mem')).toBe(true);
    expect(aux.get('aof-base')).toBe('0');
    const perDb = new Map(DATASET_DBS.map((db) => [db, dataset.filter((e) => e.db === db)]));
    expect(contents.resizeHints).toEqual(
      DATASET_DBS.map((db) => ({
        kind: 'resizeDb',
        db,
        keyCount: perDb.get(db)!.length,
        expiresCount: perDb.get(db)!.filter((e) => e.expireAtMs !== null).length,
      })),
    );
  });

  it('gives the same events when the file is fed byte by byte', () => {
    const whole = parseWhole(image);
    expect(whole[whole.length - 1]).toEqual({ kind: 'end', checksum: 'verified', bytes: image.length });
    expect(parseByteByByte(image)).toEqual(whole);
  });

  it('gives the same events for random chunk sizes', () => {
    const whole = parseWhole(image);
    for (const seed of [1, 2, 3]) expect(parseRandomChunks(image, seed)).toEqual(whole);
  });

  it('reads the file as an async stream of chunks', async () => {
    const chunks = (function* () {
      for (let p = 0; p < image.length; p += 4096) yield image.subarray(p, p + 4096);
    })();
    const events: RdbEvent[] = [];
    for await (const e of readRdbStream(chunks)) events.push(e);
    expect(canonical(entriesOf(events))).toEqual(expected);
  });
});

describe('reading redis-server 7.0 dumps with what the codec does not load', () => {
  let redis: TestServer;
  beforeAll(async () => {
    redis = await startServer({ kind: 'redis' });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('returns FUNCTION2 libraries as function events without failing', async () => {
    await redis.client.flushall();
    const code = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)";
    await redis.client.call('FUNCTION', 'LOAD', code);
    await redis.client.set('k', 'v');
    await redis.client.save();
    const contents = parseRdb(readFileSync(redis.dumpPath));
    expect(contents.functions).toEqual([code]);
    expect(contents.entries.map((e) => e.key)).toEqual(['k']);
    await redis.client.call('FUNCTION', 'FLUSH');
  });

  it('refuses a stream with RDB_UNSUPPORTED_TYPE naming the type, the key and the offset', async () => {
    await redis.client.flushall();
    await redis.client.xadd('mystream', '*', 'field', 'value');
    await redis.client.save();
    const image = readFileSync(redis.dumpPath);
    expect(() => parseRdb(image, { source: 'dump.rdb' })).toThrow(
      expect.objectContaining({
        code: 'RDB_UNSUPPORTED_TYPE',
        message: expect.stringMatching(
          /^dump\.rdb: type 19 \(stream listpacks v2\): streams are not supported \(key "mystream"\) \(at byte \d+\)$/,
        ),
      }),
    );
  });
});
