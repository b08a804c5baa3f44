/**
 * The append-only file, in Redis 7's multi-part layout (aofManifest.ts): every effective write the server
 * propagates is appended, in the client protocol, to the current *incr* file; a rewrite (BGREWRITEAOF, or
 * automatic growth) writes a new *base* from a fork-less snapshot and retires the old files.
 *
 * States, as Redis's aof_state:
 * - off: nothing is written (appendonly no);
 * - wait-rewrite: appendonly was just turned on; the first rewrite is producing the base, and writes made since its
 *   cut go to a temporary incr file that becomes the first real incr file when the base is installed;
 * - on: writes go to the last incr file named by the manifest.
 *
 * Durability (appendfsync): `always` writes and fdatasyncs before the command's reply leaves (propagation runs
 * before replies are flushed); `everysec` writes at the end of the event-loop turn and fdatasyncs about once a
 * second off the event loop; `no` leaves flushing to the OS. A failed write keeps the bytes buffered, sets
 * aof_last_write_status:err (writes are then refused with -MISCONF) and is retried from the cron.
 *
 * Rewrite without fork: at the rewrite's start (one synchronous step) the pending buffer goes to the current incr
 * file, a new incr file is opened and named in the manifest, and the snapshot's cut is taken, so every write is
 * either in the snapshot or in the new incr file, never both, never neither. The base is written from the snapshot
 * in slices to a temporary file (RDB preamble with aof-base:1, or commands with aof-use-rdb-preamble no), then
 * renamed into place and the manifest switched atomically; the old base and incr files become history and are
 * deleted.
 *
 * Loading (startup with appendonly yes): base then incr files in manifest order, commands applied through a fake
 * client with propagation off and keys never expiring mid-load (as Redis). A last command cut short by a crash is
 * dropped and the file truncated when aof-load-truncated is yes; anything else malformed stops startup with the file
 * and byte offset. An old-style single appendonly.aof is adopted as the base of a new directory, as Redis 7 does.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writevSync,
} from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from '../commands/table';
import { AgentError } from '../errors';
import type { Client } from '../server/client';
import type { PropagatedCommand, Server } from '../server/server';
import { CommandEncoder } from '../resp/commandEncoder';
import { AofCommandReader, AofReadError, AofRewriteEncoder } from './aofFormat';
import { AofManifest, AofManifestError, type AofFileInfo } from './aofManifest';
import { ByteSink } from './byteSink';
import {
  AtomicFileWriter,
  LOAD_SLICE_MS,
  fileChunks,
  installLoadedDatabases,
  loadRdbFile,
  pumpToFile,
  safeUnlink,
  saveRdbSync,
  skipBytes,
} from './rdbFile';
import { RdbSnapshotStream, SnapshotChunkStream } from './rdbSnapshot';
import { dataDir, type PersistenceContext } from './context';

export type AofState = 'off' | 'on' | 'wait-rewrite';

/** everysec: how long an fsync may be in flight before a new write waits no more (Redis: 2 s). */
const FSYNC_EVERY_MS = 1000;
/** After this many consecutive rewrite failures, automatic retries are delayed (Redis's aofRewriteLimited). */
const REWRITE_FAILURES_BEFORE_DELAY = 3;
const REWRITE_RETRY_DELAY_MS = 60_000;
/** Incremental fsync of the base file while it is written (aof-rewrite-incremental-fsync: 4 MB in Redis). */
const REWRITE_FSYNC_BYTES = 4 * 1024 * 1024;

/** strerror() texts for the errno codes a write typically fails with (MISCONF shows them). */
const STRERROR: Record<string, string> = {
  ENOSPC: 'No space left on device',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EIO: 'Input/output error',
  EROFS: 'Read-only file system',
  EBADF: 'Bad file descriptor',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
  ENOENT: 'No such file or directory',
};

export function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && STRERROR[code]) || (err as Error).message;
}

interface RewriteJob {
  stream: SnapshotChunkStream;
  writer: AtomicFileWriter | null;
  base: AofFileInfo;
  /** The incr file opened at the rewrite's start (null when the AOF is off). */
  incr: AofFileInfo | null;
  /** wait-rewrite: writes since the cut go to this temporary file. */
  tempIncr: string | null;
  startedAtMs: number;
  aborted: boolean;
}

