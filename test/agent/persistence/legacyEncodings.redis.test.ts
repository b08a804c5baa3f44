/**
 * Encodings of older Redis versions (RDB 9 files from Redis 5/6 and older layouts Redis 7 still loads): ziplists,
 * quicklist v1, zipmaps, legacy string-double zsets, plain lists, second-resolution expiries, IDLE/FREQ opcodes.
 * Redis 7.0 has no way to write them, so the fixture is built by hand; a real redis-server 7.0 with deep payload
 * sanitization loads it, and our reader must agree with what Redis then holds.
 * Also RDB 11 (Redis 7.2) listpack sets, which Redis 7.0 cannot load: decoded on our side only.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeIntset } from '../../../agent/persistence/intset';
import { ListpackBuilder } from '../../../agent/persistence/listpack';
import { RDB_OPCODE, RDB_TYPE } from '../../../agent/persistence/rdbFormat';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { BOUNDARY_INTEGERS, canonical, readRedisDataset } from './support/dataset';
import { parseByteByByte, parseWhole } from './support/feed';
import { RdbFixtureBuilder, encodeZiplist, encodeZipmap } from './support/rdbFixtures';
import { checkRdbWithRedis, startRealRedis } from './support/realRedis';

const NOW_SEC = Math.floor(Date.now() / 1000);

function legacyFixture(): Buffer {
  const T = RDB_TYPE;
  return new RdbFixtureBuilder(9)
    .aux('redis-ver', '6.2.14')
    .aux('redis-bits', '64')
    .selectDb(0)
    .key(T.LIST_ZIPLIST, 'zl:list')
    .blob(encodeZiplist([...BOUNDARY_INTEGERS, 'abc', 'x'.repeat(300), '']))
    .key(T.LIST_QUICKLIST, 'ql:list')
    .length(3)
    .blob(encodeZiplist(['a', 'b', '1']))
    .blob(encodeZiplist(['c'.repeat(100), '2', 'c'.repeat(100)]), true)
    .blob(encodeZiplist(['last']))
    .key(T.HASH_ZIPLIST, 'zl:hash')
    .blob(encodeZiplist(['f1', 'v1', 'f2', '2', '-3', 'x'.repeat(70)]))
    .key(T.ZSET_ZIPLIST, 'zl:zset')
    .blob(encodeZiplist(['d', '-inf', 'a', '1', 'b', '2.5', 'e', '3', 'c', 'inf']))
    .key(T.HASH_ZIPMAP, 'zm:hash')
    .blob(
      encodeZipmap(
        [
          ['foo', 'bar'],
          ['k'.repeat(300), 'v'],
          ['n', '12'],
        ],
        2,
      ),
    )
    .key(T.SET_INTSET, 'is:set')
    .blob(encodeIntset(['1', '2', '300000', '-9223372036854775808'])!)
    .key(T.ZSET, 'legacy:zset')
    .length(4)
    .string('a')
    .legacyDouble(1.5)
    .string('b')
    .legacyDouble(Infinity)
    .string('c')
    .legacyDouble(-Infinity)
    .string('d')
    .legacyDouble(-2.25e-10)
    .key(T.LIST, 'plain:list')
    .length(3)
    .string('x')
    .string('123')
    .string('y'.repeat(50), true)
    .key(T.SET, 'plain:set')
    .length(2)
    .string('m1')
    .string('12')
    .key(T.HASH, 'plain:hash')
    .length(1)
    .string('f')
    .string('v')
    .expireSeconds(NOW_SEC + 3600)
    .key(T.STRING, 'exp:sec')
    .string('v')
    .expireMs(NOW_SEC * 1000 + 7_200_123)
    .key(T.STRING, 'exp:ms')
    .string('v')
    .byte(RDB_OPCODE.IDLE)
    .length(100)
    .key(T.STRING, 'idle')
    .string('v')
    .byte(RDB_OPCODE.FREQ)
    .byte(5)
    .key(T.STRING, 'freq')
    .string('v')
    .selectDb(2)
    .key(T.STRING, 'db2')
    .string('x'.repeat(40), true)
    .finish();
}

describe('older encodings (RDB 9 and earlier layouts)', () => {
  const image = legacyFixture();

  it('decode to what redis-server 7.0 loads from the same file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rdb-legacy-'));
    const file = path.join(dir, 'legacy.rdb');
    writeFileSync(file, image);
    const check = checkRdbWithRedis(file);
    expect(check.output).toContain('RDB looks OK!');
    const redis = await startRealRedis({ rdbFile: file, args: ['--sanitize-dump-payload', 'yes'] });
    try {
      const contents = parseRdb(image);
      expect(contents.rdbVersion).toBe(9);
      expect(contents.checksum).toBe('verified');
      expect(contents.entries).toHaveLength(15);
      expect(canonical(contents.entries)).toEqual(canonical(await readRedisDataset(redis.client, [0, 2])));
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives second-resolution expiries in ms and reports IDLE and FREQ with their key', () => {
    const byKey = new Map(parseRdb(image).entries.map((e) => [e.key, e]));
    expect(byKey.get('exp:sec')!.expireAtMs).toBe((NOW_SEC + 3600) * 1000);
    expect(byKey.get('exp:ms')!.expireAtMs).toBe(NOW_SEC * 1000 + 7_200_123);
    expect(byKey.get('idle')!.lruIdleSec).toBe(100);
    expect(byKey.get('freq')!.lfuFreq).toBe(5);
    expect(byKey.get('exp:ms')!.lruIdleSec).toBeUndefined();
  });

  it('gives the same events fed byte by byte', () => {
    expect(parseByteByByte(image)).toEqual(parseWhole(image));
  });
});

describe('RDB 11 (Redis 7.2) listpack sets', () => {
  it('decode to their members', () => {
    const lp = new ListpackBuilder();
    for (const m of ['a', '1', '-5', 'zz']) lp.add(m);
    const image = new RdbFixtureBuilder(11)
      .selectDb(0)
      .key(RDB_TYPE.SET_LISTPACK, 'lp:set')
      .blob(lp.finish(), true)
      .finish();
    const contents = parseRdb(image);
    expect(contents.rdbVersion).toBe(11);
    expect(contents.entries).toEqual([
      { db: 0, key: 'lp:set', value: { type: 'set', members: ['a', '1', '-5', 'zz'] }, expireAtMs: null },
    ]);
    expect(parseByteByByte(image)).toEqual(parseWhole(image));
  });
});
