/**
 * The persistence core of a server: the RDB dump (SAVE, BGSAVE, save points, loading at startup, DEBUG RELOAD), the
 * AOF (aof.ts), and the state INFO persistence reports, with Redis 7.0's rules:
 *
 * - One background job at a time, as Redis's single child process: a BGSAVE or an AOF rewrite. A BGSAVE asked for
 *   while a rewrite runs is refused (or scheduled with BGSAVE SCHEDULE), a rewrite asked for during a BGSAVE is
 *   scheduled; the cron starts scheduled jobs. (Replication's full syncs make their own snapshots, independently.)
 * - Save points (`save <seconds> <changes>` pairs): the cron starts a BGSAVE when `changes` writes happened and
 *   `seconds` passed since the last successful save; after a failure it waits CONFIG_BGSAVE_RETRY_DELAY (5 s).
 *   `dirty` counts writes; a successful BGSAVE subtracts the writes it captured (those made before its cut).
 * - stop-writes-on-bgsave-error: after a failed BGSAVE with save points configured, write commands (and PING) get
 *   -MISCONF until a save succeeds; with the AOF on, a failed AOF write does the same.
 * - FLUSHALL stops a running BGSAVE (its image is stale) and, with save points, saves the empty dataset at once.
 * - SHUTDOWN (and SIGTERM/SIGINT) stops background jobs, fsyncs the AOF and, when save points are configured (or
 *   SHUTDOWN SAVE), saves synchronously; a failed final save aborts a SHUTDOWN without FORCE.
 * - Startup: with appendonly yes the AOF is loaded (the RDB file is ignored, as Redis does); otherwise the dump
 *   file when it exists. The server listens meanwhile and answers -LOADING; a file that cannot be loaded stops
 *   startup (exit 1) with its name and the byte offset, and is never modified.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { F, type Command } from '../commands/table';
import { AgentError } from '../errors';
import type { Client } from '../server/client';
import { REDIS_COMPAT_VERSION, type InfoFields, type Server, type ShutdownOptions } from '../server/server';
import { Aof, strerror } from './aof';
import { dataDir, type PersistenceContext } from './context';
import { accessModeFor, type AccessMode } from './keyspaceAdapter';
import {
  AtomicFileWriter,
  pumpToFile,
  RdbLoadError,
  installLoadedDatabases,
  loadRdbFile,
  loadRdbFileSync,
  saveRdbSync,
  type LoadResult,
} from './rdbFile';
import { RdbSnapshotStream, type StreamOptions } from './rdbSnapshot';
import type { RdbWriterOptions } from './rdbWriter';
import { redisAuxFields } from './rdbWriter';
import { SnapshotRegistry, DEFAULT_KEYS_PER_PASS } from './snapshot';
import { commandLoadPacing, type SnapshotJob } from './snapshotPacing';

/** Seconds to wait after a failed BGSAVE before a save point triggers another (CONFIG_BGSAVE_RETRY_DELAY). */
export const BGSAVE_RETRY_DELAY_SEC = 5;
/** fsync every this many bytes while a BGSAVE writes (rdb-save-incremental-fsync: REDIS_AUTOSYNC_BYTES). */
const RDB_AUTOSYNC_BYTES = 4 * 1024 * 1024;

export const MISCONF_RDB =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands " +
  'that may modify the data set are disabled, because this instance is configured to report errors during ' +
  'writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for ' +
  'details about the RDB error.';

/** What replication wants an RDB file to carry (repl-stream-db, repl-id, repl-offset), when it has it. */
export interface ReplicationSaveInfo {
  replId: string;
  offset: number;
  streamDb: number;
}

interface BgsaveJob {
  stream: RdbSnapshotStream;
  writer: AtomicFileWriter | null;
  startedAtMs: number;
  dirtyAtStart: number;
  aborted: boolean;
  /** Highest extra memory seen (pre-images, visited keys, bytes not written yet). */
  peakCow: number;
}

