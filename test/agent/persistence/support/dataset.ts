/**
 * Test datasets for the RDB codec: deterministic generation, loading into a real redis-server with ordinary commands,
 * reading a server's whole dataset back (binary-safe, with exact expiry times), and a canonical form to compare.
 *
 * The generated data is chosen so that every encoding boundary is crossed: integer strings at the int8/16/32 limits
 * and non-canonical look-alikes, LZF-compressible and incompressible strings, binary bytes 0..255, listpack entries of
 * every integer width and string header size, collections on both sides of the compact-encoding thresholds, special
 * scores (inf, -inf, -0, fractions), expiries and several databases.
 */

import type Redis from 'ioredis';
import { stringValue, type RdbEntry, type RdbValue } from '../../../../agent/persistence/model';
import { formatDoubleText, parseDoubleText } from '../../../../agent/persistence/rdbDouble';
import { prng } from '../../../helpers/prng';

export function randomBytesString(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rand() * 256));
  return s;
}

const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');

/** Integer texts at every listpack/ziplist/intset/int-encoding boundary. */
export const BOUNDARY_INTEGERS = [
  '0',
  '1',
  '12',
  '13',
  '127',
  '128',
  '-1',
  '-128',
  '-129',
  '4095',
  '4096',
  '-4096',
  '-4097',
  '32767',
  '32768',
  '-32768',
  '-32769',
  '8388607',
  '8388608',
  '-8388608',
  '-8388609',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '9007199254740993',
  '9223372036854775807',
  '-9223372036854775808',
];

/** Texts that look like integers but are not canonical (must stay strings). */
export const INTEGER_LOOKALIKES = [
  '-0',
  '007',
  '+5',
  ' 1',
  '1 ',
  '1.5',
  '9223372036854775808',
  '1e3',
  '0x10',
  '',
];

export interface DatasetOptions {
  seed: number;
  /** Absolute base for expiry times (ms); expiries are base + hours. */
  nowMs: number;
  /** Size of the "large" collections (above every compact threshold used in tests). */
  largeCount?: number;
  /** Length of the big compressible string. */
  bigStringBytes?: number;
}

