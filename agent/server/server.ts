/**
 * The server: accepts connections, owns the keyspace, the command table and the configuration, and runs every
 * command through one dispatch path (`call`) that applies Redis's checks in Redis's order (unknown command,
 * arity, authentication, MULTI queueing, pub/sub context, read-only replica, OOM, ...).
 *
 * After a write command changed the dataset, its effect is *propagated* (to the replication stream and the
 * AOF) as a command list: by default the argv itself, or whatever the command substituted to make the effect
 * deterministic (`rewritePropagation`, `alsoPropagate`). Several effects of one call are wrapped in
 * MULTI/EXEC so that replicas apply them atomically, as Redis 7 does.
 *
 * Subsystems (transactions, pub/sub, persistence, replication) attach through the hook lists below rather than
 * the server knowing them; the server only knows what dispatch needs.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { CommandTable, F, type Command } from '../commands/table';
import type { Config } from '../config/config';
import { parseMemory } from '../config/directives';
import { Err, ReplyError, unknownCommand, unknownSubcommand, wrongArity } from '../errors';
import { Database, Keyspace, type ExpiryMode } from '../keyspace/database';
import { DEFAULT_RESP_LIMITS, type RespLimits } from '../resp/parser';
import { Client, type ClientClass } from './client';
import { Logger } from './log';

export const AGENT_VERSION: string = typeof __AGENT_VERSION__ === 'string' ? __AGENT_VERSION__ : '0.0.0-dev';
/** The Redis version the agent reports for client compatibility checks. */
export const REDIS_COMPAT_VERSION = '7.0.15';

declare const __AGENT_VERSION__: string | undefined;

export interface Clock {
  nowMs(): number;
}

export interface PropagatedCommand {
  dbId: number;
  argv: string[];
}

/** Keyspace notification classes (notify-keyspace-events letters). */
export type NotifyClass = 'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'm' | 'n';

export interface ServerStats {
  totalConnections: number;
  totalCommands: number;
  rejectedConnections: number;
  expiredKeys: number;
  evictedKeys: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  netInputBytes: number;
  netOutputBytes: number;
  errorReplies: number;
}

export class Server {
  readonly log: Logger;
  readonly keyspace: Keyspace;
  readonly commands = new CommandTable();
  readonly clients = new Map<number, Client>();
  readonly startedAtMs: number;
  respLimits: RespLimits = { ...DEFAULT_RESP_LIMITS };
  queryBufferLimitBytes = 1024 * 1024 * 1024;
  /** Changes since the last successful save (rdb_changes_since_last_save). */
  dirty = 0;
  /** Time frozen for the current command; refreshed before each one. */
  nowMs: number;
  role: 'master' | 'replica' = 'master';
  /** Set while the replication link applies the master's stream: keys do not expire then. */
  applyingMasterStream = false;
  /** True while the dataset is being loaded at startup (LOADING replies). */
  loading = false;
  stats: ServerStats = {
    totalConnections: 0,
    totalCommands: 0,
    rejectedConnections: 0,
    expiredKeys: 0,
    evictedKeys: 0,
    keyspaceHits: 0,
    keyspaceMisses: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    errorReplies: 0,
  };

  /** Receivers of propagated writes (replication backlog and replicas, AOF). */
  readonly propagationTargets: Array<(cmds: PropagatedCommand[]) => void> = [];
  /** Extra admission checks run before a command executes; return an error reply text to refuse it. */
  readonly commandFilters: Array<(c: Client, cmd: Command, argv: string[]) => string | undefined> = [];
  /** Called when a key was modified (WATCH invalidation, client-side caching...). */
  readonly keyModifiedHooks: Array<(db: Database, key: string) => void> = [];
  /** Called on a keyspace event (pub/sub notifications). */
  readonly notifyHooks: Array<(cls: NotifyClass, event: string, key: string, dbId: number) => void> = [];
  /** Called every cron tick (about `hz` times per second). */
  readonly cronHooks: Array<() => void> = [];
  /** Called before the process exits; may return a promise (final save). */
  readonly shutdownHooks: Array<() => void | Promise<void>> = [];
  /** Called when a client goes away. */
  readonly clientClosedHooks: Array<(c: Client) => void> = [];
  /** Called before each command with the client, e.g. MONITOR feeds. */
  readonly monitorHooks: Array<(c: Client, argv: string[]) => void> = [];
  /**
   * INFO sections by lowercase name, in display order; each returns its fields. Subsystems add their own
   * (persistence, replication) so INFO never needs to know them.
   */
  readonly infoSections = new Map<string, () => Array<[string, string | number]>>();
  /** Hooks that a fork-less snapshot installs (see keyspace/database.ts). */
  beforeMutate: (db: Database, key: string) => void = () => {};
  beforeReplaceAll: (db: Database) => void = () => {};