export class Persistence implements PersistenceContext {
  readonly registry: SnapshotRegistry;
  readonly aof: Aof;
  /** unix seconds of the last successful save (or startup). */
  lastSaveSec: number;
  lastBgsaveStatus: 'ok' | 'err' = 'ok';
  lastBgsaveTrySec = 0;
  lastBgsaveDurationSec = -1;
  rdbSaves = 0;
  /** Peak extra memory of the last BGSAVE's snapshot (rdb_last_cow_size). */
  lastCowBytes = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  bgsaveScheduled = false;
  bgsave: BgsaveJob | null = null;
  loadingStartSec = 0;
  loadingTotalBytes = 0;
  loadingLoadedBytes = 0;
  /** Set by replication to have RDB files carry its id and offset. */
  replicationInfo: () => ReplicationSaveInfo | undefined = () => undefined;
  /** AUX fields of the RDB file loaded at startup (replication restores repl-id/repl-offset from them). */
  loadedAux: ReadonlyMap<string, string> | undefined;
  /** Keys per pass of snapshots (tests make it small to exercise several passes). */
  keysPerPass = DEFAULT_KEYS_PER_PASS;

  constructor(readonly server: Server) {
    this.registry = snapshotRegistryOf(server);
    this.aof = new Aof(this);
    this.lastSaveSec = Math.floor(server.clock.nowMs() / 1000);
  }

  // ------------------------------------------------------------------ configuration views

  get dumpPath(): string {
    return path.resolve(dataDir(this.server), this.server.config.get('dbfilename'));
  }

  /** `save` as [seconds, changes] pairs. */
  get savePoints(): Array<[number, number]> {
    const words = this.server.config.get('save').split(/\s+/).filter(Boolean).map(Number);
    const out: Array<[number, number]> = [];
    for (let i = 0; i + 1 < words.length; i += 2) out.push([words[i], words[i + 1]]);
    return out;
  }

  private configInt(name: string): number {
    return this.server.config.lookup(name) === undefined ? 0 : this.server.config.getInt(name);
  }

  accessMode(): AccessMode {
    return accessModeFor(this.server.config.get('maxmemory-policy'));
  }

  rdbWriterOptions(): Pick<RdbWriterOptions, 'compress' | 'checksum' | 'encodingLimits'> {
    const c = this.server.config;
    const listSize = c.getInt('list-max-listpack-size');
    return {
      compress: c.getBool('rdbcompression'),
      checksum: c.getBool('rdbchecksum'),
      encodingLimits: {
        hashMaxListpackEntries: c.getInt('hash-max-listpack-entries'),
        hashMaxListpackValue: c.getInt('hash-max-listpack-value'),
        zsetMaxListpackEntries: c.getInt('zset-max-listpack-entries'),
        zsetMaxListpackValue: c.getInt('zset-max-listpack-value'),
        setMaxIntsetEntries: c.getInt('set-max-intset-entries'),
        listMaxListpackBytes: listSize < 0 ? 4096 << Math.min(4, -listSize - 1) : 8192,
      },
    };
  }

  /** `urgency`: how close the job is to a limit on its length (snapshotPacing.ts); a full sync reports it. */
  streamOptions(job: SnapshotJob, urgency?: () => number): StreamOptions {
    return {
      accessMode: this.accessMode(),
      nowMs: () => this.server.clock.nowMs(),
      keysPerPass: this.keysPerPass,
      keyDelayUs: () => this.configInt('rdb-key-save-delay'),
      pace: commandLoadPacing(job, () => this.server.stats.totalCommands, urgency),
    };
  }

  auxFields(aofBase: boolean): Array<[string, string]> {
    const repl = aofBase ? undefined : this.replicationInfo();
    return redisAuxFields({
      redisVersion: REDIS_COMPAT_VERSION,
      ctimeSec: Math.floor(this.server.clock.nowMs() / 1000),
      usedMemBytes: this.server.usedMemoryBytes(),
      replId: repl?.replId,
      replOffset: repl?.offset,
      replStreamDb: repl?.streamDb,
      aofBase,
    });
  }

  backgroundJobRunning(): boolean {
    return this.bgsave !== null || this.aof.rewriting;
  }

  inExec(): boolean {
    return this.server.currentClient?.inExec ?? false;
  }

  private nowSec(): number {
    return Math.floor(this.server.clock.nowMs() / 1000);
  }

  // ------------------------------------------------------------------ SAVE

