import { ByteSink } from '../../../agent/persistence/byteSink';
import { RdbError } from '../../../agent/persistence/errors';
import { canonicalInt64 } from '../../../agent/persistence/integerText';
import {
  formatDoubleText,
  formatG17,
  parseDoubleText,
  readBinaryDouble,
  readLegacyDouble,
  writeBinaryDouble,
  writeLegacyDouble,
} from '../../../agent/persistence/rdbDouble';
import { NEED_MORE, RdbInput } from '../../../agent/persistence/rdbInput';
import { lengthSize, readLength, writeLength } from '../../../agent/persistence/rdbLength';
import { readBlob, readString, writeStoredString, writeString } from '../../../agent/persistence/rdbString';
import type { StoredBytes } from '../../../agent/persistence/model';
import { BOUNDARY_INTEGERS, INTEGER_LOOKALIKES, randomBytesString } from './support/dataset';
import { prng } from '../../helpers/prng';

function written(f: (out: ByteSink) => void): Buffer {
  const out = new ByteSink(16);
  f(out);
  return out.takeAll();
}

function inputOf(bytes: Buffer, maxUnitBytes = 1 << 30): RdbInput {
  const input = new RdbInput(maxUnitBytes);
  input.push(bytes);
  input.end();
  input.prepare();
  return input;
}

describe('RDB length encoding', () => {
  it('uses the 6-bit, 14-bit, 32-bit and 64-bit forms at their boundaries', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [63, '3f'],
      [64, '4040'],
      [16383, '7fff'],
      [16384, '8000004000'],
      [0xffffffff, '80ffffffff'],
      [0x100000000, '810000000100000000'],
      [2 ** 53 - 1, '81001fffffffffffff'],
    ];
    for (const [n, hex] of cases) {
      const bytes = written((out) => writeLength(out, n));
      expect(bytes.toString('hex')).toBe(hex);
      expect(lengthSize(n)).toBe(bytes.length);
      expect(readLength(inputOf(bytes), 'test')).toBe(n);
    }
  });

  it('refuses unknown forms, lengths beyond 2^53 and string encodings where a length is due', () => {
    expect(() => readLength(inputOf(Buffer.from('82', 'hex')), 'x')).toThrow(
      /unknown length encoding byte 0x82/,
    );
    expect(() => readLength(inputOf(Buffer.from('810020000000000000', 'hex')), 'x')).toThrow(
      /beyond any real data/,
    );
    expect(() => readLength(inputOf(Buffer.from('c0', 'hex')), 'db')).toThrow(/db: expected a length/);
  });

  it('asks for more input instead of failing when a length is cut short', () => {
    const input = new RdbInput(100);
    input.push(Buffer.from('80000040', 'hex'));
    input.prepare();
    let thrown: unknown;
    try {
      readLength(input, 'x');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(NEED_MORE);
    expect(input.needUntilOffset).toBe(5);
  });
});

describe('RDB string encodings', () => {
  it('int-encodes canonical integers that fit 32 bits in the smallest form, as Redis', () => {
    const typeByte = (s: string): number => written((out) => writeString(out, s, true))[0];
    expect(typeByte('0')).toBe(0xc0);
    expect(typeByte('-128')).toBe(0xc0);
    expect(typeByte('127')).toBe(0xc0);
    expect(typeByte('128')).toBe(0xc1);
    expect(typeByte('-32769')).toBe(0xc2);
    expect(typeByte('2147483647')).toBe(0xc2);
    expect(typeByte('2147483648')).toBe(10); // raw, 10 chars
    for (const s of INTEGER_LOOKALIKES) expect(typeByte(s)).toBe(s.length);
  });

  it('LZF-compresses strings over 20 bytes only when it saves at least 4 bytes', () => {
    expect(written((out) => writeString(out, 'a'.repeat(20), true))[0]).toBe(20);
    expect(written((out) => writeString(out, 'a'.repeat(21), true))[0]).toBe(0xc3);
    expect(written((out) => writeString(out, 'a'.repeat(21), false))[0]).toBe(21);
    const random = randomBytesString(prng(1), 40);
    expect(written((out) => writeString(out, random, true))[0]).toBe(40);
  });

  it('reads back every form as the same latin1 string, and as bytes', () => {
    const samples = [
      ...BOUNDARY_INTEGERS,
      ...INTEGER_LOOKALIKES,
      'a'.repeat(21),
      'x'.repeat(70_000),
      randomBytesString(prng(2), 1000),
      'abc\x00\xff',
    ];
    for (const s of samples) {
      for (const compress of [true, false]) {
        const bytes = written((out) => writeString(out, s, compress));
        const input = inputOf(bytes);
        expect(readString(input, 'x')).toBe(s);
        expect(input.pos).toBe(bytes.length);
        expect(readBlob(inputOf(bytes), 'x').toString('latin1')).toBe(s);
      }
    }
  });

  it('writes a string given as bytes (a snapshot of a slab string) exactly as the same string', () => {
    const rand = prng(3);
    const samples = [
      ...Array.from({ length: 41 }, (_, n) => 'k'.repeat(n)),
      ...Array.from({ length: 41 }, (_, n) => randomBytesString(rand, n)),
      ...BOUNDARY_INTEGERS,
      ...INTEGER_LOOKALIKES,
      'x'.repeat(70_000),
      randomBytesString(rand, 1000),
    ];
    // All samples in one store, each named by its index: the source copies from the middle of a larger buffer.
    const store = Buffer.from(samples.join(''), 'latin1');
    const starts: number[] = [];
    let at = 0;
    for (const sample of samples) {
      starts.push(at);
      at += sample.length;
    }
    const source = {
      copyString: (ref: number, target: Buffer, to: number): number =>
        store.copy(target, to, starts[ref], starts[ref] + samples[ref].length),
    };
    samples.forEach((sample, ref) => {
      const stored: StoredBytes = { length: sample.length, source, ref };
      for (const compress of [true, false]) {
        const expected = written((out) => writeString(out, sample, compress));
        expect(written((out) => writeStoredString(out, stored, compress))).toEqual(expected);
      }
    });
  });

  it('refuses unknown encodings and strings beyond the unit limit', () => {
    expect(() => readString(inputOf(Buffer.from('c4', 'hex')), 'v')).toThrow(/v: unknown string encoding 4/);
    let caught: unknown;
    try {
      readString(inputOf(Buffer.concat([Buffer.from('4100', 'hex'), Buffer.alloc(256)]), 100), 'value');
    } catch (err) {
      caught = err;
    }
    expect((caught as RdbError).code).toBe('RDB_LIMIT_EXCEEDED');
    const lzf = written((out) => writeString(out, 'a'.repeat(1000), true));
    expect(() => readString(inputOf(lzf, 500), 'v')).toThrow(/1000 bytes exceeds the limit of 500/);
  });
});

