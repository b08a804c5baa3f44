/**
 * Replication's entry point: `installReplication(server)` attaches the whole subsystem to a server through its
 * hook lists (propagation target, admission filters, INFO section, cron, client-closed, config changes) and
 * registers the replication commands. A `replicaof` from the config file makes the node a replica at once
 * (role, READONLY, INFO) and connects on the first cron tick after the server listens and finished loading.
 */
import { persistenceOf } from '../persistence';
import type { Server } from '../server/server';
import { replicationAdmission } from './admission';
import { replicationCommands } from './commands';
import { failoverCommand } from './failover';
import { replicationInfo } from './info';
import { Replication, type ReplicationOptions } from './replication';

export { Replication } from './replication';
export type { ReplicationOptions } from './replication';
export { replicationInfo } from './info';
export type { SnapshotSource, SnapshotRequest, SnapshotStream } from './snapshotSource';

/** Replication's periodic work runs once per this many ms (Redis's replicationCron runs every second). */
const REPLICATION_CRON_MS = 1000;
/** A cron tick this late means our own event loop was blocked (a long command): timeouts wait a tick. */
const STALL_MS = 1000;
/** Upper bound of the write pause a FAILOVER holds (setTimeout's limit is about 24.8 days). */
const FAILOVER_PAUSE_BOUND_MS = 2_000_000_000;

export function installReplication(server: Server, options: ReplicationOptions = {}): Replication {
  const repl = new Replication(server, options);
  server.propagationTargets.push(repl.propagate);
  server.commandFilters.push(replicationAdmission(repl));
  server.commands.register([...replicationCommands(repl), failoverCommand(repl)]);
  server.infoSections.set('replication', () => replicationInfo(repl));
  server.clientClosedHooks.push((c) => {
    repl.removePeer(c);
    if (c.kind === 'master') repl.link?.onClientClosed(c);
  });
  server.config.onChange('repl-backlog-size', (v) => repl.backlog?.resize(Number(v)));
  server.memoryOverheads.set('mem_replication_backlog', () => repl.backlog?.capacityBytes ?? 0);
  server.memoryOverheads.set('mem_clients_slaves', () => repl.replicaBuffersBytes());
  repl.failover.pauseWrites = (paused) => {
    // The pause lasts until the failover ends (unpaused explicitly); the bound only keeps timers valid.
    if (paused) server.pauseClients('write', server.clock.nowMs() + FAILOVER_PAUSE_BOUND_MS);
    else server.unpauseClients();
  };

  // Persistence is installed after us and loads the dataset; once it has, RDB saves carry our ids and the
  // loaded file's ids become ours (before any stream use: first cron tick, PSYNC or write, whichever first).
  let persistenceLinked = false;
  repl.beforeStreamUse = () => {
    if (persistenceLinked || server.loading) return;
    const p = persistenceOf(server);
    if (p === undefined) return;
    persistenceLinked = true;
    p.replicationInfo = () => repl.saveInfo();
    if (p.loadedAux !== undefined) repl.restoreFromRdbAux(p.loadedAux);
  };
  server.shutdownHooks.push((opts) => repl.waitForReplicasAtShutdown(opts.now));

  const configured = server.config.get('replicaof');
  if (configured !== '') {
    const [host, port] = configured.split(' ');
    repl.becomeReplicaOf(host, Number(port), { deferConnect: true });
  }

  let lastCronMs = 0;
  let lastTickMs = server.nowMs;
  server.cronHooks.push(() => {
    const now = server.nowMs;
    // After a stall of our own event loop, input may be waiting unread: judge timeouts on the next tick.
    const stalled = now - lastTickMs > STALL_MS;
    lastTickMs = now;
    repl.beforeStreamUse();
    const link = repl.link;
    if (link !== null && link.state === 'none' && !server.loading) link.start();
    link?.cron(stalled);
    repl.fullSync.maybeStart();
    repl.failover.update();
    if (now - lastCronMs >= REPLICATION_CRON_MS) {
      lastCronMs = now;
      repl.cron(stalled);
    }
  });
  return repl;
}