  /** A blocking save to the dump file. Returns false (and logs) on failure. */
  saveSync(): boolean {
    const server = this.server;
    const file = this.dumpPath;
    const dirtyBefore = server.dirty;
    try {
      const result = saveRdbSync(server.keyspace, file, {
        ...this.rdbWriterOptions(),
        aux: this.auxFields(false),
        accessMode: this.accessMode(),
        nowMs: server.clock.nowMs(),
      });
      server.log.notice(`DB saved on disk (${result.keys} keys, ${result.bytes} bytes)`);
    } catch (err) {
      server.log.warning(`Failed opening the temp RDB file or writing ${file}: ${strerror(err)}`);
      this.lastBgsaveStatus = 'err';
      return false;
    }
    server.dirty -= dirtyBefore;
    if (server.dirty < 0) server.dirty = 0;
    this.lastSaveSec = this.nowSec();
    this.lastBgsaveStatus = 'ok';
    this.rdbSaves++;
    return true;
  }

  // ------------------------------------------------------------------ BGSAVE

  /** Starts a BGSAVE now. Returns an error text (without '-') when it cannot start. */
  startBgsave(): string | undefined {
    if (this.bgsave !== null) return 'ERR Background save already in progress';
    const server = this.server;
    this.lastBgsaveTrySec = this.nowSec();
    const stream = new RdbSnapshotStream(server.keyspace, this.registry, {
      ...this.streamOptions('save'),
      ...this.rdbWriterOptions(),
      aux: this.auxFields(false),
    });
    const job: BgsaveJob = {
      stream,
      writer: null,
      startedAtMs: server.clock.nowMs(),
      dirtyAtStart: server.dirty,
      aborted: false,
      peakCow: 0,
    };
    this.bgsave = job;
    this.bgsaveScheduled = false;
    server.log.notice(`Background saving started (fork-less snapshot of ${stream.stats.keysTotal} keys)`);
    this.runBgsave(job).then(
      () => this.bgsaveDone(job, null),
      (err: unknown) => this.bgsaveDone(job, err),
    );
    return undefined;
  }

  private async runBgsave(job: BgsaveJob): Promise<void> {
    const fsyncEvery = this.server.config.getBool('rdb-save-incremental-fsync') ? RDB_AUTOSYNC_BYTES : 0;
    job.writer = await AtomicFileWriter.create(this.dumpPath, fsyncEvery);
    await pumpToFile(
      job.stream,
      job.writer,
      () => job.aborted,
      () => this.noteCow(job),
    );
  }

  private noteCow(job: BgsaveJob): void {
    job.peakCow = Math.max(job.peakCow, job.stream.cowBytes);
  }

  private bgsaveDone(job: BgsaveJob, err: unknown): void {
    if (this.bgsave === job) this.bgsave = null;
    const server = this.server;
    server.nowMs = server.clock.nowMs();
    if (job.aborted) {
      void job.writer?.discard();
      return;
    }
    this.lastBgsaveDurationSec = Math.round((server.clock.nowMs() - job.startedAtMs) / 1000);
    this.noteCow(job);
    this.lastCowBytes = job.peakCow;
    if (err !== null) {
      void job.writer?.discard();
      this.lastBgsaveStatus = 'err';
      server.log.warning(`Background saving error: ${strerror(err)}`);
      return;
    }
    server.dirty -= job.dirtyAtStart;
    if (server.dirty < 0) server.dirty = 0;
    this.lastSaveSec = this.nowSec();
    this.lastBgsaveStatus = 'ok';
    this.rdbSaves++;
    server.log.notice(
      `Background saving terminated with success (${job.writer?.bytes ?? 0} bytes, ` +
        `${job.stream.stats.keysChangedDuringSnapshot} keys changed during the snapshot, ` +
        `peak extra memory ${this.lastCowBytes} bytes)`,
    );
  }

  /** Stops a running BGSAVE without touching the dump file or the status (Redis's killRDBChild). */
  abortBgsave(reason: string): void {
    const job = this.bgsave;
    if (job === null) return;
    job.aborted = true;
    this.bgsave = null;
    job.stream.close();
    void job.writer?.discard();
    this.server.log.notice(`Background saving stopped: ${reason}`);
  }

  get currentBgsaveSec(): number {
    return this.bgsave === null
      ? -1
      : Math.floor((this.server.clock.nowMs() - this.bgsave.startedAtMs) / 1000);
  }

  // ------------------------------------------------------------------ periodic work

