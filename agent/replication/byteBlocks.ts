/**
 * An append-only byte store in fixed-size blocks: what the master keeps of the replication stream for replicas
 * that are still receiving their snapshot. The stream arrives a command at a time; keeping a Buffer per command
 * would mean millions of small objects for the GC to trace during a long full sync. Copying them into large
 * blocks costs one memcpy per command and keeps the object count at bytes / BLOCK_BYTES.
 *
 * Views handed out by `views()` never change afterwards: later appends go past them, so they can be queued on a
 * socket while appending continues.
 */

/** Size of each block. */
export const BLOCK_BYTES = 256 * 1024;

export class ByteBlocks {
  private readonly blocks: Buffer[] = [];
  /** Bytes used in the last block. */
  private fill = 0;
  private total = 0;

  get bytes(): number {
    return this.total;
  }

  /** Appends the first `length` bytes of `data`. */
  append(data: Buffer, length = data.length): void {
    let at = 0;
    while (at < length) {
      let block = this.blocks[this.blocks.length - 1];
      if (block === undefined || this.fill === block.length) {
        block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, length - at));
        this.blocks.push(block);
        this.fill = 0;
      }
      const n = Math.min(block.length - this.fill, length - at);
      data.copy(block, this.fill, at, at + n);
      this.fill += n;
      at += n;
    }
    this.total += length;
  }

  /** Everything appended so far, as views in order. */
  views(): Buffer[] {
    const last = this.blocks.length - 1;
    return this.blocks.map((b, i) => (i === last ? b.subarray(0, this.fill) : b));
  }
}
