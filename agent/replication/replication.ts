/**
 * The replication state of one server, master side and replica side together, because a node can be both (a
 * replica with its own replicas forwards the stream it receives, with the same ids and offsets).
 *
 * The stream: every effective write becomes client-protocol RESP (resp/commandEncoder.ts), appended to the backlog
 * (offsets count its bytes) and queued to every replica. On a master, writes come from the server's propagation;
 * on a replica, from the link, which forwards exactly the bytes it applied. A replica ignores its own local
 * propagation (writable-replica writes stay local, as in Redis).
 *
 * Replica output: online replicas all get the same bytes, collected in one buffer and written once per
 * STREAM_WRITE_BYTES and at the end of the event-loop turn, so a burst of writes from many clients becomes a few
 * socket writes per replica; a replica becomes online only after that buffer went out to the others. The backlog
 * and offsets are updated at once, so WAIT and PSYNC always see exact offsets. A replica whose unsent output
 * passes client-output-buffer-limit (replica class) is dropped; the master's memory is never what gives.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ByteSink } from '../persistence/byteSink';
import type { Client } from '../server/client';
import type { PropagatedCommand, Server } from '../server/server';
import { ReplicationBacklog } from './backlog';
import { Failover } from './failover';
import { FullSyncCoordinator } from './fullSync';
import { ReplicaLink } from './link';
import { ReplicaPeer, emptyHandshake, type ReplicaHandshake } from './replicaPeer';
import { ReplicationIds, type RandomBytes } from './replicationIds';
import { defaultSnapshotSource, type SnapshotSource } from './snapshotSource';
import { CommandEncoder, encodeCommand } from '../resp/commandEncoder';

export interface ReplicationOptions {
  random?: RandomBytes;
  snapshotSource?: SnapshotSource;
  /** Opens the replica link's TCP connection (tests may route it elsewhere). */
  connect?: (host: string, port: number) => Socket;
}

/** A WAIT in progress. */
interface Waiter {
  client: Client;
  targetOffset: number;
  replicas: number;
}

/** How often a shutdown checks whether the replicas caught up. */
const SHUTDOWN_POLL_MS = 10;

/**
 * Stream bytes for online replicas are written at once when this many are waiting, rather than at the end of the
 * event-loop turn: a turn under many clients runs hundreds of writes, and replicas should not wait for the last
 * of them. A few writes per turn cost next to nothing.
 */
const STREAM_WRITE_BYTES = 16 * 1024;

const GETACK = Buffer.from(encodeCommand(['REPLCONF', 'GETACK', '*']), 'latin1');
const PING = Buffer.from(encodeCommand(['PING']), 'latin1');

export class Replication {
  readonly ids: ReplicationIds;
  backlog: ReplicationBacklog | null = null;
  /** master_repl_offset while there is no backlog. */
  private offsetWithoutBacklog = 0;
  readonly stream = new CommandEncoder();
  /** Stream bytes not yet written to the online replicas (the same for all of them). */
  private readonly onlineOut = new ByteSink(STREAM_WRITE_BYTES * 4);
  readonly peers = new Map<Client, ReplicaPeer>();
  /** The peers in state online, which the stream flows to as it is appended (indexed for the per-write path). */
  private readonly onlinePeers: ReplicaPeer[] = [];
  /** REPLCONF data of connections that are not replicas yet. */
  readonly handshakes = new WeakMap<Client, ReplicaHandshake>();
  readonly fullSync: FullSyncCoordinator;
  readonly failover: Failover;
  /** The replica side, when this node follows a master. */
  link: ReplicaLink | null = null;
  /** Offset after the last write (excluding PINGs and GETACKs): what WAIT waits for. */
  lastWriteOffset = 0;
  /**
   * Does our dataset have a known place in a replication history (ids + offset)? False for a node started
   * empty as a replica: it asks `PSYNC ? -1`. True once synced, or for a master turned replica.
   */
  historyKnown = false;
  /** Since when there have been no replicas (repl-backlog-ttl). */
  private noReplicasSinceMs: number;
  private flushScheduled = false;
  private getAckScheduled = false;
  private readonly waiters: Waiter[] = [];
  private lastPingMs: number;
  readonly options: Required<ReplicationOptions>;