  cron(): void {
    const nowMs = this.server.clock.nowMs();
    const nowSec = Math.floor(nowMs / 1000);
    this.aof.cron(nowMs);
    if (this.server.loading || this.backgroundJobRunning()) return;
    const retryOk = nowSec - this.lastBgsaveTrySec > BGSAVE_RETRY_DELAY_SEC || this.lastBgsaveStatus === 'ok';
    if (this.bgsaveScheduled && retryOk) {
      this.startBgsave();
      return;
    }
    if (this.aof.shouldRewrite(nowMs)) {
      this.aof.startRewrite();
      return;
    }
    const dirty = this.server.dirty;
    if (dirty === 0) return;
    for (const [seconds, changes] of this.savePoints) {
      if (dirty >= changes && nowSec - this.lastSaveSec > seconds && retryOk) {
        this.server.log.notice(`${changes} changes in ${seconds} seconds. Saving...`);
        this.startBgsave();
        return;
      }
    }
  }

  // ------------------------------------------------------------------ write refusal

  /** The -MISCONF text while writes must be refused, else undefined. */
  writeDenial(): string | undefined {
    // Field checks first: this runs before every command.
    if (
      this.lastBgsaveStatus === 'err' &&
      this.server.config.getBool('stop-writes-on-bgsave-error') &&
      this.savePoints.length > 0
    ) {
      return MISCONF_RDB;
    }
    if (this.aof.lastWriteStatus === 'err' && this.aof.enabled) {
      return `MISCONF Errors writing to the AOF file: ${this.aof.lastWriteError}`;
    }
    return undefined;
  }

  /** Admission filter: refuses writes (and PING, as Redis) while persistence is failing. */
  readonly commandFilter = (c: Client, cmd: Command, _argv: string[]): string | undefined => {
    const denial = this.writeDenial();
    if (denial === undefined || c.kind === 'master') return undefined;
    const name = cmd.parent?.spec.name ?? cmd.spec.name;
    const write =
      (cmd.bits & F.write) !== 0 ||
      (name === 'exec' && c.multi !== null && c.multi.queue.some((q) => (q.cmd.bits & F.write) !== 0));
    return write || name === 'ping' ? denial : undefined;
  };

  // ------------------------------------------------------------------ FLUSHALL and SHUTDOWN

  /** After FLUSHALL: the running BGSAVE is stale; with save points the empty dataset is saved at once. */
  afterFlushAll(): void {
    this.abortBgsave('FLUSHALL');
    if (this.savePoints.length === 0) return;
    const server = this.server;
    const c = server.currentClient;
    this.saveSync();
    server.dirty++;
    // The save reset `dirty`, which is how the server decides to propagate: propagate FLUSHALL explicitly.
    if (c !== undefined && c.argv.length > 0) {
      server.rewritePropagation(null);
      server.alsoPropagate(c.db.id, c.argv);
    }
  }

  readonly shutdownHook = (opts: ShutdownOptions): void => {
    const server = this.server;
    if (this.bgsave !== null) {
      server.log.warning('There is a child saving an .rdb. Killing it!');
      this.abortBgsave('shutting down');
    }
    if (this.aof.rewriting) server.log.warning('There is a child rewriting the AOF. Killing it!');
    if (this.aof.enabled) server.log.notice('Calling fsync() on the AOF file.');
    this.aof.prepareShutdown();
    const save = opts.save === 'save' || (opts.save === 'default' && this.savePoints.length > 0);
    if (!save || server.loading) return;
    server.log.notice('Saving the final RDB snapshot before exiting.');
    if (!this.saveSync()) {
      server.log.warning("Error trying to save the DB, can't exit.");
      throw new Error("Error trying to save the DB, can't exit.");
    }
  };

  // ------------------------------------------------------------------ loading

  private loadOptions(): Parameters<typeof loadRdbFile>[1] {
    const server = this.server;
    return {
      dbCount: server.keyspace.dbs.length,
      nowMs: () => server.clock.nowMs(),
      dropExpired: server.role === 'master',
      keyDelayUs: () => this.configInt('key-load-delay'),
      onProgress: (bytes) => {
        this.loadingLoadedBytes = bytes;
      },
      onFunction: (offset) =>
        server.log.warning(
          `Skipping a FUNCTION library in the RDB file (at byte ${offset}): functions are not supported`,
        ),
    };
  }

