/**
 * Loading a full-sync snapshot on a replica, as it arrives, into a *fresh* set of databases, so the old dataset
 * keeps being served until the new one is complete and swapped in (in one synchronous step).
 *
 * Framing, as Redis sends it after +FULLRESYNC:
 * - `$<length>\r\n` then exactly <length> bytes of RDB (disk-based masters);
 * - `$EOF:<40 chars>\r\n` then the RDB then the same 40 chars (diskless masters). The end is found by the RDB
 *   parser (EOF opcode and checksum), then the mark must follow; the bytes after it belong to the stream.
 * The RDB is parsed incrementally by the persistence loader (persistence/rdbFile.ts): memory is the new dataset
 * plus one chunk.
 * Keys already expired are loaded anyway: on a replica the master decides when a key is gone (its DEL follows).
 */
import { RdbLoader, type LoadedDatabase } from '../persistence/rdbFile';

export type SnapshotFraming = { kind: 'length'; bytes: number } | { kind: 'eof'; mark: string };

export class SnapshotLoadError extends Error {
  readonly code = 'REPL_SNAPSHOT_LOAD';
}

export type { LoadedDatabase };

export class SnapshotLoad {
  /** Payload bytes received so far (master_sync_read_bytes). */
  readBytes = 0;
  private readonly loader: RdbLoader;
  private finished = false;
  /** EOF framing: bytes after the RDB footer, until the mark is complete. */
  private tail: Buffer = Buffer.alloc(0);
  private rest: Buffer = Buffer.alloc(0);

  constructor(
    dbCount: number,
    readonly framing: SnapshotFraming,
    nowMs: () => number = Date.now,
    source = 'the replication stream',
  ) {
    // A replica keeps keys that are already expired: the master's DEL will come.
    this.loader = new RdbLoader({ dbCount, nowMs, dropExpired: false, source });
  }

  get dbs(): readonly LoadedDatabase[] {
    return this.loader.dbs;
  }

  get aux(): ReadonlyMap<string, string> {
    return this.loader.aux;
  }

  get keysLoaded(): number {
    return this.loader.keysLoaded;
  }

  /** Total payload size (master_sync_total_bytes): the length, or 0 for EOF framing (unknown), as Redis. */
  get totalBytes(): number {
    return this.framing.kind === 'length' ? this.framing.bytes : 0;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Bytes received after the end of the snapshot (the beginning of the stream). */
  takeRest(): Buffer {
    const r = this.rest;
    this.rest = Buffer.alloc(0);
    return r;
  }

  /** Feeds payload bytes; returns true once the whole snapshot is in. Throws SnapshotLoadError or RdbLoadError. */
  push(chunk: Buffer): boolean {
    if (this.finished) {
      this.rest = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
      return true;
    }
    const loader = this.loader;
    if (this.framing.kind === 'length') {
      const left = this.framing.bytes - this.readBytes;
      const mine = chunk.length <= left ? chunk : chunk.subarray(0, left);
      this.readBytes += mine.length;
      loader.push(mine);
      const complete = this.readBytes === this.framing.bytes;
      if (complete) loader.end();
      loader.drain();
      if (complete) {
        if (!loader.finished) throw new SnapshotLoadError('snapshot ended before the end of the RDB data');
        if (loader.takeRemaining().length > 0) {
          throw new SnapshotLoadError('bytes after the end of the RDB data in the snapshot');
        }
        this.finished = true;
        if (mine.length < chunk.length) this.rest = chunk.subarray(mine.length);
      }
      return this.finished;
    }
    this.readBytes += chunk.length;
    if (!loader.finished) {
      loader.push(chunk);
      if (!loader.drain()) return false;
      this.tail = loader.takeRemaining();
    } else {
      this.tail = Buffer.concat([this.tail, chunk]);
    }
    const mark = this.framing.mark;
    if (this.tail.length < mark.length) return false;
    if (this.tail.latin1Slice(0, mark.length) !== mark) {
      throw new SnapshotLoadError('the end-of-file mark does not follow the RDB data');
    }
    this.rest = this.tail.subarray(mark.length);
    this.tail = Buffer.alloc(0);
    this.readBytes -= this.rest.length;
    this.finished = true;
    return true;
  }
}