export class Aof {
  state: AofState = 'off';
  manifest: AofManifest | null = null;
  private fd: number | null = null;
  private readonly encoder = new CommandEncoder();
  /** Commands appended since the last flush. */
  private readonly appended = new ByteSink();
  /** Bytes taken for writing and not written yet (kept after a failed write, for the retry). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private bytesSinceFsync = 0;
  private lastFsyncMs = 0;
  private fsyncInFlight = false;
  /** Set while our own loading replaces the dataset (not a replica's full sync). */
  private installing = false;

  lastWriteStatus: 'ok' | 'err' = 'ok';
  lastWriteError = '';
  delayedFsyncs = 0;
  currentSizeBytes = 0;
  /** aof_base_size: the size right after the last rewrite or load (auto-rewrite growth is measured from it). */
  baseSizeBytes = 0;

  rewrite: RewriteJob | null = null;
  rewriteScheduled = false;
  lastRewriteDurationSec = -1;
  lastBgrewriteStatus: 'ok' | 'err' = 'ok';
  rewrites = 0;
  consecutiveFailures = 0;
  lastCowBytes = 0;
  private lastFailureMs = 0;

  /** appendfsync, cached: read for every propagated write. */
  private fsyncPolicy: string;

  constructor(private readonly ctx: PersistenceContext) {
    const config = ctx.server.config;
    this.fsyncPolicy = config.get('appendfsync');
    config.onChange('appendfsync', (v) => (this.fsyncPolicy = v));
  }

  private get server(): Server {
    return this.ctx.server;
  }

  get dirPath(): string {
    return path.resolve(dataDir(this.server), this.server.config.get('appenddirname'));
  }

  get prefix(): string {
    return this.server.config.get('appendfilename');
  }

  get enabled(): boolean {
    return this.state !== 'off';
  }

  /** Bytes appended and not written to the file yet (aof_buffer_length). */
  get bufferedBytes(): number {
    return this.pendingBytes + this.appended.pendingBytes;
  }

  get fsyncPending(): boolean {
    return this.fsyncInFlight;
  }

  // ------------------------------------------------------------------ appending

