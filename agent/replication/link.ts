/**
 * The replica side: the link to our master, as a state machine whose states are named after what the link
 * waits for. Every change goes through `transition()`, which logs `from -> to`.
 *
 *   none            no master configured (the link is stopped)
 *   connect         a (re)connection attempt is due (after a backoff delay following a failure)
 *   connecting      the TCP connection is being established
 *   receive-pong    our PING's reply (any reply but an error proves the master is alive; -NOAUTH is fine)
 *   receive-auth    the reply to AUTH <masteruser> <masterauth>          \
 *   receive-port    the reply to REPLCONF listening-port <port>           | sent together (pipelined)
 *   receive-ip      the reply to REPLCONF ip-address <ip> (if announced)  |
 *   receive-capa    the reply to REPLCONF capa eof capa psync2           /
 *   receive-psync   the reply to PSYNC <replid> <offset+1> (or `? -1`): +FULLRESYNC, +CONTINUE, or an error
 *                   (an unknown-command error falls back to SYNC)
 *   transfer        the snapshot: `$<len>` or `$EOF:<mark>` framing, loaded into fresh databases while the
 *                   old dataset is still served (or answered with -MASTERDOWN), then swapped in at once
 *   connected       the stream: applied through the normal dispatch by a fake "master" client, with
 *                   server.applyingMasterStream set (keys do not expire, replies are dropped except the
 *                   ACK to REPLCONF GETACK); REPLCONF ACK <offset> every second
 *
 * Any failure (socket error, protocol error, repl-timeout of silence) goes back to `connect` with a backoff
 * that doubles from RETRY_MIN_MS to RETRY_MAX_MS and resets once connected. Our replication id and offset are
 * kept, so the next attempt asks for a partial resync.
 *
 * Offsets: `appliedOffset` is the offset of the last byte of the last command applied outside a transaction
 * (what ACK reports); the applied bytes are appended to our own backlog and forwarded to our replicas, so a
 * chain of replicas shares one history (same replid, same offsets).
 */
import type { Socket } from 'node:net';
import { INPUT_BYTES_PER_TURN, TurnInputBudget, type Client } from '../server/client';
import type { Server, TurnWaiter } from '../server/server';
import type { Replication } from './replication';
import { installLoadedDatabases } from '../persistence/rdbFile';
import { SnapshotLoad, type SnapshotFraming } from './snapshotLoad';
import { encodeCommand } from '../resp/commandEncoder';
import { StreamReader, StreamProtocolError } from './streamReader';

export type LinkState =
  | 'none'
  | 'connect'
  | 'connecting'
  | 'receive-pong'
  | 'receive-auth'
  | 'receive-port'
  | 'receive-ip'
  | 'receive-capa'
  | 'receive-psync'
  | 'transfer'
  | 'connected';

/** First reconnection delay after a failure, and the cap of its doubling. */
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 2000;
/** Longest handshake reply line accepted from a master. */
const MAX_REPLY_LINE_BYTES = 64 * 1024;

/**
 * Input read ahead of what the link has processed (it processes INPUT_BYTES_PER_TURN per turn). Reading on while
 * the rest waits keeps the bytes flowing during a full sync; beyond this the socket is paused, and TCP holds back
 * the master, whose output buffer for this replica has its own limit.
 */
const MAX_PENDING_INPUT_BYTES = 1024 * 1024;

/**
 * Snapshot bytes loaded per turn during a full sync: one socket read, which loads in well under a ms. With
 * INPUT_BYTES_PER_TURN pieces a 1M-key sync took ~8% longer (A/B runs of the same build otherwise).
 */
const SNAPSHOT_BYTES_PER_TURN = 64 * 1024;

const HANDSHAKE_STATES: readonly LinkState[] = [
  'connecting',
  'receive-pong',
  'receive-auth',
  'receive-port',
  'receive-ip',
  'receive-capa',
  'receive-psync',
];

