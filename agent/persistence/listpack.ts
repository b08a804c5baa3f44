/**
 * Listpack: Redis 7's compact sequence of strings and integers (hash/zset/set listpacks, quicklist v2 nodes).
 *
 * Layout: total bytes (uint32 LE), element count (uint16 LE, 65535 = "count it"), entries, 0xFF.
 * Entry: encoding byte(s) + data, then "backlen": the size of encoding+data in 1..5 bytes, read right to left, 7 bits
 * per byte, the high bit set on every byte but the leftmost (so the list can be walked backwards).
 *   0xxxxxxx            7-bit unsigned int
 *   10xxxxxx            string, 6-bit length
 *   110xxxxx yyyyyyyy   13-bit signed int
 *   1110xxxx yyyyyyyy   string, 12-bit length (big-endian across the two bytes)
 *   11110000 + 4 bytes  string, 32-bit length LE
 *   11110001/2/3/4      16/24/32/64-bit signed int LE
 * Integers decode to their decimal text. The decoder checks every length, backlen and the element count, so a
 * corrupt blob is refused instead of yielding garbage. The encoder stores canonical int64 text as integers, as
 * lpAppend() does, so its output equals what Redis would build from the same elements.
 */

import { compactCorrupt } from './compactError';
import { canonicalInt64, int64Text } from './integerText';

const HEADER_BYTES = 6;
const EOF_BYTE = 0xff;
const COUNT_UNKNOWN = 65535;

/** Size of the backlen field for an entry whose encoding+data is l bytes. */
export function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Decodes all elements of a listpack blob, appending them to `into`. Returns the number of elements. */
export function decodeListpack(blob: Uint8Array, blobOffset: number, into: string[]): number {
  const kind = 'listpack';
  const size = blob.length;
  if (size < HEADER_BYTES + 1)
    throw compactCorrupt(kind, `${size} bytes is shorter than a header`, blobOffset, 0);
  const total = (blob[0] | (blob[1] << 8) | (blob[2] << 16) | (blob[3] << 24)) >>> 0;
  if (total !== size)
    throw compactCorrupt(kind, `header says ${total} bytes, blob has ${size}`, blobOffset, 0);
  if (blob[size - 1] !== EOF_BYTE) throw compactCorrupt(kind, 'missing end marker', blobOffset, size - 1);
  const declaredCount = blob[4] | (blob[5] << 8);
  const end = size - 1;
  let p = HEADER_BYTES;
  let count = 0;
  while (p < end) {
    const start = p;
    const b = blob[p];
    let text: string;
    if (b < 0x80) {
      text = String(b);
      p += 1;
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      if (p + 1 + len > end) throw compactCorrupt(kind, 'string past the end', blobOffset, p);
      text = latin1(blob, p + 1, p + 1 + len);
      p += 1 + len;
    } else if (b < 0xe0) {
      if (p + 2 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      let v = ((b & 0x1f) << 8) | blob[p + 1];
      if (v >= 4096) v -= 8192;
      text = String(v);
      p += 2;
    } else if (b < 0xf0) {
      if (p + 2 > end) throw compactCorrupt(kind, 'string header past the end', blobOffset, p);
      const len = ((b & 0x0f) << 8) | blob[p + 1];
      if (p + 2 + len > end) throw compactCorrupt(kind, 'string past the end', blobOffset, p);
      text = latin1(blob, p + 2, p + 2 + len);
      p += 2 + len;
    } else if (b === 0xf0) {
      if (p + 5 > end) throw compactCorrupt(kind, 'string header past the end', blobOffset, p);
      const len = (blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24)) >>> 0;
      if (p + 5 + len > end) throw compactCorrupt(kind, 'string past the end', blobOffset, p);
      text = latin1(blob, p + 5, p + 5 + len);
      p += 5 + len;
    } else if (b === 0xf1) {
      if (p + 3 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String(((blob[p + 1] | (blob[p + 2] << 8)) << 16) >> 16);
      p += 3;
    } else if (b === 0xf2) {
      if (p + 4 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String(((blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16)) << 8) >> 8);
      p += 4;
    } else if (b === 0xf3) {
      if (p + 5 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      text = String(blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24));
      p += 5;
    } else if (b === 0xf4) {
      if (p + 9 > end) throw compactCorrupt(kind, 'integer past the end', blobOffset, p);
      const lo = (blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (blob[p + 4] << 24)) >>> 0;
      const hi = blob[p + 5] | (blob[p + 6] << 8) | (blob[p + 7] << 16) | (blob[p + 8] << 24);
      text = int64Text(hi, lo);
      p += 9;
    } else {
      throw compactCorrupt(kind, `invalid entry encoding 0x${b.toString(16)}`, blobOffset, p);
    }
    const entryLen = p - start;
    const backBytes = backlenSize(entryLen);
    if (p + backBytes > end) throw compactCorrupt(kind, 'entry length past the end', blobOffset, p);
    // backlen, read right to left: 7 bits per byte, high bit set on all but the leftmost
    let back = 0;
    let scale = 1;
    for (let i = backBytes - 1; i >= 0; i--) {
      const byte = blob[p + i];
      const more = (byte & 0x80) !== 0;
      if (more !== i > 0) throw compactCorrupt(kind, 'malformed entry length', blobOffset, p);
      back += (byte & 0x7f) * scale;
      scale *= 128;
    }
    if (back !== entryLen) {
      throw compactCorrupt(kind, `entry length ${back} does not match entry size ${entryLen}`, blobOffset, p);
    }
    p += backBytes;
    into.push(text);
    count++;
  }
  if (declaredCount !== COUNT_UNKNOWN && declaredCount !== count) {
    throw compactCorrupt(kind, `header says ${declaredCount} elements, found ${count}`, blobOffset, 4);
  }
  return count;
}

/** Short strings are decoded char by char: cheaper than a native call for a few bytes. */
export function latin1(blob: Uint8Array, start: number, end: number): string {
  if (end - start < 16) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(blob[i]);
    return s;
  }
  return Buffer.from(blob.buffer, blob.byteOffset + start, end - start).toString('latin1');
}

