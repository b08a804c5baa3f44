/**
 * INFO replication, field for field as Redis 7.0 prints it (names, order, and which fields appear in which
 * state), so monitoring written for Redis reads the agent unchanged. The sync counters of INFO stats
 * (sync_full, sync_partial_ok, sync_partial_err) live in server.stats, which the stats section prints.
 */
import type { Replication } from './replication';

export type InfoFields = Array<[string, string | number]>;

export function replicationInfo(repl: Replication): InfoFields {
  const server = repl.server;
  const config = server.config;
  const now = server.clock.nowMs();
  const fields: InfoFields = [];
  const link = repl.link;
  if (link === null) {
    fields.push(['role', 'master']);
  } else {
    fields.push(['role', 'slave']);
    fields.push(['master_host', link.host]);
    fields.push(['master_port', link.port]);
    fields.push(['master_link_status', link.isUp ? 'up' : 'down']);
    fields.push(['master_last_io_seconds_ago', link.isUp ? Math.floor((now - link.lastIoMs) / 1000) : -1]);
    fields.push(['master_sync_in_progress', link.syncInProgress ? 1 : 0]);
    fields.push(['slave_read_repl_offset', link.readOffset]);
    fields.push(['slave_repl_offset', link.appliedOffset]);
    const progress = link.transferProgress;
    if (progress !== null) {
      const perc = progress.total > 0 ? (progress.read / progress.total) * 100 : 0;
      fields.push(['master_sync_total_bytes', progress.total]);
      fields.push(['master_sync_read_bytes', progress.read]);
      fields.push(['master_sync_left_bytes', progress.total - progress.read]);
      fields.push(['master_sync_perc', perc.toFixed(2)]);
      fields.push(['master_sync_last_io_seconds_ago', Math.floor((now - progress.lastIoMs) / 1000)]);
    }
    if (!link.isUp) {
      fields.push([
        'master_link_down_since_seconds',
        link.downSinceMs > 0 ? Math.floor((now - link.downSinceMs) / 1000) : -1,
      ]);
    }
    fields.push(['slave_priority', config.getInt('replica-priority')]);
    fields.push(['slave_read_only', config.getBool('replica-read-only') ? 1 : 0]);
    fields.push(['replica_announced', config.getBool('replica-announced') ? 1 : 0]);
  }
  fields.push(['connected_slaves', repl.peers.size]);
  let n = 0;
  for (const peer of repl.peers.values()) {
    const lag = Math.floor((now - peer.ackTimeMs) / 1000);
    fields.push([
      `slave${n++}`,
      `ip=${peer.ip},port=${peer.handshake.listeningPort},state=${peer.infoState},offset=${peer.ackOffset},lag=${lag}`,
    ]);
  }
  fields.push(['master_failover_state', repl.failover.state]);
  fields.push(['master_replid', repl.ids.replid]);
  fields.push(['master_replid2', repl.ids.replid2]);
  fields.push(['master_repl_offset', repl.masterOffset]);
  fields.push(['second_repl_offset', repl.ids.secondOffset]);
  const backlog = repl.backlog;
  fields.push(['repl_backlog_active', backlog !== null ? 1 : 0]);
  fields.push(['repl_backlog_size', config.getInt('repl-backlog-size')]);
  fields.push(['repl_backlog_first_byte_offset', backlog !== null ? backlog.firstByteOffset : 0]);
  fields.push(['repl_backlog_histlen', backlog !== null ? backlog.historyBytes : 0]);
  return fields;
}