  private nextClientId = 1;
  private listeners: NetServer[] = [];
  private cronTimer: NodeJS.Timeout | undefined;
  private pendingPropagation: PropagatedCommand[] = [];
  private callDepth = 0;
  private propagationOverride: string[] | null | undefined;
  private readonly readyKeys = new Set<string>();
  /** Blocked clients by `dbId\0key`, in arrival order. */
  readonly blockedByKey = new Map<string, Client[]>();

  constructor(
    readonly config: Config,
    readonly clock: Clock = { nowMs: Date.now },
  ) {
    this.nowMs = this.startedAtMs = clock.nowMs();
    this.log = new Logger(() => this.clock.nowMs());
    this.keyspace = new Keyspace(config.getInt('databases'), {
      nowMs: () => this.nowMs,
      expiryMode: () => this.expiryMode(),
      onExpired: (db, key) => this.onKeyExpired(db, key),
      beforeMutate: (db, key) => this.beforeMutate(db, key),
      beforeReplaceAll: (db) => this.beforeReplaceAll(db),
    });
    this.applyConfig();
  }

  private applyConfig(): void {
    const c = this.config;
    const limits = () => {
      this.respLimits = { ...DEFAULT_RESP_LIMITS, maxBulkBytes: c.getInt('proto-max-bulk-len') };
      for (const client of this.clients.values()) client.parser.setLimits(this.respLimits);
    };
    limits();
    c.onChange('proto-max-bulk-len', limits);
    this.queryBufferLimitBytes = c.getInt('client-query-buffer-limit');
    c.onChange('client-query-buffer-limit', (v) => (this.queryBufferLimitBytes = Number(v)));
    this.log.setLevel(c.get('loglevel'));
    c.onChange('loglevel', (v) => this.log.setLevel(v));
  }

  private expiryMode(): ExpiryMode {
    if (this.applyingMasterStream) return 'ignore';
    return this.role === 'replica' ? 'hide' : 'delete';
  }

  private onKeyExpired(db: Database, key: string): void {
    this.stats.expiredKeys++;
    this.pendingPropagation.push({ dbId: db.id, argv: ['DEL', key] });
    this.notify('x', 'expired', key, db.id);
    this.signalModifiedKey(db, key);
    if (this.callDepth === 0) this.flushPropagation();
  }

  // ---------------------------------------------------------------- listening

