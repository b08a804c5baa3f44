/**
 * RDB length encoding (rdbSaveLen / rdbLoadLen).
 *
 * The two top bits of the first byte select the form:
 *   00xxxxxx            6-bit length
 *   01xxxxxx yyyyyyyy   14-bit length, big-endian
 *   10000000 + 4 bytes  32-bit length, big-endian
 *   10000001 + 8 bytes  64-bit length, big-endian
 *   11xxxxxx            not a length: a specially encoded string follows (xxxxxx = RDB_ENC_*), see rdbString.ts
 * Lengths count elements, bytes, database numbers... The writer uses the shortest form, as Redis does.
 * JS numbers are exact up to 2^53; a larger 64-bit length cannot describe real data and is refused as corrupt.
 */

import type { ByteSink } from './byteSink';
import { RdbError } from './errors';
import type { RdbInput } from './rdbInput';

/** readLengthOrEncoding() result for 11xxxxxx: ENCODED_STRING - encodingType (always negative). */
export const ENCODED_STRING = -1;

/**
 * Reads a length, or for a special string encoding returns ENCODED_STRING - type (a negative number).
 * Throws NEED_MORE (via input.require) when the bytes are not there yet.
 */
export function readLengthOrEncoding(input: RdbInput): number {
  input.require(1);
  const buf = input.buf;
  const first = buf[input.pos];
  const kind = first >> 6;
  if (kind === 0) {
    input.pos++;
    return first & 0x3f;
  }
  if (kind === 1) {
    input.require(2);
    const v = ((first & 0x3f) << 8) | buf[input.pos + 1];
    input.pos += 2;
    return v;
  }
  if (kind === 3) {
    input.pos++;
    return ENCODED_STRING - (first & 0x3f);
  }
  if (first === 0x80) {
    input.require(5);
    const v = buf.readUInt32BE(input.pos + 1);
    input.pos += 5;
    return v;
  }
  if (first === 0x81) {
    input.require(9);
    const hi = buf.readUInt32BE(input.pos + 1);
    const lo = buf.readUInt32BE(input.pos + 5);
    if (hi >= 0x200000) {
      throw new RdbError(
        'RDB_CORRUPT',
        `64-bit length ${hi}*2^32+${lo} is beyond any real data`,
        input.offset,
      );
    }
    input.pos += 9;
    return hi * 4294967296 + lo;
  }
  throw new RdbError('RDB_CORRUPT', `unknown length encoding byte 0x${first.toString(16)}`, input.offset);
}

/**
 * Reads a length where a special string encoding would be invalid; `what` (and `detail`, shown in parentheses
 * after it) name it in the error. Two constant labels rather than one composed string: composing it on every
 * call was a third of the garbage of loading 1M keys.
 */
export function readLength(input: RdbInput, what: string, detail?: string): number {
  const at = input.offset;
  const v = readLengthOrEncoding(input);
  if (v < 0) {
    const label = detail === undefined ? what : `${what} (${detail})`;
    throw new RdbError('RDB_CORRUPT', `${label}: expected a length, found a string encoding`, at);
  }
  return v;
}

/** Bytes writeLength() uses for n. */
export function lengthSize(n: number): number {
  if (n < 64) return 1;
  if (n < 16384) return 2;
  if (n <= 0xffffffff) return 5;
  return 9;
}

export function writeLength(out: ByteSink, n: number): void {
  if (n < 64) {
    out.u8(n);
    return;
  }
  if (n < 16384) {
    out.ensure(2);
    out.buf[out.pos] = 0x40 | (n >> 8);
    out.buf[out.pos + 1] = n & 0xff;
    out.pos += 2;
    return;
  }
  if (n <= 0xffffffff) {
    out.ensure(5);
    out.buf[out.pos] = 0x80;
    out.buf.writeUInt32BE(n, out.pos + 1);
    out.pos += 5;
    return;
  }
  out.ensure(9);
  out.buf[out.pos] = 0x81;
  out.buf.writeUInt32BE(Math.floor(n / 4294967296), out.pos + 1);
  out.buf.writeUInt32BE(n % 4294967296, out.pos + 5);
  out.pos += 9;
}
