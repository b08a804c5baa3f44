/**
 * CRC-64/Jones as Redis computes it for RDB files and DUMP payloads.
 *
 * Why this variant: Redis's crc64.c uses the Jones polynomial 0xad93d23594c935a9 in reflected form (bit-reversed
 * 0x95ac9329ac4bc9b5), initial value 0, no final xor; check value crc64("123456789") = 0xe9c6d914c4b8d9ca. The result
 * is stored little-endian (8 bytes) after the RDB EOF opcode and at the end of DUMP payloads.
 *
 * Why the shape: JS has no fast 64-bit integers (BigInt allocates), so the 64-bit state lives in two uint32 halves and
 * the tables are split the same way. Slicing-by-8 (eight 256-entry tables) folds 8 input bytes per step with 16 table
 * reads; checksumming is on the path of every snapshot and load, so it is worth the 16 KiB of tables.
 */

const REFLECTED_POLY_HI = 0x95ac9329;
const REFLECTED_POLY_LO = 0xac4bc9b5;
const SLICES = 8;

/** TABLE_HI[k * 256 + b] / TABLE_LO[...]: high/low halves of the CRC contribution of byte b, k bytes ahead. */
const TABLE_HI = new Uint32Array(SLICES * 256);
const TABLE_LO = new Uint32Array(SLICES * 256);

function buildTables(): void {
  for (let b = 0; b < 256; b++) {
    let hi = 0;
    let lo = b;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        hi = (hi ^ REFLECTED_POLY_HI) >>> 0;
        lo = (lo ^ REFLECTED_POLY_LO) >>> 0;
      }
    }
    TABLE_HI[b] = hi;
    TABLE_LO[b] = lo;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let b = 0; b < 256; b++) {
      const prevHi = TABLE_HI[(k - 1) * 256 + b];
      const prevLo = TABLE_LO[(k - 1) * 256 + b];
      const idx = prevLo & 0xff;
      TABLE_LO[k * 256 + b] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[idx]) >>> 0;
      TABLE_HI[k * 256 + b] = ((prevHi >>> 8) ^ TABLE_HI[idx]) >>> 0;
    }
  }
}
buildTables();

/** Running CRC64 state; feed bytes with update() in any chunking, the result is the same. */
export class Crc64 {
  private hi = 0;
  private lo = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let hi = this.hi;
    let lo = this.lo;
    let p = start;
    const tHi = TABLE_HI;
    const tLo = TABLE_LO;
    const fastEnd = end - 8;
    while (p <= fastEnd) {
      lo ^= buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
      hi ^= buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24);
      const i7 = 7 * 256 + (lo & 0xff);
      const i6 = 6 * 256 + ((lo >>> 8) & 0xff);
      const i5 = 5 * 256 + ((lo >>> 16) & 0xff);
      const i4 = 4 * 256 + (lo >>> 24);
      const i3 = 3 * 256 + (hi & 0xff);
      const i2 = 2 * 256 + ((hi >>> 8) & 0xff);
      const i1 = 256 + ((hi >>> 16) & 0xff);
      const i0 = hi >>> 24;
      lo = tLo[i7] ^ tLo[i6] ^ tLo[i5] ^ tLo[i4] ^ tLo[i3] ^ tLo[i2] ^ tLo[i1] ^ tLo[i0];
      hi = tHi[i7] ^ tHi[i6] ^ tHi[i5] ^ tHi[i4] ^ tHi[i3] ^ tHi[i2] ^ tHi[i1] ^ tHi[i0];
      p += 8;
    }
    while (p < end) {
      const idx = (lo ^ buf[p]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ tLo[idx];
      hi = (hi >>> 8) ^ tHi[idx];
      p++;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** Writes the CRC as Redis stores it (8 bytes, little-endian) at target[offset..offset+8). */
  writeLE(target: Uint8Array, offset: number): void {
    const lo = this.lo;
    const hi = this.hi;
    target[offset] = lo & 0xff;
    target[offset + 1] = (lo >>> 8) & 0xff;
    target[offset + 2] = (lo >>> 16) & 0xff;
    target[offset + 3] = lo >>> 24;
    target[offset + 4] = hi & 0xff;
    target[offset + 5] = (hi >>> 8) & 0xff;
    target[offset + 6] = (hi >>> 16) & 0xff;
    target[offset + 7] = hi >>> 24;
  }

  /** The CRC as 8 little-endian bytes. */
  toBufferLE(): Buffer {
    const out = Buffer.allocUnsafe(8);
    this.writeLE(out, 0);
    return out;
  }

  /** True if buf[offset..offset+8) holds this CRC little-endian. */
  matchesLE(buf: Uint8Array, offset: number): boolean {
    const lo =
      (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0;
    const hi =
      (buf[offset + 4] | (buf[offset + 5] << 8) | (buf[offset + 6] << 16) | (buf[offset + 7] << 24)) >>> 0;
    return lo === this.lo && hi === this.hi;
  }

  toBigInt(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

/** CRC64 of buf[start..end) as an unsigned 64-bit integer. */
export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Crc64().update(buf, start, end).toBigInt();
}