export class ReplicaLink implements TurnWaiter {
  state: LinkState = 'none';
  private socket: Socket | null = null;
  /** Handshake bytes not consumed yet. */
  private inbound: Buffer = Buffer.alloc(0);
  /** The fake client that applies the master's stream; kept across reconnections (its selected db too). */
  masterClient: Client;
  private stopped = false;
  private reader = new StreamReader();
  private load: SnapshotLoad | null = null;
  /** +FULLRESYNC id and offset, applied once the snapshot is loaded. */
  private fullSyncReplid = '';
  private fullSyncOffset = 0;
  /** PSYNC was refused as unknown: this attempt uses SYNC. */
  private usingSync = false;
  appliedOffset = 0;
  /** Bytes applied inside a MULTI not yet completed by EXEC. */
  private appliedInTransaction = 0;
  lastIoMs = 0;
  private stateSinceMs = 0;
  /** When the link went down (master_link_down_since_seconds); 0 when it never was up. */
  downSinceMs = 0;
  private retryDelayMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastAckMs = 0;
  /** The master's command being applied (for error reports). */
  private applyingArgv: string[] = [];
  /**
   * Input received but not processed yet, oldest first: a replica that is behind applies INPUT_BYTES_PER_TURN of
   * its master's stream per event-loop turn (exactly, splitting chunks), so its own clients are served in between
   * (before, a turn applied up to 2 MB and a GET waited ~50 ms under load). At most about
   * MAX_PENDING_INPUT_BYTES wait here.
   */
  private pendingInput: Buffer[] = [];
  private pendingInputBytes = 0;
  /** Input processed in this input turn; a link over its budget waits for the next turn. */
  private readonly turnInput = new TurnInputBudget();
  private waitingForTurn = false;

  constructor(
    private readonly repl: Replication,
    readonly host: string,
    readonly port: number,
  ) {
    this.masterClient = this.newMasterClient();
    this.appliedOffset = repl.masterOffset;
  }

  private get server(): Server {
    return this.repl.server;
  }

  private newMasterClient(): Client {
    const client = this.server.createClient(null, `${this.host}:${this.port}`, '');
    client.kind = 'master';
    client.authenticated = true;
    // Replies to the master are never sent (GETACK's ACK goes straight to the socket); errors still count and
    // are logged, because an error means this replica diverges.
    const reply = client.reply;
    reply.enabled = false;
    const countError = reply.onError;
    reply.onError = (msg) => {
      countError?.(msg);
      this.server.log.warning(
        `== CRITICAL == This replica is sending an error to its master: '${msg}' after processing the command ` +
          `'${this.applyingArgv[0] ?? ''}'`,
      );
    };
    return client;
  }

  /** CLIENT KILL of the master client drops the link, as in Redis; the next connection continues partially. */
  onClientClosed(c: Client): void {
    if (c !== this.masterClient || this.stopped) return;
    const db = c.db;
    this.masterClient = this.newMasterClient();
    this.masterClient.db = db;
    if (this.socket !== null) this.fail('Connection with master lost (master client killed).');
  }

  get isUp(): boolean {
    return this.state === 'connected';
  }

  /** In Redis's sense: from +FULLRESYNC until the snapshot is loaded. */
  get syncInProgress(): boolean {
    return this.state === 'transfer';
  }

  /** master_sync_* fields: total is -1 until the payload header arrives, 0 for EOF framing (as Redis). */
  get transferProgress(): { total: number; read: number; lastIoMs: number } | null {
    if (this.state !== 'transfer') return null;
    if (this.load === null) return { total: -1, read: 0, lastIoMs: this.lastIoMs };
    return { total: this.load.totalBytes, read: this.load.readBytes, lastIoMs: this.lastIoMs };
  }

  /** Bytes received from the master, applied or not (slave_read_repl_offset). */
  get readOffset(): number {
    const waiting = this.state === 'connected' ? this.pendingInputBytes : 0;
    return this.appliedOffset + this.appliedInTransaction + this.reader.pendingBytes + waiting;
  }

  private transition(next: LinkState, why = ''): void {
    const from = this.state;
    if (from === next) return;
    this.state = next;
    this.stateSinceMs = this.server.clock.nowMs();
    this.server.log.notice(`Replication link ${from} -> ${next}${why ? ` (${why})` : ''}`);
  }

  // ---------------------------------------------------------------- lifecycle

  start(): void {
    this.server.log.notice(`Connecting to MASTER ${this.host}:${this.port}`);
    this.transition('connect');
    this.scheduleConnect(0);
  }