  /**
   * Loads the dataset at startup (the server already listens: clients get -LOADING). Throws AgentError when the
   * data cannot be loaded; the caller exits.
   */
  async loadAtStartup(): Promise<void> {
    const server = this.server;
    const config = server.config;
    const started = performance.now();
    server.loading = true;
    this.loadingStartSec = this.nowSec();
    this.loadingLoadedBytes = 0;
    try {
      if (config.getBool('appendonly')) {
        const found = await this.aof.load((loaded, total) => {
          this.loadingLoadedBytes = loaded;
          this.loadingTotalBytes = total;
        });
        this.aof.openAfterLoad();
        if (found) server.log.notice(`DB loaded from append only file: ${elapsedSec(started)} seconds`);
      } else {
        const file = this.dumpPath;
        if (existsSync(file)) {
          this.loadingTotalBytes = statSync(file).size;
          const result = await loadRdbFile(file, this.loadOptions());
          this.applyLoaded(result);
          server.log.notice(`DB loaded from disk: ${elapsedSec(started)} seconds`);
        }
      }
    } catch (err) {
      if (err instanceof AgentError) throw err;
      if (err instanceof RdbLoadError) {
        throw new AgentError('RDB_LOAD', `Fatal error loading the DB: ${err.message}. Exiting.`);
      }
      throw new AgentError('RDB_LOAD', `Fatal error loading the DB: ${strerror(err)}. Exiting.`);
    } finally {
      server.loading = false;
    }
    server.dirty = 0;
  }

  private applyLoaded(result: LoadResult): void {
    const server = this.server;
    const ver = result.aux.get('redis-ver');
    if (ver !== undefined) server.log.notice(`Loading RDB produced by version ${ver}`);
    const ctime = Number(result.aux.get('ctime'));
    if (Number.isFinite(ctime) && ctime > 0) server.log.notice(`RDB age ${this.nowSec() - ctime} seconds`);
    installLoadedDatabases(server.keyspace, result.dbs);
    this.loadedAux = result.aux;
    this.lastLoadKeysLoaded = result.keysLoaded;
    this.lastLoadKeysExpired = result.keysExpired;
    server.log.notice(
      `Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: ${result.keysExpired}.`,
    );
  }

