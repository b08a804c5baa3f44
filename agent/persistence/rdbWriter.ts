/**
 * Streaming RDB writer: turns entries into an RDB file as a sequence of Buffer chunks.
 *
 * Why chunks: the same snapshot must go to a file, a replica socket or several sockets, at the consumer's pace and
 * without materialising the whole file. RdbEncoder is the synchronous core (header, entries, footer, take the bytes
 * produced so far); rdbChunks()/rdbChunksAsync() are pull-based generators over an entry source that only advance the
 * source when the consumer asks for the next chunk, which is how backpressure reaches the keyspace walk.
 * Chunks are never written to again once handed out, so one chunk can be queued on several sockets.
 *
 * File written: "REDIS0010", AUX fields (a parameter; redisAuxFields() builds Redis's usual set), then per database
 * SELECTDB and RESIZEDB (when sizes are known), per key EXPIRETIME_MS / IDLE / FREQ when present and the value
 * (rdbValueWriter.ts), then EOF and the CRC64 of everything before (zeros with checksum off, as rdbchecksum no).
 * Entries may come in any db order; a db change emits SELECTDB, RESIZEDB only the first time a db is seen.
 */

import { ByteSink } from './byteSink';
import { Crc64 } from './crc64';
import { RdbEncodeError } from './errors';
import type { RdbEntry } from './model';
import { RDB_CHECKSUM_MIN_VERSION, RDB_DEFAULT_WRITE_VERSION, RDB_MAGIC, RDB_OPCODE } from './rdbFormat';
import { writeLength } from './rdbLength';
import { writeString } from './rdbString';
import { REDIS_DEFAULT_ENCODING_LIMITS, isEmptyValue, writeValue } from './rdbValueWriter';
import type { RdbEncodingLimits, ValueWriteOptions } from './rdbValueWriter';

export const DEFAULT_CHUNK_BYTES = 64 * 1024;

export interface RdbDbSize {
  keyCount: number;
  expiresCount: number;
}

export interface RdbWriterOptions {
  /** RDB version in the header (default 10, the newest Redis 7.0 loads). */
  rdbVersion?: number;
  /** AUX fields in order (default none; see redisAuxFields()). */
  aux?: ReadonlyArray<readonly [string, string]>;
  /** LZF-compress strings and blobs longer than 20 bytes (rdbcompression, default true). */
  compress?: boolean;
  /** Write the CRC64 footer (rdbchecksum, default true); false writes zeros, which loaders treat as "no checksum". */
  checksum?: boolean;
  /** Upper bound of the chunks the generators yield (default 64 KiB). */
  chunkBytes?: number;
  /** Compact-encoding thresholds (default: Redis's defaults). */
  encodingLimits?: Partial<RdbEncodingLimits>;
  /** Sizes per db for RESIZEDB hints; dbs not listed get no RESIZEDB. */
  dbSizes?: ReadonlyMap<number, RdbDbSize>;
}

export interface RedisAuxInfo {
  /** redis-ver (default "7.0.0"). */
  redisVersion?: string;
  /** ctime, unix seconds (default: now). */
  ctimeSec?: number;
  /** used-mem in bytes (default 0). */
  usedMemBytes?: number;
  /** repl-stream-db, repl-id, repl-offset: written only when replId is given. */
  replStreamDb?: number;
  replId?: string;
  replOffset?: number;
  /** aof-base: 1 when the RDB is the base of an AOF (default false). */
  aofBase?: boolean;
}

/** The AUX fields Redis 7.0 writes, in its order. */
export function redisAuxFields(info: RedisAuxInfo = {}): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['redis-ver', info.redisVersion ?? '7.0.0'],
    ['redis-bits', '64'],
    ['ctime', String(info.ctimeSec ?? Math.floor(Date.now() / 1000))],
    ['used-mem', String(info.usedMemBytes ?? 0)],
  ];
  if (info.replId !== undefined) {
    fields.push(['repl-stream-db', String(info.replStreamDb ?? 0)]);
    fields.push(['repl-id', info.replId]);
    fields.push(['repl-offset', String(info.replOffset ?? 0)]);
  }
  fields.push(['aof-base', info.aofBase ? '1' : '0']);
  return fields;
}

