/**
 * Replication's admission checks, run by the server before a command executes (or is queued in MULTI):
 * - NOREPLICAS: a master with min-replicas-to-write refuses writes while fewer replicas than that have
 *   acknowledged within min-replicas-max-lag seconds;
 * - READONLY: a replica with replica-read-only refuses writes from its clients (never from its master);
 * - MASTERDOWN: a replica with replica-serve-stale-data no answers only `stale` commands while its link is
 *   not up (including during a full sync).
 * Order as in Redis's processCommand.
 */
import { Err } from '../errors';
import { F, type Command } from '../commands/table';
import type { Client } from '../server/client';
import type { Replication } from './replication';

export function replicationAdmission(repl: Replication) {
  const config = repl.server.config;
  return (c: Client, cmd: Command): string | undefined => {
    if (c.kind === 'master') return undefined;
    const bits = cmd.bits;
    const link = repl.link;
    if (link === null) {
      if (bits & F.write) {
        const min = config.getInt('min-replicas-to-write');
        if (min > 0 && config.getInt('min-replicas-max-lag') > 0 && repl.goodReplicasCount() < min) {
          return Err.noReplicas;
        }
      }
      return undefined;
    }
    if (bits & F.write && config.getBool('replica-read-only')) return Err.readonly;
    if (!link.isUp && !(bits & F.stale) && !config.getBool('replica-serve-stale-data')) return Err.masterDown;
    return undefined;
  };
}
