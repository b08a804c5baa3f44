/**
 * RDB files on disk: writing a dump safely and loading one into a fresh dataset.
 *
 * Writing (SAVE, BGSAVE, SHUTDOWN, the AOF base): bytes go to a temporary file in the same directory
 * (`temp-<pid>-<n>.rdb`, like Redis's temp-<pid>.rdb), which is fsynced, then renamed over the target, then the
 * directory is fsynced. A crash at any point leaves either the previous dump or the new one, never a mix; a failed
 * write removes the temporary file and leaves the previous dump untouched.
 *
 * Loading (startup, DEBUG RELOAD): the file is parsed incrementally into *new* Maps, which replace the databases'
 * Maps only once the whole file has been read and its checksum verified, so a truncated, corrupt or foreign file
 * never leaves half a dataset, and the file itself is only ever read. Keys whose expiry has passed are skipped on a
 * master, as Redis does (a replica keeps them: its master decides). Problems are RdbLoadError with the file name
 * and byte offset.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  type PathLike,
} from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { newStamp } from '../keyspace/access';
import type { Database, Keyspace } from '../keyspace/database';
import { KeyMap } from '../keyspace/keyMap';
import { ValueMap } from '../keyspace/valueMap';
import { RdbError } from './errors';
import { accessStampFrom, entryOf, rdbToValue, type AccessMode } from './keyspaceAdapter';
import { RdbParser } from './rdbReader';
import { RdbEncoder, type RdbWriterOptions } from './rdbWriter';

/** Bytes read from the file per read call while loading. */
const LOAD_READ_BYTES = 1024 * 1024;
/** Bytes the synchronous writer accumulates before a write(2). */
const SYNC_WRITE_BYTES = 1024 * 1024;
/** How long a loading slice may run before it yields to the event loop (clients get -LOADING meanwhile). */
export const LOAD_SLICE_MS = 20;

/** A dump that cannot be loaded: the environment's problem, reported with the file and the offset. */
export class RdbLoadError extends Error {
  readonly code = 'RDB_LOAD';
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number | null,
  ) {
    super(message);
  }
}

let tempCounter = 0;

/** A fresh temporary name next to `target`. */
export function tempPathFor(target: string, tag = 'rdb'): string {
  return path.join(path.dirname(target), `temp-${process.pid}-${tag}-${++tempCounter}.rdb`);
}

/** fsync of a directory, so that a rename in it is durable (errors ignored where directories cannot be synced). */
export function fsyncDir(dir: PathLike): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface SaveResult {
  bytes: number;
  keys: number;
}

/**
 * Writes the whole keyspace to `target` synchronously (SAVE blocks, as in Redis). Throws on I/O errors, leaving any
 * previous file at `target` untouched.
 */
export function saveRdbSync(
  keyspace: Keyspace,
  target: string,
  options: RdbWriterOptions & { accessMode: AccessMode; nowMs: number },
): SaveResult {
  const dbSizes = new Map<number, { keyCount: number; expiresCount: number }>();
  for (const db of keyspace.dbs) {
    if (db.size > 0) dbSizes.set(db.id, { keyCount: db.size, expiresCount: db.expires.size });
  }
  const encoder = new RdbEncoder({ ...options, dbSizes, chunkBytes: SYNC_WRITE_BYTES });
  const temp = tempPathFor(target);
  const fd = openSync(temp, 'w', 0o644);
  let bytes = 0;
  let keys = 0;
  const flush = (): void => {
    for (const part of encoder.take()) {
      let off = 0;
      while (off < part.length) off += writeSync(fd, part, off, part.length - off);
      bytes += part.length;
    }
  };
  try {
    encoder.writeHeader();
    for (const db of keyspace.dbs) {
      if (db.size === 0) continue;
      for (const [key, value] of db.dict.storedEntries()) {
        encoder.writeEntry(entryOf(db, key, value, options.accessMode, options.nowMs));
        keys++;
        if (encoder.pendingBytes >= SYNC_WRITE_BYTES) flush();
      }
    }
    encoder.writeFooter();
    flush();
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    safeUnlink(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, target);
  } catch (err) {
    safeUnlink(temp);
    throw err;
  }
  fsyncDir(path.dirname(target));
  return { bytes, keys };
}

