/**
 * A point-in-time RDB image of the keyspace as a pull stream of chunks: the fork-less snapshot (snapshot.ts) feeding
 * the RDB encoder. This is what BGSAVE writes to a file, what replication sends to replicas (diskless full sync fans
 * the same chunks out to several sockets) and what the AOF rewrite uses as its RDB preamble.
 *
 * Contract (the one replication's snapshotSource.ts expects):
 * - the cut is taken synchronously by the constructor, so the caller can read its replication offset in the same
 *   turn;
 * - work happens only when the consumer pulls (`next()`): a slow consumer slows the walk, and the only bytes that
 *   accumulate without a pull are the entries of keys changed meanwhile (written before their change);
 * - the walk works for at most `sliceMs` between two yields to the event loop, however the consumer pulls, so no
 *   single turn stalls clients; while clients keep the server busy, `pace` (snapshotPacing.ts) turns each yield
 *   into a pause that keeps the walk to its share of the time;
 * - chunks are never modified after being returned (one chunk may be queued on several sockets);
 * - `return()` abandons the snapshot and releases everything it holds.
 * `keyDelayUs` (rdb-key-save-delay, as in Redis's tests) slows the walk down on purpose: the walk then writes a few
 * keys per timer tick, so that tests can change the dataset while a snapshot is running.
 */
import { performance } from 'node:perf_hooks';
import type { Keyspace } from '../keyspace/database';
import type { RdbEntry } from './model';
import { pauseForClients, sliceMsFor, type SnapshotPacing } from './snapshotPacing';
import { DEFAULT_CHUNK_BYTES, RdbEncoder, type RdbWriterOptions } from './rdbWriter';
import {
  KeyspaceSnapshot,
  type SnapshotOptions,
  type SnapshotRegistry,
  type SnapshotStats,
} from './snapshot';

/** Default time a pull may spend walking before it yields. */
export const DEFAULT_SLICE_MS = 2;

export interface StreamOptions extends SnapshotOptions {
  chunkBytes?: number;
  sliceMs?: number;
  /** Sharing the time with clients; without it the walk only yields between slices. */
  pace?: SnapshotPacing;
  /** Artificial delay per key in microseconds (rdb-key-save-delay); read at every pull. */
  keyDelayUs?: () => number;
}

export interface RdbSnapshotOptions extends StreamOptions {
  aux?: ReadonlyArray<readonly [string, string]>;
  /** rdbcompression */
  compress?: boolean;
  /** rdbchecksum */
  checksum?: boolean;
  rdbVersion?: number;
  /** Compact-encoding thresholds for the encoder. */
  encodingLimits?: RdbWriterOptions['encodingLimits'];
}

/** What turns snapshot entries into bytes: the RDB encoder, or the AOF rewrite's command writer. */
export interface ChunkEncoder {
  /** `cheap`: the entry is written in the middle of a client's command (the RDB encoder skips compression). */
  writeEntry(entry: RdbEntry, cheap: boolean): unknown;
  writeFooter(): void;
  take(): Buffer[];
  readonly pendingBytes: number;
}

/**
 * The driver: a snapshot walked in slices into an encoder, handed out as chunks on pull. `makeEncoder` receives
 * the sizes of the databases at the cut (RESIZEDB hints) and must have written any header already.
 */
export class SnapshotChunkStream implements AsyncIterator<Buffer, void, undefined> {
  readonly snapshot: KeyspaceSnapshot;
  /** When the cut was taken (performance.now()). */
  readonly startedAt = performance.now();
  private readonly encoder: ChunkEncoder;
  private readonly chunkBytes: number;
  private readonly sliceMs: number;
  private readonly pace: SnapshotPacing | undefined;
  /** Time the walk worked since it last yielded to the event loop. */
  private workMs = 0;
  private readonly keyDelayUs: () => number;
  private ready: Buffer[] = [];
  private closed = false;
  private failure: Error | null = null;
  private footerWritten = false;
  /** Bytes handed to the consumer. */
  bytesOut = 0;

