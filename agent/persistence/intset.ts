/**
 * Intset: Redis's sorted array of integers for sets whose members are all integers (RDB_TYPE_SET_INTSET).
 *
 * Layout: encoding (uint32 LE: 2, 4 or 8 bytes per element), length (uint32 LE), then the elements as signed
 * little-endian integers of that width, strictly ascending. The decoder checks the size and the order (which also
 * rules out duplicates); members decode to decimal text. The encoder picks the narrowest width, as Redis does.
 */

import { compactCorrupt } from './compactError';
import { canonicalInt64, int64Text } from './integerText';

const HEADER_BYTES = 8;

/** Decodes the members of an intset blob, appending their decimal text to `into`. Returns the count. */
export function decodeIntset(blob: Uint8Array, blobOffset: number, into: string[]): number {
  const kind = 'intset';
  if (blob.length < HEADER_BYTES)
    throw compactCorrupt(kind, `${blob.length} bytes is shorter than a header`, blobOffset, 0);
  const width = u32(blob, 0);
  const count = u32(blob, 4);
  if (width !== 2 && width !== 4 && width !== 8)
    throw compactCorrupt(kind, `invalid encoding ${width}`, blobOffset, 0);
  if (HEADER_BYTES + count * width !== blob.length) {
    throw compactCorrupt(
      kind,
      `${count} elements of ${width} bytes do not fill ${blob.length} bytes`,
      blobOffset,
      4,
    );
  }
  let prev = -Infinity;
  let prevHi = -Infinity;
  let prevLo = 0;
  for (let i = 0, p = HEADER_BYTES; i < count; i++, p += width) {
    if (width === 2 || width === 4) {
      const v = width === 2 ? ((blob[p] | (blob[p + 1] << 8)) << 16) >> 16 : u32(blob, p) | 0;
      if (v <= prev) throw compactCorrupt(kind, 'elements not strictly ascending', blobOffset, p);
      prev = v;
      into.push(String(v));
    } else {
      const hi = u32(blob, p + 4) | 0;
      const lo = u32(blob, p);
      if (hi < prevHi || (hi === prevHi && lo <= prevLo)) {
        throw compactCorrupt(kind, 'elements not strictly ascending', blobOffset, p);
      }
      prevHi = hi;
      prevLo = lo;
      into.push(int64Text(hi, lo));
    }
  }
  return count;
}

/**
 * The intset of the given members, or null if some member is not canonical int64 text (then the set cannot be an
 * intset). Members must be unique.
 */
export function encodeIntset(members: readonly string[]): Buffer | null {
  const values: Array<number | bigint> = new Array(members.length);
  let hasBig = false;
  let min = 0;
  let max = 0;
  for (let i = 0; i < members.length; i++) {
    const v = canonicalInt64(members[i]);
    if (v === null) return null;
    values[i] = v;
    if (typeof v === 'bigint') hasBig = true;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const width = hasBig || min < -2147483648 || max > 2147483647 ? 8 : min < -32768 || max > 32767 ? 4 : 2;
  const out = Buffer.allocUnsafe(HEADER_BYTES + values.length * width);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(values.length, 4);
  if (width === 8) {
    const big = values.map((v) => BigInt(v)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 0; i < big.length; i++) out.writeBigInt64LE(big[i], HEADER_BYTES + i * 8);
  } else {
    const nums = (values as number[]).sort((a, b) => a - b);
    for (let i = 0; i < nums.length; i++) {
      if (width === 2) out.writeInt16LE(nums[i], HEADER_BYTES + i * 2);
      else out.writeInt32LE(nums[i], HEADER_BYTES + i * 4);
    }
  }
  return out;
}

function u32(blob: Uint8Array, p: number): number {
  return (blob[p] | (blob[p + 1] << 8) | (blob[p + 2] << 16) | (blob[p + 3] << 24)) >>> 0;
}
