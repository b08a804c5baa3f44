/**
 * Full synchronization on the master: one snapshot shared by every replica that asks while it is made.
 *
 * A job is one snapshot taken at stream offset X (announced to each of its replicas as `+FULLRESYNC <replid> X`).
 * From that instant, every byte appended to the stream is kept in the job's `pending` blocks (byteBlocks.ts),
 * shared between its replicas, and written to each replica once it has the snapshot; then the replica is online.
 * `pending` is charged to each replica against client-output-buffer-limit (replica class): a replica that would
 * make the master hold more is dropped and comes back later.
 *
 * Two transports, as in Redis:
 * - diskless (repl-diskless-sync yes, replicas announced `capa eof`): the snapshot streams straight to the
 *   sockets, framed `$EOF:<40 random chars>\r\n ... <same 40 chars>`. Arrivals are batched for
 *   repl-diskless-sync-delay seconds (or until repl-diskless-sync-max-replicas wait) so one snapshot serves
 *   them all. After the transfer the replica is online once it sends its first REPLCONF ACK (it has loaded).
 * - disk-based: the snapshot is written to the dump file first (temp file, fsync, rename onto dbfilename), then
 *   sent to each replica framed `$<length>\r\n`. A replica that arrives while the file is being written
 *   joins that job.
 * Only one snapshot is produced at a time; replicas that arrive during a diskless transfer wait for the next.
 */