export function generateDataset(options: DatasetOptions): RdbEntry[] {
  const rand = prng(options.seed);
  const large = options.largeCount ?? 600;
  const bigBytes = options.bigStringBytes ?? 100_000;
  const entries: RdbEntry[] = [];
  const hour = 3600_000;
  let ttlIndex = 0;
  const add = (db: number, key: string, value: RdbValue, withTtl = false): void => {
    ttlIndex++;
    entries.push({
      db,
      key,
      value,
      expireAtMs: withTtl ? options.nowMs + hour * (1 + (ttlIndex % 50)) + ttlIndex : null,
    });
  };
  const str = (value: string): RdbValue => ({ type: 'string', value });

  // strings
  BOUNDARY_INTEGERS.forEach((v, i) => add(0, `int:${i}`, str(v), i % 3 === 0));
  INTEGER_LOOKALIKES.forEach((v, i) => add(0, `lookalike:${i}`, str(v)));
  add(0, 'bytes:all', str(ALL_BYTES));
  add(0, ALL_BYTES, str('key made of every byte'));
  add(0, '', str('empty key name'));
  add(0, 'str:21', str('a'.repeat(21)), true);
  add(0, 'str:repeat100', str('x'.repeat(100)));
  add(0, 'str:random100', str(randomBytesString(rand, 100)));
  add(0, 'str:random10k', str(randomBytesString(rand, 10_000)), true);
  add(0, 'str:big', str('the quick brown fox '.repeat(Math.ceil(bigBytes / 20)).slice(0, bigBytes)));
  add(0, 'str:text', str('hello world, hello world, hello world, hello world'));

  // lists
  add(0, 'list:ints', { type: 'list', items: [...BOUNDARY_INTEGERS, ...INTEGER_LOOKALIKES] });
  add(0, 'list:strlens', {
    type: 'list',
    items: [0, 1, 63, 64, 4095, 4096, 5000].map((n) => 'l'.repeat(n)),
  });
  add(0, 'list:one', { type: 'list', items: ['only'] }, true);
  add(0, 'list:large', {
    type: 'list',
    items: Array.from({ length: large }, (_, i) =>
      i % 3 === 0 ? String(i * 7919) : `item-${i}-${'z'.repeat(i % 40)}`,
    ),
  });
  add(0, 'list:binary', {
    type: 'list',
    items: [ALL_BYTES, randomBytesString(rand, 300), 'a'.repeat(30_000)],
  });

  // hashes
  add(
    0,
    'hash:small',
    {
      type: 'hash',
      entries: [
        ['f1', 'v1'],
        ['f2', '2'],
        ['-3', '-300000'],
        ['empty', ''],
      ],
    },
    true,
  );
  add(0, 'hash:ints', {
    type: 'hash',
    entries: BOUNDARY_INTEGERS.map((v, i) => [v, BOUNDARY_INTEGERS[(i + 5) % BOUNDARY_INTEGERS.length]]),
  });
  add(0, 'hash:large', {
    type: 'hash',
    entries: Array.from(
      { length: large },
      (_, i) => [`field:${i}`, i % 2 ? String(i) : `value-${i}`] as [string, string],
    ),
  });
  add(0, 'hash:longvalue', {
    type: 'hash',
    entries: [
      ['short', 'v'],
      ['long', 'L'.repeat(200)],
    ],
  });
  add(0, 'hash:binary', {
    type: 'hash',
    entries: [
      [ALL_BYTES, ALL_BYTES.slice(0, 10)],
      ['\x00', '\xff'],
    ],
  });

  // sets
  add(0, 'set:int16', { type: 'set', members: ['1', '2', '3', '-5', '32767', '-32768'] });
  add(0, 'set:int32', { type: 'set', members: ['1', '70000', '-2147483648'] }, true);
  add(0, 'set:int64', {
    type: 'set',
    members: ['1', '9223372036854775807', '-9223372036854775808', '4294967296'],
  });
  add(0, 'set:intlarge', {
    type: 'set',
    members: Array.from({ length: large }, (_, i) => String(i * 3 - 500)),
  });
  add(0, 'set:strings', { type: 'set', members: ['a', 'b', 'c', '-0', '007', ALL_BYTES] });
  add(0, 'set:mixed', { type: 'set', members: ['1', '2', 'three'] });
  add(0, 'set:stringlarge', { type: 'set', members: Array.from({ length: large }, (_, i) => `member:${i}`) });

  // zsets
  add(0, 'zset:small', {
    type: 'zset',
    entries: [
      ['a', 1],
      ['b', 2.5],
      ['c', Infinity],
      ['d', -Infinity],
      ['f', 0],
      ['g', 1e300],
      ['h', -1.1],
      ['i', 5e-324],
      ['j', 2 ** 53],
      ['k', 0.1],
    ],
  });
  add(
    0,
    'zset:large',
    {
      type: 'zset',
      entries: Array.from(
        { length: large },
        (_, i) => [`m${i}`, Math.floor(rand() * 1e6) / 1000 - 500] as [string, number],
      ),
    },
    true,
  );
  add(0, 'zset:ties', {
    type: 'zset',
    entries: [
      ['b', 1],
      ['a', 1],
      ['c', 1],
      ['aa', 1],
    ],
  });
  add(0, 'zset:longmember', {
    type: 'zset',
    entries: [
      ['short', 1],
      ['M'.repeat(100), 2],
    ],
  });
  add(0, 'zset:binary', {
    type: 'zset',
    entries: [
      [ALL_BYTES, 3],
      ['\x00', -3],
    ],
  });

  // other databases
  for (const db of [1, 5, 15]) {
    add(db, 'shared-name', str(`in db ${db}`), db === 5);
    add(db, `only-in-${db}`, { type: 'list', items: ['x', String(db)] });
  }
  return entries;
}

/** Writes entries into a server with ordinary commands (binary-safe). */
export async function loadIntoRedis(redis: Redis, entries: readonly RdbEntry[]): Promise<void> {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  const BATCH = 500;
  const pipeline = redis.pipeline();
  for (const e of entries) {
    pipeline.select(e.db);
    const k = b(e.key);
    const v = e.value;
    switch (v.type) {
      case 'string':
        pipeline.set(k, b(stringValue(v.value)));
        break;
      case 'list':
        for (let i = 0; i < v.items.length; i += BATCH)
          pipeline.rpush(k, ...v.items.slice(i, i + BATCH).map(b));
        break;
      case 'set':
        for (let i = 0; i < v.members.length; i += BATCH)
          pipeline.sadd(k, ...v.members.slice(i, i + BATCH).map(b));
        break;
      case 'hash':
        for (let i = 0; i < v.entries.length; i += BATCH) {
          pipeline.hset(k, ...v.entries.slice(i, i + BATCH).flatMap(([f, x]) => [b(f), b(x)]));
        }
        break;
      case 'zset':
        for (let i = 0; i < v.entries.length; i += BATCH) {
          pipeline.zadd(k, ...v.entries.slice(i, i + BATCH).flatMap(([m, s]) => [formatDoubleText(s), b(m)]));
        }
        break;
    }
    if (e.expireAtMs !== null) pipeline.pexpireat(k, e.expireAtMs);
  }
  pipeline.select(0);
  const results = await pipeline.exec();
  for (const [err] of results ?? []) if (err) throw err;
}

