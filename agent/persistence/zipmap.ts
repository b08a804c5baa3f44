/**
 * Zipmap decoder: the compact hash encoding of Redis < 2.6 (RDB_TYPE_HASH_ZIPMAP), still loaded by Redis 7.
 *
 * Layout: zmlen (1 byte, count of pairs if < 254), then pairs, then 0xFF:
 *   <len>key <len><free>value<free bytes>
 * <len> is one byte if < 254, else 254 followed by a uint32 LE; 255 as a key length is the end marker. <free> is the
 * number of unused bytes after the value. Cheap to support, so old dumps still load.
 */

import { compactCorrupt } from './compactError';
import { latin1 } from './listpack';

const BIG_LEN = 254;
const END_BYTE = 0xff;

/** Decodes a zipmap into field, value, field, value... appended to `into`. Returns the number of pairs. */
export function decodeZipmap(blob: Uint8Array, blobOffset: number, into: string[]): number {
  const kind = 'zipmap';
  const size = blob.length;
  if (size < 2) throw compactCorrupt(kind, `${size} bytes is too short`, blobOffset, 0);
  let p = 1;
  let pairs = 0;
  const readLen = (): number => {
    if (p >= size) throw compactCorrupt(kind, 'length past the end', blobOffset, p);
    const b = blob[p];
    if (b < BIG_LEN) {
      p += 1;
      return b;
    }
    if (b === BIG_LEN) {
      if (p + 5 > size) throw compactCorrupt(kind, 'length past the end', blobOffset, p);
      const v = (blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24)) >>> 0;
      p += 5;
      return v;
    }
    throw compactCorrupt(kind, 'unexpected end marker', blobOffset, p);
  };
  for (;;) {
    if (p >= size) throw compactCorrupt(kind, 'missing end marker', blobOffset, p);
    if (blob[p] === END_BYTE) {
      p++;
      break;
    }
    const keyLen = readLen();
    if (p + keyLen > size) throw compactCorrupt(kind, 'key past the end', blobOffset, p);
    const key = latin1(blob, p, p + keyLen);
    p += keyLen;
    const valueLen = readLen();
    if (p >= size) throw compactCorrupt(kind, 'free-space byte past the end', blobOffset, p);
    const free = blob[p++];
    if (p + valueLen + free > size) throw compactCorrupt(kind, 'value past the end', blobOffset, p);
    const value = latin1(blob, p, p + valueLen);
    p += valueLen + free;
    into.push(key, value);
    pairs++;
  }
  if (p !== size) throw compactCorrupt(kind, 'bytes after the end marker', blobOffset, p);
  return pairs;
}
