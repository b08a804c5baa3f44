/**
 * RDB string encodings (rdbSaveRawString / rdbGenericLoadStringObject).
 *
 * A string is a length (rdbLength.ts) followed by that many raw bytes, or one of the special encodings announced by
 * a 11xxxxxx length byte:
 *   RDB_ENC_INT8/16/32  the string is the decimal text of a signed little-endian 1/2/4-byte integer
 *   RDB_ENC_LZF         compressed length, uncompressed length, then LZF data (lzf.ts)
 * The same form carries binary blobs (listpacks, ziplists, intsets, quicklist nodes), which may be LZF-compressed too.
 * Writer policy, as Redis: canonical integer text that fits 32 bits is int-encoded; with compression on, strings
 * longer than 20 bytes are LZF-compressed when that saves at least 4 bytes; everything else is raw.
 */

import type { ByteSink } from './byteSink';
import { RdbError } from './errors';
import { canonicalInt64 } from './integerText';
import { lzfCompress, lzfDecompress } from './lzf';
import { stringValue, type StoredBytes } from './model';
import { RDB_ENC_INT16, RDB_ENC_INT32, RDB_ENC_INT8, RDB_ENC_LZF } from './rdbFormat';
import type { RdbInput } from './rdbInput';
import { ENCODED_STRING, readLength, readLengthOrEncoding, writeLength } from './rdbLength';

/** Strings up to this length are tried as integers (int32 text is at most 11 chars). */
const INT_ENCODING_MAX_CHARS = 11;
/** Redis compresses only strings longer than this. */
const LZF_MIN_INPUT_BYTES = 21;
/** Compression must save at least this much, or the raw form is kept. */
const LZF_MIN_SAVING_BYTES = 4;
/** Scratch buffers at most this large are kept between calls; larger ones are allocated per call. */
const SCRATCH_KEEP_BYTES = 1024 * 1024;

/** Reads a string as a latin1 JS string. `what` names it in errors. */
export function readString(input: RdbInput, what: string): string {
  const header = readLengthOrEncoding(input);
  if (header >= 0) {
    input.requireUnit(header, what);
    const start = input.pos;
    input.pos = start + header;
    return input.buf.latin1Slice(start, start + header);
  }
  const encoding = ENCODED_STRING - header;
  if (encoding === RDB_ENC_LZF) return readLzfString(input, what);
  return String(readEncodedInt(input, encoding, what));
}

/**
 * Reads a string as bytes (for compact encodings). A raw string is returned as a view into the input window, valid
 * only until the parser is given more input: decode it right away.
 */
export function readBlob(input: RdbInput, what: string): Buffer {
  const header = readLengthOrEncoding(input);
  if (header >= 0) {
    input.requireUnit(header, what);
    const start = input.pos;
    input.pos = start + header;
    return input.buf.subarray(start, start + header);
  }
  const encoding = ENCODED_STRING - header;
  if (encoding === RDB_ENC_LZF) return readLzf(input, what).plain;
  return Buffer.from(String(readEncodedInt(input, encoding, what)), 'latin1');
}

function readEncodedInt(input: RdbInput, encoding: number, what: string): number {
  const buf = input.buf;
  if (encoding === RDB_ENC_INT8) {
    input.require(1);
    return buf.readInt8(input.pos++);
  }
  if (encoding === RDB_ENC_INT16) {
    input.require(2);
    const v = buf.readInt16LE(input.pos);
    input.pos += 2;
    return v;
  }
  if (encoding === RDB_ENC_INT32) {
    input.require(4);
    const v = buf.readInt32LE(input.pos);
    input.pos += 4;
    return v;
  }
  throw new RdbError('RDB_CORRUPT', `${what}: unknown string encoding ${encoding}`, input.offset - 1);
}

/** An LZF string decompressed into a reused buffer: only the JS string made from it survives. */
function readLzfString(input: RdbInput, what: string): string {
  const { plain, plainLen } = readLzf(input, what, scratchPlain);
  if (plain !== scratchPlain && plain.length <= SCRATCH_KEEP_BYTES) scratchPlain = plain;
  return plain.latin1Slice(0, plainLen);
}

/**
 * Decompresses the LZF string at the input into `into` (grown when too small), or without `into` into a new buffer
 * of exactly its length.
 */