  /** The server's propagation target. */
  readonly feed = (batch: PropagatedCommand[]): void => {
    if (this.state === 'off') return;
    if (this.state === 'wait-rewrite' && this.rewrite === null) return;
    this.appended.bytes(this.encoder.bytes, 0, this.encoder.encode(batch));
    if (this.fsyncPolicy === 'always') {
      this.flush(true);
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush(false);
      });
    }
  };

  /** Writes the buffered bytes to the current incr file; fsyncs too with appendfsync always. */
  flush(always: boolean): void {
    if (this.fd === null) return;
    for (const b of this.appended.take()) {
      this.pending.push(b);
      this.pendingBytes += b.length;
    }
    if (this.pendingBytes === 0) return;
    const parts = this.pending;
    const total = this.pendingBytes;
    try {
      let written = 0;
      while (written < total) {
        const n = writevSync(this.fd, written === 0 ? parts : skipBytes(parts, written));
        if (n <= 0) throw new Error('short write to the AOF');
        written += n;
      }
      if (always) fdatasyncSync(this.fd);
    } catch (err) {
      this.writeFailed(err, always);
      return;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.currentSizeBytes += total;
    this.bytesSinceFsync += always ? 0 : total;
    if (always) this.lastFsyncMs = Date.now();
    if (this.lastWriteStatus === 'err') {
      this.server.log.warning('AOF write error looks solved, Redis can write again.');
      this.lastWriteStatus = 'ok';
    }
  }

  private writeFailed(err: unknown, always: boolean): void {
    const reason = strerror(err);
    if (always) {
      this.server.log.warning(
        `Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... (${reason})`,
      );
      process.exit(1);
    }
    if (this.lastWriteStatus === 'ok') this.server.log.warning(`Error writing to the AOF file: ${reason}`);
    this.lastWriteStatus = 'err';
    this.lastWriteError = reason;
  }

  /** Periodic work: retry failed writes, fsync once a second (everysec), scheduled and automatic rewrites. */
  cron(nowMs: number): void {
    if (this.state === 'off') return;
    if (this.bufferedBytes > 0 && !this.flushScheduled) this.flush(false);
    if (
      this.fsyncPolicy === 'everysec' &&
      this.bytesSinceFsync > 0 &&
      nowMs - this.lastFsyncMs >= FSYNC_EVERY_MS
    ) {
      this.fsyncInBackground(nowMs);
    }
  }

  private fsyncInBackground(nowMs: number): void {
    if (this.fd === null) return;
    if (this.fsyncInFlight) {
      this.delayedFsyncs++;
      return;
    }
    if (this.server.config.getBool('no-appendfsync-on-rewrite') && this.ctx.backgroundJobRunning()) return;
    this.fsyncInFlight = true;
    this.lastFsyncMs = nowMs;
    this.bytesSinceFsync = 0;
    fdatasync(this.fd, (err) => {
      this.fsyncInFlight = false;
      if (err) this.writeFailed(err, false);
    });
  }

  /** Writes and fsyncs everything now (shutdown, appendonly no). */
  flushAndSync(): void {
    this.flush(false);
    if (this.fd !== null) {
      try {
        fdatasyncSync(this.fd);
        this.bytesSinceFsync = 0;
      } catch (err) {
        this.writeFailed(err, false);
      }
    }
  }

  // ------------------------------------------------------------------ turning on and off

  /** appendonly yes at runtime: the first rewrite produces the base (state wait-rewrite until it is done). */
  start(): string | undefined {
    if (this.state !== 'off') return undefined;
    this.lastFsyncMs = Date.now();
    this.state = 'wait-rewrite';
    if (this.ctx.backgroundJobRunning() || this.ctx.inExec()) {
      this.rewriteScheduled = true;
      this.server.log.warning(
        'AOF was enabled but there is already another background operation. An AOF background was scheduled ' +
          'to start when possible.',
      );
      return undefined;
    }
    if (this.rewrite !== null) this.abortRewrite('restarting it for appendonly yes');
    const error = this.startRewrite();
    if (error !== undefined) {
      this.state = 'off';
      this.server.log.warning(
        "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above " +
          'logs for more info about the error.',
      );
      return error;
    }
    return undefined;
  }

  /** appendonly no at runtime: flush, close, stop any rewrite. */
  stop(): void {
    if (this.state === 'off') return;
    this.flushAndSync();
    this.closeFd();
    this.state = 'off';
    this.rewriteScheduled = false;
    if (this.rewrite !== null) this.abortRewrite('AOF turned off');
  }

  private closeFd(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // closing a broken file: nothing more to do
      }
      this.fd = null;
    }
  }

  // ------------------------------------------------------------------ rewrite

  get rewriting(): boolean {
    return this.rewrite !== null;
  }

  /** Starts a rewrite now. Returns an error text when it cannot start. */
  startRewrite(): string | undefined {
    if (this.rewrite !== null) return 'Background append only file rewriting already in progress';
    const server = this.server;
    const config = server.config;
    const dir = this.dirPath;
    let manifest: AofManifest;
    let incr: AofFileInfo | null = null;
    let tempIncr: string | null = null;
    try {
      mkdirSync(dir, { recursive: true });
      manifest = this.manifest ?? this.readManifest() ?? new AofManifest(this.prefix);
      if (this.state === 'on') {
        // Everything before the cut goes to the current incr file; everything after, to a new one.
        this.flush(false);
        const next = manifest.clone();
        incr = next.addIncr();
        const fd = openSync(path.join(dir, incr.name), 'a', 0o644);
        next.persist(dir);
        this.closeFd();
        this.fd = fd;
        this.manifest = manifest = next;
      } else if (this.state === 'wait-rewrite') {
        tempIncr = path.join(dir, `temp-${this.prefix}.incr`);
        this.closeFd();
        this.fd = openSync(tempIncr, 'w', 0o644);
      }
    } catch (err) {
      server.log.warning(`Can't start an AOF rewrite: ${strerror(err)}`);
      return `ERR ${strerror(err)}`;
    }
    this.encoder.selectedDb = -1;
    this.appended.take();
    this.pending = [];
    this.pendingBytes = 0;
    const preamble = config.getBool('aof-use-rdb-preamble');
    const base = manifest.nextBase(preamble);
    const options = this.ctx.streamOptions('save');
    const stream: SnapshotChunkStream = preamble
      ? new RdbSnapshotStream(server.keyspace, this.ctx.registry, {
          ...options,
          ...this.ctx.rdbWriterOptions(),
          aux: this.ctx.auxFields(true),
        })
      : new SnapshotChunkStream(server.keyspace, this.ctx.registry, options, () => new AofRewriteEncoder());
    const job: RewriteJob = {
      stream,
      writer: null,
      base,
      incr,
      tempIncr,
      startedAtMs: Date.now(),
      aborted: false,
    };
    this.rewrite = job;
    this.rewriteScheduled = false;
    server.log.notice('Background append only file rewriting started');
    this.runRewrite(job).then(
      () => this.rewriteDone(job),
      (err: unknown) => this.rewriteFailed(job, err),
    );
    return undefined;
  }

  private async runRewrite(job: RewriteJob): Promise<void> {
    const target = path.join(this.dirPath, job.base.name);
    const fsyncEvery = this.server.config.getBool('aof-rewrite-incremental-fsync') ? REWRITE_FSYNC_BYTES : 0;
    job.writer = await AtomicFileWriter.create(target, fsyncEvery, 'rewriteaof');
    await pumpToFile(
      job.stream,
      job.writer,
      () => job.aborted,
      () => this.updateCow(job),
    );
  }

  private updateCow(job: RewriteJob): void {
    this.lastCowBytes = Math.max(this.lastCowBytes, job.stream.cowBytes);
  }

  private rewriteDone(job: RewriteJob): void {
    if (job.aborted || this.rewrite !== job) {
      void job.writer?.discard();
      if (job.tempIncr !== null) safeUnlink(job.tempIncr);
      return;
    }
    this.rewrite = null;
    const server = this.server;
    const dir = this.dirPath;
    try {
      const manifest = (this.manifest ?? this.readManifest() ?? new AofManifest(this.prefix)).clone();
      manifest.commitBaseSeq(job.base);
      let keep = job.incr;
      if (this.state === 'wait-rewrite' && job.tempIncr !== null) {
        // The temporary incr file becomes the first incr file after the new base.
        this.flush(false);
        const info = manifest.addIncr();
        renameSync(job.tempIncr, path.join(dir, info.name));
        keep = info;
      }
      manifest.installRewrite(job.base, this.state === 'off' ? null : keep);
      manifest.persist(dir);
      this.manifest = manifest;
      this.deleteHistory();
      this.currentSizeBytes = this.filesSize(manifest);
      this.baseSizeBytes = this.currentSizeBytes;
      if (this.state === 'wait-rewrite') {
        this.state = 'on';
        server.log.notice('Background AOF rewrite finished successfully (the AOF is now on)');
      }
    } catch (err) {
      this.rewriteFailed(job, err);
      return;
    }
    this.lastRewriteDurationSec = Math.round((Date.now() - job.startedAtMs) / 1000);
    this.lastBgrewriteStatus = 'ok';
    this.consecutiveFailures = 0;
    this.rewrites++;
    this.updateCow(job);
    server.log.notice(`Background AOF rewrite terminated with success (${job.base.name})`);
  }

  private rewriteFailed(job: RewriteJob, err: unknown): void {
    if (this.rewrite === job) this.rewrite = null;
    void job.writer?.discard();
    if (job.aborted) return;
    this.lastBgrewriteStatus = 'err';
    this.consecutiveFailures++;
    this.lastFailureMs = Date.now();
    this.lastRewriteDurationSec = Math.round((Date.now() - job.startedAtMs) / 1000);
    this.server.log.warning(`Background AOF rewrite failed: ${strerror(err)}`);
    if (this.state === 'wait-rewrite') {
      // Keep collecting nothing until the next attempt: the temporary incr is useless without its base.
      this.closeFd();
      if (job.tempIncr !== null) safeUnlink(job.tempIncr);
      this.rewriteScheduled = true;
    }
  }

  /** Stops a running rewrite (FLUSHALL does not; appendonly no, shutdown and a new start do). */
  abortRewrite(reason: string): void {
    const job = this.rewrite;
    if (job === null) return;
    job.aborted = true;
    this.rewrite = null;
    job.stream.close();
    void job.writer?.discard();
    if (job.tempIncr !== null) {
      if (this.state === 'wait-rewrite') this.closeFd();
      safeUnlink(job.tempIncr);
    }
    this.server.log.notice(`Killing running AOF rewrite: ${reason}`);
  }

  /** Whether an automatic or scheduled rewrite should start now (no other background job runs). */
  shouldRewrite(nowMs: number): boolean {
    if (this.rewrite !== null) return false;
    if (
      this.consecutiveFailures >= REWRITE_FAILURES_BEFORE_DELAY &&
      nowMs - this.lastFailureMs < REWRITE_RETRY_DELAY_MS
    ) {
      return false;
    }
    if (this.rewriteScheduled) return true;
    if (this.state !== 'on') return false;
    const config = this.server.config;
    const perc = config.getInt('auto-aof-rewrite-percentage');
    if (perc <= 0 || this.currentSizeBytes <= config.getInt('auto-aof-rewrite-min-size')) return false;
    const base = this.baseSizeBytes > 0 ? this.baseSizeBytes : 1;
    const growth = Math.floor((this.currentSizeBytes * 100) / base) - 100;
    if (growth < perc) return false;
    this.server.log.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
    return true;
  }

  get currentRewriteSec(): number {
    return this.rewrite === null ? -1 : Math.floor((Date.now() - this.rewrite.startedAtMs) / 1000);
  }

  /** Extra memory of the running rewrite's snapshot. */
  get currentCowBytes(): number {
    const job = this.rewrite;
    return job === null ? 0 : job.stream.extraBytes;
  }

  // ------------------------------------------------------------------ files

  private manifestPath(): string {
    return path.join(this.dirPath, `${this.prefix}.manifest`);
  }

  /** The manifest on disk, or null when there is none. Throws AgentError when it is malformed. */
  readManifest(): AofManifest | null {
    const file = this.manifestPath();
    if (!existsSync(file)) return null;
    try {
      return AofManifest.parse(readFileSync(file, 'latin1'), this.prefix, file);
    } catch (err) {
      if (err instanceof AofManifestError) throw new AgentError('AOF_LOAD', err.message);
      throw err;
    }
  }

  private filesSize(m: AofManifest): number {
    let n = 0;
    for (const f of m.filesToLoad()) {
      try {
        n += statSync(path.join(this.dirPath, f.name)).size;
      } catch {
        // a missing file counts as empty
      }
    }
    return n;
  }

  private deleteHistory(): void {
    const m = this.manifest;
    if (m === null || m.history.length === 0) return;
    if (this.server.config.getBool('aof-disable-auto-gc')) return;
    for (const h of m.history) {
      safeUnlink(path.join(this.dirPath, h.name));
      this.server.log.notice(`Removing the history file ${h.name} in the background`);
    }
    m.history = [];
    try {
      m.persist(this.dirPath);
    } catch (err) {
      this.server.log.warning(`Can't update the AOF manifest after removing history files: ${strerror(err)}`);
    }
  }

  /**
   * Called after startup loading with appendonly yes: makes sure a base and an incr file exist (an empty dataset
   * gets an empty base, as Redis does), opens the last incr file for appending and removes history files.
   */
  openAfterLoad(): void {
    const server = this.server;
    const dir = this.dirPath;
    mkdirSync(dir, { recursive: true });
    let manifest = this.manifest ?? new AofManifest(this.prefix);
    if (manifest.base === null && manifest.incr.length === 0) {
      const preamble = server.config.getBool('aof-use-rdb-preamble');
      const base = manifest.nextBase(preamble);
      const target = path.join(dir, base.name);
      if (preamble) {
        saveRdbSync(server.keyspace, target, {
          ...this.ctx.rdbWriterOptions(),
          aux: this.ctx.auxFields(true),
          accessMode: this.ctx.accessMode(),
          nowMs: server.clock.nowMs(),
        });
      } else {
        closeSync(openSync(target, 'w', 0o644));
      }
      manifest = manifest.clone();
      manifest.base = base;
      manifest.commitBaseSeq(base);
      server.log.notice(`Creating AOF base file ${base.name} on server start`);
    }
    let incr = manifest.lastIncr;
    if (incr === null) {
      manifest = manifest.clone();
      incr = manifest.addIncr();
      server.log.notice(`Creating AOF incr file ${incr.name} on server start`);
    }
    this.fd = openSync(path.join(dir, incr.name), 'a', 0o644);
    manifest.persist(dir);
    this.manifest = manifest;
    this.deleteHistory();
    this.encoder.selectedDb = -1;
    this.currentSizeBytes = this.filesSize(manifest);
    this.baseSizeBytes = this.currentSizeBytes;
    this.lastFsyncMs = Date.now();
    this.state = 'on';
  }

  /**
   * SHUTDOWN: stops a running rewrite and makes everything written durable. The file stays open: a SHUTDOWN whose
   * final save fails leaves the server running (the rewrite is then retried, as after a failure).
   */
  prepareShutdown(): void {
    if (this.rewrite !== null) {
      this.abortRewrite('shutting down');
      if (this.state === 'wait-rewrite') this.rewriteScheduled = true;
    }
    if (this.state !== 'off') this.flushAndSync();
  }

  /** True while this module replaces the dataset itself (not a replica's full sync). */
  get installingDataset(): boolean {
    return this.installing;
  }

  // ------------------------------------------------------------------ loading

  /**
   * Loads the AOF at startup into the (empty) keyspace. Returns false when there is no AOF to load. Throws
   * AgentError('AOF_LOAD') naming the file and offset when it cannot be loaded.
   */
  async load(progress: (loadedBytes: number, totalBytes: number) => void): Promise<boolean> {
    const server = this.server;
    let manifest = this.readManifest();
    if (manifest === null) manifest = this.adoptLegacyFile();
    if (manifest === null) return false;
    this.manifest = manifest;
    const files = manifest.filesToLoad();
    let total = 0;
    for (const f of files) {
      const p = path.join(this.dirPath, f.name);
      if (!existsSync(p)) {
        throw new AgentError(
          'AOF_LOAD',
          `The AOF file ${f.name} (named in ${this.manifestPath()}) doesn't exist`,
        );
      }
      total += statSync(p).size;
    }
    const targets = server.propagationTargets.splice(0);
    const client = server.createClient(null);
    client.authenticated = true;
    const loader = new AofLoader(server, client, this.manifestPath());
    let done = 0;
    try {
      for (let i = 0; i < files.length; i++) {
        const file = path.join(this.dirPath, files[i].name);
        const size = statSync(file).size;
        if (size === 0) continue;
        await loader.loadFile(
          file,
          i === files.length - 1,
          (bytes) => progress(done + bytes, total),
          (dbs) => {
            this.installing = true;
            try {
              installLoadedDatabases(server.keyspace, dbs);
            } finally {
              this.installing = false;
            }
          },
        );
        done += size;
        progress(done, total);
      }
    } finally {
      client.close();
      server.propagationTargets.push(...targets);
    }
    server.log.notice(`DB loaded from append only file: ${loader.commands} commands, ${total} bytes`);
    return true;
  }

  /** Redis 7 upgrade path: an old `appendonly.aof` in `dir` becomes the base of a new AOF directory. */
  private adoptLegacyFile(): AofManifest | null {
    const legacy = path.resolve(dataDir(this.server), this.prefix);
    if (!existsSync(legacy) || !statSync(legacy).isFile()) return null;
    const dir = this.dirPath;
    mkdirSync(dir, { recursive: true });
    const m = new AofManifest(this.prefix);
    m.base = { name: this.prefix, seq: 1, type: 'b' };
    m.commitBaseSeq(m.base);
    renameSync(legacy, path.join(dir, this.prefix));
    m.persist(dir);
    this.server.log.notice(`Successfully migrated an old-style AOF into the AOF directory ${dir}`);
    return m;
  }
}

