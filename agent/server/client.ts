/**
 * One client connection: its socket, the request parser feeding commands in, the reply writer collecting
 * replies, and the per-connection state that commands consult (selected database, protocol version,
 * authentication, MULTI queue, subscriptions, blocking).
 *
 * "Fake" clients without a socket run commands on behalf of the server: the replication link applying the
 * master's stream and the AOF loader. They use the same dispatch path as everybody else.
 *
 * Flow control, so that no client can make the server grow without bound:
 * - Requests: while a client is blocked (BLPOP...), paused (CLIENT PAUSE) or about to be closed, its bytes stay
 *   unparsed in the query buffer, which client-query-buffer-limit bounds (the connection is closed past it).
 *   Past INPUT_BYTES_PER_TURN in one event-loop turn, the rest waits for the next turn (fairness).
 * - Replies: written once per event-loop turn, after every read of the turn (Server.endTurn), or mid-batch past
 *   EARLY_FLUSH_BYTES. A normal client whose unsent replies exceed PAUSE_READ_OUTPUT_BYTES is not read until its
 *   socket drains; every class is also subject to client-output-buffer-limit.
 */
import type { Socket } from 'node:net';
import type { Command } from '../commands/table';
import type { Database } from '../keyspace/database';
import { ProtocolError, RequestParser } from '../resp/parser';
import { ReplyWriter } from '../resp/writer';
import type { Server, TurnWaiter } from './server';
import type { TrackingState } from './tracking';

/** Output-buffer class, as in client-output-buffer-limit. */
export type ClientClass = 'normal' | 'replica' | 'pubsub';

/** A normal client whose unsent replies exceed this stops being read until its socket drains. */
export const PAUSE_READ_OUTPUT_BYTES = 64 * 1024 * 1024;
/** Replies are handed to the socket mid-batch once this much accumulated, so back-pressure is seen early. */
export const EARLY_FLUSH_BYTES = 1024 * 1024;
/**
 * Input run per connection per event-loop turn, like Redis's 16 KB reads. libuv reads a socket until it is empty
 * (up to 32 x 64 KB per turn), so without a budget one client pipelining megabytes, or a replica's master link
 * that is behind, would hold every other client for all of it. Past the budget, the rest waits for the next turn
 * with the socket paused. A client always runs at least the chunk that crossed it.
 */
export const INPUT_BYTES_PER_TURN = 16 * 1024;

/** The input a connection ran in the server's current input turn (Server.inputTurn), against its budget. */
export class TurnInputBudget {
  private turn = -1;
  private bytes = 0;

  /** Bytes that may still run in `turn` out of `budgetBytes`; a new turn starts with all of them. */
  left(turn: number, budgetBytes = INPUT_BYTES_PER_TURN): number {
    this.startTurn(turn);
    return budgetBytes - this.bytes;
  }

  /** Counts `bytes` run in `turn`. */
  spend(turn: number, bytes: number): void {
    this.startTurn(turn);
    this.bytes += bytes;
  }

  private startTurn(turn: number): void {
    if (turn === this.turn) return;
    this.turn = turn;
    this.bytes = 0;
  }
}

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

export interface WatchedKey {
  dbId: number;
  key: string;
  /** The key was already logically expired when watched: its expiry alone does not fail EXEC. */
  expiredWhenWatched: boolean;
}

const EMPTY = Buffer.alloc(0);

export class Client implements TurnWaiter {
  readonly reply = new ReplyWriter();
  readonly parser: RequestParser;
  db: Database;
  name = '';
  user = 'default';
  readonly createdAtMs: number;
  lastInteractionMs: number;
  /** The command being executed (or last executed). */
  cmd: Command | undefined;
  argv: string[] = [];
  /** Close once pending replies are written (QUIT, protocol errors, CLIENT KILL of oneself). */
  closeAfterReply = false;
  closed = false;
  multi: MultiState | null = null;
  /** Set while EXEC runs the queue: blocking commands must not block. */
  inExec = false;
  /** WATCHed keys went stale: EXEC must fail. */
  dirtyCas = false;
  readonly watched: WatchedKey[] = [];
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  blocked: BlockState | null = null;
  /** A command held back by CLIENT PAUSE, run when the pause ends. */
  held: string[] | null = null;
  /** A command of this client finishes asynchronously (SHUTDOWN's final save): later ones wait. */
  awaiting = false;
  /** CLIENT REPLY: on, off, or skip the next command's reply ('skip-now' while skipping). */
  replyMode: 'on' | 'off' | 'skip' | 'skip-now' = 'on';
  monitor = false;
  noEvict = false;
  /** CLIENT TRACKING state, null when off. */
  tracking: TrackingState | null = null;
  /** Set by replication when this connection became a replica (after SYNC/PSYNC) or is our master link. */
  kind: 'normal' | 'replica' | 'master' = 'normal';
  /** Where output-buffer soft limits started being exceeded (0 when not). */
  softLimitSinceMs = 0;
  /** Data that arrived while the client could not run commands (blocked, paused). */
  private heldChunks: Buffer[] = [];
  private heldBytes = 0;
  private readPaused = false;
  /** Input run in this input turn; at INPUT_BYTES_PER_TURN the client waits for the next. */
  private readonly turnInput = new TurnInputBudget();
  private waitingForTurn = false;
  /** Output kept for this client outside its socket (a syncing replica's buffered writes), for omem. */
  outputHeldBytes: (() => number) | undefined = undefined;
  /** Mirrored into the parser, whose limits are stricter before authentication. */
  private _authenticated = true;