  /** Starts listening on the configured addresses and the cron. Resolves once every listener is bound. */
  async listen(): Promise<void> {
    const port = this.config.getInt('port');
    if (port !== 0) {
      const binds = this.config.get('bind').split(/\s+/).filter(Boolean);
      for (const spec of binds) {
        const optional = spec.startsWith('-');
        const host = optional ? spec.slice(1) : spec;
        try {
          this.listeners.push(
            await this.listenOn(host === '*' ? '0.0.0.0' : host === '::*' ? '::' : host, port),
          );
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (
            optional &&
            (e.code === 'EADDRNOTAVAIL' || e.code === 'EAFNOSUPPORT' || e.code === 'EADDRINUSE')
          ) {
            continue;
          }
          throw err;
        }
      }
    }
    const hz = this.config.getInt('hz');
    this.cronTimer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / hz)));
    this.cronTimer.unref();
  }

  private listenOn(host: string, port: number): Promise<NetServer> {
    return new Promise((resolve, reject) => {
      const srv = createServer({ noDelay: true }, (socket) => this.accept(socket));
      srv.once('error', reject);
      srv.listen(
        { host, port, backlog: this.config.getInt('tcp-backlog'), ipv6Only: host.includes(':') },
        () => {
          srv.removeListener('error', reject);
          resolve(srv);
        },
      );
    });
  }

  /** The bound TCP addresses (tests use them when they pass port 0 ... not supported by Redis, so unused). */
  get boundAddresses(): string[] {
    return this.listeners.map((l) => {
      const a = l.address();
      return typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
    });
  }

  private accept(socket: Socket): void {
    this.nowMs = this.clock.nowMs();
    const addr = `${socket.remoteAddress}:${socket.remotePort}`.replace(/^::ffff:/, '');
    const laddr = `${socket.localAddress}:${socket.localPort}`.replace(/^::ffff:/, '');
    if (this.clients.size >= this.config.getInt('maxclients')) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const denied = this.protectedModeDenial(socket);
    if (denied) {
      this.stats.rejectedConnections++;
      socket.end(`-${denied}\r\n`);
      return;
    }
    const keepAliveSecs = this.config.getInt('tcp-keepalive');
    if (keepAliveSecs > 0) socket.setKeepAlive(true, keepAliveSecs * 1000);
    const client = this.createClient(socket, addr, laddr);
    this.stats.totalConnections++;
    socket.on('data', (chunk: Buffer) => {
      this.nowMs = this.clock.nowMs();
      this.stats.netInputBytes += chunk.length;
      client.onData(chunk);
    });
    socket.on('error', () => client.destroy());
    socket.on('close', () => client.close());
  }

  createClient(socket: Socket | null, addr = '', laddr = ''): Client {
    const client = new Client(this, this.nextClientId++, socket, addr, laddr);
    this.clients.set(client.id, client);
    return client;
  }

  /**
   * Protected mode: with no password and no explicit bind, only loopback clients may connect.
   * Returns the DENIED text for a refused client.
   */
  private protectedModeDenial(socket: Socket): string | undefined {
    if (!this.config.getBool('protected-mode')) return undefined;
    if (this.config.get('requirepass') !== '') return undefined;
    if (this.config.wasLoaded('bind')) return undefined;
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (remote === '127.0.0.1' || remote === '::1' || remote.startsWith('127.')) return undefined;
    return PROTECTED_MODE_DENIED;
  }

  onClientClosed(c: Client): void {
    if (!this.clients.delete(c.id)) return;
    if (c.blocked) this.unblock(c, false);
    for (const hook of this.clientClosedHooks) hook(c);
  }

  /** Applies client-output-buffer-limit for the client's class; closes the client when it is over. */
  checkOutputLimits(c: Client, queuedBytes: number): void {
    const cls: ClientClass = c.outputClass;
    const [hard, soft, softSeconds] = this.outputLimits(cls);
    const overHard = hard > 0 && queuedBytes >= hard;
    let overSoft = false;
    if (soft > 0 && queuedBytes >= soft) {
      if (c.softLimitSinceMs === 0) c.softLimitSinceMs = this.nowMs;
      overSoft = this.nowMs - c.softLimitSinceMs >= softSeconds * 1000;
    } else {
      c.softLimitSinceMs = 0;
    }
    if (overHard || overSoft) {
      this.log.warning(
        `Client ${c.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`,
      );
      c.destroy();
    }
  }

  private outputLimits(cls: ClientClass): [number, number, number] {
    const words = this.config.get('client-output-buffer-limit').split(' ');
    for (let k = 0; k + 3 < words.length; k += 4) {
      if (words[k] === cls) return [Number(words[k + 1]), Number(words[k + 2]), Number(words[k + 3])];
    }
    return [0, 0, 0];
  }

  // ---------------------------------------------------------------- dispatch

  /** Runs one request from a client through Redis's checks, then the command. */
  call(c: Client, argv: string[]): void {
    this.nowMs = this.clock.nowMs();
    const cmd = this.commands.lookup(argv);
    if (cmd === undefined) {
      this.rejectQueued(c);
      return this.replyError(c, unknownCommand(argv));
    }
    const arity = cmd.spec.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
      cmd.rejectedCalls++;
      this.rejectQueued(c);
      return this.replyError(c, wrongArity(cmd.fullName));
    }
    if (cmd.handler === undefined) {
      cmd.rejectedCalls++;
      this.rejectQueued(c);
      return this.replyError(c, unknownSubcommand(argv));
    }
    const bits = cmd.bits;
    if (!c.authenticated && !(bits & F.no_auth)) {
      cmd.rejectedCalls++;
      this.rejectQueued(c);
      return this.replyError(c, Err.noAuth);
    }
    if (c.multi !== null && !(bits & F.no_multi) && !isTransactionControl(cmd)) {
      const refusal = this.admissionError(c, cmd, argv);
      if (refusal !== undefined) {
        cmd.rejectedCalls++;
        c.multi.aborted = true;
        return this.replyError(c, refusal);
      }
      c.multi.queue.push({ cmd, argv });
      c.reply.raw('+QUEUED\r\n');
      return;
    }
    if (c.multi !== null && bits & F.no_multi) {
      cmd.rejectedCalls++;
      return this.replyError(c, `ERR Command not allowed inside a transaction`);
    }
    const refusal = this.admissionError(c, cmd, argv);
    if (refusal !== undefined) {
      cmd.rejectedCalls++;
      return this.replyError(c, refusal);
    }
    this.execute(c, cmd, argv);
  }

  /** Checks that depend on server state; shared by immediate execution and MULTI queueing. */
  admissionError(c: Client, cmd: Command, argv: string[]): string | undefined {
    const bits = cmd.bits;
    if (c.subscriptionCount > 0 && c.reply.resp === 2 && !isAllowedInPubSub(cmd)) {
      return (
        `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET ` +
        `are allowed in this context`
      );
    }
    if (this.loading && !(bits & F.loading)) return Err.loading;
    for (const filter of this.commandFilters) {
      const error = filter(c, cmd, argv);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  private rejectQueued(c: Client): void {
    if (c.multi !== null) c.multi.aborted = true;
  }

  private replyError(c: Client, text: string): void {
    this.stats.errorReplies++;
    c.reply.error(text);
  }

  /**
   * Executes a command that passed every check, handling propagation, statistics, blocked-client wakeups.
   * Nested calls (EXEC running its queue) share the outer call's propagation batch.
   */
  execute(c: Client, cmd: Command, argv: string[]): void {
    const top = this.callDepth === 0;
    this.callDepth++;
    const dirtyBefore = this.dirty;
    const savedOverride = this.propagationOverride;
    this.propagationOverride = undefined;
    const prevCmd = c.cmd;
    c.cmd = cmd;
    c.argv = argv;
    if (this.monitorHooks.length > 0 && !(cmd.bits & (F.admin | F.skip_monitor))) {
      for (const hook of this.monitorHooks) hook(c, argv);
    }
    const started = process.hrtime.bigint();
    try {
      cmd.handler!(c, argv);
    } catch (err) {
      if (err instanceof ReplyError) {
        cmd.failedCalls++;
        this.replyError(c, err.reply);
      } else {
        this.log.warning(`Bug while executing '${cmd.fullName}': ${(err as Error).stack ?? err}`);
        this.replyError(c, `ERR internal error while executing '${cmd.fullName}'`);
      }
    }
    const usec = Number(process.hrtime.bigint() - started) / 1000;
    cmd.calls++;
    cmd.usec += usec;
    this.stats.totalCommands++;
    if (this.dirty !== dirtyBefore && cmd.bits & F.write && this.propagationOverride !== null) {
      this.pendingPropagation.push({ dbId: c.db.id, argv: this.propagationOverride ?? argv });
    }
    this.afterCommandHooks(c, cmd, argv, usec);
    this.propagationOverride = savedOverride;
    if (prevCmd !== undefined && !top) c.cmd = prevCmd;
    this.callDepth--;
    if (top) {
      this.flushPropagation();
      if (this.readyKeys.size > 0) this.handleReadyKeys();
    }
  }

  /** Statistics that look at each executed command (SLOWLOG, latency...). Replaced by the observability module. */
  afterCommandHooks: (c: Client, cmd: Command, argv: string[], usec: number) => void = () => {};

  /** Propagate `argv` instead of the command's own argv (or nothing, with null). */
  rewritePropagation(argv: string[] | null): void {
    this.propagationOverride = argv;
  }

  /** Propagates an additional command in the current call's batch. */
  alsoPropagate(dbId: number, argv: string[]): void {
    this.pendingPropagation.push({ dbId, argv });
  }

  private flushPropagation(): void {
    const batch = this.pendingPropagation;
    if (batch.length === 0) return;
    this.pendingPropagation = [];
    if (this.propagationTargets.length === 0) return;
    let out = batch;
    if (batch.length > 1) {
      out = [
        { dbId: batch[0].dbId, argv: ['MULTI'] },
        ...batch,
        { dbId: batch[batch.length - 1].dbId, argv: ['EXEC'] },
      ];
    }
    for (const target of this.propagationTargets) target(out);
  }

  // ---------------------------------------------------------------- key events

  /**
   * Records that a write changed `key`: counts toward save points, invalidates WATCH, wakes clients blocked on
   * the key, and fires the keyspace notification `event` of class `cls`.
   */
  keyChanged(db: Database, key: string, cls: NotifyClass, event: string, dirtyDelta = 1): void {
    this.dirty += dirtyDelta;
    this.signalModifiedKey(db, key);
    this.notify(cls, event, key, db.id);
  }

  signalModifiedKey(db: Database, key: string): void {
    for (const hook of this.keyModifiedHooks) hook(db, key);
    if (this.blockedByKey.size > 0) {
      const id = blockKey(db.id, key);
      if (this.blockedByKey.has(id)) this.readyKeys.add(id);
    }
  }

  notify(cls: NotifyClass, event: string, key: string, dbId: number): void {
    for (const hook of this.notifyHooks) hook(cls, event, key, dbId);
  }

  // ---------------------------------------------------------------- blocking

  /**
   * Blocks the client on keys of its current database until `serve` succeeds or the timeout (ms, 0 = forever)
   * passes. `serve` is retried whenever one of the keys changes; it must reply and return true when it served.
   */
  block(c: Client, keys: string[], timeoutMs: number, serve: () => boolean, onTimeout?: () => void): void {
    const dbId = c.db.id;
    const state = {
      dbId,
      keys,
      deadlineMs: timeoutMs > 0 ? this.nowMs + timeoutMs : 0,
      serve,
      onTimeout: onTimeout ?? (() => c.reply.nullArray()),
      timer: undefined as NodeJS.Timeout | undefined,
    };
    c.blocked = state;
    for (const key of keys) {
      const id = blockKey(dbId, key);
      const list = this.blockedByKey.get(id);
      if (list) list.push(c);
      else this.blockedByKey.set(id, [c]);
    }
    if (timeoutMs > 0) {
      state.timer = setTimeout(() => {
        this.nowMs = this.clock.nowMs();
        if (c.blocked !== state) return;
        this.unblock(c, true);
      }, timeoutMs);
    }
  }

  /** Unblocks a client: on timeout it gets its timeout reply; then its queued commands run. */
  unblock(c: Client, timedOut: boolean): void {
    const state = c.blocked;
    if (!state) return;
    c.blocked = null;
    if (state.timer) clearTimeout(state.timer);
    for (const key of state.keys) {
      const id = blockKey(state.dbId, key);
      const list = this.blockedByKey.get(id);
      if (!list) continue;
      const at = list.indexOf(c);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.blockedByKey.delete(id);
    }
    if (timedOut) state.onTimeout();
    if (!c.closed) {
      c.drainPending();
      c.flush();
    }
  }

  /** Serves clients blocked on keys that changed, first come first served, until nothing more can be served. */
  private handleReadyKeys(): void {
    while (this.readyKeys.size > 0) {
      const ids = [...this.readyKeys];
      this.readyKeys.clear();
      for (const id of ids) {
        const waiting = this.blockedByKey.get(id);
        if (!waiting) continue;
        for (const c of [...waiting]) {
          const state = c.blocked;
          if (!state) continue;
          const savedDb = c.db;
          c.db = this.keyspace.dbs[state.dbId];
          this.callDepth++;
          let served = false;
          try {
            served = state.serve();
          } finally {
            this.callDepth--;
            c.db = savedDb;
          }
          this.flushPropagation();
          if (served) this.unblock(c, false);
        }
      }
    }
  }

  // ---------------------------------------------------------------- lifecycle

  private cron(): void {
    this.nowMs = this.clock.nowMs();
    for (const hook of this.cronHooks) {
      try {
        hook();
      } catch (err) {
        this.log.warning(`Bug in a periodic task: ${(err as Error).stack ?? err}`);
      }
    }
  }

  /** Stops accepting, runs shutdown hooks (final save...), closes clients. */
  async shutdown(): Promise<void> {
    if (this.cronTimer) clearInterval(this.cronTimer);
    for (const l of this.listeners) l.close();
    for (const hook of this.shutdownHooks) await hook();
    for (const c of [...this.clients.values()]) c.destroy();
  }

  /** Reads a memory value from config text (used by modules for their own limits). */
  static memory(text: string): number {
    return parseMemory(text) ?? 0;
  }
}

function blockKey(dbId: number, key: string): string {
  return `${dbId}\0${key}`;
}

function isTransactionControl(cmd: Command): boolean {
  const n = cmd.spec.name;
  return (
    cmd.parent === undefined &&
    (n === 'exec' || n === 'discard' || n === 'multi' || n === 'watch' || n === 'quit' || n === 'reset')
  );
}

function isAllowedInPubSub(cmd: Command): boolean {
  const n = cmd.parent?.spec.name ?? cmd.spec.name;
  return (
    n === 'subscribe' ||
    n === 'unsubscribe' ||
    n === 'psubscribe' ||
    n === 'punsubscribe' ||
    n === 'ssubscribe' ||
    n === 'sunsubscribe' ||
    n === 'ping' ||
    n === 'quit' ||
    n === 'reset'
  );
}

const PROTECTED_MODE_DENIED =
  'DENIED Redis is running in protected mode because protected mode is enabled and no password is set for ' +
  'the default user. In this mode connections are only accepted from the loopback interface. If you want to ' +
  'connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable ' +
  "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting " +
  'to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from ' +
  'internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just ' +
  'disable the protected mode by editing the Redis configuration file, and setting the protected mode option ' +
  "to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart " +
  "it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. " +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections ' +
  'from the outside.';
