/**
 * LZF compression as used by Redis for RDB strings (RDB_ENC_LZF) and compressed quicklist nodes.
 *
 * Format (liblzf): a sequence of items, each starting with a control byte c.
 * - c < 32: a literal run; the next c + 1 bytes are copied to the output.
 * - c >= 32: a back reference. len = c >> 5 (1..7); if len is 7 one more byte is added to it; then one byte of
 *   offset. The match starts (((c & 0x1f) << 8) | offsetByte) + 1 bytes back in the output and is len + 2 bytes
 *   long (3..264), possibly overlapping the bytes it produces (a run).
 * Redis stores the compressed and the uncompressed length in front of the data, so the decompressor knows the
 * output size and refuses streams that do not produce exactly that many bytes.
 *
 * The compressor is our own greedy matcher with a 3-byte hash (any valid stream is acceptable to Redis, only the
 * ratio differs). Like Redis it gives up (returns 0) when the output would not fit in the given limit, which the
 * caller sets below the input size so that incompressible strings are stored raw.
 */

import { RdbError } from './errors';

const MAX_LITERAL_RUN = 32;
const MAX_OFFSET = 8192;
const MIN_MATCH = 3;
const MAX_MATCH = 264;
/** Positions at the end of a match that are hashed for later matches (see lzfCompress). */
const MATCH_TAIL_INDEXED = 2;
/** Output can grow at most by this factor per input byte (a 3-byte back reference yields 264 bytes). */
export const LZF_MAX_EXPANSION = 88;

const HASH_LOG = 14;
const HASH_SIZE = 1 << HASH_LOG;
/**
 * Match candidates: hashTable[h] = positionBase + position of the last 3-byte sequence with hash h. positionBase grows
 * with every call, so entries left by earlier inputs are recognised as stale (value < base) without clearing.
 */
const hashTable = new Int32Array(HASH_SIZE);
let positionBase = 1;
const POSITION_BASE_LIMIT = 0x7fff0000;

/**
 * Decompresses src[start..end) into a new Buffer of exactly outLen bytes.
 * errorOffset is the input offset of src[start], used in error messages.
 */
export function lzfDecompress(
  src: Uint8Array,
  start: number,
  end: number,
  outLen: number,
  errorOffset = 0,
  into?: Buffer,
): Buffer {
  if (outLen > (end - start) * LZF_MAX_EXPANSION) {
    throw new RdbError(
      'RDB_CORRUPT',
      `LZF string claims ${outLen} bytes from ${end - start} compressed bytes, more than LZF can expand`,
      errorOffset,
    );
  }
  const out = into !== undefined && into.length >= outLen ? into : Buffer.allocUnsafe(outLen);
  let ip = start;
  let op = 0;
  while (ip < end) {
    const ctrl = src[ip++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > end)
        throw lzfCorrupt('literal run past the end of the compressed data', errorOffset + ip - start);
      if (op + run > outLen)
        throw lzfCorrupt('literal run past the declared length', errorOffset + ip - start);
      if (run < 16) {
        for (let i = 0; i < run; i++) out[op + i] = src[ip + i];
      } else {
        out.set(src.subarray(ip, ip + run), op);
      }
      ip += run;
      op += run;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= end) throw lzfCorrupt('back reference cut short', errorOffset + ip - start);
        len += src[ip++];
      }
      if (ip >= end) throw lzfCorrupt('back reference cut short', errorOffset + ip - start);
      const ref = op - (((ctrl & 0x1f) << 8) | src[ip++]) - 1;
      len += 2;
      if (ref < 0)
        throw lzfCorrupt('back reference before the start of the output', errorOffset + ip - start);
      if (op + len > outLen)
        throw lzfCorrupt('back reference past the declared length', errorOffset + ip - start);
      if (op - ref >= len && len >= 16) {
        out.copyWithin(op, ref, ref + len);
      } else {
        for (let i = 0; i < len; i++) out[op + i] = out[ref + i];
      }
      op += len;
    }
  }
  if (op !== outLen) {
    throw lzfCorrupt(`LZF data produced ${op} bytes, ${outLen} declared`, errorOffset + end - start);
  }
  return out;
}

