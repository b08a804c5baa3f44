/**
 * The replication commands, with Redis 7.0's replies and error texts:
 *   REPLICAOF / SLAVEOF host port | NO ONE      follow a master, or stop following
 *   SYNC, PSYNC replid offset [FAILOVER]        a replica asks for the stream (full or partial)
 *   REPLCONF option value ...                   replica handshake data, ACK, GETACK
 *   WAIT numreplicas timeout                    block until replicas acknowledged our writes
 *   ROLE                                        master/replica and offsets
 * FAILOVER lives in failover.ts.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { intArg, is, parseInt64 } from '../commands/args';
import { cmd, type CommandSpec } from '../commands/table';
import type { Replication } from './replication';

/** Longest ip-address a replica may announce (NET_HOST_STR_LEN). */
const MAX_ANNOUNCED_IP_CHARS = 255;

export const WAIT_ON_REPLICA_ERROR =
  'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is ' +
  'configured to be writable (which is not the default) writes to replicas are just local and are not propagated.';

export function replicationCommands(repl: Replication): CommandSpec[] {
  const server = repl.server;

  function replicaof(c: Client, argv: string[]): void {
    if (repl.failover.inProgress) throw new ReplyError('ERR REPLICAOF not allowed while failing over.');
    if (is(argv[1], 'NO') && is(argv[2], 'ONE')) {
      if (repl.isReplica) {
        repl.becomeMaster();
        server.log.notice(`MASTER MODE enabled (user request from '${c.describe()}')`);
      }
      server.config.set('replicaof', ['no', 'one']);
      c.reply.ok();
      return;
    }
    if (c.kind === 'replica') throw new ReplyError('ERR Command is not valid when client is a replica.');
    const port = parseInt64(argv[2]);
    if (port === null || port < 0n || port > 65535n) throw new ReplyError('ERR Invalid master port');
    const host = argv[1];
    const link = repl.link;
    if (link !== null && link.host.toLowerCase() === host.toLowerCase() && link.port === Number(port)) {
      server.log.notice(
        'REPLICAOF would result into synchronization with the master we are already connected with. ' +
          'No operation performed.',
      );
      c.reply.raw('+OK Already connected to specified master\r\n');
      return;
    }
    repl.becomeReplicaOf(host, Number(port));
    server.config.set('replicaof', [host, String(port)]);
    server.log.notice(`REPLICAOF ${host}:${port} enabled (user request from '${c.describe()}')`);
    c.reply.ok();
  }

  /** SYNC and PSYNC: the common checks, then partial or full resynchronization. */
  function sync(c: Client, argv: string[]): void {
    if (c.kind === 'replica') return;
    repl.beforeStreamUse();
    const isPsync = is(argv[0], 'PSYNC');
    if (isPsync && argv.length > 3 && is(argv[3], 'FAILOVER')) {
      if (argv[1] !== repl.ids.replid)
        throw new ReplyError('ERR PSYNC FAILOVER replid must match my replid.');
      if (repl.isReplica) {
        repl.becomeMaster();
        server.log.notice(`MASTER MODE enabled (failover request from '${c.describe()}')`);
      }
    }
    if (repl.failover.inProgress) throw new ReplyError("NOMASTERLINK Can't SYNC while failing over");
    if (repl.link !== null && !repl.link.isUp) {
      throw new ReplyError("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    if (c.reply.hasPending) throw new ReplyError('ERR SYNC and PSYNC are invalid with pending output');
    let offset = -1;
    if (isPsync) {
      const n = parseInt64(argv[2]);
      if (n === null) throw new ReplyError(Err.notInteger);
      offset = Number(n);
    }
    const handshake = repl.handshakeOf(c);
    const name = `${handshake.announcedIp || c.addr.slice(0, c.addr.lastIndexOf(':'))}:${handshake.listeningPort}`;
    server.log.notice(`Replica ${name} asks for synchronization`);
    c.flush();
    if (isPsync) {
      if (repl.tryPartialResync(c, argv[1], offset)) {
        server.stats.syncPartialOk++;
        return;
      }
      if (argv[1] !== '?') server.stats.syncPartialErr++;
    }
    server.stats.syncFull++;
    const firstReplica = repl.peers.size === 0;
    const peer = repl.addPeer(c, !isPsync);
    if (firstReplica && repl.backlog === null) {
      repl.ids.change();
      repl.ids.clearSecond();
      repl.ensureBacklog();
      server.log.notice(
        `Replication backlog created, my new replication IDs are '${repl.ids.replid}' and '${repl.ids.replid2}'`,
      );
    }
    repl.fullSync.request(peer);
  }

  function replconf(c: Client, argv: string[]): void {
    if (argv.length % 2 === 0) throw new ReplyError(Err.syntax);
    for (let j = 1; j < argv.length; j += 2) {
      const option = argv[j];
      const value = argv[j + 1];
      if (is(option, 'LISTENING-PORT')) {
        repl.handshakeOf(c).listeningPort = intArg(value);
      } else if (is(option, 'IP-ADDRESS')) {
        if (value.length >= MAX_ANNOUNCED_IP_CHARS) {
          throw new ReplyError(
            `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`,
          );
        }
        repl.handshakeOf(c).announcedIp = value;
      } else if (is(option, 'CAPA')) {
        if (is(value, 'EOF')) repl.handshakeOf(c).capaEof = true;
        else if (is(value, 'PSYNC2')) repl.handshakeOf(c).capaPsync2 = true;
      } else if (is(option, 'ACK')) {
        if (c.kind !== 'replica') return;
        const n = parseInt64(value);
        if (n === null) return;
        repl.onAck(c, Number(n));
        return;
      } else if (is(option, 'GETACK')) {
        if (c.kind === 'master' && repl.link !== null) repl.link.sendAck();
        return;
      } else if (is(option, 'RDB-ONLY') || is(option, 'RDB-FILTER-ONLY')) {
        // Accepted for redis-cli --rdb; this agent always sends the whole dataset.
      } else {
        throw new ReplyError(`ERR Unrecognized REPLCONF option: ${option}`);
      }
    }
    c.reply.ok();
  }

  function wait(c: Client, argv: string[]): void {
    if (repl.isReplica) throw new ReplyError(WAIT_ON_REPLICA_ERROR);
    const replicas = intArg(argv[1]);
    const timeout = parseInt64(argv[2]);
    if (timeout === null) throw new ReplyError('ERR timeout is not an integer or out of range');
    if (timeout < 0n) throw new ReplyError(Err.timeoutNegative);
    repl.wait(c, replicas, Number(timeout));
  }

  function role(c: Client): void {
    const link = repl.link;
    if (link === null) {
      const online = [...repl.peers.values()].filter((p) => p.state === 'online');
      c.reply.array(3);
      c.reply.bulk('master');
      c.reply.integer(repl.masterOffset);
      c.reply.array(online.length);
      for (const p of online) {
        c.reply.array(3);
        c.reply.bulk(p.ip);
        c.reply.bulk(String(p.handshake.listeningPort));
        c.reply.bulk(String(p.ackOffset));
      }
      return;
    }
    c.reply.array(5);
    c.reply.bulk('slave');
    c.reply.bulk(link.host);
    c.reply.integer(link.port);
    c.reply.bulk(roleLinkState(link.state));
    c.reply.integer(link.isUp ? link.appliedOffset : -1);
  }

  return [
    cmd('replicaof', 3, ['admin', 'noscript', 'stale'], 0, 0, 0, replicaof, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('slaveof', 3, ['admin', 'noscript', 'stale'], 0, 0, 0, replicaof, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('sync', 1, ['admin', 'noscript', 'no_multi'], 0, 0, 0, sync, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('psync', -3, ['admin', 'noscript', 'no_multi'], 0, 0, 0, sync, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('replconf', -1, ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], 0, 0, 0, replconf, {
      categories: ['admin', 'slow', 'dangerous'],
    }),
    cmd('wait', 3, ['noscript'], 0, 0, 0, wait, { categories: ['slow', 'connection'] }),
    cmd('role', 1, ['noscript', 'loading', 'stale', 'fast'], 0, 0, 0, role, {
      categories: ['admin', 'fast', 'dangerous'],
    }),
  ];
}

/** ROLE's names for the link states. */
function roleLinkState(state: string): string {
  switch (state) {
    case 'none':
      return 'none';
    case 'connect':
      return 'connect';
    case 'connecting':
      return 'connecting';
    case 'transfer':
      return 'sync';
    case 'connected':
      return 'connected';
    default:
      return 'handshake';
  }
}
