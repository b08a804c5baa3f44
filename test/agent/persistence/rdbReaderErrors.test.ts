/**
 * How the reader refuses bad input: every problem is an RdbError with a stable code and the byte offset, truncation is
 * told apart from corruption, foreign files are recognised, and what Redis skips (empty keys) is skipped with a notice.
 */

import { RdbError } from '../../../agent/persistence/errors';
import { ListpackBuilder } from '../../../agent/persistence/listpack';
import type { RdbEntry } from '../../../agent/persistence/model';
import { RDB_OPCODE, RDB_TYPE } from '../../../agent/persistence/rdbFormat';
import { RdbParser, parseRdb } from '../../../agent/persistence/rdbReader';
import { encodeRdb } from '../../../agent/persistence/rdbWriter';
import { parseInChunks, parseWhole } from './support/feed';
import { RdbFixtureBuilder } from './support/rdbFixtures';

function failure(fn: () => unknown): RdbError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RdbError) return err;
    throw err;
  }
  throw new Error('expected an RdbError');
}

const T = RDB_TYPE;
const small: RdbEntry[] = [
  { db: 0, key: 'a', value: { type: 'string', value: 'hello world' }, expireAtMs: null },
  { db: 0, key: 'b', value: { type: 'list', items: ['1', 'two', 'three'] }, expireAtMs: 1_900_000_000_000 },
  { db: 3, key: 'c', value: { type: 'hash', entries: [['f', 'v']] }, expireAtMs: null },
];