  /** Stops the link for good (REPLICAOF NO ONE or another master). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.closeSocket();
    this.load = null;
    this.transition('none');
    this.masterClient.destroy();
  }

  private scheduleConnect(delayMs: number): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.server.nowMs = this.server.clock.nowMs();
      if (this.state === 'connect') this.connectNow();
    }, delayMs);
    this.retryTimer.unref();
  }

  private connectNow(): void {
    this.transition('connecting');
    const socket = this.repl.options.connect(this.host, this.port);
    this.socket = socket;
    this.inbound = Buffer.alloc(0);
    socket.setNoDelay(!this.server.config.getBool('repl-disable-tcp-nodelay'));
    socket.on('connect', () => {
      if (socket !== this.socket) return;
      this.server.nowMs = this.server.clock.nowMs();
      this.lastIoMs = this.server.nowMs;
      this.server.log.notice('MASTER <-> REPLICA sync started');
      this.send(['PING']);
      this.transition('receive-pong');
    });
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.socket) return;
      this.server.nowMs = this.server.clock.nowMs();
      this.lastIoMs = this.server.nowMs;
      this.server.stats.netInputBytes += chunk.length;
      this.server.stats.netReplInputBytes += chunk.length;
      this.server.inputArrived();
      this.pendingInput.push(chunk);
      this.pendingInputBytes += chunk.length;
      this.processInput();
    });
    socket.on('error', (err) => {
      if (socket !== this.socket) return;
      this.fail(`Error condition on socket for SYNC: ${err.message}`);
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.fail(this.state === 'connected' ? 'Connection with master lost.' : 'Master closed the connection');
    });
  }

  private closeSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (s !== null) s.destroy();
    this.pendingInput = [];
    this.pendingInputBytes = 0;
  }

  /** Any failure: back to `connect`, retrying after a growing delay. */
  private fail(reason: string): void {
    if (this.repl.failover.psyncNeedsFailoverFlag) {
      // The coordinated switch could not complete: we stay (become again) the master.
      this.repl.failover.abort(`link with the target failed: ${reason}`);
      return;
    }
    const wasUp = this.state === 'connected';
    this.server.log.warning(reason);
    this.closeSocket();
    if (this.load !== null) {
      this.server.log.notice('MASTER <-> REPLICA sync: discarding the partially received snapshot');
      this.load = null;
    }
    if (wasUp) {
      this.downSinceMs = this.server.clock.nowMs();
      this.server.log.notice('Caching the disconnected master state.');
    }
    // A transaction cut by the disconnection will be sent again from appliedOffset.
    this.masterClient.multi = null;
    this.appliedInTransaction = 0;
    this.reader = new StreamReader();
    this.transition('connect', reason);
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
    this.scheduleConnect(delay);
  }

  private send(argv: string[]): void {
    this.socket?.write(encodeCommand(argv), 'latin1');
  }

  /** REPLCONF ACK <appliedOffset>: every second, after loading a snapshot, and on REPLCONF GETACK. */
  sendAck(): void {
    if (this.socket === null || this.state !== 'connected') return;
    this.lastAckMs = this.server.clock.nowMs();
    this.send(['REPLCONF', 'ACK', String(this.appliedOffset)]);
  }

  /** Called every server cron tick; `stalled`: our own loop was blocked, so silence proves nothing yet. */
  cron(stalled = false): void {
    const now = this.server.clock.nowMs();
    const timeoutMs = this.server.config.getInt('repl-timeout') * 1000;
    if (stalled) {
      if (this.state === 'connected' && now - this.lastAckMs >= 1000) this.sendAck();
      return;
    }
    if (HANDSHAKE_STATES.includes(this.state) && now - this.stateSinceMs > timeoutMs) {
      this.fail('Timeout connecting to the MASTER...');
    } else if (this.state === 'transfer' && now - this.lastIoMs > timeoutMs) {
      this.fail(
        "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' " +
          'parameter in redis.conf to a larger value.',
      );
    } else if (this.state === 'connected' && now - this.lastIoMs > timeoutMs) {
      this.fail('MASTER timeout: no data nor PING received...');
    } else if (this.state === 'connected' && now - this.lastAckMs >= 1000) {
      this.sendAck();
    }
  }