/** Replays AOF files through a fake client. */
class AofLoader {
  commands = 0;
  constructor(
    private readonly server: Server,
    private readonly client: Client,
    private readonly manifestFile: string,
  ) {}

  async loadFile(
    file: string,
    last: boolean,
    progress: (bytes: number) => void,
    install: (dbs: Parameters<typeof installLoadedDatabases>[1]) => void,
  ): Promise<void> {
    const name = path.basename(file);
    const server = this.server;
    const handle = await openAsync(file, 'r');
    let head: Buffer;
    try {
      head = Buffer.alloc(5);
      await handle.read(head, 0, 5, 0);
    } finally {
      await handle.close();
    }
    let reader: AofCommandReader;
    /** The bytes after the RDB preamble, which loadRdbFile read already; null for a file of commands only. */
    let tail: Buffer | null = null;
    if (head.latin1Slice(0, 5) === 'REDIS') {
      let loaded;
      try {
        loaded = await loadRdbFile(
          file,
          {
            dbCount: server.keyspace.dbs.length,
            nowMs: () => server.clock.nowMs(),
            dropExpired: false,
            source: file,
            onProgress: progress,
          },
          true,
        );
      } catch (err) {
        throw new AgentError(
          'AOF_LOAD',
          `Error reading the RDB preamble of the AOF file ${name}: ${(err as Error).message}`,
        );
      }
      server.log.notice(`Reading RDB base file on AOF loading... (${loaded.keysLoaded} keys)`);
      install(loaded.dbs);
      reader = new AofCommandReader(loaded.bytes);
      tail = loaded.tail;
    } else {
      reader = new AofCommandReader(0);
    }
    const c = this.client;
    c.db = server.keyspace.dbs[0];
    c.multi = null;
    let validBeforeMulti = -1;
    const run = (): void => {
      for (;;) {
        const start = reader.validUpTo;
        const argv = reader.next();
        if (argv === null) return;
        this.apply(argv, name, () => {
          validBeforeMulti = start;
        });
      }
    };
    const fail = (err: unknown): never => {
      if (err instanceof AofReadError && err.kind === 'format') {
        throw new AgentError(
          'AOF_LOAD',
          `Bad file format reading the append only file ${name} (at byte ${err.offset}: ${err.message}): make a ` +
            `backup of your AOF file, then use ./redis-check-aof --fix ${path.basename(this.manifestFile)}`,
        );
      }
      throw err;
    };
    const saved = server.applyingMasterStream;
    server.applyingMasterStream = true;
    try {
      if (tail !== null) {
        reader.push(tail);
        try {
          run();
        } catch (err) {
          fail(err);
        }
      } else {
        let deadline = performance.now() + LOAD_SLICE_MS;
        for await (const chunk of fileChunks(file)) {
          reader.push(chunk);
          try {
            run();
          } catch (err) {
            fail(err);
          }
          progress(reader.validUpTo);
          if (performance.now() >= deadline) {
            server.applyingMasterStream = saved;
            await new Promise<void>((resolve) => setImmediate(resolve));
            server.applyingMasterStream = true;
            deadline = performance.now() + LOAD_SLICE_MS;
          }
        }
      }
      reader.end();
      let truncatedAt = -1;
      try {
        run();
      } catch (err) {
        if (!(err instanceof AofReadError) || err.kind !== 'truncated') fail(err);
        truncatedAt = reader.validUpTo;
      }
      if (c.multi !== null) {
        server.log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
        c.multi = null;
        truncatedAt = validBeforeMulti;
      }
      if (truncatedAt >= 0) this.truncated(file, name, last, truncatedAt);
    } finally {
      server.applyingMasterStream = saved;
      c.reply.take();
    }
  }