const enum Phase {
  Start,
  Body,
  Finished,
}

/** Synchronous RDB encoder: call writeHeader(), writeEntry()..., writeFooter(), taking chunks at any point. */
export class RdbEncoder {
  private readonly out: ByteSink;
  private readonly crc = new Crc64();
  private readonly version: number;
  private readonly checksum: boolean;
  private readonly aux: ReadonlyArray<readonly [string, string]>;
  private readonly dbSizes: ReadonlyMap<number, RdbDbSize> | null;
  private readonly valueOptions: ValueWriteOptions;
  /** valueOptions without compression, for entries that must be written cheaply. */
  private readonly cheapValueOptions: ValueWriteOptions;
  private phase = Phase.Start;
  private currentDb = NaN; // no db selected yet: the first entry always emits SELECTDB
  private readonly dbsSeen = new Set<number>();
  /** Bytes already checksummed but not yet taken (the footer's). */
  private ready: Buffer[] = [];
  private skipped = 0;
  private written = 0;

  constructor(options: RdbWriterOptions = {}) {
    this.version = options.rdbVersion ?? RDB_DEFAULT_WRITE_VERSION;
    if (!Number.isInteger(this.version) || this.version < 1 || this.version > 9999) {
      throw new RdbEncodeError('RDB_INVALID_VALUE', `RDB version ${this.version} cannot be written`);
    }
    this.checksum = options.checksum ?? true;
    this.aux = options.aux ?? [];
    this.dbSizes = options.dbSizes ?? null;
    this.valueOptions = {
      compress: options.compress ?? true,
      limits: { ...REDIS_DEFAULT_ENCODING_LIMITS, ...options.encodingLimits },
    };
    this.cheapValueOptions = { ...this.valueOptions, compress: false };
    this.out = new ByteSink(Math.max(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, 4096));
  }

  /** Bytes produced and not yet taken. */
  get pendingBytes(): number {
    return this.out.pendingBytes + this.ready.reduce((n, b) => n + b.length, 0);
  }

  /** Entries written / skipped (empty collections). */
  get entriesWritten(): number {
    return this.written;
  }

  get entriesSkipped(): number {
    return this.skipped;
  }

  writeHeader(): void {
    this.expectPhase(Phase.Start, 'writeHeader');
    const out = this.out;
    out.latin1(`${RDB_MAGIC}${String(this.version).padStart(4, '0')}`);
    for (const [name, value] of this.aux) {
      out.u8(RDB_OPCODE.AUX);
      writeString(out, name, this.valueOptions.compress);
      writeString(out, value, this.valueOptions.compress);
    }
    this.phase = Phase.Body;
  }

  /**
   * Writes one key; returns false if it was skipped (an empty collection). `cheap` skips compression: for entries
   * written in the middle of a client's command (a snapshot's change hook), where LZF would cost that command.
   */
  writeEntry(entry: RdbEntry, cheap = false): boolean {
    this.expectPhase(Phase.Body, 'writeEntry');
    const out = this.out;
    if (isEmptyValue(entry.value)) {
      this.skipped++;
      return false;
    }
    const db = entry.db;
    if (db !== this.currentDb) {
      if (!Number.isInteger(db) || db < 0) {
        throw new RdbEncodeError('RDB_INVALID_VALUE', `database number ${db} is not a non-negative integer`);
      }
      out.u8(RDB_OPCODE.SELECTDB);
      writeLength(out, db);
      const sizes = this.dbSizes?.get(db);
      if (sizes !== undefined && !this.dbsSeen.has(db)) {
        out.u8(RDB_OPCODE.RESIZEDB);
        writeLength(out, sizes.keyCount);
        writeLength(out, sizes.expiresCount);
      }
      this.dbsSeen.add(db);
      this.currentDb = db;
    }
    if (entry.expireAtMs !== null) {
      out.u8(RDB_OPCODE.EXPIRETIME_MS);
      out.i64LE(entry.expireAtMs);
    }
    if (entry.lruIdleSec !== undefined) {
      out.u8(RDB_OPCODE.IDLE);
      writeLength(out, entry.lruIdleSec);
    }
    if (entry.lfuFreq !== undefined) {
      out.u8(RDB_OPCODE.FREQ);
      out.u8(entry.lfuFreq);
    }
    writeValue(out, entry.value, cheap ? this.cheapValueOptions : this.valueOptions, entry.key);
    this.written++;
    return true;
  }

