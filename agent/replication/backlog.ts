/**
 * The replication backlog: a ring buffer holding the newest `capacityBytes` bytes of the replication stream, so
 * that a replica that lost its link can continue with `+CONTINUE` instead of a full resync (PSYNC).
 *
 * Offsets follow Redis: the stream's bytes are numbered from 1, `masterOffset` is the number of the last byte
 * written (master_repl_offset), and the backlog holds bytes `firstByteOffset .. masterOffset`
 * (repl_backlog_first_byte_offset, repl_backlog_histlen). A replica that has processed up to offset N asks for
 * N + 1, which is servable when firstByteOffset <= N + 1 <= masterOffset + 1.
 *
 * Memory: one Buffer of the configured size, allocated when the backlog is created and reused forever; appends
 * copy into it (the stream is already encoded once per write, so one more memcpy is the whole cost).
 */

export class ReplicationBacklog {
  private ring: Buffer;
  /** Index in `ring` where the next byte goes. */
  private writeIndex = 0;
  /** Bytes of history currently held (<= capacity). */
  private held = 0;
  /** Offset of the last byte appended (master_repl_offset). */
  private lastOffset: number;

  /** `startOffset`: master_repl_offset at creation; the first byte appended will be startOffset + 1. */
  constructor(capacityBytes: number, startOffset: number) {
    this.ring = Buffer.allocUnsafe(Math.max(1, capacityBytes));
    this.lastOffset = startOffset;
  }

  get capacityBytes(): number {
    return this.ring.length;
  }

  /** repl_backlog_histlen. */
  get historyBytes(): number {
    return this.held;
  }

  /** master_repl_offset: number of the last byte appended. */
  get masterOffset(): number {
    return this.lastOffset;
  }

  /** repl_backlog_first_byte_offset: number of the oldest byte held (masterOffset + 1 when empty). */
  get firstByteOffset(): number {
    return this.lastOffset - this.held + 1;
  }

  /** Appends the first `length` bytes of `data`. */
  append(data: Buffer, length = data.length): void {
    const cap = this.ring.length;
    this.lastOffset += length;
    if (length >= cap) {
      data.copy(this.ring, 0, length - cap, length);
      this.writeIndex = 0;
      this.held = cap;
      return;
    }
    const first = Math.min(length, cap - this.writeIndex);
    data.copy(this.ring, this.writeIndex, 0, first);
    if (first < length) data.copy(this.ring, 0, first, length);
    this.writeIndex = (this.writeIndex + length) % cap;
    this.held = Math.min(cap, this.held + length);
  }

  /** Can a replica continue from `nextOffset` (the first byte it lacks)? */
  canServeFrom(nextOffset: number): boolean {
    return nextOffset >= this.firstByteOffset && nextOffset <= this.lastOffset + 1;
  }

  /** The bytes from `nextOffset` to the end, as at most two slices copied out of the ring. */
  readFrom(nextOffset: number): Buffer[] {
    if (!this.canServeFrom(nextOffset)) {
      throw new RangeError(`offset ${nextOffset} is not in the backlog (${this.firstByteOffset}..)`);
    }
    const length = this.lastOffset + 1 - nextOffset;
    if (length === 0) return [];
    const cap = this.ring.length;
    const start = (this.writeIndex - length + cap) % cap;
    if (start + length <= cap) return [Buffer.from(this.ring.subarray(start, start + length))];
    return [
      Buffer.from(this.ring.subarray(start, cap)),
      Buffer.from(this.ring.subarray(0, length - (cap - start))),
    ];
  }

  /** Changes the capacity (CONFIG SET repl-backlog-size), keeping the newest history that fits. */
  resize(capacityBytes: number): void {
    const cap = Math.max(1, capacityBytes);
    if (cap === this.ring.length) return;
    const keep = Math.min(this.held, cap);
    const tail = keep > 0 ? Buffer.concat(this.readFrom(this.lastOffset + 1 - keep)) : Buffer.alloc(0);
    this.ring = Buffer.allocUnsafe(cap);
    tail.copy(this.ring, 0);
    this.writeIndex = keep % cap;
    this.held = keep;
  }
}