const latin1 = (x: Buffer): string => x.toString('latin1');

/** Reads the whole dataset of the given dbs from a server, binary-safe, with PEXPIRETIME. */
export async function readRedisDataset(redis: Redis, dbs: readonly number[]): Promise<RdbEntry[]> {
  const out: RdbEntry[] = [];
  for (const db of dbs) {
    await redis.select(db);
    let cursor = '0';
    const keys: Buffer[] = [];
    do {
      const [next, batch] = (await redis.callBuffer('SCAN', cursor, 'COUNT', 1000)) as [Buffer, Buffer[]];
      cursor = next.toString();
      keys.push(...batch);
    } while (cursor !== '0');
    for (const k of keys) {
      const type = await redis.type(k);
      const ttl = Number(await redis.call('PEXPIRETIME', k));
      let value: RdbValue;
      switch (type) {
        case 'string':
          value = { type: 'string', value: latin1((await redis.getBuffer(k)) as Buffer) };
          break;
        case 'list':
          value = { type: 'list', items: ((await redis.lrangeBuffer(k, 0, -1)) as Buffer[]).map(latin1) };
          break;
        case 'set':
          value = { type: 'set', members: (await scanAll(redis, 'SSCAN', k)).map(latin1) };
          break;
        case 'hash': {
          const flat = (await scanAll(redis, 'HSCAN', k)).map(latin1);
          const entries: Array<[string, string]> = [];
          for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], flat[i + 1]]);
          value = { type: 'hash', entries };
          break;
        }
        case 'zset': {
          const flat = (await redis.callBuffer('ZRANGE', k, 0, -1, 'WITHSCORES')) as Buffer[];
          const entries: Array<[string, number]> = [];
          for (let i = 0; i < flat.length; i += 2) {
            const score = parseDoubleText(flat[i + 1].toString('latin1'));
            if (score === null) throw new Error(`unparsable score ${flat[i + 1].toString('latin1')}`);
            entries.push([latin1(flat[i]), score]);
          }
          value = { type: 'zset', entries };
          break;
        }
        default:
          throw new Error(`unexpected type ${type}`);
      }
      out.push({ db, key: latin1(k), value, expireAtMs: ttl === -1 ? null : ttl });
    }
  }
  await redis.select(0);
  return out;
}

async function scanAll(redis: Redis, command: 'SSCAN' | 'HSCAN', key: Buffer): Promise<Buffer[]> {
  const all: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await redis.callBuffer(command, key, cursor, 'COUNT', 1000)) as [Buffer, Buffer[]];
    cursor = next.toString();
    all.push(...batch);
  } while (cursor !== '0');
  return all;
}

/** Canonical form for comparison: sorted keys, sorted set members / hash fields, zsets in Redis order. */
export function canonical(entries: readonly RdbEntry[]): RdbEntry[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return entries
    .map((e): RdbEntry => {
      const v = e.value;
      let value: RdbValue;
      switch (v.type) {
        case 'string':
        case 'list':
          value = v;
          break;
        case 'set':
          value = { type: 'set', members: [...v.members].sort(cmp) };
          break;
        case 'hash':
          value = { type: 'hash', entries: [...v.entries].sort((x, y) => cmp(x[0], y[0])) };
          break;
        case 'zset':
          value = { type: 'zset', entries: [...v.entries].sort((x, y) => x[1] - y[1] || cmp(x[0], y[0])) };
          break;
      }
      const out: RdbEntry = { db: e.db, key: e.key, value, expireAtMs: e.expireAtMs };
      return out;
    })
    .sort((a, b) => a.db - b.db || cmp(a.key, b.key));
}

/** Dbs used by generateDataset(). */
export const DATASET_DBS = [0, 1, 5, 15];