  constructor(
    keyspace: Keyspace,
    registry: SnapshotRegistry,
    options: StreamOptions,
    makeEncoder: (dbSizes: KeyspaceSnapshot['dbSizes']) => ChunkEncoder,
  ) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
    this.pace = options.pace;
    this.keyDelayUs = options.keyDelayUs ?? (() => 0);
    let encoder: ChunkEncoder | null = null;
    const sink = (entry: RdbEntry, duringChange: boolean): void => {
      if (this.failure !== null || encoder === null) return;
      try {
        encoder.writeEntry(entry, duringChange);
      } catch (err) {
        // A value the encoder refuses is a bug; never let it escape into the command that triggered the hook.
        this.failure = err as Error;
        this.snapshot.abort();
      }
    };
    this.snapshot = new KeyspaceSnapshot(keyspace, registry, sink, options);
    encoder = makeEncoder(this.snapshot.dbSizes);
    this.encoder = encoder;
  }

  get stats(): SnapshotStats {
    return this.snapshot.stats;
  }

  /** Bytes produced but not pulled yet (part of the snapshot's extra memory). */
  get bufferedBytes(): number {
    let n = this.encoder.pendingBytes;
    for (const b of this.ready) n += b.length;
    return n;
  }

  /** Extra memory held now: the snapshot's marks and pass tables plus the bytes produced but not pulled. */
  get extraBytes(): number {
    return this.snapshot.stats.extraBytes + this.bufferedBytes;
  }

  /** The snapshot's peak marks and pass tables plus the bytes not pulled now: what INFO reports as its COW size. */
  get cowBytes(): number {
    return this.snapshot.stats.peakExtraBytes + this.bufferedBytes;
  }

  get finished(): boolean {
    return this.footerWritten && this.ready.length === 0 && this.encoder.pendingBytes === 0;
  }

  async next(): Promise<IteratorResult<Buffer, void>> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.ready.length > 0) return this.hand(this.ready.shift()!);
      if (this.closed) return { done: true, value: undefined };
      if (this.footerWritten) {
        this.collect();
        if (this.ready.length > 0) continue;
        this.closed = true;
        return { done: true, value: undefined };
      }
      const delayUs = this.keyDelayUs();
      if (delayUs > 0) {
        await this.slowStep(delayUs);
      } else {
        // The slice is used up: let clients in (or pause for them) before walking on.
        if (this.workMs >= sliceMsFor(this.pace, this.sliceMs)) await this.yieldToClients();
        const started = performance.now();
        const deadline = started + sliceMsFor(this.pace, this.sliceMs) - this.workMs;
        this.walk(() => this.encoder.pendingBytes >= this.chunkBytes || performance.now() >= deadline);
        this.workMs += performance.now() - started;
      }
      this.collect();
    }
  }

  private async yieldToClients(): Promise<void> {
    const spentMs = this.workMs;
    this.workMs = 0;
    if (!(await pauseForClients(this.pace, spentMs))) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Abandons the snapshot. */
  async return(): Promise<IteratorResult<Buffer, void>> {
    this.close();
    return { done: true, value: undefined };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.snapshot.abort();
    this.ready = [];
    this.encoder.take();
  }

  private hand(chunk: Buffer): IteratorResult<Buffer, void> {
    this.bytesOut += chunk.length;
    return { done: false, value: chunk };
  }

  private walk(shouldStop: () => boolean, checkEvery?: number): void {
    const complete = this.snapshot.done || this.snapshot.step(shouldStop, checkEvery);
    if (complete && !this.footerWritten && this.failure === null) {
      this.encoder.writeFooter();
      this.footerWritten = true;
    }
  }

  /** rdb-key-save-delay: a few keys, then a timer, so the snapshot takes delay x keys of wall time. */
  private async slowStep(delayUs: number): Promise<void> {
    const keys = Math.max(1, Math.floor(1000 / delayUs));
    const before = this.snapshot.stats.keysWritten;
    this.walk(() => this.snapshot.stats.keysWritten - before >= keys, 1);
    const waitMs = Math.max(1, Math.round((keys * delayUs) / 1000));
    await new Promise<void>((resolve) => setTimeout(resolve, waitMs));
  }

  /** Moves what the encoder produced into `ready`, as chunks of at most chunkBytes (small parts coalesced). */
  private collect(): void {
    const max = this.chunkBytes;
    let small: Buffer[] = [];
    let smallBytes = 0;
    const flushSmall = (): void => {
      if (small.length === 0) return;
      this.ready.push(small.length === 1 ? small[0] : Buffer.concat(small, smallBytes));
      small = [];
      smallBytes = 0;
    };
    for (const part of this.encoder.take()) {
      if (part.length >= max / 2) {
        flushSmall();
        for (let p = 0; p < part.length; p += max)
          this.ready.push(part.subarray(p, Math.min(p + max, part.length)));
        continue;
      }
      if (smallBytes + part.length > max) flushSmall();
      small.push(part);
      smallBytes += part.length;
    }
    flushSmall();
  }
}

/** The RDB image of the keyspace at this instant, as a pull stream of chunks. */
export class RdbSnapshotStream extends SnapshotChunkStream {
  constructor(keyspace: Keyspace, registry: SnapshotRegistry, options: RdbSnapshotOptions = {}) {
    super(keyspace, registry, options, (dbSizes) => {
      const encoder = new RdbEncoder({
        aux: options.aux,
        compress: options.compress,
        checksum: options.checksum,
        rdbVersion: options.rdbVersion,
        chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        encodingLimits: options.encodingLimits,
        dbSizes,
      });
      encoder.writeHeader();
      return encoder;
    });
  }
}