  /** Writes EOF and the checksum; the encoder is finished afterwards. */
  writeFooter(): void {
    this.expectPhase(Phase.Body, 'writeFooter');
    const out = this.out;
    out.u8(RDB_OPCODE.EOF);
    for (const part of out.take()) {
      this.crc.update(part);
      this.ready.push(part);
    }
    if (this.version >= RDB_CHECKSUM_MIN_VERSION) {
      out.ensure(8);
      if (this.checksum) this.crc.writeLE(out.buf, out.pos);
      else out.buf.fill(0, out.pos, out.pos + 8);
      out.pos += 8;
    }
    this.phase = Phase.Finished;
  }

  get finished(): boolean {
    return this.phase === Phase.Finished;
  }

  /** Everything produced since the last take, in order. */
  take(): Buffer[] {
    const parts = this.out.take();
    if (this.phase !== Phase.Finished) for (const part of parts) this.crc.update(part);
    if (this.ready.length === 0) return parts;
    const all = this.ready.concat(parts);
    this.ready = [];
    return all;
  }

  private expectPhase(phase: Phase, call: string): void {
    if (this.phase !== phase)
      throw new RdbEncodeError('RDB_WRITER_STATE', `RdbEncoder.${call} called out of order`);
  }
}

function* splitChunks(parts: Buffer[], maxBytes: number): Generator<Buffer, void, undefined> {
  for (const part of parts) {
    for (let p = 0; p < part.length; p += maxBytes)
      yield part.subarray(p, Math.min(p + maxBytes, part.length));
  }
}

/**
 * The RDB file of `entries` as chunks of at most chunkBytes. The source is read lazily: one entry at a time, only
 * while fewer than chunkBytes are waiting to be pulled.
 */
export function* rdbChunks(
  entries: Iterable<RdbEntry>,
  options: RdbWriterOptions = {},
): Generator<Buffer, void, undefined> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const encoder = new RdbEncoder(options);
  encoder.writeHeader();
  for (const entry of entries) {
    encoder.writeEntry(entry);
    if (encoder.pendingBytes >= chunkBytes) yield* splitChunks(encoder.take(), chunkBytes);
  }
  encoder.writeFooter();
  yield* splitChunks(encoder.take(), chunkBytes);
}

/** As rdbChunks(), for an asynchronous entry source (a keyspace walk that yields to the event loop). */
export async function* rdbChunksAsync(
  entries: AsyncIterable<RdbEntry> | Iterable<RdbEntry>,
  options: RdbWriterOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const encoder = new RdbEncoder(options);
  encoder.writeHeader();
  for await (const entry of entries) {
    encoder.writeEntry(entry);
    if (encoder.pendingBytes >= chunkBytes) yield* splitChunks(encoder.take(), chunkBytes);
  }
  encoder.writeFooter();
  yield* splitChunks(encoder.take(), chunkBytes);
}

/** The whole RDB file of `entries` in one Buffer (tests, small datasets). */
export function encodeRdb(entries: Iterable<RdbEntry>, options: RdbWriterOptions = {}): Buffer {
  const encoder = new RdbEncoder(options);
  encoder.writeHeader();
  for (const entry of entries) encoder.writeEntry(entry);
  encoder.writeFooter();
  return Buffer.concat(encoder.take());
}
