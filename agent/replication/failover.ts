/**
 * FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT: a coordinated switch of roles between this
 * master and one of its replicas, without losing acknowledged writes (Redis 7.0 semantics and texts).
 *
 *   no-failover -> waiting-for-sync        writes are paused; we wait until the target (or, without TO, any
 *                                          replica) has acknowledged our whole stream (ACK == master offset)
 *   waiting-for-sync -> failover-in-progress   we become a replica of the target and send it
 *                                          `PSYNC <our replid> <offset+1> FAILOVER`, which makes it promote
 *                                          itself and continue us partially
 *   failover-in-progress -> no-failover    the target accepted the PSYNC: done, writes resume (they now get
 *                                          READONLY here, as we are a replica)
 * TIMEOUT without FORCE aborts while waiting; with FORCE the switch happens anyway at the deadline. An abort
 * while in progress turns us back into a master.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { intArg, is } from '../commands/args';
import { cmd, type CommandSpec } from '../commands/table';
import type { ReplicaPeer } from './replicaPeer';
import type { Replication } from './replication';

export type FailoverState = 'no-failover' | 'waiting-for-sync' | 'failover-in-progress';

export class Failover {
  state: FailoverState = 'no-failover';
  targetHost: string | null = null;
  targetPort = 0;
  private deadlineMs = 0;
  private force = false;
  /** Installed by the replication module: pause/resume write commands of normal clients. */
  pauseWrites: (paused: boolean) => void = () => {};

  constructor(private readonly repl: Replication) {}

  get inProgress(): boolean {
    return this.state !== 'no-failover';
  }

  /** True while our PSYNC to the target must carry the FAILOVER argument. */
  get psyncNeedsFailoverFlag(): boolean {
    return this.state === 'failover-in-progress';
  }

  private get log() {
    return this.repl.server.log;
  }

  start(host: string | null, port: number, timeoutMs: number, force: boolean): void {
    this.targetHost = host;
    this.targetPort = port;
    this.deadlineMs = timeoutMs > 0 ? this.repl.server.nowMs + timeoutMs : 0;
    this.force = force;
    this.state = 'waiting-for-sync';
    this.pauseWrites(true);
    if (host !== null) this.log.notice(`FAILOVER requested to ${host}:${port}.`);
    else this.log.notice('FAILOVER requested to any replica.');
    this.update();
  }

  /** Checks progress (each cron tick and on every ACK). */
  update(): void {
    if (this.state !== 'waiting-for-sync') return;
    const repl = this.repl;
    const now = repl.server.clock.nowMs();
    if (this.deadlineMs > 0 && now >= this.deadlineMs) {
      if (this.force && this.targetHost !== null) {
        this.log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} time out exceeded, failing over.`);
        this.switchToTarget();
      } else {
        this.abort('Replica never caught up before timeout');
      }
      return;
    }
    const offset = repl.masterOffset;
    let target: ReplicaPeer | undefined;
    if (this.targetHost !== null) {
      target = findReplica(repl, this.targetHost, this.targetPort);
    } else {
      target = [...repl.peers.values()].find((p) => p.state === 'online' && p.ackOffset === offset);
      if (target !== undefined) {
        this.targetHost = target.ip;
        this.targetPort = target.handshake.listeningPort;
      }
    }
    if (target !== undefined && target.ackOffset === offset) {
      this.log.notice(`Failover target ${this.targetHost}:${this.targetPort} is synced, failing over.`);
      this.switchToTarget();
    }
  }

  private switchToTarget(): void {
    this.state = 'failover-in-progress';
    this.repl.becomeReplicaOf(this.targetHost!, this.targetPort);
    this.repl.server.config.set('replicaof', [this.targetHost!, String(this.targetPort)]);
  }

  /** The target answered our PSYNC FAILOVER. */
  onPsyncResult(accepted: boolean): void {
    if (this.state !== 'failover-in-progress') return;
    if (accepted) {
      this.log.notice(`Failover to ${this.targetHost}:${this.targetPort} succeeded.`);
      this.clear();
    } else {
      this.abort('Failover target rejected psync request');
    }
  }

  abort(reason: string): void {
    if (this.state === 'no-failover') return;
    if (this.targetHost !== null) {
      this.log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} aborted: ${reason}`);
    } else {
      this.log.notice(`FAILOVER to any replica aborted: ${reason}`);
    }
    if (this.state === 'failover-in-progress') {
      this.repl.becomeMaster();
      this.repl.server.config.set('replicaof', ['no', 'one']);
    }
    this.clear();
  }

  private clear(): void {
    this.state = 'no-failover';
    this.targetHost = null;
    this.targetPort = 0;
    this.deadlineMs = 0;
    this.force = false;
    this.pauseWrites(false);
  }
}

function findReplica(repl: Replication, host: string, port: number): ReplicaPeer | undefined {
  for (const p of repl.peers.values()) {
    if (p.ip.toLowerCase() === host.toLowerCase() && p.handshake.listeningPort === port) return p;
  }
  return undefined;
}

export function failoverCommand(repl: Replication): CommandSpec {
  function failover(c: Client, argv: string[]): void {
    const fo = repl.failover;
    if (argv.length === 2 && is(argv[1], 'ABORT')) {
      if (!fo.inProgress) throw new ReplyError('ERR No failover in progress.');
      fo.abort('Failover manually aborted');
      c.reply.ok();
      return;
    }
    let timeoutMs = 0;
    let force = false;
    let host: string | null = null;
    let port = 0;
    for (let j = 1; j < argv.length; j++) {
      if (is(argv[j], 'TIMEOUT') && j + 1 < argv.length && timeoutMs === 0) {
        timeoutMs = intArg(argv[j + 1]);
        if (timeoutMs <= 0) throw new ReplyError('ERR FAILOVER timeout must be greater than 0');
        j++;
      } else if (is(argv[j], 'TO') && j + 2 < argv.length && host === null) {
        port = intArg(argv[j + 2]);
        host = argv[j + 1];
        j += 2;
      } else if (is(argv[j], 'FORCE') && !force) {
        force = true;
      } else {
        throw new ReplyError(Err.syntax);
      }
    }
    if (fo.inProgress) throw new ReplyError('ERR FAILOVER already in progress.');
    if (repl.isReplica) throw new ReplyError('ERR FAILOVER is not valid when server is a replica.');
    if (repl.peers.size === 0) throw new ReplyError('ERR FAILOVER requires connected replicas.');
    if (force && (timeoutMs === 0 || host === null)) {
      throw new ReplyError('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    }
    if (host !== null) {
      const target = findReplica(repl, host, port);
      if (target === undefined) throw new ReplyError('ERR FAILOVER target HOST and PORT is not a replica.');
      if (target.state !== 'online') throw new ReplyError('ERR FAILOVER target replica is not online.');
    }
    fo.start(host, port, timeoutMs, force);
    c.reply.ok();
  }
  return cmd('failover', -1, ['admin', 'noscript', 'stale'], 0, 0, 0, failover, {
    categories: ['admin', 'slow', 'dangerous'],
  });
}