function readLzf(input: RdbInput, what: string, into?: Buffer): { plain: Buffer; plainLen: number } {
  const compressedLen = readLength(input, what, 'LZF compressed length');
  const plainLen = readLength(input, what, 'LZF length');
  if (plainLen > input.maxUnitBytes) {
    throw new RdbError(
      'RDB_LIMIT_EXCEEDED',
      `${what} of ${plainLen} bytes exceeds the limit of ${input.maxUnitBytes} bytes`,
      input.offset,
    );
  }
  input.requireUnit(compressedLen, what);
  const start = input.pos;
  const target = into === undefined ? undefined : scratch(into, plainLen);
  const plain = lzfDecompress(input.buf, start, start + compressedLen, plainLen, input.offset, target);
  input.pos = start + compressedLen;
  return { plain, plainLen };
}

let scratchIn: Buffer = Buffer.allocUnsafe(4096);
let scratchPlain: Buffer = Buffer.allocUnsafe(4096);
let scratchOut: Buffer = Buffer.allocUnsafe(4096);

function scratch(current: Buffer, n: number): Buffer {
  if (current.length >= n) return current;
  return Buffer.allocUnsafe(Math.max(n, current.length * 2));
}

/** Room for `n` bytes of the compressor's input (kept for the next string unless it grew past SCRATCH_KEEP_BYTES). */
function compressorInput(n: number): Buffer {
  const src = scratch(scratchIn, n);
  if (src.length <= SCRATCH_KEEP_BYTES) scratchIn = src;
  return src;
}

/** Writes a latin1 string choosing the encoding as Redis does. */
export function writeString(out: ByteSink, s: string, compress: boolean): void {
  const n = s.length;
  if (n <= INT_ENCODING_MAX_CHARS && n > 0) {
    const c = s.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 45) {
      const v = canonicalInt64(s);
      if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) {
        writeIntEncoded(out, v);
        return;
      }
    }
  }
  if (compress && n >= LZF_MIN_INPUT_BYTES) {
    const src = compressorInput(n);
    src.latin1Write(s, 0, n);
    writeBlob(out, src, 0, n, true);
    return;
  }
  writeLength(out, n);
  out.latin1(s);
}

/**
 * Writes a string kept as bytes (model.ts) as writeString would write the same chars: its bytes go straight from
 * their source into the output, or into the compressor's input.
 */
export function writeStoredString(out: ByteSink, s: StoredBytes, compress: boolean): void {
  const n = s.length;
  if (n <= INT_ENCODING_MAX_CHARS) return writeString(out, stringValue(s), compress);
  if (compress && n >= LZF_MIN_INPUT_BYTES) {
    const src = compressorInput(n);
    s.source.copyString(s.ref, src, 0);
    writeBlob(out, src, 0, n, true);
    return;
  }
  writeLength(out, n);
  out.ensure(n);
  out.pos += s.source.copyString(s.ref, out.buf, out.pos);
}

/** Writes bytes as an RDB string, LZF-compressed when asked and worthwhile. */
export function writeBlob(
  out: ByteSink,
  src: Uint8Array,
  start: number,
  end: number,
  compress: boolean,
): void {
  const n = end - start;
  if (compress && n >= LZF_MIN_INPUT_BYTES) {
    const limit = n - LZF_MIN_SAVING_BYTES;
    const dst = scratch(scratchOut, limit);
    if (dst.length <= SCRATCH_KEEP_BYTES) scratchOut = dst;
    const compressed = lzfCompress(src, start, end, dst, 0, limit);
    if (compressed > 0) {
      out.u8(0xc0 | RDB_ENC_LZF);
      writeLength(out, compressed);
      writeLength(out, n);
      out.bytes(dst, 0, compressed);
      return;
    }
  }
  writeLength(out, n);
  out.bytes(src, start, end);
}

function writeIntEncoded(out: ByteSink, v: number): void {
  out.ensure(5);
  const buf = out.buf;
  if (v >= -128 && v <= 127) {
    buf[out.pos] = 0xc0 | RDB_ENC_INT8;
    buf.writeInt8(v, out.pos + 1);
    out.pos += 2;
  } else if (v >= -32768 && v <= 32767) {
    buf[out.pos] = 0xc0 | RDB_ENC_INT16;
    buf.writeInt16LE(v, out.pos + 1);
    out.pos += 3;
  } else {
    buf[out.pos] = 0xc0 | RDB_ENC_INT32;
    buf.writeInt32LE(v, out.pos + 1);
    out.pos += 5;
  }
}
