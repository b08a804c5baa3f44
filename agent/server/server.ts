/**
 * The server: accepts connections, owns the keyspace, the command table and the configuration, and runs every
 * command through one dispatch path (`call`) that applies Redis's checks in Redis's order: unknown command,
 * arity, protected commands, authentication, MULTI restrictions, OOM (after trying to evict), subsystem filters
 * (read-only replica, min-replicas, disk errors), pub/sub context, loading, client pause, MULTI queueing.
 *
 * After a write command changed the dataset, its effect is *propagated* (to the replication stream and the
 * AOF) as a command list: by default the argv itself, or whatever the command substituted to make the effect
 * deterministic (`rewritePropagation`, `alsoPropagate`). Several effects of one call are wrapped in
 * MULTI/EXEC so that replicas apply them atomically, as Redis 7 does.
 *
 * Subsystems (persistence, replication, the command families) attach through the hook lists below rather than
 * the server knowing them; the server only knows what dispatch needs.
 *
 * Hot path: `call` and `execute` run for every request, so they read cached config values (fields refreshed by
 * `onChange`), read the clock at most once per command (fast commands of a pipelined batch share one read, see
 * beginBatch), and only touch optional machinery (monitors, slowlog, tracking, reply modes) behind a cheap check.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { CommandTable, F, type Command } from '../commands/table';
import type { Config } from '../config/config';
import { parseMemory } from '../config/directives';
import { Err, ReplyError, unknownCommand, unknownSubcommand, wrongArity } from '../errors';
import { Database, Keyspace, type ExpiryMode } from '../keyspace/database';
import { DEFAULT_RESP_LIMITS, type RespLimits } from '../resp/parser';
import { Client, type ClientClass } from './client';
import { Evictor, type EvictionPolicy } from './eviction';
import { Logger } from './log';
import { MemoryAccounting } from './memory';
import { LatencyMonitor, RateSampler, SlowLog } from './observability';
import { PubSub } from './pubsub';
import { reprString } from '../resp/repr';
import { Tracking } from './tracking';

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
export type NotifyClass = 'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'm' | 'n' | 'd';

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
  /** Replication traffic (the replication module counts it). */
  netReplInputBytes: number;
  netReplOutputBytes: number;
  syncFull: number;
  syncPartialOk: number;
  syncPartialErr: number;
  errorReplies: number;
  readsProcessed: number;
  writesProcessed: number;
}

/** How SHUTDOWN (or a signal) asked to stop; shutdown hooks look at `save`. */
export interface ShutdownOptions {
  /** 'default': save when save points are configured; 'save'/'nosave' force either way. */
  save: 'default' | 'save' | 'nosave';
  /** Ignore errors of hooks (SHUTDOWN FORCE). */
  force: boolean;
  /** Do not wait for lagging replicas (SHUTDOWN NOW). */
  now: boolean;
  /** Who asked: 'SIGTERM', 'SIGINT' or 'command'. */
  reason: string;
}

/** CLIENT PAUSE: which commands wait. */
export type PauseMode = 'write' | 'all';

export type InfoFields = Array<[string, string | number]>;

/** Error prefixes beyond which errorstats stops adding new kinds (Redis: ERROR_STATS_NUMBER). */
const MAX_ERROR_KINDS = 128;

/** A connection waiting for the next input turn to process the rest of its input (clients, the replica link). */
export interface TurnWaiter {
  nextTurn(): void;
}