function lzfCorrupt(what: string, offset: number): RdbError {
  return new RdbError('RDB_CORRUPT', `corrupt LZF string: ${what}`, offset);
}

/**
 * Compresses src[start..end) into out[outStart..outStart+outLimit). Returns the number of bytes written, or 0 if the
 * result would not fit in outLimit bytes (the caller then stores the input uncompressed).
 */
export function lzfCompress(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outStart: number,
  outLimit: number,
): number {
  const inLen = end - start;
  if (inLen === 0) return 0;
  if (positionBase + inLen >= POSITION_BASE_LIMIT) {
    hashTable.fill(0);
    positionBase = 1;
  }
  const base = positionBase - start;
  positionBase += inLen + 1;
  const outEnd = outStart + outLimit;
  const table = hashTable;
  let op = outStart;
  let ip = start;
  let literalStart = start;
  const matchEnd = end - MIN_MATCH + 1;

  // The 3 bytes at ip, rolled forward one byte per step (liblzf's FRST/NEXT).
  let triple = inLen >= MIN_MATCH ? (src[ip] << 8) | src[ip + 1] : 0;
  while (ip < matchEnd) {
    triple = ((triple << 8) | src[ip + 2]) & 0xffffff;
    const h = hashSlot(triple);
    const stored = table[h];
    table[h] = base + ip;
    const ref = stored - base;
    if (
      ref >= start &&
      ip - ref <= MAX_OFFSET &&
      ((src[ref] << 16) | (src[ref + 1] << 8) | src[ref + 2]) === triple
    ) {
      const distance = ip - ref;
      let len = MIN_MATCH;
      const maxLen = Math.min(MAX_MATCH, end - ip);
      while (len < maxLen && src[ref + len] === src[ip + len]) len++;
      // flush pending literals, then the reference
      op = emitLiterals(src, literalStart, ip, out, op, outEnd);
      if (op < 0) return 0;
      const encodedLen = len - 2;
      const off = distance - 1;
      if (encodedLen < 7) {
        if (op + 2 > outEnd) return 0;
        out[op++] = (encodedLen << 5) | (off >> 8);
      } else {
        if (op + 3 > outEnd) return 0;
        out[op++] = (7 << 5) | (off >> 8);
        out[op++] = encodedLen - 7;
      }
      out[op++] = off & 0xff;
      // Index the match's last MATCH_TAIL_INDEXED positions, as liblzf does by default (VERY_FAST): indexing
      // every position inside a match finds a few more matches but hashes each byte of it, which on short,
      // repetitive values (most stored strings) was most of the time spent.
      const next = ip + len;
      const indexEnd = Math.min(next, matchEnd);
      for (let p = Math.max(ip + 1, next - MATCH_TAIL_INDEXED); p < indexEnd; p++) {
        table[hashSlot((src[p] << 16) | (src[p + 1] << 8) | src[p + 2])] = base + p;
      }
      ip = next;
      literalStart = ip;
      if (ip < matchEnd) triple = (src[ip] << 8) | src[ip + 1];
    } else {
      ip++;
    }
  }
  op = emitLiterals(src, literalStart, end, out, op, outEnd);
  if (op < 0) return 0;
  return op - outStart;
}

/** The hash table slot of three bytes (`triple`: the first in bits 16..23). */
function hashSlot(triple: number): number {
  return (Math.imul(triple, 0x9e3779b1) >>> (32 - HASH_LOG)) | 0;
}

/** Writes src[from..to) as literal runs; returns the new output position or -1 if out of room. */
function emitLiterals(
  src: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
  outEnd: number,
): number {
  let p = from;
  while (p < to) {
    const run = Math.min(MAX_LITERAL_RUN, to - p);
    if (op + 1 + run > outEnd) return -1;
    out[op++] = run - 1;
    for (let i = 0; i < run; i++) out[op + i] = src[p + i];
    op += run;
    p += run;
  }
  return op;
}