  // ---------------------------------------------------------------- input

  /** Processes pending input up to this turn's budget; what is left waits for the next turn. */
  private processInput(): void {
    const socket = this.socket;
    if (socket === null) return;
    const turn = this.server.inputTurn;
    const budget = this.state === 'transfer' ? SNAPSHOT_BYTES_PER_TURN : INPUT_BYTES_PER_TURN;
    while (this.pendingInput.length > 0) {
      const room = this.turnInput.left(turn, budget);
      if (room <= 0) break;
      let piece = this.pendingInput[0];
      if (piece.length > room) {
        this.pendingInput[0] = piece.subarray(room);
        piece = piece.subarray(0, room);
      } else {
        this.pendingInput.shift();
      }
      this.pendingInputBytes -= piece.length;
      this.turnInput.spend(turn, piece.length);
      try {
        this.onData(piece);
      } catch (err) {
        this.fail(`${(err as Error).message}`);
        return;
      }
      if (socket !== this.socket) return;
    }
    if (this.pendingInput.length > 0 && !this.waitingForTurn) {
      this.waitingForTurn = true;
      this.server.runNextTurn(this);
    }
    if (this.pendingInputBytes > MAX_PENDING_INPUT_BYTES) socket.pause();
    else if (socket.isPaused()) socket.resume();
  }