describe('RDB doubles', () => {
  it('round-trips binary doubles including -0, infinities and denormals', () => {
    for (const v of [0, -0, 1.5, -1e300, 5e-324, Infinity, -Infinity]) {
      const bytes = written((out) => writeBinaryDouble(out, v));
      expect(bytes.length).toBe(8);
      expect(Object.is(readBinaryDouble(inputOf(bytes)), v)).toBe(true);
    }
  });

  it('uses the 253/254/255 markers for NaN/+inf/-inf in legacy string doubles', () => {
    expect(written((out) => writeLegacyDouble(out, NaN))[0]).toBe(253);
    expect(written((out) => writeLegacyDouble(out, Infinity))[0]).toBe(254);
    expect(written((out) => writeLegacyDouble(out, -Infinity))[0]).toBe(255);
    for (const v of [0, -0, 1.1, -2.5e-300, 1e21, 123456789]) {
      const bytes = written((out) => writeLegacyDouble(out, v));
      expect(Object.is(readLegacyDouble(inputOf(bytes), 'score'), v)).toBe(true);
    }
    expect(Number.isNaN(readLegacyDouble(inputOf(Buffer.from([253])), 'score'))).toBe(true);
    expect(() => readLegacyDouble(inputOf(Buffer.from('03616263', 'hex')), 'score')).toThrow(
      /"abc" is not a number/,
    );
  });

  it('parses score text like strtod and formats it like d2string', () => {
    expect(parseDoubleText('inf')).toBe(Infinity);
    expect(parseDoubleText('-INF')).toBe(-Infinity);
    expect(parseDoubleText('+infinity')).toBe(Infinity);
    expect(parseDoubleText('1.1000000000000001')).toBe(1.1);
    expect(parseDoubleText('-1e+300')).toBe(-1e300);
    expect(parseDoubleText('.5')).toBe(0.5);
    expect(Object.is(parseDoubleText('-0'), -0)).toBe(true);
    expect(parseDoubleText('')).toBeNull();
    expect(parseDoubleText(' 1')).toBeNull();
    expect(parseDoubleText('constructor')).toBeNull();
    expect(formatDoubleText(-0)).toBe('-0');
    expect(formatDoubleText(Infinity)).toBe('inf');
    expect(formatDoubleText(-Infinity)).toBe('-inf');
    expect(formatDoubleText(3)).toBe('3');
    expect(formatDoubleText(-(2 ** 52) + 1)).toBe('-4503599627370495');
  });

  it('formats non-integer scores exactly like printf("%.17g")', () => {
    // expected strings produced by C printf via Python's '%.17g' %
    const cases: Array<[number, string]> = [
      [0.1, '0.10000000000000001'],
      [1e300, '1.0000000000000001e+300'],
      [5e-324, '4.9406564584124654e-324'],
      [1e-5, '1.0000000000000001e-05'],
      [0.0001, '0.0001'],
      [123.456, '123.456'],
      [2 ** 60, '1.152921504606847e+18'],
      [-1.1, '-1.1000000000000001'],
      [1e16 + 2, '10000000000000002'],
      [12345678901234567000, '1.2345678901234567e+19'],
      [1 / 3, '0.33333333333333331'],
      [-2.5e-300, '-2.5e-300'],
      [1e17, '1e+17'],
    ];
    for (const [v, text] of cases) {
      expect(formatG17(v)).toBe(text);
      expect(parseDoubleText(text)).toBe(v);
    }
  });
});

describe('canonical integer text', () => {
  it('accepts exactly what string2ll + ll2string round-trip, within int64', () => {
    expect(canonicalInt64('0')).toBe(0);
    expect(canonicalInt64('-1')).toBe(-1);
    expect(canonicalInt64('9007199254740991')).toBe(9007199254740991);
    expect(canonicalInt64('9007199254740993')).toBe(9007199254740993n);
    expect(canonicalInt64('-9223372036854775808')).toBe(-9223372036854775808n);
    for (const s of ['-0', '007', '+5', ' 1', '1 ', '', '-', '1.0', '9223372036854775808', '1e3']) {
      expect(canonicalInt64(s)).toBeNull();
    }
  });
});