export class Server {
  readonly log: Logger;
  readonly keyspace: Keyspace;
  readonly commands = new CommandTable();
  readonly clients = new Map<number, Client>();
  readonly startedAtMs: number;
  /** Random 40-hex id of this run (INFO run_id). */
  readonly runId: string;
  respLimits: RespLimits = { ...DEFAULT_RESP_LIMITS };
  queryBufferLimitBytes = 1024 * 1024 * 1024;
  /** Changes since the last successful save (rdb_changes_since_last_save). */
  dirty = 0;
  /** Time frozen for the current command; refreshed before each batch of commands. */
  nowMs: number;
  role: 'master' | 'replica' = 'master';
  /** Set while the replication link applies the master's stream: keys do not expire then. */
  applyingMasterStream = false;
  /** True while the dataset is being loaded at startup (LOADING replies). */
  loading = false;
  /** True when requirepass is set: new connections must AUTH. */
  authRequired = false;
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
    netReplInputBytes: 0,
    netReplOutputBytes: 0,
    syncFull: 0,
    syncPartialOk: 0,
    syncPartialErr: 0,
    errorReplies: 0,
    readsProcessed: 0,
    writesProcessed: 0,
  };
  /** errorstats: error replies counted by their first word (ERR, WRONGTYPE...). */
  readonly errorCounts = new Map<string, number>();
  readonly pubsub: PubSub;
  readonly memory: MemoryAccounting;
  readonly evictor: Evictor;
  readonly slowlog: SlowLog;
  readonly latency: LatencyMonitor;
  readonly monitors = new Set<Client>();
  readonly tracking: Tracking;
  /** The client whose command is running (NOLOOP tracking, CLIENT KILL of oneself...). */
  currentClient: Client | undefined;
  readonly opsSampler = new RateSampler();
  readonly inputSampler = new RateSampler();
  readonly outputSampler = new RateSampler();
  /** The highest used_memory seen. */
  peakMemoryBytes = 0;
  /** Normal clients' buffers as of the last cron tick (see evictionUsedBytes). */
  private clientsMemorySampleBytes = 0;
  /** used_memory_startup: what the server allocated before holding any data. */
  startupMemoryBytes = 0;

  /**
   * Receivers of propagated writes (replication backlog and replicas, AOF). The batch they get is valid during
   * the call only (it is emptied and reused afterwards).
   */
  readonly propagationTargets: Array<(cmds: PropagatedCommand[]) => void> = [];
  /** Extra admission checks run before a command executes; return an error reply text to refuse it. */
  readonly commandFilters: Array<(c: Client, cmd: Command, argv: string[]) => string | undefined> = [];
  /** Called when a key was modified (WATCH invalidation, client-side caching...). */
  readonly keyModifiedHooks: Array<(db: Database, key: string) => void> = [];
  /** Called on a keyspace event, after the pub/sub notification. */
  readonly notifyHooks: Array<(cls: NotifyClass, event: string, key: string, dbId: number) => void> = [];
  /** Called every cron tick (about `hz` times per second). */
  readonly cronHooks: Array<() => void> = [];
  /**
   * Called on SHUTDOWN and on SIGTERM/SIGINT before the process exits, in order (the final save). A hook that
   * throws or rejects aborts a SHUTDOWN without FORCE, like a failed final save does in Redis.
   */
  readonly shutdownHooks: Array<(opts: ShutdownOptions) => void | Promise<void>> = [];
  /** Called when a client goes away. */
  readonly clientClosedHooks: Array<(c: Client) => void> = [];
  /** Called by RESET, to drop per-client state a subsystem keeps (WATCHed keys, tracking...). */
  readonly clientResetHooks: Array<(c: Client) => void> = [];
  /** Called before a database is emptied, swapped or replaced (WATCH invalidation...). */
  readonly replaceAllHooks: Array<(db: Database) => void> = [];
  /**
   * INFO sections by lowercase name; each returns its fields. Subsystems add their own (persistence,
   * replication) so INFO never needs to know them; INFO prints Redis's sections in Redis's order and others after.
   */
  readonly infoSections = new Map<string, () => InfoFields>();
  /**
   * Memory held by subsystems outside the keyspace, by INFO field name (mem_replication_backlog,
   * mem_aof_buffer, mem_clients_slaves...); counted in used_memory.
   */
  readonly memoryOverheads = new Map<string, () => number>();
  /** DEBUG subcommands that subsystems add (DEBUG RELOAD...), by lowercase name. */
  readonly debugSubcommands = new Map<string, (c: Client, argv: string[]) => void>();
  /** Hooks that a fork-less snapshot installs (see keyspace/database.ts). */
  beforeMutate: (db: Database, key: string) => void = () => {};
  beforeReplaceAll: (db: Database) => void = () => {};
  /** Ends the process after a SHUTDOWN (main.ts removes the pidfile there). */
  exitProcess: (code: number) => void = (code) => process.exit(code);

  private nextClientId = 1;
  private listeners: NetServer[] = [];
  private cronTimer: NodeJS.Timeout | undefined;
  private pendingPropagation: PropagatedCommand[] = [];
  /**
   * Emptied batches kept for reuse: every write fills one, and a fresh array per write was a good part of the
   * garbage a write made. More than one only while a target's work propagates something itself (nesting).
   */
  private readonly spareBatches: PropagatedCommand[][] = [];
  private callDepth = 0;
  private propagationOverride: string[] | null | undefined;
  private readonly readyKeys = new Set<string>();
  /** Blocked clients by `dbId\0key`, in arrival order. */
  readonly blockedByKey = new Map<string, Client[]>();
  /** Clients with replies to write at the end of the turn (see endTurn). */
  private readonly pendingFlush = new Set<Client>();
  /** Input turns (see INPUT_BYTES_PER_TURN): advanced after each event-loop turn that read input. */
  inputTurn = 0;
  private turnEndScheduled = false;
  private waitingForTurn: TurnWaiter[] = [];
  /** CLIENT PAUSE state: until when (ms), and which commands; 0 when not paused. */
  pauseUntilMs = 0;
  pauseMode: PauseMode = 'all';
  private pauseTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private shutdownAborted = false;
  /**
   * While a client's read batch runs: the time of the last clock read (performance.now), and the fast commands
   * run since then, untimed (reused arrays). batchStartMs is -1 outside a batch (timers, the replication
   * link...), where every command reads the clock.
   */
  private batchStartMs = -1;
  private batchFastCount = 0;
  private readonly batchFastCmds: Command[] = [];
  private readonly batchFastArgvs: string[][] = [];
  private readonly batchFastClients: Client[] = [];
  /**
   * Wall clock = performance.now() + this offset, re-synchronised by the cron, so that each command reads the
   * clock once; undefined when an injected clock must be asked directly.
   */
  private clockOffsetMs: number | undefined;
  // Cached configuration, refreshed by onChange.
  private maxmemoryBytes = 0;
  private idleTimeoutMs = 0;
  private slowlogOn = true;
  private latencyOn = false;
  private latencyTrackingOn = true;
  private debugCommandMode = 'no';
  private outputLimitTable = new Map<ClientClass, [number, number, number]>();

  constructor(
    readonly config: Config,
    readonly clock: Clock = { nowMs: Date.now },
    readonly random: () => number = Math.random,
  ) {
    this.nowMs = this.startedAtMs = clock.nowMs();
    if (clock.nowMs === Date.now) this.clockOffsetMs = Date.now() - performance.now();
    const heapBefore = getHeapStatistics().used_heap_size;
    this.runId = randomHex(40, random);
    this.log = new Logger(() => this.clock.nowMs());
    this.keyspace = new Keyspace(config.getInt('databases'), {
      nowMs: () => this.nowMs,
      expiryMode: () => this.expiryMode(),
      onExpired: (db, key) => this.onKeyExpired(db, key),
      beforeMutate: (db, key) => {
        this.memory.beforeMutate(db, key);
        this.beforeMutate(db, key);
      },
      beforeReplaceAll: (db) => {
        this.memory.beforeReplaceAll();
        for (const hook of this.replaceAllHooks) hook(db);
        this.beforeReplaceAll(db);
      },
    });
    this.memory = new MemoryAccounting(this.keyspace);
    this.pubsub = new PubSub((c) => this.wake(c));
    this.evictor = new Evictor({
      keyspace: this.keyspace,
      usedBytes: () => this.evictionUsedBytes(),
      evict: (db, key) => this.evictKey(db, key),
      nowMs: () => this.nowMs,
      random: this.random,
      monotonicMs: () => performance.now(),
      defer: (fn) =>
        setImmediate(() => {
          this.refreshClock();
          fn();
          if (this.pendingFlush.size > 0) this.flushPending();
        }),
    });
    this.slowlog = new SlowLog(config.getInt('slowlog-log-slower-than'), config.getInt('slowlog-max-len'));
    this.latency = new LatencyMonitor(config.getInt('latency-monitor-threshold'));
    this.tracking = new Tracking(this);
    this.countErrorReply = this.countErrorReply.bind(this);
    this.applyConfig();
    this.startupMemoryBytes = Math.max(0, getHeapStatistics().used_heap_size - heapBefore);
  }

  /** Subscribes cached fields to the configuration. */
  private applyConfig(): void {
    const c = this.config;
    const watch = (names: string[], apply: () => void) => {
      apply();
      for (const n of names) c.onChange(n, apply);
    };
    watch(['proto-max-bulk-len'], () => {
      this.respLimits = { ...DEFAULT_RESP_LIMITS, maxBulkBytes: c.getInt('proto-max-bulk-len') };
      for (const client of this.clients.values()) client.parser.setLimits(this.respLimits);
    });
    watch(
      ['client-query-buffer-limit'],
      () => (this.queryBufferLimitBytes = c.getInt('client-query-buffer-limit')),
    );
    watch(['loglevel'], () => this.log.setLevel(c.get('loglevel')));
    watch(['requirepass'], () => (this.authRequired = c.get('requirepass') !== ''));
    watch(['maxmemory', 'maxmemory-policy', 'maxmemory-samples'], () => {
      this.maxmemoryBytes = c.getInt('maxmemory');
      this.evictor.configure(
        this.maxmemoryBytes,
        c.get('maxmemory-policy') as EvictionPolicy,
        c.getInt('maxmemory-samples'),
      );
    });
    watch(['timeout'], () => (this.idleTimeoutMs = c.getInt('timeout') * 1000));
    watch(['slowlog-log-slower-than', 'slowlog-max-len'], () => {
      this.slowlog.thresholdUs = c.getInt('slowlog-log-slower-than');
      this.slowlog.maxLen = c.getInt('slowlog-max-len');
      this.slowlog.trim();
      this.slowlogOn = this.slowlog.thresholdUs >= 0;
    });
    watch(['latency-monitor-threshold'], () => {
      this.latency.thresholdMs = c.getInt('latency-monitor-threshold');
      this.latencyOn = this.latency.thresholdMs > 0;
    });
    watch(['latency-tracking'], () => (this.latencyTrackingOn = c.getBool('latency-tracking')));
    watch(['notify-keyspace-events'], () => this.pubsub.setNotifyFlags(c.get('notify-keyspace-events')));
    watch(['tracking-table-max-keys'], () => (this.tracking.maxKeys = c.getInt('tracking-table-max-keys')));
    watch(['enable-debug-command'], () => (this.debugCommandMode = c.get('enable-debug-command')));
    watch(['client-output-buffer-limit'], () => {
      const words = c.get('client-output-buffer-limit').split(' ');
      const table = new Map<ClientClass, [number, number, number]>();
      for (let k = 0; k + 3 < words.length; k += 4) {
        // CONFIG GET names the replica class "slave", as Redis does; clients call it 'replica'.
        table.set((words[k] === 'slave' ? 'replica' : words[k]) as ClientClass, [
          Number(words[k + 1]),
          Number(words[k + 2]),
          Number(words[k + 3]),
        ]);
      }
      this.outputLimitTable = table;
    });
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

  private evictKey(db: Database, key: string): void {
    this.callDepth++;
    try {
      if (!db.delete(key)) return;
      this.stats.evictedKeys++;
      this.dirty++;
      this.pendingPropagation.push({ dbId: db.id, argv: ['DEL', key] });
      this.signalModifiedKey(db, key);
      this.notify('e', 'evicted', key, db.id);
    } finally {
      this.callDepth--;
    }
    // Each eviction is its own effect, propagated at once like Redis's propagateDeletion.
    if (this.callDepth === 0) this.flushPropagation();
  }

  // ---------------------------------------------------------------- listening

  /** Starts listening on the configured addresses and the cron. Resolves once every listener is bound. */
  async listen(): Promise<void> {
    this.listeners = await this.bindAll(this.config.getInt('port'), this.config.get('bind'));
    const hz = this.config.getInt('hz');
    this.cronTimer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / hz)));
    this.cronTimer.unref();
  }

  /**
   * Opens listeners on `port` for every address of a `bind` value ("-addr" may fail quietly, as in Redis);
   * port 0 means no TCP listener. Rejects, having closed what it opened, when a required address fails.
   */
  private async bindAll(port: number, bind: string): Promise<NetServer[]> {
    const opened: NetServer[] = [];
    if (port === 0) return opened;
    try {
      for (const spec of bind.split(/\s+/).filter(Boolean)) {
        const optional = spec.startsWith('-');
        const host = optional ? spec.slice(1) : spec;
        try {
          opened.push(await this.listenOn(host === '*' ? '0.0.0.0' : host === '::*' ? '::' : host, port));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (optional && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT' || code === 'EADDRINUSE'))
            continue;
          throw err;
        }
      }
    } catch (err) {
      for (const l of opened) l.close();
      throw err;
    }
    return opened;
  }

  /**
   * CONFIG SET port/bind: listens on the new addresses first and only then closes the old listeners, so a
   * failure leaves the server as it was. Established connections stay, as in Redis.
   */
  async rebind(port: number, bind: string): Promise<void> {
    const fresh = await this.bindAll(port, bind);
    for (const l of this.listeners) l.close();
    this.listeners = fresh;
    this.log.notice(`Listening on ${fresh.length === 0 ? 'no TCP address' : this.boundAddresses.join(', ')}`);
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

  /** The bound TCP addresses. */
  get boundAddresses(): string[] {
    return this.listeners.map((l) => {
      const a = l.address();
      return typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
    });
  }

  private accept(socket: Socket): void {
    this.refreshClock();
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    const addr = formatAddress(socket.remoteAddress, socket.remotePort);
    const laddr = formatAddress(socket.localAddress, socket.localPort);
    if (this.clients.size >= this.config.getInt('maxclients')) {
      this.stats.rejectedConnections++;
      socket.on('error', () => undefined);
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const denied = this.protectedModeDenial(socket);
    if (denied) {
      this.stats.rejectedConnections++;
      socket.on('error', () => undefined);
      socket.end(`-${denied}\r\n`);
      return;
    }
    const keepAliveSecs = this.config.getInt('tcp-keepalive');
    if (keepAliveSecs > 0) socket.setKeepAlive(true, keepAliveSecs * 1000);
    const client = this.createClient(socket, addr, laddr);
    this.stats.totalConnections++;
    socket.on('data', (chunk: Buffer) => {
      this.inputArrived();
      this.stats.netInputBytes += chunk.length;
      this.stats.readsProcessed++;
      this.beginBatch();
      try {
        client.onData(chunk);
      } finally {
        this.endBatch();
      }
    });
    socket.on('error', () => client.destroy());
    socket.on('close', () => client.close());
  }

  /** Input was read in this event-loop turn: the input turn ends after its reads (check phase). */
  inputArrived(): void {
    this.scheduleTurnEnd();
  }

  /** A connection used its input budget for this turn (INPUT_BYTES_PER_TURN): it continues in the next one. */
  runNextTurn(waiter: TurnWaiter): void {
    this.waitingForTurn.push(waiter);
    this.scheduleTurnEnd();
  }

  private scheduleTurnEnd(): void {
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    setImmediate(this.endTurn);
  }

  /**
   * The end of an event-loop turn (check phase, after every read of the poll phase), Redis's beforeSleep: a new
   * input turn starts (connections over their budget run their next share), then every client with replies gets
   * them in one write. Writing once per turn rather than after each read matters on loopback: a write wakes the
   * reader, and a load generator woken after every reply spends (and makes us spend) its time in wake-ups; SET
   * -P 16 from 50 clients went from ~810k to ~1M/s, its system time per command from ~560 to ~330 ns.
   */
  private readonly endTurn = (): void => {
    this.turnEndScheduled = false;
    this.inputTurn++;
    const waiting = this.waitingForTurn;
    if (waiting.length > 0) {
      this.waitingForTurn = [];
      this.refreshClock();
      for (const w of waiting) w.nextTurn();
    }
    if (this.pendingFlush.size > 0) this.flushPending();
  };

  createClient(socket: Socket | null, addr = '', laddr = ''): Client {
    const client = new Client(this, this.nextClientId++, socket, addr, laddr);
    this.clients.set(client.id, client);
    return client;
  }

  /**
   * Protected mode: with no password for the default user, only loopback clients may connect, whatever `bind`
   * says (Redis 7.0's rule). Returns the DENIED text for a refused client.
   */
  private protectedModeDenial(socket: Socket): string | undefined {
    if (!this.config.getBool('protected-mode')) return undefined;
    if (this.authRequired) return undefined;
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (remote === '::1' || remote.startsWith('127.')) return undefined;
    return PROTECTED_MODE_DENIED;
  }

  onClientClosed(c: Client): void {
    if (!this.clients.delete(c.id)) return;
    if (c.blocked) this.unblock(c, false);
    this.monitors.delete(c);
    this.pendingFlush.delete(c);
    if (c.subscriptionCount > 0) this.pubsub.dropClient(c);
    for (const hook of this.clientClosedHooks) hook(c);
  }

  /** RESET: the client's state as on a new connection (same id and socket). */
  resetClientState(c: Client): void {
    for (const hook of this.clientResetHooks) hook(c);
    c.multi = null;
    c.dirtyCas = false;
    if (c.subscriptionCount > 0) this.pubsub.dropClient(c);
    if (c.monitor) {
      c.monitor = false;
      this.monitors.delete(c);
    }
    c.reply.resp = 2;
    c.db = this.keyspace.dbs[0];
    c.name = '';
    c.replyMode = 'on';
    c.reply.enabled = true;
    c.noEvict = false;
    c.user = 'default';
    c.authenticated = !this.authRequired;
  }

  /** Asks for `c`'s replies to be written at the end of the turn (see endTurn). */
  wake(c: Client): void {
    this.pendingFlush.add(c);
    this.scheduleTurnEnd();
  }

  private flushPending(): void {
    for (const c of this.pendingFlush) c.flush();
    this.pendingFlush.clear();
  }

  /**
   * The output-buffer limit a class of clients is held to, in bytes: the hard limit, or the soft one when there is
   * no hard limit, 0 when neither is set.
   */
  outputLimitBytes(cls: ClientClass): number {
    const limits = this.outputLimitTable.get(cls);
    if (limits === undefined) return 0;
    const [hard, soft] = limits;
    return hard > 0 ? hard : soft;
  }

  /**
   * Applies client-output-buffer-limit for the client's class; closes the client when it is over.
   * Returns true when the client was dropped.
   */
  checkOutputLimits(c: Client, queuedBytes: number): boolean {
    const limits = this.outputLimitTable.get(c.outputClass);
    if (limits === undefined) return false;
    const [hard, soft, softSeconds] = limits;
    const overHard = hard > 0 && queuedBytes >= hard;
    let overSoft = false;
    if (soft > 0 && queuedBytes >= soft) {
      if (c.softLimitSinceMs === 0) c.softLimitSinceMs = this.nowMs;
      overSoft = this.nowMs - c.softLimitSinceMs >= softSeconds * 1000;
    } else {
      c.softLimitSinceMs = 0;
    }
    if (!overHard && !overSoft) return false;
    this.log.warning(
      `Client ${this.clientInfoLine(c)} scheduled to be closed ASAP for overcoming of output buffer limits.`,
    );
    c.destroy();
    return true;
  }

  // ---------------------------------------------------------------- dispatch

  /** Runs one request from a client through Redis's checks, then the command. */
  call(c: Client, argv: string[]): void {
    const cmd = this.commands.lookup(argv);
    if (cmd === undefined) return this.reject(c, undefined, unknownCommand(argv));
    const arity = cmd.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
      return this.reject(c, cmd, wrongArity(cmd.fullName));
    }
    if (cmd.handler === undefined) return this.reject(c, cmd, unknownSubcommand(argv));
    const bits = cmd.bits;
    if (bits & F.protected && !this.protectedAllowed(c)) {
      return this.reject(c, cmd, protectedDenied(cmd.parent?.fullName ?? cmd.fullName));
    }
    if (!c.authenticated && !(bits & F.no_auth)) return this.reject(c, cmd, Err.noAuth);
    if (c.multi !== null && bits & F.no_multi) {
      return this.reject(c, cmd, 'ERR Command not allowed inside a transaction');
    }
    if (this.maxmemoryBytes > 0 && c.kind !== 'master' && !this.evictor.perform()) {
      const oom =
        bits & F.denyoom || (c.multi !== null && !isTransactionControl(cmd) && cmd.spec.name !== 'discard');
      if (oom) return this.reject(c, cmd, Err.oom);
    }
    const refusal = this.admissionError(c, cmd, argv);
    if (refusal !== undefined) return this.reject(c, cmd, refusal);
    if (this.pauseUntilMs !== 0 && this.mustWaitForPause(c, cmd)) {
      c.held = argv;
      return;
    }
    if (c.multi !== null && !isTransactionControl(cmd)) {
      c.multi.queue.push({ cmd, argv });
      c.reply.raw('+QUEUED\r\n');
      return;
    }
    this.execute(c, cmd, argv);
  }

  /** Checks that depend on server state, after the ones every command gets. */
  admissionError(c: Client, cmd: Command, argv: string[]): string | undefined {
    const filters = this.commandFilters;
    for (let i = 0; i < filters.length; i++) {
      const error = filters[i](c, cmd, argv);
      if (error !== undefined) return error;
    }
    if (c.subscriptionCount > 0 && c.reply.resp === 2 && !isAllowedInPubSub(cmd)) {
      return (
        `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET ` +
        `are allowed in this context`
      );
    }
    if (this.loading && !(cmd.bits & F.loading)) return Err.loading;
    return undefined;
  }

  /** Refuses a request: the error reply, and a transaction being queued is aborted. */
  private reject(c: Client, cmd: Command | undefined, text: string): void {
    if (cmd !== undefined) cmd.rejectedCalls++;
    if (c.multi !== null) c.multi.aborted = true;
    c.reply.error(text);
  }

  /** Counts an error reply for INFO errorstats (installed as every reply writer's onError). */
  countErrorReply(text: string): void {
    this.stats.errorReplies++;
    const space = text.indexOf(' ');
    const kind = space < 0 ? text : text.slice(0, space);
    const n = this.errorCounts.get(kind);
    if (n !== undefined) this.errorCounts.set(kind, n + 1);
    else if (this.errorCounts.size < MAX_ERROR_KINDS) this.errorCounts.set(kind, 1);
  }

  /** enable-debug-command: yes, no, or local (loopback connections only). */
  private protectedAllowed(c: Client): boolean {
    const mode = this.debugCommandMode;
    if (mode === 'yes') return true;
    if (mode === 'local') return this.isLocalClient(c);
    return c.socket === null;
  }

  /**
   * Executes a command that passed every check, handling propagation, statistics, blocked-client wakeups.
   * Nested calls (EXEC running its queue) share the outer call's propagation batch.
   */
  execute(c: Client, cmd: Command, argv: string[]): void {
    const top = this.callDepth === 0;
    this.callDepth++;
    const dirtyBefore = this.dirty;
    const errorsBefore = this.stats.errorReplies;
    const savedOverride = this.propagationOverride;
    this.propagationOverride = undefined;
    const prevCmd = c.cmd;
    const prevClient = this.currentClient;
    this.currentClient = c;
    c.cmd = cmd;
    c.argv = argv;
    if (c.replyMode !== 'on') c.reply.enabled = false;
    // Timing (see beginBatch): in a read batch, a command is timed from the batch's last clock read; fast
    // commands are not timed one by one but share the time until the next read. Outside a batch (timers, the
    // replication link), every command reads the clock before and after.
    const inBatch = top && this.batchStartMs >= 0;
    const batched = inBatch && (cmd.bits & F.fast) !== 0;
    let started: number;
    if (inBatch) {
      if (!batched && this.batchFastCount > 0) this.closeSegment();
      started = this.batchStartMs;
    } else {
      started = performance.now();
    }
    if (top)
      this.nowMs = this.clockOffsetMs === undefined ? this.clock.nowMs() : this.clockOffsetMs + started;
    try {
      cmd.handler!(c, argv);
    } catch (err) {
      if (err instanceof ReplyError) {
        c.reply.error(err.reply);
      } else {
        this.log.warning(`Bug while executing '${cmd.fullName}': ${(err as Error).stack ?? err}`);
        c.reply.error(`ERR internal error while executing '${cmd.fullName}'`);
      }
    }
    if (c.replyMode !== 'on') this.afterReplyMode(c);
    // Like Redis 7, monitors see a command once it ran (SELECT shows the database it selected).
    if (this.monitors.size > 0) {
      this.feedMonitors(c, cmd, argv, batched ? this.batchStartMs : started);
    }
    if (this.stats.errorReplies !== errorsBefore) cmd.failedCalls++;
    cmd.calls++;
    this.stats.totalCommands++;
    if (batched) {
      const k = this.batchFastCount++;
      this.batchFastCmds[k] = cmd;
      this.batchFastArgvs[k] = argv;
      this.batchFastClients[k] = c;
    } else {
      const ended = performance.now();
      if (inBatch) this.batchStartMs = ended;
      this.recordDuration(c, cmd, argv, (ended - started) * 1000);
    }
    if (c.tracking !== null) this.afterTrackedCommand(c, cmd, argv);
    if (this.dirty !== dirtyBefore && cmd.bits & F.write && this.propagationOverride !== null) {
      this.pendingPropagation.push({ dbId: c.db.id, argv: this.propagationOverride ?? argv });
    }
    this.propagationOverride = savedOverride;
    if (prevCmd !== undefined && !top) c.cmd = prevCmd;
    this.currentClient = prevClient;
    this.callDepth--;
    if (top) {
      this.memory.settle();
      this.flushPropagation();
      if (this.readyKeys.size > 0) this.handleReadyKeys();
    }
  }

  /** Command statistics that need a duration: commandstats, latency histograms, slow log, latency monitor. */
  private recordDuration(c: Client, cmd: Command, argv: string[], usec: number): void {
    cmd.usec += usec;
    if (this.latencyTrackingOn) recordLatency(cmd, usec);
    if (this.slowlogOn && usec >= this.slowlog.thresholdUs && !(cmd.bits & F.skip_slowlog)) {
      this.slowlog.consider(argv, usec, this.nowMs, c.addr, c.name);
    }
    if (this.latencyOn)
      this.latency.add(cmd.bits & F.fast ? 'fast-command' : 'command', usec / 1000, this.nowMs);
  }

  /**
   * A client's read batch starts. Within it, `batchStartMs` is the time of the last clock read; the fast commands
   * run since then wait in the batchFast* arrays and share the time until the next read equally.
   */
  beginBatch(): void {
    const t = performance.now();
    this.batchStartMs = t;
    this.batchFastCount = 0;
    this.nowMs = this.clockOffsetMs === undefined ? this.clock.nowMs() : this.clockOffsetMs + t;
  }

  /** Reads the clock and gives the pending fast commands equal shares of the time since the last read. */
  private closeSegment(): void {
    const n = this.batchFastCount;
    const t = performance.now();
    const usec = (Math.max(0, t - this.batchStartMs) * 1000) / n;
    this.batchStartMs = t;
    this.batchFastCount = 0;
    for (let i = 0; i < n; i++) {
      this.recordDuration(this.batchFastClients[i], this.batchFastCmds[i], this.batchFastArgvs[i], usec);
      this.batchFastArgvs[i] = EMPTY_ARGV;
      this.batchFastClients[i] = undefined as unknown as Client;
    }
  }

  /** The batch ended: time its pending fast commands. */
  endBatch(): void {
    if (this.batchFastCount > 0) this.closeSegment();
    this.batchStartMs = -1;
  }

  /** CLIENT REPLY bookkeeping after a command: SKIP silences exactly the next command, OFF all of them. */
  private afterReplyMode(c: Client): void {
    if (c.replyMode === 'skip-now') c.replyMode = 'on';
    else if (c.replyMode === 'skip') c.replyMode = 'skip-now';
    c.reply.enabled = c.replyMode === 'on';
  }

  /** Client-side caching: remember what a tracking client read; CLIENT CACHING lasts one command. */
  private afterTrackedCommand(c: Client, cmd: Command, argv: string[]): void {
    if (c.tracking === null) return;
    if (cmd.bits & F.readonly) this.tracking.afterReadCommand(c, commandKeys(cmd, argv));
    this.tracking.afterCommand(c, cmd.fullName === 'client|caching');
  }

  /** MONITOR output: `+<unix time.usec> [<db> <addr>] "arg" ...` to every monitor, and monitor hooks. */
  private feedMonitors(c: Client, cmd: Command, argv: string[], startedMs: number): void {
    if (cmd.bits & (F.admin | F.skip_monitor)) return;
    const now = performance.timeOrigin + startedMs;
    const secs = Math.floor(now / 1000);
    const micros = String(Math.floor((now % 1000) * 1000)).padStart(6, '0');
    const origin = c.kind === 'master' ? 'master' : c.socket === null ? 'lua' : c.addr;
    let line = `${secs}.${micros} [${c.db.id} ${origin}]`;
    const redacted =
      cmd.spec.name === 'auth' || cmd.parent?.spec.name === 'hello' || cmd.spec.name === 'hello';
    for (let i = 0; i < argv.length; i++) {
      line += ' ' + (redacted && i > 0 ? '"(redacted)"' : reprString(argv[i]));
    }
    for (const m of this.monitors) {
      if (m === c) continue;
      m.reply.simple(line);
      this.wake(m);
    }
  }

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
    this.pendingPropagation = this.spareBatches.pop() ?? [];
    try {
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
    } finally {
      // Popping keeps the array's storage for the next batch; `length = 0` would free it.
      while (batch.length > 0) batch.pop();
      this.spareBatches.push(batch);
    }
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
    const hooks = this.keyModifiedHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](db, key);
    if (this.blockedByKey.size > 0) {
      const id = blockKey(db.id, key);
      if (this.blockedByKey.has(id)) this.readyKeys.add(id);
    }
  }

  notify(cls: NotifyClass, event: string, key: string, dbId: number): void {
    if (this.pubsub.notificationsEnabled) this.pubsub.notify(cls, event, key, dbId);
    const hooks = this.notifyHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i](cls, event, key, dbId);
  }

  // ---------------------------------------------------------------- blocking

  /**
   * Blocks the client on keys of its current database until `serve` succeeds or the timeout (ms, 0 = forever)
   * passes. `serve` is retried whenever one of the keys changes; it must reply and return true when it served.
   * Inside MULTI/EXEC a blocking command must not block: callers check `c.inExec` and reply at once.
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
        this.refreshClock();
        if (c.blocked !== state) return;
        this.unblock(c, true);
      }, timeoutMs);
    }
  }

  /** Unblocks a client: on timeout it gets its timeout reply; then its buffered commands run. */
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
    if (!c.closed) this.resumeClient(c);
  }

  /**
   * Runs an asynchronous part of a command (a final save, a rebind): the client's later commands wait, `finish`
   * replies when the work is done (or the error reply is sent), then the client continues.
   */
  runAsync(c: Client, work: () => Promise<void>, finish: () => void): void {
    c.awaiting = true;
    work()
      .then(
        () => {
          if (!c.closed) finish();
        },
        (err: unknown) => {
          if (!c.closed)
            c.reply.error(err instanceof ReplyError ? err.reply : `ERR ${(err as Error).message}`);
        },
      )
      .finally(() => {
        c.awaiting = false;
        if (c.closed) return;
        this.refreshClock();
        c.flush();
        c.drainPending();
      });
  }

  /** Sets `nowMs` from the clock (the wall clock through performance.now when it is the system clock). */
  refreshClock(): number {
    this.nowMs =
      this.clockOffsetMs === undefined ? this.clock.nowMs() : this.clockOffsetMs + performance.now();
    return this.nowMs;
  }

  /** Is the client connected over loopback (or internal)? enable-*-command "local" uses it. */
  isLocalClient(c: Client): boolean {
    return c.socket === null || isLoopback(c.socket.remoteAddress);
  }

  /** A blocked or paused client may run again: its buffered requests run after the current command. */
  private resumeClient(c: Client): void {
    if (this.callDepth > 0) {
      // Inside another client's command: finish that first (Redis serves unblocked clients afterwards).
      setImmediate(() => {
        this.refreshClock();
        c.drainPending();
        if (this.pendingFlush.size > 0) this.flushPending();
      });
      this.wake(c);
      return;
    }
    c.drainPending();
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
          this.memory.settle();
          this.flushPropagation();
          if (served) {
            this.wake(c);
            this.unblock(c, false);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- client pause

  /** CLIENT PAUSE: holds commands of normal clients (all, or only writes) until `untilMs`. */
  pauseClients(mode: PauseMode, untilMs: number): void {
    // A new pause never shortens nor weakens one in force (Redis keeps the stricter of both).
    if (this.pauseUntilMs !== 0) {
      if (this.pauseMode === 'all') mode = 'all';
      untilMs = Math.max(untilMs, this.pauseUntilMs);
    }
    this.pauseMode = mode;
    this.pauseUntilMs = untilMs;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => this.unpauseClients(), Math.max(0, untilMs - this.clock.nowMs()));
  }

  /** Ends a pause: held commands run, in client order. */
  unpauseClients(): void {
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.pauseUntilMs = 0;
    this.refreshClock();
    for (const c of [...this.clients.values()]) {
      const argv = c.held;
      if (argv === null || c.closed) continue;
      c.held = null;
      this.call(c, argv);
      c.drainPending();
    }
  }

  private mustWaitForPause(c: Client, cmd: Command): boolean {
    if (c.kind !== 'normal' || c.socket === null) return false;
    if (this.nowMs >= this.pauseUntilMs) {
      this.unpauseClients();
      return false;
    }
    if (this.pauseMode === 'all') return true;
    // WRITE pause: writes, and commands that may replicate (PUBLISH, EXEC with writes...), wait.
    if (cmd.bits & (F.write | F.may_replicate)) return true;
    if (cmd.spec.name === 'exec' && c.multi?.queue.some((q) => q.cmd.bits & (F.write | F.may_replicate))) {
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- lifecycle

  private cron(): void {
    if (this.clockOffsetMs !== undefined) this.clockOffsetMs = Date.now() - performance.now();
    this.refreshClock();
    this.opsSampler.sample(this.stats.totalCommands, this.nowMs);
    this.inputSampler.sample(this.stats.netInputBytes, this.nowMs);
    this.outputSampler.sample(this.stats.netOutputBytes, this.nowMs);
    if (this.idleTimeoutMs > 0) this.closeIdleClients();
    if (this.maxmemoryBytes > 0) this.clientsMemorySampleBytes = this.clientsMemoryBytes();
    if (this.maxmemoryBytes > 0) this.evictor.perform();
    for (const hook of this.cronHooks) {
      try {
        hook();
      } catch (err) {
        this.log.warning(`Bug in a periodic task: ${(err as Error).stack ?? err}`);
      }
    }
    this.usedMemoryBytes();
    if (this.pendingFlush.size > 0) this.flushPending();
  }

  private closeIdleClients(): void {
    for (const c of this.clients.values()) {
      if (c.kind !== 'normal' || c.socket === null || c.blocked !== null || c.subscriptionCount > 0) continue;
      if (this.nowMs - c.lastInteractionMs > this.idleTimeoutMs) {
        this.log.verbose('Closing idle client');
        c.destroy();
      }
    }
  }

  /**
   * What maxmemory compares against: used_memory minus what Redis does not count for eviction (replica output
   * buffers, the AOF buffer). Normal clients' buffers come from the last cron tick, so the per-command check
   * stays O(1).
   */
  evictionUsedBytes(): number {
    const backlog = this.memoryOverheads.get('mem_replication_backlog');
    return (
      this.startupMemoryBytes +
      this.memory.datasetBytes() +
      this.clientsMemorySampleBytes +
      (backlog === undefined ? 0 : backlog())
    );
  }

  /** used_memory: the dataset estimate, client buffers and subsystems' own memory. */
  usedMemoryBytes(): number {
    let used = this.startupMemoryBytes + this.memory.datasetBytes() + this.clientsMemoryBytes();
    for (const f of this.memoryOverheads.values()) used += f();
    if (used > this.peakMemoryBytes) this.peakMemoryBytes = used;
    return used;
  }

  /** Query and output buffers of normal and pub/sub clients. */
  clientsMemoryBytes(): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.kind === 'normal') n += c.queryBufferBytes + c.outputBytes;
    return n;
  }

  /**
   * Shuts down: runs shutdown hooks (the final save), then closes listeners and clients. Rejects, leaving the
   * server running, when a hook fails and `force` is not set.
   */
  async shutdown(
    opts: ShutdownOptions = { save: 'default', force: false, now: false, reason: 'command' },
  ): Promise<void> {
    if (this.shuttingDown) throw new Error('a shutdown is already in progress');
    this.shuttingDown = true;
    this.shutdownAborted = false;
    try {
      for (const hook of this.shutdownHooks) {
        try {
          await hook(opts);
        } catch (err) {
          this.log.warning(`Error while shutting down: ${(err as Error).message}`);
          if (!opts.force) throw err;
        }
        if (this.shutdownAborted) throw new Error('shutdown aborted');
      }
    } catch (err) {
      this.shuttingDown = false;
      throw err;
    }
    if (this.cronTimer) clearInterval(this.cronTimer);
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    for (const l of this.listeners) l.close();
    for (const c of [...this.clients.values()]) c.destroy();
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** SHUTDOWN ABORT: stops a shutdown still running its hooks; false when none is. */
  abortShutdown(): boolean {
    if (!this.shuttingDown) return false;
    this.shutdownAborted = true;
    return true;
  }

  /** Shuts down (see `shutdown`), then ends the process. */
  async shutdownAndExit(opts: ShutdownOptions): Promise<void> {
    await this.shutdown(opts);
    this.log.warning('orchestrate-agent is now ready to exit, bye bye...');
    this.exitProcess(0);
  }

  /** Reads a memory value from config text (used by modules for their own limits). */
  static memory(text: string): number {
    return parseMemory(text) ?? 0;
  }

  // ---------------------------------------------------------------- introspection

  /** One CLIENT LIST line (without the newline). */
  clientInfoLine(c: Client): string {
    const now = this.nowMs;
    let flags = '';
    if (c.kind === 'replica') flags += c.monitor ? '' : 'S';
    if (c.kind === 'master') flags += 'M';
    if (c.monitor) flags += 'O';
    if (c.subscriptionCount > 0) flags += 'P';
    if (c.multi !== null) flags += 'x';
    if (c.blocked !== null) flags += 'b';
    if (c.dirtyCas) flags += 'd';
    if (c.closeAfterReply) flags += 'c';
    if (c.noEvict) flags += 'e';
    if (flags === '') flags = 'N';
    const qbuf = c.queryBufferBytes;
    const obl = c.reply.pendingBytes;
    const omem = (c.socket?.writableLength ?? 0) + (c.outputHeldBytes?.() ?? 0);
    const multiMem = c.multi ? c.multi.queue.reduce((n, q) => n + q.argv.join('').length, 0) : 0;
    const fd = (c.socket as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd ?? -1;
    return (
      `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${fd} name=${c.name} ` +
      `age=${Math.floor((now - c.createdAtMs) / 1000)} idle=${Math.floor((now - c.lastInteractionMs) / 1000)} ` +
      `flags=${flags} db=${c.db.id} sub=${c.channels.size} psub=${c.patterns.size} ` +
      `ssub=${c.shardChannels.size} multi=${c.multi ? c.multi.queue.length : -1} qbuf=${qbuf} ` +
      `qbuf-free=${qbuf > 0 ? 0 : 0} argv-mem=${c.argv.reduce((n, a) => n + a.length, 0)} ` +
      `multi-mem=${multiMem} rbs=${CHUNK_REPORT_BYTES} rbp=${CHUNK_REPORT_BYTES} obl=${obl} oll=0 ` +
      `omem=${omem} tot-mem=${qbuf + obl + omem + multiMem + CLIENT_BASE_BYTES} events=r ` +
      `cmd=${c.cmd?.fullName ?? 'NULL'} user=${c.user} redir=-1 resp=${c.reply.resp}`
    );
  }
}

/** What CLIENT LIST reports as the reply buffer size (our writer's chunk size). */
const CHUNK_REPORT_BYTES = 16384;
/** A client's fixed footprint reported in tot-mem. */
const CLIENT_BASE_BYTES = 2048;

const EMPTY_ARGV: string[] = [];

/** Latency histogram buckets per command (powers of two of microseconds, up to about an hour). */
export const LATENCY_BUCKETS = 32;

function recordLatency(cmd: Command, usec: number): void {
  const buckets = cmd.latencyBuckets ?? (cmd.latencyBuckets = new Uint32Array(LATENCY_BUCKETS));
  const b = 32 - Math.clz32(usec | 0);
  buckets[b < LATENCY_BUCKETS ? b : LATENCY_BUCKETS - 1]++;
}

/** The keys of a command according to its key positions (firstKey, lastKey, step). */
export function commandKeys(cmd: Command, argv: readonly string[]): string[] {
  const { firstKey, step } = cmd.spec;
  if (firstKey <= 0 || step <= 0) return [];
  const last = cmd.spec.lastKey < 0 ? argv.length + cmd.spec.lastKey : cmd.spec.lastKey;
  const keys: string[] = [];
  for (let i = firstKey; i <= last && i < argv.length; i += step) keys.push(argv[i]);
  return keys;
}

function blockKey(dbId: number, key: string): string {
  return `${dbId}\0${key}`;
}

function formatAddress(host: string | undefined, port: number | undefined): string {
  const h = (host ?? '?').replace(/^::ffff:/, '');
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

function isLoopback(address: string | undefined): boolean {
  const a = (address ?? '').replace(/^::ffff:/, '');
  return a === '::1' || a.startsWith('127.');
}

function randomHex(chars: number, random: () => number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += Math.floor(random() * 16).toString(16);
  return s;
}

function protectedDenied(name: string): string {
  const upper = name.toUpperCase();
  const option = upper === 'DEBUG' ? 'enable-debug-command' : 'enable-module-command';
  return (
    `ERR ${upper} command not allowed. If the ${option} option is set to "local", you can run it from a ` +
    'local connection, otherwise you need to set this option in the configuration file, and then restart the server.'
  );
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
  "it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. " +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections ' +
  'from the outside.';
