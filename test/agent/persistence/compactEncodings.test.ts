import { RdbError } from '../../../agent/persistence/errors';
import { decodeIntset, encodeIntset } from '../../../agent/persistence/intset';
import { ListpackBuilder, decodeListpack } from '../../../agent/persistence/listpack';
import { decodeZiplist } from '../../../agent/persistence/ziplist';
import { decodeZipmap } from '../../../agent/persistence/zipmap';
import { BOUNDARY_INTEGERS, INTEGER_LOOKALIKES } from './support/dataset';
import { encodeZiplist, encodeZipmap } from './support/rdbFixtures';

function listpackOf(items: string[]): Buffer {
  const lp = new ListpackBuilder();
  for (const s of items) lp.add(s);
  return lp.finish();
}

function decodedListpack(blob: Buffer): string[] {
  const out: string[] = [];
  decodeListpack(blob, 0, out);
  return out;
}

function expectCorrupt(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RdbError);
  expect((caught as RdbError).code).toBe('RDB_CORRUPT');
  expect((caught as RdbError).message).toMatch(pattern);
}

describe('listpack', () => {
  it('stores each integer in the encoding lpAppend picks for it', () => {
    const firstByte = (s: string): number => listpackOf([s])[6];
    expect(firstByte('0')).toBe(0);
    expect(firstByte('127')).toBe(127);
    expect(firstByte('128') & 0xe0).toBe(0xc0);
    expect(firstByte('4095') & 0xe0).toBe(0xc0);
    expect(firstByte('-4096') & 0xe0).toBe(0xc0);
    expect(firstByte('4096')).toBe(0xf1);
    expect(firstByte('-4097')).toBe(0xf1);
    expect(firstByte('32767')).toBe(0xf1);
    expect(firstByte('32768')).toBe(0xf2);
    expect(firstByte('8388607')).toBe(0xf2);
    expect(firstByte('8388608')).toBe(0xf3);
    expect(firstByte('-2147483648')).toBe(0xf3);
    expect(firstByte('2147483648')).toBe(0xf4);
    expect(firstByte('9223372036854775807')).toBe(0xf4);
    for (const s of INTEGER_LOOKALIKES) expect(firstByte(s) & 0xc0).toBe(0x80);
  });

  it('stores strings with 6-bit, 12-bit and 32-bit length headers at the Redis boundaries', () => {
    expect(listpackOf(['a'.repeat(63)])[6]).toBe(0x80 | 63);
    expect(listpackOf(['a'.repeat(64)])[6]).toBe(0xe0);
    expect(listpackOf(['a'.repeat(4095)])[6]).toBe(0xef);
    expect(listpackOf(['a'.repeat(4096)])[6]).toBe(0xf0);
  });

  it('writes the header (total bytes, count) and end marker, as "lpNew + lpAppend"', () => {
    // 6-byte header (17 bytes, 2 elements), 0x85 'hello' backlen 6, 13-bit int 0xc4 0x00 backlen 2, 0xff
    expect(listpackOf(['hello', '1024']).toString('hex')).toBe('1100000002008568656c6c6f06c40002ff');
  });

  it('round-trips every boundary integer, look-alike and string length, including multi-byte backlens', () => {
    const items = [
      ...BOUNDARY_INTEGERS,
      ...INTEGER_LOOKALIKES,
      ...[0, 1, 62, 63, 64, 125, 126, 127, 4095, 4096, 16_380, 16_390, 70_000].map((n) => 'x'.repeat(n)),
      '\x00\xff',
    ];
    expect(decodedListpack(listpackOf(items))).toEqual(items);
  });

  it('stores 65535 as "unknown count" beyond 65534 elements and still decodes all', () => {
    const items = Array.from({ length: 70_000 }, (_, i) => (i % 2 ? `s${i}` : String(i)));
    const blob = listpackOf(items);
    expect(blob.readUInt16LE(4)).toBe(65535);
    expect(decodedListpack(blob)).toEqual(items);
  });

  it('refuses corrupt listpacks', () => {
    const good = listpackOf(['hello', '1024']);
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    expectCorrupt(() => decodedListpack(mutate((b) => b.writeUInt32LE(99, 0))), /header says 99 bytes/);
    expectCorrupt(() => decodedListpack(mutate((b) => (b[b.length - 1] = 0))), /missing end marker/);
    expectCorrupt(() => decodedListpack(mutate((b) => b.writeUInt16LE(3, 4))), /header says 3 elements/);
    expectCorrupt(() => decodedListpack(mutate((b) => (b[12] = 9))), /entry length 9 does not match/);
    expectCorrupt(() => decodedListpack(mutate((b) => (b[6] = 0xf5))), /invalid entry encoding 0xf5/);
    expectCorrupt(() => decodedListpack(mutate((b) => (b[6] = 0x8f))), /past the end|does not match/);
    expectCorrupt(() => decodedListpack(good.subarray(0, 5)), /shorter than a header/);
  });
});

