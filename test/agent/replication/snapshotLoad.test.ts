/**
 * Loading a full-sync payload on a replica, both framings ($<len> and $EOF:<mark>), fed whole, byte by byte and
 * in random splits: every key, TTL and type arrives, the bytes after the payload are handed back as the start
 * of the stream, and truncated or mismatched payloads are refused.
 */
import { encodeRdb, type RdbEntry } from '../../../agent/persistence';
import { HashValue, ListValue, SetValue, ZSetValue } from '../../../agent/keyspace/values';
import { SnapshotLoad, type SnapshotFraming } from '../../../agent/replication/snapshotLoad';
import { prng } from '../../helpers/prng';

const MARK = 'a'.repeat(20) + '0123456789abcdef0123';

const ENTRIES: RdbEntry[] = [
  { db: 0, key: 'str', value: { type: 'string', value: 'hello' }, expireAtMs: null },
  { db: 0, key: 'ttl', value: { type: 'string', value: 'x'.repeat(100) }, expireAtMs: 4102444800000 },
  { db: 1, key: 'list', value: { type: 'list', items: ['a', 'b', 'c'] }, expireAtMs: null },
  { db: 1, key: 'hash', value: { type: 'hash', entries: [['f', 'v']] }, expireAtMs: null },
  { db: 2, key: 'set', value: { type: 'set', members: ['1', '2', 'x'] }, expireAtMs: null },
  {
    db: 2,
    key: 'zset',
    value: {
      type: 'zset',
      entries: [
        ['m', 1.5],
        ['n', -2],
      ],
    },
    expireAtMs: null,
  },
  { db: 3, key: 'big', value: { type: 'string', value: 'y'.repeat(70_000) }, expireAtMs: null },
];

function feed(load: SnapshotLoad, pieces: Buffer[]): Buffer {
  const rest: Buffer[] = [];
  for (const p of pieces) {
    if (load.push(p)) rest.push(load.takeRest());
  }
  return Buffer.concat(rest);
}

function check(load: SnapshotLoad): void {
  expect(load.done).toBe(true);
  expect(load.keysLoaded).toBe(ENTRIES.length);
  expect(load.dbs[0].dict.get('str')).toBe('hello');
  expect(load.dbs[0].expires.get('ttl')).toBe(4102444800000);
  expect((load.dbs[1].dict.get('list') as ListValue).toArray()).toEqual(['a', 'b', 'c']);
  expect([...(load.dbs[1].dict.get('hash') as HashValue).entries()]).toEqual([['f', 'v']]);
  expect((load.dbs[2].dict.get('set') as SetValue).toArray().sort()).toEqual(['1', '2', 'x']);
  expect([...(load.dbs[2].dict.get('zset') as ZSetValue).entries()]).toEqual([
    ['n', -2],
    ['m', 1.5],
  ]);
  expect(load.dbs[3].dict.get('big')).toBe('y'.repeat(70_000));
  expect(load.aux.get('repl-id')).toBe('f'.repeat(40));
}

describe('SnapshotLoad', () => {
  const rdb = encodeRdb(ENTRIES, { aux: [['repl-id', 'f'.repeat(40)]] });
  const after = Buffer.from('*1\r\n$4\r\nPING\r\n');
  const cases: Array<[string, SnapshotFraming, Buffer]> = [
    ['length', { kind: 'length', bytes: rdb.length }, Buffer.concat([rdb, after])],
    ['eof', { kind: 'eof', mark: MARK }, Buffer.concat([rdb, Buffer.from(MARK), after])],
  ];
  for (const [name, framing, payload] of cases) {
    it(`loads a ${name}-framed payload whole, byte by byte and in random splits, returning the stream after it`, () => {
      const whole = new SnapshotLoad(16, framing);
      expect(feed(whole, [payload]).equals(after)).toBe(true);
      check(whole);
      expect(whole.readBytes).toBe(payload.length - after.length);

      const bytewise = new SnapshotLoad(16, framing);
      expect(
        feed(
          bytewise,
          [...payload].map((b) => Buffer.from([b])),
        ).equals(after),
      ).toBe(true);
      check(bytewise);

      const rand = prng(5);
      for (let round = 0; round < 10; round++) {
        const pieces: Buffer[] = [];
        for (let at = 0; at < payload.length;) {
          const n = 1 + Math.floor(rand() * 5000);
          pieces.push(payload.subarray(at, at + n));
          at += n;
        }
        const load = new SnapshotLoad(16, framing);
        expect(feed(load, pieces).equals(after)).toBe(true);
        check(load);
      }
    });
  }

  it('refuses a length-framed payload that ends before the RDB does', () => {
    const load = new SnapshotLoad(16, { kind: 'length', bytes: rdb.length - 3 });
    expect(() => load.push(rdb)).toThrow(/ends after|ended before/);
  });

  it('refuses an EOF-framed payload whose mark does not follow the RDB', () => {
    const load = new SnapshotLoad(16, { kind: 'eof', mark: MARK });
    expect(() => load.push(Buffer.concat([rdb, Buffer.from('b'.repeat(40))]))).toThrow(/end-of-file mark/);
  });

  it('refuses a snapshot using a database this server does not have', () => {
    const load = new SnapshotLoad(2, { kind: 'length', bytes: rdb.length });
    expect(() => load.push(rdb)).toThrow(/database 2/);
  });

  it('refuses a corrupted payload through the RDB checksum', () => {
    const bad = Buffer.from(rdb);
    bad[20] ^= 0xff;
    const load = new SnapshotLoad(16, { kind: 'length', bytes: bad.length });
    expect(() => load.push(bad)).toThrow();
  });
});
