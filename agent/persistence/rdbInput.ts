/**
 * The input window of the RDB pull parser: bytes arrive in chunks (a file stream, a replication socket), the parser
 * reads from one contiguous Buffer, and "not enough bytes yet" is a normal outcome, not an error.
 *
 * Protocol with the parser: every read calls require(n); when fewer than n bytes are buffered it records how far the
 * input must reach (needUntilOffset) and throws the NEED_MORE sentinel. The parser catches it, rewinds to the start of
 * the unit it was reading (a unit is small: an opcode, one element, one string whose length is known after its
 * header) and reports "need more". push() keeps chunks aside without copying until the buffered input reaches
 * needUntilOffset, so a 100 MB string arriving in 64 KB chunks is concatenated once, not once per chunk.
 *
 * Invariants: `base` is the absolute input offset of buf[0]; bytes before `pos` are consumed. The CRC64 of consumed
 * bytes is folded in lazily (when consumed bytes are dropped, and at EOF) so every input byte is checksummed once.
 * Limits: a single unit may not exceed maxUnitBytes (the largest string we accept), so a corrupt length cannot make
 * the window grow without bound.
 */

import { Crc64 } from './crc64';
import { RdbError } from './errors';

/** Thrown by require() when the window ends before the unit does; caught by the parser, never escapes it. */
export const NEED_MORE: { readonly needMore: true } = Object.freeze({ needMore: true as const });

const EMPTY = Buffer.alloc(0);

export class RdbInput {
  buf: Buffer = EMPTY;
  pos = 0;
  /** Start of the unit being read: where a NEED_MORE rewinds to. */
  mark = 0;
  /** Absolute input offset of buf[0]. */
  base = 0;
  /** push() will not be followed by more input; running out is then truncation. */
  ended = false;
  /** Absolute offset the window must reach before a retry can make progress. */
  needUntilOffset = 0;
  readonly crc = new Crc64();
  /** Absolute offset up to which bytes have been folded into crc. */
  private crcOffset = 0;
  private crcFrozen = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(readonly maxUnitBytes: number) {}

  push(chunk: Buffer): void {
    if (this.ended) throw new Error('RdbInput.push after end()');
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  end(): void {
    this.ended = true;
  }

  /** Absolute offset of the read position. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes held: the unit being read and everything received after it. */
  get bufferedBytes(): number {
    return this.buf.length - this.mark + this.pendingBytes;
  }

  /** Absolute offset just past the last byte received so far. */
  get receivedOffset(): number {
    return this.base + this.buf.length + this.pendingBytes;
  }

  /**
   * Makes pending chunks readable if that lets the parser progress. Returns false when the input still ends before
   * needUntilOffset and more may come (the parser should report "need more" without trying).
   */
  prepare(): boolean {
    if (this.pendingBytes === 0) return this.ended || this.base + this.buf.length >= this.needUntilOffset;
    if (!this.ended && this.receivedOffset < this.needUntilOffset) return false;
    // drop what is consumed (everything before the unit being read), folding it into the CRC first
    const keep = this.mark;
    this.foldCrcUpTo(this.base + keep);
    const rest = this.buf.length - keep;
    if (rest === 0 && this.pending.length === 1) {
      this.buf = this.pending[0];
    } else {
      const parts = rest > 0 ? [this.buf.subarray(keep), ...this.pending] : this.pending;
      this.buf = Buffer.concat(parts, rest + this.pendingBytes);
    }
    this.base += keep;
    this.pos -= keep;
    this.mark = 0;
    this.pending = [];
    this.pendingBytes = 0;
    return true;
  }

  /** Folds consumed bytes up to absolute offset `upTo` into the running CRC. */
  foldCrcUpTo(upTo: number): void {
    if (this.crcFrozen || upTo <= this.crcOffset) return;
    this.crc.update(this.buf, this.crcOffset - this.base, upTo - this.base);
    this.crcOffset = upTo;
  }

  /** Folds everything consumed so far into the CRC and stops: later bytes (the checksum itself) are not covered. */
  freezeCrc(): Crc64 {
    this.foldCrcUpTo(this.offset);
    this.crcFrozen = true;
    return this.crc;
  }

  /** The unit read so far is complete: a later NEED_MORE rewinds only to here. */
  commit(): void {
    this.mark = this.pos;
  }

  /** Back to the start of the unfinished unit. */
  rewind(): void {
    this.pos = this.mark;
  }

  /** Ensures n bytes are readable at pos, or throws NEED_MORE. */
  require(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.needUntilOffset = this.base + this.pos + n;
      throw NEED_MORE;
    }
  }

  /** Ensures a unit of n bytes (n from the input itself) is within limits and readable. */
  requireUnit(n: number, what: string): void {
    if (n > this.maxUnitBytes) {
      throw new RdbError(
        'RDB_LIMIT_EXCEEDED',
        `${what} of ${n} bytes exceeds the limit of ${this.maxUnitBytes} bytes`,
        this.offset,
      );
    }
    this.require(n);
  }

  u8(): number {
    this.require(1);
    return this.buf[this.pos++];
  }

  /** The unconsumed bytes (after the parser finished, the data following the RDB payload). */
  takeRemaining(): Buffer {
    const parts = [this.buf.subarray(this.pos), ...this.pending];
    const out = Buffer.concat(parts);
    this.base += this.buf.length + this.pendingBytes;
    this.buf = EMPTY;
    this.pos = 0;
    this.mark = 0;
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }
}