  /** DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back, synchronously. */
  debugReload(c: Client, argv: string[]): void {
    let flush = true;
    let save = true;
    let merge = false;
    for (let j = 2; j < argv.length; j++) {
      const opt = argv[j].toUpperCase();
      if (opt === 'MERGE') merge = true;
      else if (opt === 'NOFLUSH') flush = false;
      else if (opt === 'NOSAVE') save = false;
      else {
        c.reply.error('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
        return;
      }
    }
    if (save && !this.saveSync()) {
      c.reply.error('ERR');
      return;
    }
    const server = this.server;
    let result: LoadResult;
    try {
      result = loadRdbFileSync(this.dumpPath, this.loadOptions());
    } catch (err) {
      server.log.warning(`Error trying to load the RDB dump: ${(err as Error).message}`);
      c.reply.error('ERR Error trying to load the RDB dump, check server logs.');
      return;
    }
    const ks = server.keyspace;
    if (!flush) {
      // Merge into the current dataset: without MERGE a duplicate key is an error (Redis panics there).
      for (let i = 0; i < ks.dbs.length; i++) {
        const loaded = result.dbs[i];
        const db = ks.dbs[i];
        if (!merge) {
          for (const key of loaded.dict.keys()) {
            if (db.dict.has(key)) {
              server.log.warning(`RDB has duplicated key '${key}' in DB ${i}`);
              c.reply.error('ERR Error trying to load the RDB dump, check server logs.');
              return;
            }
          }
        }
      }
      for (let i = 0; i < ks.dbs.length; i++) {
        const loaded = result.dbs[i];
        const db = ks.dbs[i];
        for (const [key, value] of loaded.dict) {
          db.set(key, value);
          const at = loaded.expires.get(key);
          if (at !== undefined) db.setExpire(key, at);
          const stamp = loaded.dict.stampOf(key);
          if (stamp !== undefined) db.dict.setStamp(key, stamp);
        }
      }
    } else {
      installLoadedDatabases(ks, result.dbs);
    }
    this.lastLoadKeysLoaded = result.keysLoaded;
    this.lastLoadKeysExpired = result.keysExpired;
    server.log.warning('DB reloaded by DEBUG RELOAD');
    c.reply.ok();
  }

  // ------------------------------------------------------------------ INFO

  infoFields(): InfoFields {
    const server = this.server;
    const aof = this.aof;
    const job = this.bgsave;
    const cow = job !== null ? job.stream.extraBytes : aof.currentCowBytes;
    const stats = job?.stream.stats ?? aof.rewrite?.stream.stats;
    const processed = stats?.keysWritten ?? 0;
    const total = stats?.keysTotal ?? 0;
    const fields: InfoFields = [
      ['loading', server.loading ? 1 : 0],
      ['async_loading', 0],
      ['current_cow_peak', stats?.peakExtraBytes ?? 0],
      ['current_cow_size', cow],
      ['current_cow_size_age', 0],
      ['current_fork_perc', total > 0 ? ((processed / total) * 100).toFixed(2) : '0.00'],
      ['current_save_keys_processed', processed],
      ['current_save_keys_total', total],
      ['rdb_changes_since_last_save', server.dirty],
      ['rdb_bgsave_in_progress', job !== null ? 1 : 0],
      ['rdb_last_save_time', this.lastSaveSec],
      ['rdb_last_bgsave_status', this.lastBgsaveStatus],
      ['rdb_last_bgsave_time_sec', this.lastBgsaveDurationSec],
      ['rdb_current_bgsave_time_sec', this.currentBgsaveSec],
      ['rdb_saves', this.rdbSaves],
      ['rdb_last_cow_size', this.lastCowBytes],
      ['rdb_last_load_keys_expired', this.lastLoadKeysExpired],
      ['rdb_last_load_keys_loaded', this.lastLoadKeysLoaded],
      ['aof_enabled', aof.enabled ? 1 : 0],
      ['aof_rewrite_in_progress', aof.rewriting ? 1 : 0],
      ['aof_rewrite_scheduled', aof.rewriteScheduled ? 1 : 0],
      ['aof_last_rewrite_time_sec', aof.lastRewriteDurationSec],
      ['aof_current_rewrite_time_sec', aof.currentRewriteSec],
      ['aof_last_bgrewrite_status', aof.lastBgrewriteStatus],
      ['aof_rewrites', aof.rewrites],
      ['aof_rewrites_consecutive_failures', aof.consecutiveFailures],
      ['aof_last_write_status', aof.lastWriteStatus],
      ['aof_last_cow_size', aof.lastCowBytes],
      ['module_fork_in_progress', 0],
      ['module_fork_last_cow_size', 0],
    ];
    if (aof.enabled) {
      fields.push(
        ['aof_current_size', aof.currentSizeBytes],
        ['aof_base_size', aof.baseSizeBytes],
        ['aof_pending_rewrite', aof.rewriteScheduled ? 1 : 0],
        ['aof_buffer_length', aof.bufferedBytes],
        ['aof_pending_bio_fsync', aof.fsyncPending ? 1 : 0],
        ['aof_delayed_fsync', aof.delayedFsyncs],
      );
    }
    if (server.loading) {
      const elapsed = this.nowSec() - this.loadingStartSec;
      const loaded = this.loadingLoadedBytes;
      const totalBytes = this.loadingTotalBytes;
      const perc = totalBytes > 0 ? (loaded / totalBytes) * 100 : 0;
      const remaining = totalBytes > 0 ? totalBytes - loaded : 1;
      const eta = elapsed === 0 ? 1 : Math.floor((elapsed * remaining) / (loaded + 1));
      fields.push(
        ['loading_start_time', this.loadingStartSec],
        ['loading_total_bytes', totalBytes],
        ['loading_rdb_used_mem', 0],
        ['loading_loaded_bytes', loaded],
        ['loading_loaded_perc', perc.toFixed(2)],
        ['loading_eta_seconds', eta],
      );
    }
    return fields;
  }
}

function elapsedSec(startedMs: number): string {
  return ((performance.now() - startedMs) / 1000).toFixed(3);
}

const registries = new WeakMap<Server, SnapshotRegistry>();

/**
 * The snapshot registry of a server, connected to its keyspace hooks on first use (persistence and replication
 * snapshots share it).
 */
export function snapshotRegistryOf(server: Server): SnapshotRegistry {
  let registry = registries.get(server);
  if (registry !== undefined) return registry;
  const r = new SnapshotRegistry();
  registry = r;
  registries.set(server, r);
  const previousMutate = server.beforeMutate;
  const previousReplace = server.beforeReplaceAll;
  server.beforeMutate = (db, key) => {
    previousMutate(db, key);
    r.beforeMutate(db, key);
  };
  server.beforeReplaceAll = (db) => {
    previousReplace(db);
    r.beforeReplaceAll(db);
  };
  return r;
}