  constructor(
    readonly server: Server,
    options: ReplicationOptions = {},
  ) {
    this.options = {
      random: options.random ?? randomBytes,
      snapshotSource: options.snapshotSource ?? defaultSnapshotSource,
      connect: options.connect ?? ((host, port) => connect(port, host)),
    };
    this.ids = new ReplicationIds(this.options.random);
    this.fullSync = new FullSyncCoordinator(this);
    this.failover = new Failover(this);
    this.noReplicasSinceMs = this.lastPingMs = server.nowMs;
  }

  get isReplica(): boolean {
    return this.link !== null;
  }

  /** master_repl_offset. */
  get masterOffset(): number {
    return this.backlog !== null ? this.backlog.masterOffset : this.offsetWithoutBacklog;
  }

  /** Set by the installer: links persistence (restores ids from the loaded RDB) once, before the stream is used. */
  beforeStreamUse: () => void = () => {};

  /** Creates the backlog (first replica on a master, or a sync on a replica) starting at the current offset. */
  ensureBacklog(): void {
    if (this.backlog !== null) return;
    this.backlog = new ReplicationBacklog(this.backlogSizeBytes(), this.offsetWithoutBacklog);
  }

  /** Replaces the history: a full sync from a master at `offset` with id `replid`. */
  resetHistory(replid: string, offset: number): void {
    this.ids.adopt(replid);
    this.backlog = new ReplicationBacklog(this.backlogSizeBytes(), offset);
    this.offsetWithoutBacklog = offset;
    this.lastWriteOffset = offset;
    this.historyKnown = true;
  }

  /**
   * What an RDB file saved now should carry (repl-id, repl-offset, repl-stream-db), so that a restart can
   * continue partially: a master with a backlog, or a replica with a known history. Undefined otherwise.
   */
  saveInfo(): { replId: string; offset: number; streamDb: number } | undefined {
    const link = this.link;
    if (link !== null) {
      if (!this.historyKnown) return undefined;
      return { replId: this.ids.replid, offset: link.appliedOffset, streamDb: link.masterClient.db.id };
    }
    if (this.backlog === null) return undefined;
    const db = this.stream.selectedDb;
    return { replId: this.ids.replid, offset: this.masterOffset, streamDb: db < 0 ? 0 : db };
  }

  /**
   * After loading an RDB file that carries repl-id / repl-offset (Redis 7 semantics): a replica takes them as
   * its history (its first PSYNC asks to continue from there); a master keeps the id, valid as replid2 too, and
   * an empty backlog at that offset, so replicas that had everything continue with +CONTINUE.
   */
  restoreFromRdbAux(aux: ReadonlyMap<string, string>): void {
    const replid = aux.get('repl-id');
    const offset = Number(aux.get('repl-offset'));
    if (
      replid === undefined ||
      !/^[0-9a-f]{40}$/.test(replid) ||
      !Number.isSafeInteger(offset) ||
      offset < 0
    ) {
      return;
    }
    this.ids.adopt(replid);
    this.offsetWithoutBacklog = offset;
    this.lastWriteOffset = offset;
    this.historyKnown = true;
    const link = this.link;
    if (link !== null) {
      this.backlog = null;
      link.appliedOffset = offset;
      const streamDb = Number(aux.get('repl-stream-db') ?? '0');
      const dbs = this.server.keyspace.dbs;
      if (Number.isInteger(streamDb) && dbs[streamDb] !== undefined) link.masterClient.db = dbs[streamDb];
    } else {
      this.ids.replid2 = replid;
      this.ids.secondOffset = offset + 1;
      this.backlog = new ReplicationBacklog(this.backlogSizeBytes(), offset);
      this.noReplicasSinceMs = this.server.nowMs;
    }
    this.server.log.notice(`Restored replication ID and offset from the RDB file: ${replid}:${offset}`);
  }

