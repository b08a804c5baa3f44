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
import { ListpackBuilder } from '../../../agent/persistence/listpack';
import { RDB_TYPE } from '../../../agent/persistence/rdbFormat';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { canonical, readRedisDataset } from './support/dataset';
import { parseByteByByte, parseWhole } from './support/feed';
import { RdbFixtureBuilder, legacyRdbFixture } from './support/rdbFixtures';
import { checkRdbWithRedis, startServer } from '../../helpers/servers';

const NOW_SEC = Math.floor(Date.now() / 1000);

describe('older encodings (RDB 9 and earlier layouts)', () => {
  const image = legacyRdbFixture(NOW_SEC);

  it('decode to what redis-server 7.0 loads from the same file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rdb-legacy-'));
    const file = path.join(dir, 'legacy.rdb');
    writeFileSync(file, image);
    const check = checkRdbWithRedis(file);
    expect(check.output).toContain('RDB looks OK!');
    const redis = await startServer({
      kind: 'redis',
      rdbFile: file,
      args: ['--sanitize-dump-payload', 'yes'],
    });
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