  private truncated(file: string, name: string, last: boolean, validUpTo: number): void {
    const server = this.server;
    const manifest = path.basename(this.manifestFile);
    if (!last || !server.config.getBool('aof-load-truncated')) {
      throw new AgentError(
        'AOF_LOAD',
        `Unexpected end of file reading the append only file ${name} (valid up to byte ${validUpTo}). You can: ` +
          `1) Make a backup of your AOF file, then use ./redis-check-aof --fix <${manifest}>. 2) Alternatively ` +
          "you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
      );
    }
    server.log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
    server.log.warning(`!!! Truncating the AOF ${name} at offset ${validUpTo} !!!`);
    try {
      truncateSync(file, validUpTo);
    } catch (err) {
      throw new AgentError('AOF_LOAD', `Error truncating the AOF file ${name}: ${strerror(err)}`);
    }
    server.log.warning(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  }

  private apply(argv: string[], name: string, onMulti: () => void): void {
    const server = this.server;
    const c = this.client;
    const cmd: Command | undefined = server.commands.lookup(argv);
    if (cmd === undefined || cmd.handler === undefined) {
      throw new AgentError(
        'AOF_LOAD',
        `Unknown command '${argv[0].slice(0, 128)}' reading the append only file ${name}`,
      );
    }
    const top = cmd.parent?.spec.name ?? cmd.spec.name;
    this.commands++;
    if (c.multi !== null && top !== 'exec' && top !== 'discard' && top !== 'multi') {
      c.multi.queue.push({ cmd, argv });
      return;
    }
    if (top === 'multi') onMulti();
    server.execute(c, cmd, argv);
    c.reply.take();
  }
}
