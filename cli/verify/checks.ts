/**
 * The checks that prove a replica is in sync, as an expert does them by hand, evaluated on INFO replication
 * snapshots (pure; the poll loop in verify.ts feeds them):
 * 1. the replica's role is slave, following master_host/master_port as the inventory says;
 * 2. master_link_status:up and master_sync_in_progress:0;
 * 3. its slave_repl_offset has reached the master's master_repl_offset (sampled just before);
 * 4. the master lists it as state=online.
 * The probe write (WAIT + read back) is done by the loop on top of these. A failed check carries a sentence that
 * explains what is wrong (link down for how long, sync percentage, which master it follows instead).
 */
import { num, replicaEntries, type Info, type ReplicaEntry } from '../redis/info';

export interface ExpectedLink {
  replica: { name: string; address: string; port: number };
  master: { name: string; address: string; port: number };
}

export interface CheckResult {
  ok: boolean;
  /** One line per failed check. */
  problems: string[];
}

/** Finds the master's entry for this replica: exact ip and port, else the only entry with that port. */
export function findReplicaEntry(
  entries: ReplicaEntry[],
  replica: { address: string; port: number },
): ReplicaEntry | undefined {
  const exact = entries.find((e) => e.ip === replica.address && e.port === replica.port);
  if (exact) return exact;
  // Behind NAT or on loopback the master may see another source address (replica-announce-ip fixes that).
  const samePort = entries.filter((e) => e.port === replica.port);
  return samePort.length === 1 ? samePort[0] : undefined;
}

export function syncPercent(info: Info): number | undefined {
  const total = num(info, 'master_sync_total_bytes');
  const read = num(info, 'master_sync_read_bytes');
  if (total === undefined || read === undefined || total <= 0) return undefined;
  return Math.min(100, Math.floor((read / total) * 100));
}

export function evaluateLink(
  link: ExpectedLink,
  replicaInfo: Info | undefined,
  masterInfo: Info | undefined,
): CheckResult {
  const problems: string[] = [];
  const r = link.replica;
  const m = link.master;
  if (!replicaInfo) {
    return { ok: false, problems: [`${r.name} does not answer`] };
  }
  if (replicaInfo.role !== 'slave') {
    problems.push(`${r.name} is a ${replicaInfo.role ?? 'node of unknown role'}, not a replica of ${m.name}`);
    return { ok: false, problems };
  }
  const host = replicaInfo.master_host;
  const port = num(replicaInfo, 'master_port');
  if (host !== m.address || port !== m.port) {
    problems.push(`${r.name} follows ${host}:${port}, not ${m.name} (${m.address}:${m.port})`);
    return { ok: false, problems };
  }
  if (replicaInfo.master_link_status !== 'up') {
    const since = num(replicaInfo, 'master_link_down_since_seconds');
    const inSync = replicaInfo.master_sync_in_progress === '1';
    const pct = syncPercent(replicaInfo);
    if (inSync) {
      problems.push(
        `${r.name}: initial sync from ${m.name} in progress${pct !== undefined ? ` (${pct}%)` : ''}`,
      );
    } else {
      problems.push(
        `${r.name}: link to ${m.name} is down${since !== undefined && since >= 0 ? ` for ${since} s` : ''}`,
      );
    }
    return { ok: false, problems };
  }
  if (replicaInfo.master_sync_in_progress !== '0') {
    const pct = syncPercent(replicaInfo);
    problems.push(`${r.name}: sync in progress${pct !== undefined ? ` (${pct}%)` : ''}`);
  }
  if (!masterInfo) {
    problems.push(`${m.name} (master of ${r.name}) does not answer`);
    return { ok: false, problems };
  }
  const masterOffset = num(masterInfo, 'master_repl_offset');
  const replicaOffset = num(replicaInfo, 'slave_repl_offset');
  if (masterOffset === undefined || replicaOffset === undefined) {
    problems.push(`${r.name}: replication offsets are not reported`);
  } else if (replicaOffset < masterOffset) {
    problems.push(
      `${r.name}: offset ${replicaOffset} behind ${m.name}'s ${masterOffset} by ${masterOffset - replicaOffset} bytes`,
    );
  }
  const entry = findReplicaEntry(replicaEntries(masterInfo), r);
  if (!entry) {
    problems.push(`${m.name} does not list ${r.name} (${r.address}:${r.port}) among its replicas`);
  } else if (entry.state !== 'online') {
    problems.push(`${m.name} lists ${r.name} as ${entry.state}, not online`);
  }
  return { ok: problems.length === 0, problems };
}