  /**
   * SHUTDOWN (and SIGTERM) on a master waits up to shutdown-timeout seconds, writes paused, for its online
   * replicas to acknowledge the whole stream, so that a restart from the final save continues them partially.
   */
  async waitForReplicasAtShutdown(now: boolean): Promise<void> {
    if (this.isReplica || now) return;
    const timeoutMs = this.server.config.getInt('shutdown-timeout') * 1000;
    const online = [...this.peers.values()].filter((p) => p.state === 'online' && !p.preSync);
    if (timeoutMs === 0 || online.length === 0) return;
    const log = this.server.log;
    log.warning('Waiting for replicas before shutting down.');
    const deadline = this.server.clock.nowMs() + timeoutMs;
    this.server.pauseClients('write', deadline);
    const lagging = () => online.filter((p) => !p.closed && p.ackOffset < this.masterOffset);
    while (lagging().length > 0 && this.server.clock.nowMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_POLL_MS));
    }
    for (const p of lagging()) {
      log.warning(
        `Lagging replica ${p.name} reported offset ${p.ackOffset} behind master, ` +
          `lag=${Math.floor((this.server.clock.nowMs() - p.ackTimeMs) / 1000)}, state=${p.infoState}.`,
      );
    }
    const inSync = online.filter((p) => !p.closed && p.ackOffset >= this.masterOffset).length;
    log.warning(`${inSync} of ${online.length} replicas are in sync when shutting down.`);
  }

  freeBacklog(): void {
    if (this.backlog === null) return;
    this.offsetWithoutBacklog = this.backlog.masterOffset;
    this.backlog = null;
  }

  backlogSizeBytes(): number {
    return this.server.config.getInt('repl-backlog-size');
  }

  // ---------------------------------------------------------------- the stream

  /** The server's propagation target: local writes of a master. */
  readonly propagate = (batch: PropagatedCommand[]): void => {
    if (this.isReplica) return;
    this.beforeStreamUse();
    if (this.backlog === null && this.peers.size === 0) return;
    this.ensureBacklog();
    this.appendStream(this.stream.bytes, this.stream.encode(batch));
    this.lastWriteOffset = this.masterOffset;
  };

  /**
   * Appends the first `length` bytes of `data` to the stream: backlog, replicas waiting for their snapshot's end,
   * online replicas.
   */
  appendStream(data: Buffer, length = data.length): void {
    if (length === 0) return;
    if (this.backlog === null) this.ensureBacklog();
    this.backlog!.append(data, length);
    this.fullSync.onStream(data, length);
    if (this.onlinePeers.length === 0) return;
    this.onlineOut.bytes(data, 0, length);
    if (this.onlineOut.pendingBytes >= STREAM_WRITE_BYTES) this.flushPeers();
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushPeers();
    });
  }

  /** Writes the stream bytes collected for online replicas, then applies their output-buffer limits. */
  flushPeers(): void {
    if (this.onlineOut.pendingBytes === 0) return;
    const data = this.onlineOut.takeAll();
    for (const peer of [...this.onlinePeers]) {
      if (peer.closed) continue;
      const socket = peer.socket;
      socket.write(data);
      this.server.stats.netReplOutputBytes += data.length;
      this.server.checkOutputLimits(peer.client, socket.writableLength);
    }
  }

  /**
   * From here the stream flows to `peer` as it is appended. What is collected for the others was appended before
   * (the peer got it from the backlog or its snapshot's buffer): it goes out first.
   */
  private startStreaming(peer: ReplicaPeer): void {
    this.flushPeers();
    peer.state = 'online';
    if (!this.onlinePeers.includes(peer)) this.onlinePeers.push(peer);
  }

  /** Appends a PING to the stream (repl-ping-replica-period), as Redis does: no SELECT, counted in offsets. */
  pingReplicas(): void {
    this.appendStream(PING);
  }

  // ---------------------------------------------------------------- role changes

  /**
   * Follows a master (REPLICAOF host port, or replicaof in the config file). A master keeps its own history as
   * the starting point, so it can continue partially with a master that shares it (a promoted replica).
   * Our replicas stay connected: they are dropped only when our history changes (a new id or a full sync).
   */
  becomeReplicaOf(host: string, port: number, options: { deferConnect?: boolean } = {}): void {
    const wasMaster = this.link === null;
    if (this.link !== null) this.link.stop();
    if (wasMaster && (this.backlog !== null || this.masterOffset > 0)) this.historyKnown = true;
    if (wasMaster) this.unblockAllClients();
    this.server.role = 'replica';
    this.server.log.role = 'S';
    this.link = new ReplicaLink(this, host, port);
    if (!options.deferConnect) this.link.start();
  }

  /**
   * Clients blocked on a master (WAIT, BLPOP...) cannot be served by a replica: they get Redis's UNBLOCKED error.
   */
  private unblockAllClients(): void {
    this.waiters.length = 0;
    for (const c of [...this.server.clients.values()]) {
      if (c.blocked === null || c.kind !== 'normal') continue;
      c.reply.error(
        'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
      );
      this.server.unblock(c, false);
    }
  }

  /** Stops following (REPLICAOF NO ONE): a new history starts, the old id stays valid as replid2. */
  becomeMaster(): void {
    const link = this.link;
    if (link === null) return;
    if (link.isUp) this.server.log.notice('Connection with master lost.');
    link.stop();
    this.link = null;
    this.server.role = 'master';
    this.server.log.role = 'M';
    this.ids.shift(this.masterOffset);
    this.server.log.notice(
      `Setting secondary replication ID to ${this.ids.replid2}, valid up to offset: ${this.ids.secondOffset}. ` +
        `New replication ID is ${this.ids.replid}`,
    );
    this.disconnectPeers();
    this.stream.selectedDb = -1;
    this.noReplicasSinceMs = this.server.nowMs;
    this.lastWriteOffset = this.masterOffset;
  }

  // ---------------------------------------------------------------- replicas (master side)

  handshakeOf(c: Client): ReplicaHandshake {
    let h = this.handshakes.get(c);
    if (h === undefined) {
      h = emptyHandshake();
      this.handshakes.set(c, h);
    }
    return h;
  }

  /** Turns a client into a replica peer (after SYNC/PSYNC). */
  addPeer(c: Client, preSync: boolean): ReplicaPeer {
    const peer = new ReplicaPeer(c, this.handshakeOf(c), preSync, this.server.nowMs);
    c.kind = 'replica';
    c.reply.take();
    c.reply.enabled = false;
    const previous = this.peers.get(c);
    if (previous !== undefined) this.forgetOnline(previous);
    this.peers.set(c, peer);
    return peer;
  }

  /**
   * PSYNC <replid> <offset>: continues a replica from our backlog when its history is ours (replid, or replid2
   * up to secondOffset) and the backlog still holds `nextOffset`. Returns false when a full sync is needed.
   */
  tryPartialResync(c: Client, replid: string, nextOffset: number): boolean {
    const log = this.server.log;
    const handshake = this.handshakeOf(c);
    const name = `${handshake.announcedIp || c.addr.slice(0, c.addr.lastIndexOf(':'))}:${handshake.listeningPort}`;
    if (!this.ids.matches(replid, nextOffset)) {
      if (replid === '?') log.notice(`Full resync requested by replica ${name}`);
      else if (replid !== this.ids.replid && replid !== this.ids.replid2) {
        log.notice(
          `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my ` +
            `replication IDs are '${this.ids.replid}' and '${this.ids.replid2}')`,
        );
      } else {
        log.notice(
          `Partial resynchronization not accepted: Requested offset for second ID was ${nextOffset}, but I can ` +
            `reply up to ${this.ids.secondOffset}`,
        );
      }
      return false;
    }
    if (this.backlog === null || !this.backlog.canServeFrom(nextOffset)) {
      log.notice(
        `Unable to partial resync with replica ${name} for lack of backlog (Replica request was: ${nextOffset}).`,
      );
      if (nextOffset > this.masterOffset + 1) {
        log.warning(
          `Warning: replica ${name} tried to PSYNC with an offset that is greater than the master replication offset.`,
        );
      }
      return false;
    }
    const peer = this.addPeer(c, false);
    this.startStreaming(peer);
    peer.ackOffset = nextOffset - 1;
    const data = this.backlog.readFrom(nextOffset);
    peer.write(handshake.capaPsync2 ? `+CONTINUE ${this.ids.replid}\r\n` : '+CONTINUE\r\n');
    let bytes = 0;
    for (const piece of data) {
      peer.write(piece);
      bytes += piece.length;
    }
    log.notice(
      `Partial resynchronization request from ${name} accepted. Sending ${bytes} bytes of backlog starting from ` +
        `offset ${nextOffset}.`,
    );
    return true;
  }

  /** Forgets a replica whose connection closed. */
  removePeer(c: Client): void {
    const peer = this.peers.get(c);
    if (peer === undefined) return;
    this.peers.delete(c);
    this.forgetOnline(peer);
    this.fullSync.detach(peer);
    if (peer.state === 'online') {
      this.server.log.notice(`Connection with replica ${peer.name} lost.`);
    }
    if (this.peers.size === 0) this.noReplicasSinceMs = this.server.nowMs;
    this.checkWaiters();
  }

  private forgetOnline(peer: ReplicaPeer): void {
    const i = this.onlinePeers.indexOf(peer);
    if (i >= 0) this.onlinePeers.splice(i, 1);
  }

  /** Drops a replica (it will reconnect and resynchronize). */
  dropPeer(peer: ReplicaPeer, reason: string): void {
    this.server.log.warning(`${reason}: replica ${peer.name}`);
    peer.client.destroy();
  }

  /** Closes every replica connection (our history changed: they must reconnect and learn it). */
  disconnectPeers(): void {
    for (const peer of [...this.peers.values()]) peer.client.destroy();
  }

  /** A replica became online: the stream flows to it from here. */
  peerOnline(peer: ReplicaPeer): void {
    this.startStreaming(peer);
    peer.ackTimeMs = this.server.nowMs;
    this.server.log.notice(`Synchronization with replica ${peer.name} succeeded`);
  }

  onAck(c: Client, offset: number): void {
    const peer = this.peers.get(c);
    if (peer === undefined) return;
    if (offset > peer.ackOffset) peer.ackOffset = offset;
    peer.ackTimeMs = this.server.nowMs;
    if (peer.state === 'wait-ack') this.fullSync.ackAfterLoad(peer);
    this.checkWaiters();
    this.failover.update();
  }

  /** Replicas whose ACK reached `offset`. */
  acknowledgedCount(offset: number): number {
    let n = 0;
    for (const peer of this.peers.values()) {
      if (peer.state === 'online' && peer.ackOffset >= offset) n++;
    }
    return n;
  }

  /** Online replicas whose last ACK is at most min-replicas-max-lag seconds old. */
  goodReplicasCount(): number {
    const maxLagMs = this.server.config.getInt('min-replicas-max-lag') * 1000;
    let n = 0;
    for (const peer of this.peers.values()) {
      if (peer.state === 'online' && this.server.nowMs - peer.ackTimeMs <= maxLagMs) n++;
    }
    return n;
  }

  // ---------------------------------------------------------------- WAIT

  /** WAIT numreplicas timeout: replies now or blocks the client until enough ACKs or the timeout. */
  wait(c: Client, replicas: number, timeoutMs: number): void {
    const target = this.lastWriteOffset;
    const acked = this.acknowledgedCount(target);
    if (acked >= replicas || c.inExec || c.multi !== null) {
      c.reply.integer(acked);
      return;
    }
    const waiter: Waiter = { client: c, targetOffset: target, replicas };
    this.waiters.push(waiter);
    this.server.block(
      c,
      [],
      timeoutMs,
      () => false,
      () => {
        this.removeWaiter(waiter);
        c.reply.integer(this.acknowledgedCount(target));
      },
    );
    this.requestAcks();
  }

  /** Asks every replica for its offset (REPLCONF GETACK *), once per event-loop turn. */
  requestAcks(): void {
    if (this.getAckScheduled) return;
    this.getAckScheduled = true;
    setImmediate(() => {
      this.getAckScheduled = false;
      if (this.peers.size > 0 && !this.isReplica) this.appendStream(GETACK);
    });
  }

  private removeWaiter(w: Waiter): void {
    const at = this.waiters.indexOf(w);
    if (at >= 0) this.waiters.splice(at, 1);
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    for (const w of [...this.waiters]) {
      if (w.client.closed) {
        this.removeWaiter(w);
        continue;
      }
      const acked = this.acknowledgedCount(w.targetOffset);
      if (acked < w.replicas) continue;
      this.removeWaiter(w);
      w.client.reply.integer(acked);
      this.server.unblock(w.client, false);
    }
  }

  /** Memory the replicas' buffers hold: stream bytes pending for them plus their sockets' queues. */
  replicaBuffersBytes(): number {
    let n = this.fullSync.pendingBytes;
    for (const peer of this.peers.values()) if (!peer.closed) n += peer.socket.writableLength;
    return n;
  }

  /** Number of clients blocked in WAIT. */
  get waitingClients(): number {
    return this.waiters.length;
  }

  // ---------------------------------------------------------------- periodic work

  /** Called about once per second; `stalled`: our own loop was blocked, so ACKs may be waiting unread. */
  cron(stalled = false): void {
    const now = this.server.nowMs;
    const config = this.server.config;
    const timeoutMs = stalled ? Infinity : config.getInt('repl-timeout') * 1000;
    for (const peer of [...this.peers.values()]) {
      if (peer.state === 'online' && !peer.preSync && now - peer.ackTimeMs > timeoutMs) {
        this.dropPeer(peer, 'Disconnecting timedout replica (streaming sync)');
      } else if (
        (peer.state === 'send-bulk' || peer.state === 'wait-ack') &&
        now - peer.progressMs > timeoutMs
      ) {
        this.dropPeer(peer, 'Disconnecting timedout replica (full sync)');
      } else if (peer.state === 'wait-bgsave-start' || peer.state === 'wait-bgsave-end') {
        // Keeps the replica from timing out while it waits for the snapshot (not part of the stream).
        peer.write('\n');
      }
    }
    if (!this.isReplica) {
      const periodMs = config.getInt('repl-ping-replica-period') * 1000;
      // No PING during a failover: it would move the offset the target must reach.
      const quiet = this.failover.inProgress || this.server.isShuttingDown;
      if (this.peers.size > 0 && now - this.lastPingMs >= periodMs && !quiet) {
        this.lastPingMs = now;
        this.pingReplicas();
      }
      const ttlMs = config.getInt('repl-backlog-ttl') * 1000;
      if (
        this.backlog !== null &&
        this.peers.size === 0 &&
        ttlMs > 0 &&
        now - this.noReplicasSinceMs >= ttlMs
      ) {
        this.ids.change();
        this.ids.clearSecond();
        this.freeBacklog();
        this.server.log.notice(
          `Replication backlog freed after ${ttlMs / 1000} seconds without connected replicas.`,
        );
      }
    }
  }
}