/** The buffers after the first `skip` bytes of `chunks` (to finish a short writev). */
export function skipBytes(chunks: readonly Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}

export function safeUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * An open temporary file that becomes `target` on commit(): for writers that produce the bytes asynchronously
 * (BGSAVE, the AOF rewrite). Writes are issued one at a time in order; a datasync every `fsyncEveryBytes` keeps
 * the final fsync short, as rdb-save-incremental-fsync does. That datasync runs beside the following writes
 * (Redis's child process does not wait for it either), one at a time; its failure fails the next write or the
 * commit.
 */
export class AtomicFileWriter {
  private handle: FileHandle | null = null;
  bytes = 0;
  private sinceSync = 0;
  private syncing: Promise<void> | null = null;
  private syncError: Error | null = null;

  private constructor(
    readonly target: string,
    readonly temp: string,
    private readonly fsyncEveryBytes: number,
  ) {}

  static async create(target: string, fsyncEveryBytes = 0, tag = 'rdb'): Promise<AtomicFileWriter> {
    const w = new AtomicFileWriter(target, tempPathFor(target, tag), fsyncEveryBytes);
    w.handle = await openAsync(w.temp, 'w', 0o644);
    return w;
  }

  write(chunk: Buffer): Promise<void> {
    return this.writeAll([chunk]);
  }

  /** Writes several chunks with one system call (fewer event-loop round trips than one write each). */
  async writeAll(chunks: Buffer[]): Promise<void> {
    if (this.syncError !== null) throw this.syncError;
    const h = this.handle!;
    let total = 0;
    for (const c of chunks) total += c.length;
    let written = 0;
    while (written < total) {
      if (chunks.length === 1) {
        written += (await h.write(chunks[0], written, total - written)).bytesWritten;
      } else {
        written += (await h.writev(written === 0 ? chunks : skipBytes(chunks, written))).bytesWritten;
      }
    }
    this.bytes += total;
    this.sinceSync += total;
    if (this.fsyncEveryBytes > 0 && this.sinceSync >= this.fsyncEveryBytes && this.syncing === null) {
      this.sinceSync = 0;
      this.syncing = h.datasync().then(
        () => {
          this.syncing = null;
        },
        (err: Error) => {
          this.syncing = null;
          this.syncError = err;
        },
      );
    }
  }

  /** fsync, close, rename over the target, fsync the directory. */
  async commit(): Promise<void> {
    const h = this.handle!;
    this.handle = null;
    try {
      await this.syncing;
      if (this.syncError !== null) throw this.syncError;
      await h.sync();
    } finally {
      await h.close();
    }
    renameSync(this.temp, this.target);
    fsyncDir(path.dirname(this.target));
  }

  /** Removes the temporary file (the target is untouched). */
  async discard(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await this.syncing;
    if (h !== null) await h.close().catch(() => undefined);
    safeUnlink(this.temp);
  }
}

/** Bytes gathered from a snapshot stream before one write to the file. */
const PUMP_BATCH_BYTES = 1024 * 1024;

/**
 * Copies a snapshot stream into a file and commits it: gathers PUMP_BATCH_BYTES of chunks, hands them to one
 * writev and goes on pulling while it completes (at most one write in flight, so at most two batches held). The
 * stream slices and paces its own walk, yielding to clients between slices; the pump adds no waits of its own
 * beyond a write that is still running when the next batch is ready.
 * Returns false, without committing, when `aborted()` turned true (the caller discards the writer).
 */
export async function pumpToFile(
  stream: AsyncIterator<Buffer, void, undefined>,
  writer: AtomicFileWriter,
  aborted: () => boolean,
  afterWrite: () => void,
): Promise<boolean> {
  let batch: Buffer[] = [];
  let bytes = 0;
  let inFlight: Promise<void> | null = null;
  try {
    for (;;) {
      if (aborted()) return false;
      const r = await stream.next();
      if (aborted()) return false;
      if (!r.done && r.value.length > 0) {
        batch.push(r.value);
        bytes += r.value.length;
        if (bytes < PUMP_BATCH_BYTES) continue;
      }
      await inFlight;
      inFlight = batch.length > 0 ? writer.writeAll(batch).then(afterWrite) : null;
      batch = [];
      bytes = 0;
      if (r.done) break;
    }
    await inFlight;
  } finally {
    // An abort or a failed pull must not leave a write running against a file that is about to be discarded.
    await inFlight?.catch(() => undefined);
  }
  if (aborted()) return false;
  await writer.commit();
  return true;
}

// ------------------------------------------------------------------ loading

export interface LoadedDatabase {
  /** Values with their access stamps. */
  dict: ValueMap;
  expires: KeyMap<number>;
}

export interface LoadOptions {
  /** Number of databases of this server ('databases'). */
  dbCount: number;
  nowMs: () => number;
  /** Skip keys already expired (a master does; a replica keeps them). */
  dropExpired: boolean;
  /** Name used in messages (the path by default). */
  source?: string;
  /** Called as bytes are consumed (loading_loaded_bytes). */
  onProgress?: (bytes: number) => void;
  /** key-load-delay in microseconds: loading waits that long per key (tests). */
  keyDelayUs?: () => number;
  /** A FUNCTION library in the file (Redis 7 functions are not supported: the caller logs it). */
  onFunction?: (offset: number) => void;
}

export interface LoadResult {
  dbs: LoadedDatabase[];
  rdbVersion: number;
  aux: Map<string, string>;
  keysLoaded: number;
  keysExpired: number;
  bytes: number;
}

/** Loads an RDB file (or the RDB part of a stream of chunks) into fresh databases. */
export class RdbLoader {
  readonly dbs: LoadedDatabase[];
  readonly aux = new Map<string, string>();
  keysLoaded = 0;
  keysExpired = 0;
  private readonly parser: RdbParser;
  private readonly source: string;
  private ended = false;
  private endBytes = 0;

  constructor(private readonly options: LoadOptions) {
    this.source = options.source ?? 'the RDB file';
    this.parser = new RdbParser({ source: this.source, reuseEntries: true });
    this.dbs = Array.from({ length: options.dbCount }, () => ({
      dict: new ValueMap(),
      expires: new KeyMap(),
    }));
  }

  get finished(): boolean {
    return this.ended;
  }

  get offset(): number {
    return this.parser.offset;
  }

  get rdbVersion(): number {
    return this.parser.rdbVersion;
  }

  /** Bytes of the RDB data once finished. */
  get bytes(): number {
    return this.endBytes;
  }

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  end(): void {
    this.parser.end();
  }

  /** After the end: bytes that followed the RDB data (an AOF tail after an RDB preamble). */
  takeRemaining(): Buffer {
    return this.parser.takeRemaining();
  }

  /**
   * Applies parsed events until more input is needed, the data ends, or `shouldStop()` (checked every few keys).
   * Returns true once the end of the RDB data was reached. Throws RdbLoadError.
   */
  drain(shouldStop: () => boolean = () => false, checkEvery = 64): boolean {
    const parser = this.parser;
    const now = this.options.nowMs();
    let n = 0;
    try {
      for (;;) {
        const event = parser.next();
        if (event === null) return this.ended;
        switch (event.kind) {
          case 'entry': {
            const e = event.entry;
            const db = this.dbs[e.db];
            if (db === undefined) {
              throw new RdbLoadError(
                `${this.source}: the file uses database ${e.db}, but this server is configured with ` +
                  `${this.dbs.length} databases ('databases'); refusing to load it (at byte ${parser.offset})`,
                this.source,
                parser.offset,
              );
            }
            // A key without IDLE/FREQ (or with the one the policy ignores) starts its access period now, as Redis's
            // freshly created object does.
            const stamp = accessStampFrom(e.lruIdleSec, e.lfuFreq, now) ?? newStamp(now);
            if (!db.dict.addNew(e.key, rdbToValue(e.value), stamp)) {
              throw new RdbLoadError(
                `${this.source}: duplicate key ${JSON.stringify(e.key.slice(0, 64))} in database ${e.db} ` +
                  `(at byte ${parser.offset})`,
                this.source,
                parser.offset,
              );
            }
            if (e.expireAtMs !== null) {
              if (this.options.dropExpired && e.expireAtMs < now) {
                db.dict.delete(e.key);
                this.keysExpired++;
                break;
              }
              db.expires.set(e.key, e.expireAtMs);
            }
            this.keysLoaded++;
            break;
          }
          case 'aux':
            this.aux.set(event.name, event.value);
            break;
          case 'function':
            this.options.onFunction?.(event.offset);
            break;
          case 'end':
            this.ended = true;
            this.endBytes = event.bytes;
            return true;
          default:
            break;
        }
        if (++n >= checkEvery) {
          n = 0;
          this.options.onProgress?.(parser.offset);
          if (shouldStop()) return false;
        }
      }
    } catch (err) {
      if (err instanceof RdbError) {
        throw new RdbLoadError(err.message, this.source, err.offset);
      }
      throw err;
    }
  }

  result(): LoadResult {
    return {
      dbs: this.dbs,
      rdbVersion: this.rdbVersion,
      aux: this.aux,
      keysLoaded: this.keysLoaded,
      keysExpired: this.keysExpired,
      bytes: this.endBytes,
    };
  }
}

/** The bytes of `file` in reads of LOAD_READ_BYTES; the file is closed however the loop that reads them ends. */
export async function* fileChunks(file: string): AsyncGenerator<Buffer, void, undefined> {
  let position = 0;
  const handle = await openAsync(file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(LOAD_READ_BYTES);
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Loads a whole RDB file asynchronously in slices (the event loop keeps running: clients get -LOADING). `file` must
 * exist. Trailing bytes after the RDB data are refused unless `allowTail` (an AOF with an RDB preamble), in which
 * case they are returned.
 */
export async function loadRdbFile(
  file: string,
  options: LoadOptions,
  allowTail = false,
): Promise<LoadResult & { tail: Buffer }> {
  const loader = new RdbLoader({ ...options, source: options.source ?? file });
  let tail: Buffer[] = [];
  let deadline = performance.now() + LOAD_SLICE_MS;
  for await (const chunk of fileChunks(file)) {
    if (loader.finished) {
      tail.push(chunk);
      continue;
    }
    loader.push(chunk);
    for (;;) {
      const delayUs = options.keyDelayUs?.() ?? 0;
      if (delayUs > 0) {
        const before = loader.keysLoaded + loader.keysExpired;
        const keys = Math.max(1, Math.floor(1000 / delayUs));
        const done = loader.drain(() => loader.keysLoaded + loader.keysExpired - before >= keys, 1);
        if (done) break;
        if (loader.keysLoaded + loader.keysExpired - before < keys) break; // needs more input
        await sleepMs(Math.max(1, Math.round((keys * delayUs) / 1000)));
        continue;
      }
      const done = loader.drain(() => performance.now() >= deadline);
      if (done || performance.now() < deadline) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + LOAD_SLICE_MS;
    }
    if (performance.now() >= deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + LOAD_SLICE_MS;
    }
  }
  if (!loader.finished) {
    loader.end();
    loader.drain();
  }
  const rest = loader.takeRemaining();
  if (rest.length > 0) tail = [rest, ...tail];
  const tailBuf = tail.length === 0 ? Buffer.alloc(0) : Buffer.concat(tail);
  if (tailBuf.length > 0 && !allowTail) {
    throw new RdbLoadError(
      `${file}: ${tailBuf.length} bytes after the end of the RDB data (at byte ${loader.bytes})`,
      file,
      loader.bytes,
    );
  }
  return { ...loader.result(), tail: tailBuf };
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Replaces the keyspace's databases with loaded ones (one synchronous step, hooks told first). */
export function installLoadedDatabases(keyspace: Keyspace, dbs: readonly LoadedDatabase[]): void {
  for (let i = 0; i < keyspace.dbs.length; i++) {
    const db: Database = keyspace.dbs[i];
    const loaded = dbs[i];
    keyspace.hooks.beforeReplaceAll(db);
    db.dict = loaded?.dict ?? new ValueMap();
    db.expires = loaded?.expires ?? new KeyMap();
    db.stringEncodings = new Map();
  }
}

/** Loads a whole RDB file synchronously (DEBUG RELOAD blocks, as in Redis). */
export function loadRdbFileSync(file: string, options: LoadOptions): LoadResult {
  const loader = new RdbLoader({ ...options, source: options.source ?? file });
  loader.push(readFileSync(file));
  loader.end();
  loader.drain();
  if (loader.takeRemaining().length > 0) {
    throw new RdbLoadError(
      `${file}: bytes after the end of the RDB data (at byte ${loader.bytes})`,
      file,
      loader.bytes,
    );
  }
  return loader.result();
}
