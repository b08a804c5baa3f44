/**
 * A replica as the master sees it: a client connection that sent SYNC or PSYNC and from then on only receives
 * (the snapshot, then the replication stream) and sends `REPLCONF ACK <offset>`.
 *
 * States, named after what the master waits for (INFO shows Redis's names in parentheses):
 *   wait-bgsave-start  a snapshot to start (diskless batching delay, or another snapshot running)  (wait_bgsave)
 *   wait-bgsave-end    the snapshot file to be written (disk-based)                                  (wait_bgsave)
 *   send-bulk          the snapshot to be transferred                                                 (send_bulk)
 *   wait-ack           the replica's first ACK after loading a diskless snapshot                      (send_bulk)
 *   online             nothing: the stream flows                                                      (online)
 *
 * Replies to the replica's own commands are never sent (they would corrupt the stream): the writer is disabled
 * and replication writes go straight to the socket, in order.
 */
import type { Socket } from 'node:net';
import type { Client } from '../server/client';
import type { FullSyncJob } from './fullSync';

export type PeerState = 'wait-bgsave-start' | 'wait-bgsave-end' | 'send-bulk' | 'wait-ack' | 'online';

/** What a connection announced with REPLCONF before it became a replica. */
export interface ReplicaHandshake {
  listeningPort: number;
  announcedIp: string;
  capaEof: boolean;
  capaPsync2: boolean;
}

export function emptyHandshake(): ReplicaHandshake {
  return { listeningPort: 0, announcedIp: '', capaEof: false, capaPsync2: false };
}

export class ReplicaPeer {
  state: PeerState = 'wait-bgsave-start';
  /** Offset acknowledged with REPLCONF ACK (what the replica has applied). */
  ackOffset = 0;
  ackTimeMs: number;
  /** When the peer started waiting for a snapshot (diskless batching delay). */
  waitingSinceMs: number;
  /** Last time the transfer made progress (repl-timeout while sending the snapshot). */
  progressMs: number;
  private currentJob: FullSyncJob | null = null;
  /** Sent SYNC rather than PSYNC: it will not ACK (pre-PSYNC replicas, redis-cli --replica). */
  readonly preSync: boolean;

  constructor(
    readonly client: Client,
    readonly handshake: ReplicaHandshake,
    preSync: boolean,
    nowMs: number,
  ) {
    this.preSync = preSync;
    this.ackTimeMs = this.waitingSinceMs = this.progressMs = nowMs;
  }

  /**
   * The full sync this peer takes part in, until it is online. The writes the job buffers meanwhile are this
   * replica's output as much as its socket's queue (CLIENT LIST omem, as Redis shows them).
   */
  get job(): FullSyncJob | null {
    return this.currentJob;
  }

  set job(job: FullSyncJob | null) {
    this.currentJob = job;
    this.client.outputHeldBytes = job === null ? undefined : () => job.pendingBytes;
  }

  get socket(): Socket {
    return this.client.socket!;
  }

  get closed(): boolean {
    return this.client.closed;
  }

  /** The replica's address for INFO and logs: announced ip or the connection's, and its listening port. */
  get ip(): string {
    if (this.handshake.announcedIp !== '') return this.handshake.announcedIp;
    const addr = this.client.addr;
    const colon = addr.lastIndexOf(':');
    return colon > 0 ? addr.slice(0, colon) : addr;
  }

  get name(): string {
    return `${this.ip}:${this.handshake.listeningPort}`;
  }

  /** Redis's name for the state in INFO replication. */
  get infoState(): string {
    switch (this.state) {
      case 'wait-bgsave-start':
      case 'wait-bgsave-end':
        return 'wait_bgsave';
      case 'send-bulk':
      case 'wait-ack':
        return 'send_bulk';
      case 'online':
        return 'online';
    }
  }

  /** Writes bytes straight to the socket, bypassing the (disabled) reply writer. */
  write(data: Buffer | string): void {
    if (this.client.closed) return;
    this.client.server.stats.netReplOutputBytes += data.length;
    if (typeof data === 'string') this.socket.write(data, 'latin1');
    else this.socket.write(data);
  }
}