describe('intset', () => {
  const decoded = (blob: Buffer): string[] => {
    const out: string[] = [];
    decodeIntset(blob, 0, out);
    return out;
  };

  it('uses the narrowest width and sorts, as Redis', () => {
    expect(encodeIntset(['3', '-1', '2'])!.toString('hex')).toBe('0200000003000000ffff02000300');
    expect(encodeIntset(['32768'])!.readUInt32LE(0)).toBe(4);
    expect(encodeIntset(['-2147483649'])!.readUInt32LE(0)).toBe(8);
    expect(encodeIntset(['9223372036854775807', '1'])!.readUInt32LE(0)).toBe(8);
  });

  it('round-trips members of every width in ascending order', () => {
    const members = BOUNDARY_INTEGERS;
    const sorted = [...members].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    expect(decoded(encodeIntset(members)!)).toEqual(sorted);
  });

  it('is not possible for non-integer members', () => {
    expect(encodeIntset(['1', 'a'])).toBeNull();
    expect(encodeIntset(['1', '-0'])).toBeNull();
    expect(encodeIntset(['9223372036854775808'])).toBeNull();
  });

  it('refuses corrupt intsets', () => {
    expectCorrupt(() => decoded(Buffer.from('0300000001000000ffff', 'hex')), /invalid encoding 3/);
    expectCorrupt(() => decoded(Buffer.from('0200000002000000ffff', 'hex')), /do not fill/);
    expectCorrupt(() => decoded(Buffer.from('02000000020000000300ffff', 'hex')), /not strictly ascending/);
    expectCorrupt(() => decoded(Buffer.from('0200000002000000ffffffff', 'hex')), /not strictly ascending/);
    const big = encodeIntset(['1', '9223372036854775807'])!;
    big.copy(big, 8, 16, 24);
    expectCorrupt(() => decoded(big), /not strictly ascending/);
  });
});

describe('ziplist (Redis <= 6.2)', () => {
  const decoded = (blob: Buffer): string[] => {
    const out: string[] = [];
    decodeZiplist(blob, 0, out);
    return out;
  };

  it('decodes every integer encoding, string header and large previous-entry lengths', () => {
    const items = [
      ...BOUNDARY_INTEGERS,
      ...INTEGER_LOOKALIKES,
      ...[0, 63, 64, 252, 253, 300, 16383, 16384, 20_000].map((n) => 'y'.repeat(n)),
      '\x00\xff',
    ];
    expect(decoded(encodeZiplist(items))).toEqual(items);
    expect(decoded(encodeZiplist([]))).toEqual([]);
  });

  it('refuses corrupt ziplists', () => {
    const good = encodeZiplist(['a', 'bb', '5']);
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    expectCorrupt(() => decoded(mutate((b) => b.writeUInt32LE(5, 4))), /tail offset 5/);
    expectCorrupt(() => decoded(mutate((b) => b.writeUInt16LE(7, 8))), /header says 7 elements/);
    expectCorrupt(() => decoded(mutate((b) => (b[13] = 9))), /previous-entry length 9/);
    expectCorrupt(() => decoded(mutate((b) => (b[11] = 0xff))), /invalid entry encoding 0xff|past the end/);
    expectCorrupt(() => decoded(mutate((b) => (b[11] = 0x81))), /invalid entry encoding 0x81/);
  });
});

describe('zipmap (Redis < 2.6)', () => {
  it('decodes pairs, free bytes and 5-byte lengths', () => {
    const pairs: Array<[string, string]> = [
      ['foo', 'bar'],
      ['k'.repeat(300), 'v'.repeat(254)],
      ['', ''],
    ];
    for (const free of [0, 3]) {
      const out: string[] = [];
      expect(decodeZipmap(encodeZipmap(pairs, free), 0, out)).toBe(3);
      expect(out).toEqual(pairs.flat());
    }
  });

  it('refuses a zipmap without end marker or with bytes after it', () => {
    const good = encodeZipmap([['a', 'b']]);
    expectCorrupt(
      () => decodeZipmap(good.subarray(0, good.length - 1), 0, []),
      /past the end|missing end marker/,
    );
    expectCorrupt(() => decodeZipmap(Buffer.concat([good, Buffer.from([1])]), 0, []), /after the end marker/);
  });
});
