import { Crc64, crc64 } from '../../../agent/persistence/crc64';
import { randomBytesString } from './support/dataset';
import { prng } from '../../helpers/prng';

/** Bit-at-a-time reference of the reflected Jones CRC-64, straight from the definition. */
function referenceCrc64(data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let i = 0; i < 8; i++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('CRC64 (Jones, as Redis)', () => {
  it('gives Redis check value e9c6d914c4b8d9ca for "123456789"', () => {
    expect(crc64(Buffer.from('123456789')).toString(16)).toBe('e9c6d914c4b8d9ca');
  });

  it('is 0 for empty input', () => {
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });

  it('agrees with the bitwise definition for every length up to 100 bytes', () => {
    const rand = prng(7);
    for (let len = 0; len <= 100; len++) {
      const data = Buffer.from(randomBytesString(rand, len), 'latin1');
      expect(crc64(data)).toBe(referenceCrc64(data));
    }
  });

  it('gives the same result however the input is split', () => {
    const rand = prng(11);
    const data = Buffer.from(randomBytesString(rand, 5000), 'latin1');
    const whole = crc64(data);
    for (let trial = 0; trial < 50; trial++) {
      const crc = new Crc64();
      let p = 0;
      while (p < data.length) {
        const n = Math.min(data.length - p, 1 + Math.floor(rand() * 40));
        crc.update(data, p, p + n);
        p += n;
      }
      expect(crc.toBigInt()).toBe(whole);
    }
  });

  it('writes and recognises the little-endian footer form', () => {
    const crc = new Crc64().update(Buffer.from('123456789'));
    const le = crc.toBufferLE();
    expect(le.toString('hex')).toBe('cad9b8c414d9c6e9');
    expect(crc.matchesLE(le, 0)).toBe(true);
    le[7] ^= 1;
    expect(crc.matchesLE(le, 0)).toBe(false);
  });
});
