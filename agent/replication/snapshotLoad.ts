/**
 * Loading a full-sync snapshot on a replica, as it arrives, into a *fresh* set of databases, so the old dataset
 * keeps being served until the new one is complete and swapped in (in one synchronous step).
 *
 * Framing, as Redis sends it after +FULLRESYNC:
 * - `$<length>\r\n` then exactly <length> bytes of RDB (disk-based masters);
 * - `$EOF:<40 chars>\r\n` then the RDB then the same 40 chars (diskless masters). The end is found by the RDB
 *   parser (EOF opcode and checksum), then the mark must follow; the bytes after it belong to the stream.
 * The RDB is parsed incrementally (persistence/rdbReader.ts): memory is the new dataset plus one chunk.
 * Keys already expired are loaded anyway: on a replica the master decides when a key is gone (its DEL follows).
 */
import { RdbParser, type RdbEvent } from '../persistence';
import type { Value } from '../keyspace/database';
import { rdbToValue } from './keyspaceRdb';

export type SnapshotFraming = { kind: 'length'; bytes: number } | { kind: 'eof'; mark: string };

export class SnapshotLoadError extends Error {
  readonly code = 'REPL_SNAPSHOT_LOAD';
}

export interface LoadedDatabase {
  dict: Map<string, Value>;
  expires: Map<string, number>;
}

export class SnapshotLoad {
  readonly dbs: LoadedDatabase[];
  readonly aux = new Map<string, string>();
  keysLoaded = 0;
  /** Payload bytes received so far (master_sync_read_bytes). */
  readBytes = 0;
  private readonly parser: RdbParser;
  private finished = false;
  /** EOF framing: bytes after the RDB footer, until the mark is complete. */
  private tail: Buffer = Buffer.alloc(0);
  private rest: Buffer = Buffer.alloc(0);

  constructor(
    dbCount: number,
    readonly framing: SnapshotFraming,
    source = 'the replication stream',
  ) {
    this.dbs = Array.from({ length: dbCount }, () => ({ dict: new Map(), expires: new Map() }));
    this.parser = new RdbParser({ source });
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

  /** Feeds payload bytes; returns true once the whole snapshot is in. Throws SnapshotLoadError or RdbError. */
  push(chunk: Buffer): boolean {
    if (this.finished) {
      this.rest = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
      return true;
    }
    if (this.framing.kind === 'length') {
      const left = this.framing.bytes - this.readBytes;
      const mine = chunk.length <= left ? chunk : chunk.subarray(0, left);
      this.readBytes += mine.length;
      this.parser.push(mine);
      if (this.readBytes === this.framing.bytes) this.parser.end();
      this.drain();
      if (this.readBytes === this.framing.bytes) {
        if (!this.parser.finished)
          throw new SnapshotLoadError('snapshot ended before the end of the RDB data');
        if (this.parser.takeRemaining().length > 0) {
          throw new SnapshotLoadError('bytes after the end of the RDB data in the snapshot');
        }
        this.finished = true;
        if (mine.length < chunk.length) this.rest = chunk.subarray(mine.length);
      }
      return this.finished;
    }
    this.readBytes += chunk.length;
    if (!this.parser.finished) {
      this.parser.push(chunk);
      this.drain();
      if (!this.parser.finished) return false;
      this.tail = this.parser.takeRemaining();
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

  private drain(): void {
    for (let event = this.parser.next(); event !== null; event = this.parser.next()) this.apply(event);
  }

  private apply(event: RdbEvent): void {
    switch (event.kind) {
      case 'aux':
        this.aux.set(event.name, event.value);
        return;
      case 'entry': {
        const e = event.entry;
        const db = this.dbs[e.db];
        if (db === undefined) {
          throw new SnapshotLoadError(
            `the snapshot uses database ${e.db}, but this server has ${this.dbs.length} (see 'databases')`,
          );
        }
        db.dict.set(e.key, rdbToValue(e.value));
        if (e.expireAtMs !== null) db.expires.set(e.key, e.expireAtMs);
        this.keysLoaded++;
        return;
      }
      default:
        return;
    }
  }
}