  /** The server's next input turn started: process what is pending (TurnWaiter). */
  nextTurn(): void {
    this.waitingForTurn = false;
    this.processInput();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'connected') {
      this.applyStream(chunk);
      return;
    }
    if (this.state === 'transfer' && this.load !== null) {
      this.onSnapshotBytes(chunk);
      return;
    }
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    this.processHandshake();
  }

  /** One CRLF-terminated line from the handshake input, or null when incomplete. */
  private readLine(): string | null {
    const nl = this.inbound.indexOf(10);
    if (nl < 0) {
      if (this.inbound.length > MAX_REPLY_LINE_BYTES)
        throw new Error('Master sent a reply line that is too long');
      return null;
    }
    let end = nl;
    if (end > 0 && this.inbound[end - 1] === 13) end--;
    const line = this.inbound.latin1Slice(0, end);
    this.inbound = this.inbound.subarray(nl + 1);
    return line;
  }

  private processHandshake(): void {
    while (this.socket !== null) {
      const state = this.state;
      if (state === 'transfer' && this.load !== null) {
        const rest = this.inbound;
        this.inbound = Buffer.alloc(0);
        if (rest.length > 0) this.onSnapshotBytes(rest);
        return;
      }
      if (state === 'connected') {
        const rest = this.inbound;
        this.inbound = Buffer.alloc(0);
        if (rest.length > 0) this.applyStream(rest);
        return;
      }
      const line = this.readLine();
      if (line === null) return;
      this.onReplyLine(state, line);
    }
  }

  private onReplyLine(state: LinkState, line: string): void {
    const config = this.server.config;
    switch (state) {
      case 'receive-pong': {
        if (line.startsWith('-') && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(line)) {
          throw new Error(`Error reply to PING from master: '${line.slice(1)}'`);
        }
        this.server.log.notice('Master replied to PING, replication can continue...');
        this.sendHandshake();
        return;
      }
      case 'receive-auth':
        if (line.startsWith('-')) throw new Error(`Unable to AUTH to MASTER: ${line.slice(1)}`);
        this.transition('receive-port');
        return;
      case 'receive-port':
        if (line.startsWith('-')) {
          this.server.log.notice(
            `(Non critical) Master does not understand REPLCONF listening-port: ${line.slice(1)}`,
          );
        }
        this.transition(config.get('replica-announce-ip') !== '' ? 'receive-ip' : 'receive-capa');
        return;
      case 'receive-ip':
        if (line.startsWith('-')) {
          this.server.log.notice(
            `(Non critical) Master does not understand REPLCONF ip-address: ${line.slice(1)}`,
          );
        }
        this.transition('receive-capa');
        return;
      case 'receive-capa':
        if (line.startsWith('-')) {
          this.server.log.notice(`(Non critical) Master does not understand REPLCONF capa: ${line.slice(1)}`);
        }
        this.sendPsync();
        return;
      case 'receive-psync':
        this.onPsyncReply(line);
        return;
      case 'transfer':
        this.onBulkHeader(line);
        return;
      default:
        throw new Error(`Unexpected data from master in state ${state}`);
    }
  }

  private sendHandshake(): void {
    const config = this.server.config;
    const pass = config.get('masterauth');
    const user = config.get('masteruser');
    const announcedPort = config.getInt('replica-announce-port');
    const port = announcedPort !== 0 ? announcedPort : config.getInt('port');
    const ip = config.get('replica-announce-ip');
    if (pass !== '') this.send(user !== '' ? ['AUTH', user, pass] : ['AUTH', pass]);
    this.send(['REPLCONF', 'listening-port', String(port)]);
    if (ip !== '') this.send(['REPLCONF', 'ip-address', ip]);
    this.send(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
    this.transition(pass !== '' ? 'receive-auth' : 'receive-port', 'handshake sent');
  }

  private sendPsync(): void {
    const repl = this.repl;
    this.usingSync = false;
    if (repl.historyKnown) {
      const next = repl.masterOffset + 1;
      this.server.log.notice(`Trying a partial resynchronization (request ${repl.ids.replid}:${next}).`);
      const argv = ['PSYNC', repl.ids.replid, String(next)];
      // A coordinated failover: the target promotes itself when it sees this flag.
      if (repl.failover.psyncNeedsFailoverFlag) argv.push('FAILOVER');
      this.send(argv);
    } else {
      this.server.log.notice('Partial resynchronization not possible (no cached master)');
      this.send(['PSYNC', '?', '-1']);
    }
    this.transition('receive-psync');
  }

  private onPsyncReply(line: string): void {
    const repl = this.repl;
    if (line === '') return; // keepalive newline while the master prepares the snapshot
    if (line.startsWith('+FULLRESYNC')) {
      const [, replid, offset] = line.split(' ');
      if (replid === undefined || replid.length !== 40 || !/^-?\d+$/.test(offset ?? '')) {
        throw new Error(`Master replied with wrong +FULLRESYNC syntax: '${line}'`);
      }
      this.fullSyncReplid = replid;
      this.fullSyncOffset = Number(offset);
      this.server.log.notice(`Full resync from master: ${replid}:${offset}`);
      repl.failover.onPsyncResult(true);
      this.beginFullSync();
      return;
    }
    if (line.startsWith('+CONTINUE')) {
      const newId = line.slice('+CONTINUE'.length).trim();
      this.server.log.notice('Successful partial resynchronization with master.');
      if (newId !== '' && newId !== repl.ids.replid) {
        repl.ids.shift(repl.masterOffset, newId);
        this.server.log.notice(`Master replication ID changed to ${newId}`);
        // Our replicas must learn the new id: they reconnect and continue partially.
        repl.disconnectPeers();
      }
      repl.ensureBacklog();
      this.appliedOffset = repl.masterOffset;
      this.server.log.notice('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
      this.linkUp();
      repl.failover.onPsyncResult(true);
      return;
    }
    if (line.startsWith('-') && repl.failover.psyncNeedsFailoverFlag) {
      this.server.log.warning(`Failover target rejected PSYNC: ${line}`);
      repl.failover.onPsyncResult(false);
      return;
    }
    if (/^-(NOMASTERLINK|LOADING)/.test(line)) {
      throw new Error(`Master is currently unable to PSYNC but should be in the future: ${line}`);
    }
    if (line.startsWith('-')) {
      if (line.startsWith('-ERR')) {
        this.server.log.notice(`Master does not support PSYNC or is in error state (reply: ${line})`);
      } else {
        this.server.log.warning(`Unexpected reply to PSYNC from master: ${line}`);
      }
      this.server.log.notice('Retrying with SYNC...');
      this.usingSync = true;
      this.fullSyncReplid = '';
      this.fullSyncOffset = 0;
      this.send(['SYNC']);
      this.beginFullSync();
      return;
    }
    throw new Error(`Unexpected reply to PSYNC from master: '${line}'`);
  }

  private beginFullSync(): void {
    // The dataset our replicas have is about to be replaced: they must resync from scratch once we are done.
    this.repl.disconnectPeers();
    this.repl.freeBacklog();
    this.transition('transfer', 'waiting for the snapshot');
  }

  private onBulkHeader(line: string): void {
    if (line === '') return; // keepalive newline while the master writes the snapshot
    if (line.startsWith('-')) throw new Error(`MASTER aborted replication with an error: ${line.slice(1)}`);
    if (!line.startsWith('$'))
      throw new Error(`Bad protocol from MASTER, the first byte is not '$': '${line}'`);
    let framing: SnapshotFraming;
    if (line.startsWith('$EOF:')) {
      const mark = line.slice(5);
      if (mark.length !== 40) throw new Error(`Bad EOF mark from MASTER: '${line}'`);
      framing = { kind: 'eof', mark };
      this.server.log.notice(
        'MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to memory',
      );
    } else {
      const bytes = Number(line.slice(1));
      if (!Number.isSafeInteger(bytes) || bytes < 0)
        throw new Error(`Bad payload length from MASTER: '${line}'`);
      framing = { kind: 'length', bytes };
      this.server.log.notice(`MASTER <-> REPLICA sync: receiving ${bytes} bytes from master to memory`);
    }
    this.server.log.notice(
      'MASTER <-> REPLICA sync: Loading DB in memory (the old dataset is served meanwhile)',
    );
    this.load = new SnapshotLoad(this.server.keyspace.dbs.length, framing, () => this.server.clock.nowMs());
  }

  private onSnapshotBytes(chunk: Buffer): void {
    const load = this.load!;
    if (!load.push(chunk)) return;
    const rest = load.takeRest();
    this.finishFullSync(load);
    if (rest.length > 0) this.applyStream(rest);
  }

  /** Swaps the loaded dataset in, adopts the master's history, and starts applying the stream. */
  private finishFullSync(load: SnapshotLoad): void {
    this.load = null;
    const server = this.server;
    const ks = server.keyspace;
    server.log.notice('MASTER <-> REPLICA sync: Flushing old data');
    installLoadedDatabases(ks, load.dbs);
    server.dirty++;
    server.log.notice(`Done loading RDB, keys loaded: ${load.keysLoaded}, keys expired: 0.`);
    const repl = this.repl;
    if (this.usingSync) {
      // SYNC gives no id: make one up; a later PSYNC with it will simply fail over to a full sync.
      repl.ids.change();
      repl.ids.clearSecond();
      repl.resetHistory(repl.ids.replid, 0);
    } else {
      repl.resetHistory(this.fullSyncReplid, this.fullSyncOffset);
    }
    const streamDb = Number(load.aux.get('repl-stream-db') ?? '0');
    this.masterClient.db = ks.dbs[Number.isInteger(streamDb) && ks.dbs[streamDb] ? streamDb : 0];
    this.masterClient.multi = null;
    this.reader = new StreamReader();
    this.appliedOffset = repl.masterOffset;
    this.appliedInTransaction = 0;
    server.log.notice('MASTER <-> REPLICA sync: Finished with success');
    this.linkUp();
    // Diskless masters wait for this first ACK before they start the stream.
    this.sendAck();
  }

  private linkUp(): void {
    this.retryDelayMs = RETRY_MIN_MS;
    this.downSinceMs = 0;
    this.transition('connected');
  }

  // ---------------------------------------------------------------- the stream

  private applyStream(chunk: Buffer): void {
    const server = this.server;
    const client = this.masterClient;
    try {
      this.reader.feed(chunk, (argv, bytes) => {
        server.applyingMasterStream = true;
        this.applyingArgv = argv;
        try {
          server.call(client, argv);
        } finally {
          server.applyingMasterStream = false;
        }
        if (client.multi !== null) {
          this.appliedInTransaction += bytes;
        } else {
          this.appliedOffset += this.appliedInTransaction + bytes;
          this.appliedInTransaction = 0;
        }
      });
    } catch (err) {
      if (err instanceof StreamProtocolError) throw new Error(`Protocol error from MASTER: ${err.message}`);
      throw err;
    }
    if (client.multi === null) {
      for (const piece of this.reader.takeCompleted()) this.repl.appendStream(piece);
    }
  }
}
