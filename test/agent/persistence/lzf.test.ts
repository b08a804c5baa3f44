import { RdbError } from '../../../agent/persistence/errors';
import { lzfCompress, lzfDecompress } from '../../../agent/persistence/lzf';
import { randomBytesString } from './support/dataset';
import { prng } from '../../helpers/prng';

function roundTrip(input: Buffer): { compressed: number; output: Buffer | null } {
  const out = Buffer.alloc(Math.ceil(input.length * 1.04) + 64); // literal runs add 1 byte per 32
  const n = lzfCompress(input, 0, input.length, out, 0, out.length);
  if (n === 0) return { compressed: 0, output: null };
  return { compressed: n, output: lzfDecompress(out, 0, n, input.length) };
}

describe('LZF', () => {
  it('round-trips repetitive, random, short and long inputs', () => {
    const rand = prng(3);
    const inputs = [
      Buffer.from('a'),
      Buffer.from('abc'),
      Buffer.from('x'.repeat(100)),
      Buffer.from('abcabcabcabcabcabcabcabcabc'),
      Buffer.from('the quick brown fox '.repeat(5000)),
      Buffer.from(randomBytesString(rand, 10_000), 'latin1'),
      Buffer.alloc(70_000, 0),
      Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i % 251) ^ (i >> 8))),
    ];
    for (const input of inputs) {
      const { output } = roundTrip(input);
      expect(output).not.toBeNull();
      expect(output!.equals(input)).toBe(true);
    }
  });

  it('round-trips a bounded random run of inputs from small alphabets, where matches start and end anywhere', () => {
    const rand = prng(11);
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(rand() * 400);
      const alphabet = 1 + Math.floor(rand() * 4);
      const input = Buffer.from(Array.from({ length }, () => 97 + Math.floor(rand() * alphabet)));
      const offset = Math.floor(rand() * 8);
      const framed = Buffer.concat([Buffer.alloc(offset, 0x7a), input, Buffer.alloc(3, 0x7a)]);
      const out = Buffer.alloc(length * 2 + 64);
      const n = lzfCompress(framed, offset, offset + length, out, 0, out.length);
      if (length === 0) {
        expect(n).toBe(0);
        continue;
      }
      expect(n).toBeGreaterThan(0);
      expect(lzfDecompress(out, 0, n, length).equals(input)).toBe(true);
    }
  });

  it('compresses repetitive data well and gives up when the output would not fit the limit', () => {
    const repetitive = Buffer.from('x'.repeat(10_000));
    const out = Buffer.alloc(10_000);
    const n = lzfCompress(repetitive, 0, repetitive.length, out, 0, out.length);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(200);
    const random = Buffer.from(randomBytesString(prng(5), 1000), 'latin1');
    expect(lzfCompress(random, 0, random.length, out, 0, random.length - 4)).toBe(0);
  });

  it('compresses a slice of a larger buffer and decompresses into exactly that slice', () => {
    const big = Buffer.from('prefix--' + 'hello hello hello hello hello' + '--suffix');
    const out = Buffer.alloc(100);
    const n = lzfCompress(big, 8, big.length - 8, out, 10, 80);
    expect(n).toBeGreaterThan(0);
    expect(lzfDecompress(out, 10, 10 + n, big.length - 16).toString()).toBe('hello hello hello hello hello');
  });

  it('decodes overlapping back references (runs)', () => {
    // literal "ab", then a back reference of 10 bytes at distance 2
    const data = Buffer.from([0x01, 0x61, 0x62, 0xe0, 1, 1]);
    // ctrl 0xe0: len field 7 (+ next byte 1 = 8, +2 = 10 bytes), offset high bits 0, offset byte 1 => distance 2
    expect(lzfDecompress(data, 0, data.length, 12).toString()).toBe('abababababab');
  });

  it('refuses corrupt streams with RDB_CORRUPT and the offset, never garbage', () => {
    const cases: Array<[number[], number]> = [
      [[0x05, 0x61], 6], // literal run past the end of the input
      [[0x00, 0x61, 0x20, 0x05], 5], // back reference before the start of the output
      [[0x00, 0x61], 5], // produces fewer bytes than declared
      [[0x02, 0x61, 0x62, 0x63], 2], // literal run past the declared length
      [[0x00, 0x61, 0xe0], 9], // back reference cut short
    ];
    for (const [bytes, outLen] of cases) {
      const data = Buffer.from(bytes);
      let caught: unknown;
      try {
        lzfDecompress(data, 0, data.length, outLen, 1000);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RdbError);
      expect((caught as RdbError).code).toBe('RDB_CORRUPT');
      expect((caught as RdbError).offset).toBeGreaterThanOrEqual(1000);
    }
  });

  it('refuses a declared length no LZF stream of that size can produce, before allocating it', () => {
    expect(() => lzfDecompress(Buffer.from([0x00, 0x61]), 0, 2, 1e9)).toThrow(/more than LZF can expand/);
  });
});
