/**
 * Growable output for the RDB writer and the compact-encoding builders.
 *
 * Why not one growing Buffer: a snapshot of a large dataset must leave the process as a stream of chunks, and copying
 * a multi-gigabyte buffer on every doubling would be slow and double the memory. The sink writes into blocks of
 * blockBytes; take() hands out what was written since the last take as a list of Buffers (views into the blocks, never
 * written again), so a consumer can send them to a file or to several sockets without copying.
 * Invariant: bytes before `start` in the current block were handed out and are immutable.
 */

export const DEFAULT_BLOCK_BYTES = 64 * 1024;

export class ByteSink {
  buf: Buffer;
  pos = 0;
  private start = 0;
  private done: Buffer[] = [];
  private doneBytes = 0;

  constructor(readonly blockBytes = DEFAULT_BLOCK_BYTES) {
    this.buf = Buffer.allocUnsafe(blockBytes);
  }

  /** Bytes written and not yet taken. */
  get pendingBytes(): number {
    return this.doneBytes + this.pos - this.start;
  }

  /** Makes room for n contiguous bytes at pos. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.newBlock(n);
  }

  private newBlock(n: number): void {
    if (this.pos > this.start) {
      this.done.push(this.buf.subarray(this.start, this.pos));
      this.doneBytes += this.pos - this.start;
    }
    this.buf = Buffer.allocUnsafe(Math.max(this.blockBytes, n));
    this.pos = 0;
    this.start = 0;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32LE(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** Signed 64-bit little-endian from a JS number (exact for |v| < 2^53). */
  i64LE(v: number): void {
    this.ensure(8);
    const lo = v % 4294967296;
    const hi = Math.floor(v / 4294967296);
    this.buf.writeUInt32LE((lo + 4294967296) % 4294967296, this.pos);
    this.buf.writeInt32LE(hi | 0, this.pos + 4);
    this.pos += 8;
  }

  f64LE(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Writes the bytes of a latin1 string (one byte per char). */
  latin1(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    if (n < 32) {
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    } else {
      p += buf.latin1Write(s, p, n);
    }
    this.pos = p;
  }

  bytes(src: Uint8Array, from = 0, to = src.length): void {
    const n = to - from;
    this.ensure(n);
    if (n < 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = from; i < to; i++) buf[p++] = src[i];
    } else {
      this.buf.set(src.subarray(from, to), this.pos);
    }
    this.pos += n;
  }

  /** Hands out everything written since the previous take, in order. */
  take(): Buffer[] {
    const out = this.done;
    if (this.pos > this.start) out.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
    this.done = [];
    this.doneBytes = 0;
    return out;
  }

  /** Everything written since the previous take, as one Buffer. */
  takeAll(): Buffer {
    const parts = this.take();
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
