/**
 * The writer against a real redis-server 7.0: files we write must pass redis-check-rdb and load into Redis (with deep
 * payload sanitization) as exactly the dataset we wrote, with the same DEBUG DIGEST as a server that got the same
 * data through commands.
 */

import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RdbEntry } from '../../../agent/persistence/model';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { encodeRdb, rdbChunksAsync, redisAuxFields } from '../../../agent/persistence/rdbWriter';
import type { RdbWriterOptions } from '../../../agent/persistence/rdbWriter';
import { DATASET_DBS, canonical, generateDataset, loadIntoRedis, readRedisDataset } from './support/dataset';
import { checkRdbWithRedis, startServer, type TestServer } from '../../helpers/servers';

const NOW_MS = Date.now();
const dataset = generateDataset({ seed: 7, nowMs: NOW_MS });

function dbSizes(entries: readonly RdbEntry[]): Map<number, { keyCount: number; expiresCount: number }> {
  const sizes = new Map<number, { keyCount: number; expiresCount: number }>();
  for (const e of entries) {
    const s = sizes.get(e.db) ?? { keyCount: 0, expiresCount: 0 };
    s.keyCount++;
    if (e.expireAtMs !== null) s.expiresCount++;
    sizes.set(e.db, s);
  }
  return sizes;
}

const VARIANTS: Array<{ name: string; options: RdbWriterOptions }> = [
  { name: 'compact encodings, LZF, checksum (defaults)', options: {} },
  {
    name: 'plain encodings only',
    options: {
      encodingLimits: { hashMaxListpackEntries: 0, zsetMaxListpackEntries: 0, setMaxIntsetEntries: 0 },
    },
  },
  {
    name: 'listpacks beyond Redis limits, tiny list nodes',
    options: {
      encodingLimits: {
        hashMaxListpackEntries: 100_000,
        hashMaxListpackValue: 100_000,
        zsetMaxListpackEntries: 100_000,
        zsetMaxListpackValue: 100_000,
        setMaxIntsetEntries: 100_000,
        listMaxListpackBytes: 16,
      },
    },
  },
  { name: 'no compression, checksum disabled', options: { compress: false, checksum: false } },
];

describe('RDB files written by the writer, loaded by redis-server 7.0', () => {
  let source: TestServer;
  let sourceDigest: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rdb-writer-test-'));
    source = await startServer({ kind: 'redis' });
    await loadIntoRedis(source.client, dataset);
    sourceDigest = String(await source.client.call('DEBUG', 'DIGEST'));
  });
  afterAll(async () => {
    await source?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(VARIANTS)(
    '$name: redis-check-rdb accepts the file and Redis loads the identical dataset',
    async ({ options }) => {
      const file = path.join(dir, 'ours.rdb');
      const writerOptions: RdbWriterOptions = {
        ...options,
        aux: redisAuxFields({
          ctimeSec: Math.floor(NOW_MS / 1000),
          usedMemBytes: 1234,
          replId: 'a'.repeat(40),
          replOffset: 0,
        }),
        dbSizes: dbSizes(dataset),
        chunkBytes: 16 * 1024,
      };
      await pipeline(Readable.from(rdbChunksAsync(dataset, writerOptions)), createWriteStream(file));

      const check = checkRdbWithRedis(file);
      expect(check.output).toContain('RDB looks OK!');
      expect(check.ok).toBe(true);

      const target = await startServer({
        kind: 'redis',
        rdbFile: file,
        args: ['--sanitize-dump-payload', 'yes'],
      });
      try {
        expect(String(await target.client.call('DEBUG', 'DIGEST'))).toBe(sourceDigest);
        expect(canonical(await readRedisDataset(target.client, DATASET_DBS))).toEqual(canonical(dataset));
        expect(target.output()).toContain(
          `Done loading RDB, keys loaded: ${dataset.length}, keys expired: 0.`,
        );
      } finally {
        await target.stop();
      }
    },
  );

  it('writes a file Redis reads back and rewrites to the same dataset (round trip through SAVE)', async () => {
    const file = path.join(dir, 'roundtrip.rdb');
    await pipeline(Readable.from(rdbChunksAsync(dataset)), createWriteStream(file));
    const target = await startServer({ kind: 'redis', rdbFile: file });
    try {
      await target.client.save();
      expect(canonical(parseRdb(readFileSync(target.dumpPath)).entries)).toEqual(canonical(dataset));
    } finally {
      await target.stop();
    }
  });

  it('keeps -0 in skiplist zsets and stores it as 0 in listpack zsets, as Redis does', async () => {
    const file = path.join(dir, 'negzero.rdb');
    const entries: RdbEntry[] = [
      { db: 0, key: 'small', value: { type: 'zset', entries: [['m', -0]] }, expireAtMs: null },
      {
        db: 0,
        key: 'big',
        value: {
          type: 'zset',
          entries: [
            ['m', -0],
            ['n', 1],
            ['o', 2],
          ],
        },
        expireAtMs: null,
      },
    ];
    writeFileSync(file, encodeRdb(entries, { encodingLimits: { zsetMaxListpackEntries: 2 } }));
    const target = await startServer({
      kind: 'redis',
      rdbFile: file,
      args: ['--zset-max-listpack-entries', '2'],
    });
    try {
      expect(await target.client.object('ENCODING', 'small')).toBe('listpack');
      expect(await target.client.object('ENCODING', 'big')).toBe('skiplist');
      expect(await target.client.zscore('small', 'm')).toBe('0');
      expect(await target.client.zscore('big', 'm')).toBe('-0');
    } finally {
      await target.stop();
    }
  });
});