  constructor(
    readonly server: Server,
    readonly id: number,
    readonly socket: Socket | null,
    readonly addr: string,
    readonly laddr: string,
  ) {
    this.parser = new RequestParser(server.respLimits);
    this.db = server.keyspace.dbs[0];
    this.authenticated = !server.authRequired;
    this.createdAtMs = this.lastInteractionMs = server.nowMs;
    this.reply.onError = server.countErrorReply;
  }

  get authenticated(): boolean {
    return this._authenticated;
  }
  set authenticated(v: boolean) {
    this._authenticated = v;
    this.parser.authenticated = v;
  }

  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }

  get outputClass(): ClientClass {
    if (this.kind === 'replica') return 'replica';
    if (this.subscriptionCount > 0) return 'pubsub';
    return 'normal';
  }

  /** Feeds bytes from the socket and runs every complete command. */
  onData(chunk: Buffer): void {
    this.lastInteractionMs = this.server.nowMs;
    if (this.canRun) {
      this.parse(chunk);
      this.server.wake(this);
      this.countTurnInput(chunk.length);
    } else {
      this.heldChunks.push(chunk);
      this.heldBytes += chunk.length;
    }
    if (!this.closed && this.queryBufferBytes > this.server.queryBufferLimitBytes) {
      this.server.log.warning(`Closing client that reached max query buffer length: ${this.describe()}`);
      this.destroy();
    }
  }

  private parse(chunk: Buffer): void {
    try {
      this.parser.feed(chunk, this.onCommand);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.server.log.verbose(`Protocol error (${err.reply}) from client: ${this.describe()}`);
      this.reply.error(err.reply);
      this.closeAfterReply = true;
    }
  }

  /** Runs one parsed command; returns false to stop parsing (the rest stays buffered). */
  private readonly onCommand = (argv: string[]): boolean => {
    if (this.closeAfterReply || this.closed) return false;
    this.server.call(this, argv);
    if (this.reply.pendingBytes >= EARLY_FLUSH_BYTES) this.flush();
    return this.canRun;
  };

  /** Whether buffered requests may run now. */
  get canRun(): boolean {
    return (
      this.blocked === null &&
      this.held === null &&
      !this.awaiting &&
      !this.readPaused &&
      !this.waitingForTurn &&
      !this.closeAfterReply &&
      !this.closed
    );
  }

  /** Bytes received and not yet run (query buffer, in Redis terms). */
  get queryBufferBytes(): number {
    return this.parser.pendingBytes + this.heldBytes;
  }

  /** Runs requests that stayed buffered while the client was blocked or paused, then flushes. */
  drainPending(): void {
    if (!this.canRun) return;
    this.parse(EMPTY);
    while (this.heldChunks.length > 0 && this.canRun) {
      const chunk = this.heldChunks.shift()!;
      this.heldBytes -= chunk.length;
      this.parse(chunk);
      this.countTurnInput(chunk.length);
    }
    this.flush();
  }

  /**
   * Counts input run in this turn; past the budget, the client waits for the server's next input turn. The bytes
   * of a big argument being received do not count (Redis reads those whole, too): they only fill its buffer.
   */
  private countTurnInput(bytes: number): void {
    if (this.parser.fillingBigArgument) return;
    const turn = this.server.inputTurn;
    this.turnInput.spend(turn, bytes);
    if (this.turnInput.left(turn) > 0 || this.socket === null || this.closed) return;
    this.waitingForTurn = true;
    this.socket.pause();
    this.server.runNextTurn(this);
  }

  /** The server's next input turn started: read again and run what arrived meanwhile. */
  nextTurn(): void {
    this.waitingForTurn = false;
    if (this.closed) return;
    if (!this.readPaused) this.socket?.resume();
    this.drainPending();
  }

  /** Writes everything the reply writer holds to the socket. */
  flush(): void {
    const socket = this.socket;
    if (socket === null || this.closed) {
      if (socket === null && this.reply.hasPending) this.reply.take();
      return;
    }
    if (this.reply.hasPending) {
      const pieces = this.reply.take();
      let bytes = 0;
      if (pieces.length === 1) {
        bytes = writePiece(socket, pieces[0]);
      } else {
        socket.cork();
        for (const p of pieces) bytes += writePiece(socket, p);
        socket.uncork();
      }
      this.server.stats.netOutputBytes += bytes;
      this.server.stats.writesProcessed++;
      const queued = socket.writableLength;
      if (queued > 0) this.afterQueued(socket, queued);
    }
    if (this.closeAfterReply) this.close();
  }

  /**
   * The socket could not take everything: apply output limits and read back-pressure. A throttled client is
   * neither read nor run until its socket drains; then its buffered requests continue.
   */
  private afterQueued(socket: Socket, queued: number): void {
    if (this.server.checkOutputLimits(this, queued)) return;
    if (!this.readPaused && this.kind === 'normal' && queued > PAUSE_READ_OUTPUT_BYTES) {
      this.readPaused = true;
      socket.pause();
      socket.once('drain', () => {
        this.readPaused = false;
        if (this.closed) return;
        if (!this.waitingForTurn) socket.resume();
        this.server.refreshClock();
        this.drainPending();
      });
    }
  }

  /** Bytes waiting to be written: in the reply writer and in the socket. */
  get outputBytes(): number {
    return this.reply.pendingBytes + (this.socket?.writableLength ?? 0);
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
    return this.server.clientInfoLine(this);
  }
}

function writePiece(socket: Socket, piece: Buffer | string): number {
  if (typeof piece === 'string') {
    socket.write(piece, 'latin1');
  } else {
    socket.write(piece);
  }
  return piece.length;
}
