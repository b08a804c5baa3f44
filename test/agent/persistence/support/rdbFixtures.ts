/**
 * Hand-built RDB fixtures for encodings our writer never produces but Redis versions do (or did): ziplists (Redis
 * <= 6.2), zipmaps (< 2.6), legacy string-double zsets, plain lists, quicklist v1, second-resolution expiries,
 * RDB 11 listpack sets, module/stream types, empty and duplicate collections.
 *
 * The encoders here are test-only and follow Redis's layouts (see the decoders' headers). Their correctness is not
 * taken on faith: the legacy fixture is loaded by a real redis-server 7.0 with deep payload sanitization, and the test
 * compares what Redis holds with what our reader decodes.
 */

import { ByteSink } from '../../../../agent/persistence/byteSink';
import { Crc64 } from '../../../../agent/persistence/crc64';
import { canonicalInt64 } from '../../../../agent/persistence/integerText';
import { encodeIntset } from '../../../../agent/persistence/intset';
import { writeLegacyDouble } from '../../../../agent/persistence/rdbDouble';
import { RDB_OPCODE, RDB_TYPE } from '../../../../agent/persistence/rdbFormat';
import { writeLength } from '../../../../agent/persistence/rdbLength';
import { writeBlob, writeString } from '../../../../agent/persistence/rdbString';
import { BOUNDARY_INTEGERS } from './dataset';

/** Ziplist as Redis <= 6.2 builds it (ziplistPush): integers for canonical int64 text, else strings. */
export function encodeZiplist(items: readonly string[]): Buffer {
  const entries: Buffer[] = [];
  let prevLen = 0;
  for (const s of items) {
    const prev =
      prevLen < 254 ? Buffer.from([prevLen]) : Buffer.concat([Buffer.from([0xfe]), u32le(prevLen)]);
    const v = s.length <= 20 ? canonicalInt64(s) : null;
    let body: Buffer;
    if (v !== null) {
      const n = BigInt(v);
      if (n >= 0n && n <= 12n) body = Buffer.from([0xf1 + Number(n)]);
      else if (n >= -128n && n <= 127n) body = Buffer.from([0xfe, Number(n) & 0xff]);
      else if (n >= -32768n && n <= 32767n) body = withInt(0xc0, 2, n);
      else if (n >= -8388608n && n <= 8388607n) body = withInt(0xf0, 3, n);
      else if (n >= -2147483648n && n <= 2147483647n) body = withInt(0xd0, 4, n);
      else body = withInt(0xe0, 8, n);
    } else {
      const data = Buffer.from(s, 'latin1');
      const len = data.length;
      let header: Buffer;
      if (len < 64) header = Buffer.from([len]);
      else if (len < 16384) header = Buffer.from([0x40 | (len >> 8), len & 0xff]);
      else {
        header = Buffer.alloc(5);
        header[0] = 0x80;
        header.writeUInt32BE(len, 1);
      }
      body = Buffer.concat([header, data]);
    }
    const entry = Buffer.concat([prev, body]);
    entries.push(entry);
    prevLen = entry.length;
  }
  const header = Buffer.alloc(10);
  const total = 10 + entries.reduce((n, e) => n + e.length, 0) + 1;
  const tail = entries.length === 0 ? 10 : total - 1 - entries[entries.length - 1].length;
  header.writeUInt32LE(total, 0);
  header.writeUInt32LE(tail, 4);
  header.writeUInt16LE(Math.min(entries.length, 65535), 8);
  return Buffer.concat([header, ...entries, Buffer.from([0xff])]);
}

function withInt(encoding: number, bytes: number, n: bigint): Buffer {
  const b = Buffer.alloc(1 + bytes);
  b[0] = encoding;
  const tmp = Buffer.alloc(8);
  tmp.writeBigInt64LE(n);
  tmp.copy(b, 1, 0, bytes);
  return b;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** Zipmap as Redis < 2.6 built it; `free` adds unused bytes after a value, as after an in-place shrink. */
export function encodeZipmap(pairs: ReadonlyArray<readonly [string, string]>, free = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([Math.min(pairs.length, 254)])];
  const len = (n: number): Buffer =>
    n < 254 ? Buffer.from([n]) : Buffer.concat([Buffer.from([254]), u32le(n)]);
  for (const [k, v] of pairs) {
    parts.push(
      len(k.length),
      Buffer.from(k, 'latin1'),
      len(v.length),
      Buffer.from([free]),
      Buffer.from(v, 'latin1'),
    );
    parts.push(Buffer.alloc(free, 0x2a));
  }
  parts.push(Buffer.from([0xff]));
  return Buffer.concat(parts);
}

/** Low-level RDB file builder: every call appends exactly the bytes named. */
export class RdbFixtureBuilder {
  private readonly out = new ByteSink(4096);

  constructor(version: number) {
    this.out.latin1(`REDIS${String(version).padStart(4, '0')}`);
  }

  byte(b: number): this {
    this.out.u8(b);
    return this;
  }

  length(n: number): this {
    writeLength(this.out, n);
    return this;
  }

  string(s: string, compress = false): this {
    writeString(this.out, s, compress);
    return this;
  }

  /** Bytes as an RDB string, LZF-compressed when asked (as Redis stores compressed quicklist nodes). */
  blob(bytes: Buffer, compress = false): this {
    writeBlob(this.out, bytes, 0, bytes.length, compress);
    return this;
  }

  legacyDouble(v: number): this {
    writeLegacyDouble(this.out, v);
    return this;
  }

  binaryDouble(v: number): this {
    this.out.f64LE(v);
    return this;
  }

  aux(name: string, value: string): this {
    return this.byte(RDB_OPCODE.AUX).string(name).string(value);
  }

  selectDb(db: number): this {
    return this.byte(RDB_OPCODE.SELECTDB).length(db);
  }

  expireSeconds(sec: number): this {
    this.byte(RDB_OPCODE.EXPIRETIME);
    const b = Buffer.alloc(4);
    b.writeInt32LE(sec);
    this.out.bytes(b);
    return this;
  }

  expireMs(ms: number): this {
    this.byte(RDB_OPCODE.EXPIRETIME_MS);
    this.out.i64LE(ms);
    return this;
  }

  /** Type byte and key: the value's bytes follow with further calls. */
  key(type: number, key: string): this {
    return this.byte(type).string(key);
  }

  /** EOF and CRC64 footer (or zeros). */
  finish(checksum = true): Buffer {
    this.out.u8(RDB_OPCODE.EOF);
    const body = this.out.takeAll();
    const crc = new Crc64().update(body);
    return Buffer.concat([body, checksum ? crc.toBufferLE() : Buffer.alloc(8)]);
  }
}

/**
 * An RDB 9 file with every pre-7.0 encoding: ziplist lists/hashes/zsets, quicklist v1 (one node LZF-compressed),
 * zipmap, intset, legacy string-double zset, plain list/set/hash, EXPIRETIME in seconds and ms, IDLE, FREQ, two dbs.
 * 15 keys.
 */
export function legacyRdbFixture(nowSec: number): Buffer {
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
    .expireSeconds(nowSec + 3600)
    .key(T.STRING, 'exp:sec')
    .string('v')
    .expireMs(nowSec * 1000 + 7_200_123)
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
