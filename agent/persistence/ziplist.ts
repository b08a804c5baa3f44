/**
 * Ziplist decoder: the compact sequence Redis <= 6.2 used (RDB version 9 files from Redis 5/6, and older).
 *
 * Layout: zlbytes (uint32 LE, whole size), zltail (uint32 LE, offset of the last entry), zllen (uint16 LE, 65535 =
 * "count it"), entries, 0xFF. Entry: prevlen (1 byte if < 254, else 0xFE + uint32 LE), encoding, data:
 *   00pppppp             string, 6-bit length
 *   01pppppp qqqqqqqq    string, 14-bit length (big-endian)
 *   10000000 + 4 bytes   string, 32-bit length (big-endian)
 *   11000000 / 11010000 / 11100000 / 11110000 / 11111110   int16 / int32 / int64 / int24 / int8, little-endian
 *   1111xxxx (xxxx 0001..1101)   immediate integer xxxx - 1 (0..12)
 * Redis 7 converts ziplists to listpacks on load; we only decode them. Every entry's prevlen, zltail and zllen are
 * checked, as Redis's deep integrity check does.
 */

import { compactCorrupt } from './compactError';
import { int64Text } from './integerText';
import { latin1 } from './listpack';

const HEADER_BYTES = 10;
const END_BYTE = 0xff;
const BIG_PREVLEN = 254;
const COUNT_UNKNOWN = 65535;

/** Decodes all elements of a ziplist blob, appending them to `into`. Returns the number of elements. */
export function decodeZiplist(blob: Uint8Array, blobOffset: number, into: string[]): number {
  const kind = 'ziplist';
  const size = blob.length;
  if (size < HEADER_BYTES + 1)
    throw compactCorrupt(kind, `${size} bytes is shorter than a header`, blobOffset, 0);
  const total = u32(blob, 0);
  if (total !== size)
    throw compactCorrupt(kind, `header says ${total} bytes, blob has ${size}`, blobOffset, 0);
  const tail = u32(blob, 4);
  const declaredCount = blob[8] | (blob[9] << 8);
  if (blob[size - 1] !== END_BYTE) throw compactCorrupt(kind, 'missing end marker', blobOffset, size - 1);
  const end = size - 1;
  let p = HEADER_BYTES;
  let prevEntryLen = 0;
  let lastEntry = HEADER_BYTES;
  let count = 0;
  while (p < end) {
    const start = p;
    let prevlen: number;
    if (blob[p] < BIG_PREVLEN) {
      prevlen = blob[p];
      p += 1;
    } else if (blob[p] === BIG_PREVLEN) {
      if (p + 5 > end) throw compactCorrupt(kind, 'previous-entry length past the end', blobOffset, p);
      prevlen = u32(blob, p + 1);
      p += 5;
    } else {
      throw compactCorrupt(kind, 'invalid previous-entry length', blobOffset, p);
    }
    if (prevlen !== prevEntryLen) {
      throw compactCorrupt(
        kind,
        `previous-entry length ${prevlen}, expected ${prevEntryLen}`,
        blobOffset,
        start,
      );
    }
    if (p >= end) throw compactCorrupt(kind, 'entry encoding past the end', blobOffset, p);
    const b = blob[p];
    const kindBits = b >> 6;
    let text: string;
    if (kindBits === 0) {
      const len = b & 0x3f;
      if (p + 1 + len > end) throw compactCorrupt(kind, 'string past the end', blobOffset, p);
      text = latin1(blob, p + 1, p + 1 + len);
      p += 1 + len;
    } else if (kindBits === 1) {
      if (p + 2 > end) throw compactCorrupt(kind, 'string header past the end', blobOffset, p);
      const len = ((b & 0x3f) << 8) | blob[p + 1];
      if (p + 2 + len > end) throw compactCorrupt(kind, 'string past the end', blobOffset, p);
      text = latin1(blob, p + 2, p + 2 + len);
      p += 2 + len;
    } else if (kindBits === 2) {
      if (b !== 0x80) throw compactCorrupt(kind, `invalid entry encoding 0x${b.toString(16)}`, blobOffset, p);
      if (p + 5 > end) throw compactCorrupt(kind, 'string header past the end', blobOffset, p);
      const len = ((blob[p + 1] << 24) | (blob[p + 2] << 16) | (blob[p + 3] << 8) | blob[p + 4]) >>> 0;
      if (p + 5 + len > end) throw compactCorrupt(kind, 'string past the end', blobOffset, p);
      text = latin1(blob, p + 5, p + 5 + len);
      p += 5 + len;
    } else if (b === 0xc0) {
      if (p + 3 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String(((blob[p + 1] | (blob[p + 2] << 8)) << 16) >> 16);
      p += 3;
    } else if (b === 0xd0) {
      if (p + 5 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String(blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24));
      p += 5;
    } else if (b === 0xe0) {
      if (p + 9 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = int64Text(
        blob[p + 5] | (blob[p + 6] << 8) | (blob[p + 7] << 16) | (blob[p + 8] << 24),
        u32(blob, p + 1),
      );
      p += 9;
    } else if (b === 0xf0) {
      if (p + 4 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String(((blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16)) << 8) >> 8);
      p += 4;
    } else if (b === 0xfe) {
      if (p + 2 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String((blob[p + 1] << 24) >> 24);
      p += 2;
    } else if (b >= 0xf1 && b <= 0xfd) {
      text = String((b & 0x0f) - 1);
      p += 1;
    } else {
      throw compactCorrupt(kind, `invalid entry encoding 0x${b.toString(16)}`, blobOffset, p);
    }
    into.push(text);
    count++;
    prevEntryLen = p - start;
    lastEntry = start;
  }
  if (count > 0 && tail !== lastEntry) {
    throw compactCorrupt(kind, `tail offset ${tail}, last entry at ${lastEntry}`, blobOffset, 4);
  }
  if (declaredCount !== COUNT_UNKNOWN && declaredCount !== count) {
    throw compactCorrupt(kind, `header says ${declaredCount} elements, found ${count}`, blobOffset, 8);
  }
  return count;
}

function u32(blob: Uint8Array, p: number): number {
  return (blob[p] | (blob[p + 1] << 8) | (blob[p + 2] << 16) | (blob[p + 3] << 24)) >>> 0;
}