/** Builds a listpack element by element, as lpAppend() would. */
export class ListpackBuilder {
  private buf: Buffer;
  private pos = HEADER_BYTES;
  private count = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 16));
  }

  /** Bytes the listpack would have if finished now. */
  get bytes(): number {
    return this.pos + 1;
  }

  get length(): number {
    return this.count;
  }

  private room(n: number): void {
    if (this.pos + n + 1 <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 1));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes appending s would add. */
  static entrySize(s: string): number {
    const n = s.length;
    if (n <= 20) {
      const v = canonicalInt64(s);
      if (v !== null) {
        const l = intEncodingSize(v);
        return l + backlenSize(l);
      }
    }
    const l = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
    return l + backlenSize(l);
  }

  add(s: string): void {
    const n = s.length;
    if (n <= 20) {
      const c = s.charCodeAt(0);
      if ((c >= 48 && c <= 57) || c === 45) {
        const v = canonicalInt64(s);
        if (v !== null) {
          this.addInteger(v);
          return;
        }
      }
    }
    const headerBytes = n < 64 ? 1 : n < 4096 ? 2 : 5;
    const l = headerBytes + n;
    this.room(l + 5);
    const buf = this.buf;
    let p = this.pos;
    if (headerBytes === 1) {
      buf[p++] = 0x80 | n;
    } else if (headerBytes === 2) {
      buf[p++] = 0xe0 | (n >> 8);
      buf[p++] = n & 0xff;
    } else {
      buf[p++] = 0xf0;
      buf.writeUInt32LE(n, p);
      p += 4;
    }
    if (n < 32) {
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    } else {
      buf.write(s, p, n, 'latin1');
      p += n;
    }
    this.pos = writeBacklen(buf, p, l);
    this.count++;
  }

  addInteger(v: number | bigint): void {
    this.room(9 + 5);
    const buf = this.buf;
    let p = this.pos;
    const start = p;
    if (typeof v === 'bigint') {
      buf[p++] = 0xf4;
      buf.writeBigInt64LE(v, p);
      p += 8;
    } else if (v >= 0 && v <= 127) {
      buf[p++] = v;
    } else if (v >= -4096 && v <= 4095) {
      const u = v < 0 ? v + 8192 : v;
      buf[p++] = 0xc0 | (u >> 8);
      buf[p++] = u & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      buf[p++] = 0xf1;
      buf.writeInt16LE(v, p);
      p += 2;
    } else if (v >= -8388608 && v <= 8388607) {
      buf[p++] = 0xf2;
      buf.writeIntLE(v, p, 3);
      p += 3;
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[p++] = 0xf3;
      buf.writeInt32LE(v, p);
      p += 4;
    } else {
      buf[p++] = 0xf4;
      buf.writeBigInt64LE(BigInt(v), p);
      p += 8;
    }
    this.pos = writeBacklen(buf, p, p - start);
    this.count++;
  }

  /** The finished listpack (header filled in, end marker appended). The builder must not be used afterwards. */
  finish(): Buffer {
    this.room(0);
    const buf = this.buf;
    buf[this.pos] = EOF_BYTE;
    const total = this.pos + 1;
    buf.writeUInt32LE(total, 0);
    buf.writeUInt16LE(Math.min(this.count, COUNT_UNKNOWN), 4);
    return buf.subarray(0, total);
  }
}

function intEncodingSize(v: number | bigint): number {
  if (typeof v === 'bigint') return 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

/** Writes the backlen of an l-byte entry at p (lpEncodeBacklen); returns the position after it. */
function writeBacklen(buf: Buffer, p: number, l: number): number {
  if (l <= 127) {
    buf[p] = l;
    return p + 1;
  }
  if (l < 16383) {
    buf[p] = l >>> 7;
    buf[p + 1] = (l & 127) | 128;
    return p + 2;
  }
  if (l < 2097151) {
    buf[p] = l >>> 14;
    buf[p + 1] = ((l >>> 7) & 127) | 128;
    buf[p + 2] = (l & 127) | 128;
    return p + 3;
  }
  if (l < 268435455) {
    buf[p] = l >>> 21;
    buf[p + 1] = ((l >>> 14) & 127) | 128;
    buf[p + 2] = ((l >>> 7) & 127) | 128;
    buf[p + 3] = (l & 127) | 128;
    return p + 4;
  }
  buf[p] = Math.floor(l / 268435456);
  buf[p + 1] = ((l >>> 21) & 127) | 128;
  buf[p + 2] = ((l >>> 14) & 127) | 128;
  buf[p + 3] = ((l >>> 7) & 127) | 128;
  buf[p + 4] = (l & 127) | 128;
  return p + 5;
}