import {
  createReadStream,
  createWriteStream,
  fsyncSync,
  openSync,
  closeSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import { bufferUrgency, redisAuxFields } from '../persistence';
import { REDIS_COMPAT_VERSION } from '../server/server';
import { ByteBlocks } from './byteBlocks';
import type { ReplicaPeer } from './replicaPeer';
import type { Replication } from './replication';
import { SnapshotFanOut, DEFAULT_FAN_OUT_OPTIONS } from './snapshotFanOut';

/** Length of the diskless end-of-file mark (CONFIG_RUN_ID_SIZE in Redis). */
export const EOF_MARK_CHARS = 40;

export type FullSyncMode = 'socket' | 'disk';

export class FullSyncJob {
  readonly peers = new Set<ReplicaPeer>();
  /** Stream bytes since `offset`, for replicas that are not online yet. */
  pending = new ByteBlocks();

  get pendingBytes(): number {
    return this.pending.bytes;
  }
  /** The snapshot is still being produced (fan-out or file write running). */
  snapshotting = true;
  /** Disk mode: the file is still being written, so late replicas may join. */
  writingFile = false;
  fanOut: SnapshotFanOut | null = null;

  constructor(
    readonly id: number,
    readonly mode: FullSyncMode,
    readonly offset: number,
  ) {}
}

export class FullSyncCoordinator {
  /** The job whose snapshot is being produced. */
  private current: FullSyncJob | null = null;
  /** Jobs that still have replicas waiting to go online. */
  private readonly jobs = new Set<FullSyncJob>();
  private nextJobId = 1;
  private delayTimer: NodeJS.Timeout | undefined;
  /** Snapshots made for replication since startup. */
  snapshotsStarted = 0;

  constructor(private readonly repl: Replication) {}

  private get server() {
    return this.repl.server;
  }

  private now(): number {
    return this.server.clock.nowMs();
  }

  /** Stream bytes held for replicas that are not online yet (shared between a job's replicas). */
  get pendingBytes(): number {
    let n = 0;
    for (const job of this.jobs) n += job.pendingBytes;
    return n;
  }

  get inProgress(): boolean {
    return this.current !== null;
  }

  /** A replica needs a full sync. */
  request(peer: ReplicaPeer): void {
    peer.state = 'wait-bgsave-start';
    peer.waitingSinceMs = this.now();
    const cur = this.current;
    if (cur !== null) {
      if (cur.mode === 'disk' && cur.writingFile) {
        this.server.log.notice('Waiting for end of BGSAVE for SYNC');
        this.setupFullResync(peer, cur);
        return;
      }
      this.server.log.notice(
        "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC",
      );
      return;
    }
    const config = this.server.config;
    if (
      config.getBool('repl-diskless-sync') &&
      peer.handshake.capaEof &&
      config.getInt('repl-diskless-sync-delay') > 0
    ) {
      this.server.log.notice('Delay next BGSAVE for diskless SYNC');
    }
    this.maybeStart();
  }

  /** Starts a snapshot for the waiting replicas when the batching rules allow it. */
  maybeStart(): void {
    if (this.current !== null) return;
    // A replica serves its own replicas only a dataset that is in sync with its master.
    if (this.repl.link !== null && !this.repl.link.isUp) return;
    const waiting = [...this.repl.peers.values()].filter((p) => p.state === 'wait-bgsave-start' && !p.closed);
    if (waiting.length === 0) return;
    const config = this.server.config;
    const diskless = config.getBool('repl-diskless-sync') && waiting.every((p) => p.handshake.capaEof);
    if (diskless) {
      const delayMs = config.getInt('repl-diskless-sync-delay') * 1000;
      const maxReplicas = config.getInt('repl-diskless-sync-max-replicas');
      const oldest = Math.min(...waiting.map((p) => p.waitingSinceMs));
      const idleMs = this.now() - oldest;
      const enough = maxReplicas > 0 && waiting.length >= maxReplicas;
      if (!enough && idleMs < delayMs) {
        if (this.delayTimer === undefined) {
          this.delayTimer = setTimeout(() => {
            this.delayTimer = undefined;
            this.server.nowMs = this.now();
            this.maybeStart();
          }, delayMs - idleMs);
          this.delayTimer.unref();
        }
        return;
      }
    }
    if (this.delayTimer !== undefined) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    this.startJob(waiting, diskless ? 'socket' : 'disk');
  }

  private startJob(peers: ReplicaPeer[], mode: FullSyncMode): void {
    const repl = this.repl;
    repl.ensureBacklog();
    const offset = repl.masterOffset;
    // The stream after a snapshot starts with a SELECT, whatever database it was on.
    repl.stream.selectedDb = -1;
    const aux = redisAuxFields({
      redisVersion: REDIS_COMPAT_VERSION,
      ctimeSec: Math.floor(this.now() / 1000),
      usedMemBytes: process.memoryUsage().rss,
      replStreamDb: 0,
      replId: repl.ids.replid,
      replOffset: offset,
    });
    const job = new FullSyncJob(this.nextJobId++, mode, offset);
    let source;
    try {
      source = repl.options.snapshotSource(this.server, {
        aux,
        urgency: () => bufferUrgency(job.pendingBytes, this.server.outputLimitBytes('replica')),
      });
    } catch (err) {
      this.server.log.warning(`Can't create a snapshot for replication: ${(err as Error).message}`);
      for (const p of peers) repl.dropPeer(p, 'Snapshot for SYNC failed');
      return;
    }
    this.snapshotsStarted++;
    this.current = job;
    this.jobs.add(job);
    this.server.log.notice(
      `Starting BGSAVE for SYNC with target: ${mode === 'socket' ? 'replicas sockets' : 'disk'} ` +
        `(snapshot #${this.snapshotsStarted} at offset ${offset} for ${peers.length} replica(s))`,
    );
    for (const p of peers) this.setupFullResync(p, job);
    const fanOut = new SnapshotFanOut(source, {
      ...DEFAULT_FAN_OUT_OPTIONS,
      onProgress: () => {
        const now = this.now();
        for (const p of job.peers) p.progressMs = now;
      },
    });
    job.fanOut = fanOut;
    const run = mode === 'socket' ? this.runDiskless(job, fanOut) : this.runDisk(job, fanOut);
    run.catch((err: unknown) => {
      this.server.log.warning(`Full sync snapshot failed: ${(err as Error).message}`);
      for (const p of [...job.peers]) repl.dropPeer(p, 'Snapshot for SYNC failed');
      this.finishSnapshot(job);
    });
  }

  /** Replies +FULLRESYNC and makes the replica part of the job. */
  private setupFullResync(peer: ReplicaPeer, job: FullSyncJob): void {
    if (!peer.preSync) peer.write(`+FULLRESYNC ${this.repl.ids.replid} ${job.offset}\r\n`);
    peer.state = 'wait-bgsave-end';
    peer.job = job;
    peer.progressMs = this.now();
    job.peers.add(peer);
  }

  private async runDiskless(job: FullSyncJob, fanOut: SnapshotFanOut): Promise<void> {
    const mark = this.repl.options.random(EOF_MARK_CHARS / 2).toString('hex');
    for (const p of job.peers) {
      p.write(`$EOF:${mark}\r\n`);
      p.state = 'send-bulk';
      fanOut.add(p.socket);
    }
    const counted = job.peers.size;
    const result = await fanOut.run();
    this.server.nowMs = this.now();
    this.server.stats.netReplOutputBytes += result.bytes * counted;
    if (result.completed) {
      for (const p of [...job.peers]) {
        if (p.closed) continue;
        p.write(mark);
        p.state = 'wait-ack';
        p.progressMs = this.now();
        this.server.log.notice(
          `Streamed RDB transfer with replica ${p.name} succeeded (socket, ${result.bytes} bytes). ` +
            'Waiting for REPLCONF ACK from replica to enable streaming',
        );
      }
    }
    this.finishSnapshot(job);
  }

  private async runDisk(job: FullSyncJob, fanOut: SnapshotFanOut): Promise<void> {
    const config = this.server.config;
    const dir = config.get('dir');
    const finalPath = path.resolve(dir, config.get('dbfilename'));
    const tempPath = path.resolve(dir, `temp-${process.pid}-repl-${job.id}.rdb`);
    job.writingFile = true;
    const file = createWriteStream(tempPath);
    const opened = new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', reject);
    });
    await opened;
    fanOut.add(file);
    const result = await fanOut.run();
    await new Promise<void>((resolve, reject) => {
      file.once('error', reject);
      file.end(() => resolve());
    });
    if (!result.completed) {
      unlinkSync(tempPath);
      job.writingFile = false;
      this.finishSnapshot(job);
      return;
    }
    const fd = openSync(tempPath, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tempPath, finalPath);
    job.writingFile = false;
    this.server.nowMs = this.now();
    this.server.log.notice(`Background saving terminated with success (${result.bytes} bytes for SYNC)`);
    const size = statSync(finalPath).size;
    for (const p of [...job.peers]) this.sendFile(p, finalPath, size);
    this.finishSnapshot(job);
  }

  /** Sends the dump file to one replica, then puts it online (disk-based: no ACK needed first). */
  private sendFile(peer: ReplicaPeer, file: string, size: number): void {
    if (peer.closed) return;
    peer.state = 'send-bulk';
    peer.progressMs = this.now();
    peer.write(`$${size}\r\n`);
    const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
    const socket = peer.socket;
    const abort = (): void => {
      stream.destroy();
    };
    socket.once('close', abort);
    stream.on('data', () => {
      peer.progressMs = this.now();
    });
    stream.on('error', (err) => {
      socket.removeListener('close', abort);
      this.repl.dropPeer(peer, `Reading the dump file for SYNC failed (${err.message})`);
    });
    stream.on('end', () => {
      socket.removeListener('close', abort);
      if (peer.closed) return;
      this.server.nowMs = this.now();
      this.goOnline(peer);
    });
    stream.pipe(socket, { end: false });
  }

  /** The snapshot has been produced (or abandoned): the next one may start. */
  private finishSnapshot(job: FullSyncJob): void {
    job.snapshotting = false;
    job.fanOut = null;
    if (this.current === job) this.current = null;
    this.releaseIfDone(job);
    this.maybeStart();
  }

  private releaseIfDone(job: FullSyncJob): void {
    if (job.peers.size === 0 && !job.snapshotting) {
      this.jobs.delete(job);
      job.pending = new ByteBlocks();
    }
  }

  /** The replica loaded a diskless snapshot and acknowledged: stream from here. */
  ackAfterLoad(peer: ReplicaPeer): void {
    if (peer.state === 'wait-ack') this.goOnline(peer);
  }

  private goOnline(peer: ReplicaPeer): void {
    const job = peer.job;
    const socket = peer.socket;
    if (job !== null && job.pendingBytes > 0) {
      socket.cork();
      for (const b of job.pending.views()) socket.write(b);
      socket.uncork();
    }
    this.repl.peerOnline(peer);
    if (job !== null) {
      job.peers.delete(peer);
      peer.job = null;
      this.releaseIfDone(job);
    }
    this.server.checkOutputLimits(peer.client, socket.writableLength);
  }

  /** Keeps stream bytes for replicas that do not have their snapshot yet; enforces their buffer limits. */
  onStream(data: Buffer, length: number): void {
    // Called once per propagated command: the Sets are iterated in place (no copies), which stays right when a
    // replica over its limit is dropped meanwhile (it only deletes itself, and maybe its job, from them).
    for (const job of this.jobs) {
      if (job.peers.size === 0) continue;
      job.pending.append(data, length);
      for (const peer of job.peers) this.server.checkOutputLimits(peer.client, job.pendingBytes);
    }
  }

  /** A replica went away. */
  detach(peer: ReplicaPeer): void {
    const job = peer.job;
    if (job === null) return;
    peer.job = null;
    job.peers.delete(peer);
    job.fanOut?.remove(peer.socket);
    this.releaseIfDone(job);
  }
}