describe('RDB reader on bad input', () => {
  it('recognises foreign files', () => {
    const err = failure(() => parseRdb(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')));
    expect(err.code).toBe('RDB_NOT_RDB');
    expect(err.offset).toBe(0);
    expect(failure(() => parseRdb(Buffer.from('REDISabcd'))).code).toBe('RDB_NOT_RDB');
  });

  it('refuses versions it does not know', () => {
    for (const v of ['0000', '0012', '9999']) {
      const err = failure(() => parseRdb(Buffer.from(`REDIS${v}\xff`, 'latin1')));
      expect(err.code).toBe('RDB_UNSUPPORTED_VERSION');
      expect(err.message).toMatch(/RDB version \d+ is not supported \(1 to 11 are\)/);
    }
  });

  it('reports truncation at every possible cut with the offset where the input ends', () => {
    const image = encodeRdb(small);
    for (let cut = 0; cut < image.length; cut++) {
      const err = failure(() => parseRdb(image.subarray(0, cut)));
      expect({ cut, code: err.code, offset: err.offset }).toEqual({
        cut,
        code: 'RDB_TRUNCATED',
        offset: cut,
      });
      const chunked = failure(() => parseInChunks(image.subarray(0, cut), () => 3));
      expect({ cut, code: chunked.code, offset: chunked.offset }).toEqual({
        cut,
        code: 'RDB_TRUNCATED',
        offset: cut,
      });
    }
  });

  it('names the key whose value is cut short', () => {
    const image = encodeRdb(small);
    const err = failure(() =>
      parseRdb(image.subarray(0, image.indexOf('three') + 2), { source: '/var/lib/x.rdb' }),
    );
    expect(err.message).toMatch(
      /^\/var\/lib\/x\.rdb: input ends after \d+ bytes, in the middle of the value of key "b" \(starting at byte \d+\)/,
    );
    expect(err.source).toBe('/var/lib/x.rdb');
  });

  it('verifies the CRC64 footer, and accepts a zero footer or an explicit opt-out', () => {
    const image = encodeRdb(small);
    const tampered = Buffer.from(image);
    tampered[tampered.indexOf('hello')] = 'j'.charCodeAt(0);
    const err = failure(() => parseRdb(tampered));
    expect(err.code).toBe('RDB_CHECKSUM_MISMATCH');
    expect(err.offset).toBe(image.length - 8);
    expect(parseRdb(tampered, { verifyChecksum: false }).checksum).toBe('not-checked');
    expect(parseRdb(encodeRdb(small, { checksum: false })).checksum).toBe('disabled');
    expect(parseRdb(encodeRdb(small, { rdbVersion: 4 })).checksum).toBe('absent');
  });

  it('refuses module values, module AUX data and pre-release function data by name', () => {
    const moduleValue = new RdbFixtureBuilder(10).selectDb(0).key(T.MODULE_2, 'm').length(1).finish();
    expect(failure(() => parseRdb(moduleValue))).toMatchObject({
      code: 'RDB_UNSUPPORTED_TYPE',
      message: expect.stringMatching(/type 7 \(module v2\): module values are not supported \(key "m"\)/),
    });
    const moduleAux = new RdbFixtureBuilder(10).byte(RDB_OPCODE.MODULE_AUX).length(1).finish();
    expect(failure(() => parseRdb(moduleAux))).toMatchObject({ code: 'RDB_UNSUPPORTED_TYPE', offset: 9 });
    const preGa = new RdbFixtureBuilder(10).byte(RDB_OPCODE.FUNCTION_PRE_GA).string('x').finish();
    expect(failure(() => parseRdb(preGa)).message).toMatch(/pre-release format of Redis 7\.0/);
  });

  it('refuses unknown value types as corruption', () => {
    for (const type of [8, 22, 100, 244]) {
      const image = new RdbFixtureBuilder(10).selectDb(0).key(type, 'k').string('v').finish();
      expect(failure(() => parseRdb(image))).toMatchObject({
        code: 'RDB_CORRUPT',
        message: expect.stringMatching(`unknown value type ${type}`),
      });
    }
  });

  it('refuses duplicate members and fields, NaN scores, odd pair counts and unknown quicklist containers', () => {
    const lp = (items: string[]): Buffer => {
      const b = new ListpackBuilder();
      for (const s of items) b.add(s);
      return b.finish();
    };
    const cases: Array<[string, Buffer, RegExp]> = [
      [
        'plain set',
        new RdbFixtureBuilder(10).key(T.SET, 's').length(2).string('a').string('a').finish(),
        /duplicate set member/,
      ],
      [
        'large plain set',
        (() => {
          const b = new RdbFixtureBuilder(10).key(T.SET, 's').length(40);
          for (let i = 0; i < 39; i++) b.string(`m${i}`);
          return b.string('m7').finish();
        })(),
        /duplicate set member/,
      ],
      [
        'listpack hash',
        new RdbFixtureBuilder(10)
          .key(T.HASH_LISTPACK, 'h')
          .blob(lp(['f', '1', 'f', '2']))
          .finish(),
        /duplicate hash field/,
      ],
      [
        'listpack zset',
        new RdbFixtureBuilder(10)
          .key(T.ZSET_LISTPACK, 'z')
          .blob(lp(['m', '1', 'm', '2']))
          .finish(),
        /duplicate zset member/,
      ],
      [
        'plain hash',
        new RdbFixtureBuilder(10)
          .key(T.HASH, 'h')
          .length(2)
          .string('f')
          .string('1')
          .string('f')
          .string('2')
          .finish(),
        /duplicate hash field/,
      ],
      [
        'NaN binary score',
        new RdbFixtureBuilder(10).key(T.ZSET_2, 'z').length(1).string('m').binaryDouble(NaN).finish(),
        /NaN/,
      ],
      [
        'NaN legacy score',
        new RdbFixtureBuilder(10).key(T.ZSET, 'z').length(1).string('m').legacyDouble(NaN).finish(),
        /NaN/,
      ],
      [
        'text score',
        new RdbFixtureBuilder(10)
          .key(T.ZSET_LISTPACK, 'z')
          .blob(lp(['m', 'abc']))
          .finish(),
        /"abc" is not a number/,
      ],
      [
        'odd hash',
        new RdbFixtureBuilder(10)
          .key(T.HASH_LISTPACK, 'h')
          .blob(lp(['f', '1', 'g']))
          .finish(),
        /odd number of hash elements/,
      ],
      [
        'container 3',
        new RdbFixtureBuilder(10).key(T.LIST_QUICKLIST_2, 'l').length(1).length(3).string('x').finish(),
        /unknown quicklist node container 3/,
      ],
    ];
    for (const [name, image, pattern] of cases) {
      const err = failure(() => parseRdb(image));
      expect({ name, code: err.code }).toEqual({ name, code: 'RDB_CORRUPT' });
      expect(err.message).toMatch(pattern);
      expect(err.offset).toBeGreaterThan(9);
    }
  });

  it('skips keys holding empty collections with a notice, as Redis does', () => {
    const image = new RdbFixtureBuilder(10)
      .selectDb(0)
      .key(T.LIST, 'empty-list')
      .length(0)
      .key(T.HASH_LISTPACK, 'empty-hash')
      .blob(new ListpackBuilder().finish())
      .key(T.LIST_QUICKLIST_2, 'empty-nodes')
      .length(1)
      .length(2)
      .blob(new ListpackBuilder().finish())
      .key(T.STRING, 'kept')
      .string('v')
      .finish();
    const contents = parseRdb(image);
    expect(contents.entries.map((e) => e.key)).toEqual(['kept']);
    expect(contents.notices.map((n) => [n.code, n.message])).toEqual([
      ['EMPTY_KEY_SKIPPED', 'key "empty-list" holds an empty collection; skipped as Redis does'],
      ['EMPTY_KEY_SKIPPED', 'key "empty-hash" holds an empty collection; skipped as Redis does'],
      ['EMPTY_KEY_SKIPPED', 'key "empty-nodes" holds an empty collection; skipped as Redis does'],
    ]);
  });

  it('refuses strings beyond maxStringBytes before buffering them', () => {
    const image = encodeRdb(
      [{ db: 0, key: 'k', value: { type: 'string', value: 'x'.repeat(5000) }, expireAtMs: null }],
      { compress: false },
    );
    const parser = new RdbParser({ maxStringBytes: 1000 });
    parser.push(image.subarray(0, 40));
    const err = failure(() => {
      for (let e = parser.next(); e !== null; e = parser.next());
    });
    expect(err.code).toBe('RDB_LIMIT_EXCEEDED');
    expect(err.message).toMatch(/string value of 5000 bytes exceeds the limit of 1000 bytes/);
  });

  it('stays failed after an error', () => {
    const parser = new RdbParser();
    parser.push(Buffer.from('GARBAGE!!!'));
    const first = failure(() => parser.next());
    expect(failure(() => parser.next())).toBe(first);
  });

  it('refuses bytes after the footer in a whole image but hands them over when streaming', () => {
    const image = encodeRdb(small);
    const trailing = Buffer.from('*1\r\n$4\r\nPING\r\n');
    expect(failure(() => parseRdb(Buffer.concat([image, trailing])))).toMatchObject({
      code: 'RDB_CORRUPT',
      offset: image.length,
    });
    const parser = new RdbParser();
    const all = Buffer.concat([image, trailing]);
    let ended = false;
    let fed = 0;
    while (fed < all.length && !ended) {
      parser.push(all.subarray(fed, fed + 7));
      fed = Math.min(fed + 7, all.length);
      for (let e = parser.next(); e !== null; e = parser.next()) if (e.kind === 'end') ended = true;
    }
    expect(parser.finished).toBe(true);
    expect(parser.takeRemaining().toString()).toBe(all.subarray(image.length, fed).toString());
  });

  it('holds about one chunk plus one element while a huge value streams in', () => {
    const items = Array.from({ length: 100_000 }, (_, i) => `element-${i}-${'p'.repeat(i % 50)}`);
    const image = encodeRdb([{ db: 0, key: 'big', value: { type: 'list', items }, expireAtMs: null }], {
      encodingLimits: { listMaxListpackBytes: 4096 },
    });
    expect(image.length).toBeGreaterThan(1_000_000);
    const parser = new RdbParser();
    const chunkBytes = 16 * 1024;
    let maxHeld = 0;
    let entry: RdbEntry | null = null;
    const kinds: string[] = [];
    for (let p = 0; p < image.length; p += chunkBytes) {
      parser.push(image.subarray(p, p + chunkBytes));
      maxHeld = Math.max(maxHeld, parser.bufferedBytes);
      for (let e = parser.next(); e !== null; e = parser.next()) {
        kinds.push(e.kind);
        if (e.kind === 'entry') entry = e.entry;
      }
      maxHeld = Math.max(maxHeld, parser.bufferedBytes);
    }
    expect(kinds).toEqual(['header', 'selectDb', 'entry', 'end']);
    expect(entry?.value).toEqual({ type: 'list', items });
    expect(maxHeld).toBeLessThan(chunkBytes + 4096 + 64);
  });

  it('parses SELECTDB, RESIZEDB and AUX fields into events in file order', () => {
    const image = encodeRdb(small, {
      aux: [
        ['redis-ver', '7.0.0'],
        ['x', '1'],
      ],
      dbSizes: new Map([[3, { keyCount: 1, expiresCount: 0 }]]),
    });
    expect(parseWhole(image).map((e) => e.kind)).toEqual([
      'header',
      'aux',
      'aux',
      'selectDb',
      'entry',
      'entry',
      'selectDb',
      'resizeDb',
      'entry',
      'end',
    ]);
  });
});
