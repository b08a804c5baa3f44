/**
 * One client connection: its socket, the request parser feeding commands in, the reply writer collecting
 * replies, and the per-connection state that commands consult (selected database, protocol version,
 * authentication, MULTI queue, subscriptions, blocking).
 *
 * "Fake" clients without a socket run commands on behalf of the server: the replication link applying the
 * master's stream and the AOF loader. They use the same dispatch path as everybody else.
 *
 * Flow control: replies are flushed once per read event. A client that stops reading its replies makes the
 * socket's write queue grow; past a limit we stop reading its requests (normal clients) or drop it according
 * to client-output-buffer-limit (replicas, pub/sub), so no client can make the server grow without bound.
 */
import type { Socket } from 'node:net';
import type { Command } from '../commands/table';
import type { Database } from '../keyspace/database';
import { ProtocolError, RequestParser } from '../resp/parser';
import { ReplyWriter } from '../resp/writer';
import type { Server } from './server';

/** Output-buffer class, as in client-output-buffer-limit. */
export type ClientClass = 'normal' | 'replica' | 'pubsub';

/** A normal client whose unsent replies exceed this stops being read until its socket drains. */
export const PAUSE_READ_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Commands received while the client is blocked wait here; more than this closes the connection. */
export const MAX_PENDING_COMMANDS = 100_000;

export interface MultiState {
  queue: Array<{ cmd: Command; argv: string[] }>;
  /** A queued command was rejected (EXECABORT at EXEC). */
  aborted: boolean;
}

export interface BlockState {
  dbId: number;
  keys: string[];
  /** Absolute deadline in ms, 0 for none. */
  deadlineMs: number;
  /** Tries to serve the client now; returns true when it did (and replied). */
  serve: () => boolean;
  /** Replies for a timeout (a null array by default). */
  onTimeout: () => void;
  timer: NodeJS.Timeout | undefined;
}

export class Client {
  readonly reply = new ReplyWriter();
  readonly parser: RequestParser;
  db: Database;
  name = '';
  libName = '';
  libVer = '';
  user = 'default';
  authenticated: boolean;
  readonly createdAtMs: number;
  lastInteractionMs: number;
  /** The command being executed (or last executed). */
  cmd: Command | undefined;
  argv: string[] = [];
  /** Close once pending replies are written (QUIT, protocol errors, CLIENT KILL). */
  closeAfterReply = false;
  closed = false;
  multi: MultiState | null = null;
  /** Set while EXEC runs the queue: blocking commands must not block. */
  inExec = false;
  /** WATCHed keys went stale: EXEC must fail. */
  dirtyCas = false;
  readonly watched: Array<{ dbId: number; key: string }> = [];
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  blocked: BlockState | null = null;
  pendingCommands: string[][] = [];
  /** CLIENT REPLY: on, off, or skip the next reply. */
  replyMode: 'on' | 'off' | 'skip' = 'on';
  monitor = false;
  noEvict = false;
  /** Set by replication when this connection became a replica (after SYNC/PSYNC) or is our master link. */
  kind: 'normal' | 'replica' | 'master' = 'normal';
  /** Where output-buffer soft limits started being exceeded (0 when not). */
  softLimitSinceMs = 0;
  private readPaused = false;

  constructor(
    readonly server: Server,
    readonly id: number,
    readonly socket: Socket | null,
    readonly addr: string,
    readonly laddr: string,
  ) {
    this.parser = new RequestParser(server.respLimits);
    this.db = server.keyspace.dbs[0];
    this.authenticated = server.config.get('requirepass') === '';
    this.createdAtMs = this.lastInteractionMs = server.nowMs;
  }

  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size;
  }

  get outputClass(): ClientClass {
    if (this.kind === 'replica') return 'replica';
    if (this.subscriptionCount > 0) return 'pubsub';
    return 'normal';
  }

  /** Feeds bytes from the socket and runs every complete command. */
  onData(chunk: Buffer): void {
    this.lastInteractionMs = this.server.nowMs;
    try {
      this.parser.feed(chunk, this.onCommand);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.server.log.verbose(`Protocol error (${err.reply}) from client: ${this.describe()}`);
      this.reply.error(err.reply);
      this.closeAfterReply = true;
    }
    this.flush();
    if (this.parser.pendingBytes > this.server.queryBufferLimitBytes) {
      this.server.log.warning(`Closing client that reached max query buffer length: ${this.describe()}`);
      this.close();
    }
  }

  private readonly onCommand = (argv: string[]): void => {
    if (this.closed || this.closeAfterReply) return;
    if (this.blocked !== null || this.pendingCommands.length > 0) {
      if (this.pendingCommands.length >= MAX_PENDING_COMMANDS) {
        this.closeAfterReply = true;
        return;
      }
      this.pendingCommands.push(argv);
      return;
    }
    this.server.call(this, argv);
  };

  /** Runs commands that arrived while the client was blocked (called when it is unblocked). */
  drainPending(): void {
    while (this.pendingCommands.length > 0 && this.blocked === null && !this.closed) {
      this.server.call(this, this.pendingCommands.shift()!);
    }
  }

  /** Writes everything the reply writer holds to the socket. */
  flush(): void {
    const socket = this.socket;
    if (socket === null || this.closed) {
      if (socket === null) this.reply.take();
      return;
    }
    if (this.reply.hasPending) {
      const pieces = this.reply.take();
      if (pieces.length === 1) {
        writePiece(socket, pieces[0]);
      } else {
        socket.cork();
        for (const p of pieces) writePiece(socket, p);
        socket.uncork();
      }
      this.server.checkOutputLimits(this, socket.writableLength);
      if (!this.readPaused && this.kind === 'normal' && socket.writableLength > PAUSE_READ_OUTPUT_BYTES) {
        this.readPaused = true;
        socket.pause();
        socket.once('drain', () => {
          this.readPaused = false;
          if (!this.closed) socket.resume();
        });
      }
    }
    if (this.closeAfterReply) this.close();
  }

  /** Closes the connection after flushing what is queued (socket.end), and forgets the client. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.end();
    this.server.onClientClosed(this);
  }

  /** Drops the connection at once. */
  destroy(): void {
    if (!this.closed) this.close();
    this.socket?.destroy();
  }

  describe(): string {
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} name=${this.name}`;
  }
}

function writePiece(socket: Socket, piece: Buffer | string): void {
  if (typeof piece === 'string') socket.write(piece, 'latin1');
  else socket.write(piece);
}
