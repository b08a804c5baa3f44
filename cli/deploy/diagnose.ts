/**
 * Why a replica is not in sync, found out the way an operator would: does its masterauth match the master's
 * requirepass (compared locally, never printed), can its host open a TCP connection to the master's address and
 * port (asked on the replica's host itself, with Node.js, which the agent needs anyway), and what do the
 * replication lines at the end of its log say.
 */
import type { NodeSpec } from '../inventory/model';
import { logTail } from './serviceControl';
import type { Session } from './session';

/** Log lines that talk about replication or authentication. */
const RELEVANT_LOG_LINE = /master|replica|sync|auth|password|NOAUTH|WRONGPASS|connect|refused|timeout|error/i;
export const REACHABILITY_TIMEOUT_MS = 3000;

const TCP_PROBE = `
const s = require('net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
const t = setTimeout(() => { console.log('TIMEOUT'); process.exit(1); }, Number(process.argv[3]));
s.on('connect', () => { clearTimeout(t); console.log('OK'); s.destroy(); process.exit(0); });
s.on('error', (e) => { clearTimeout(t); console.log(e.code || e.message); process.exit(1); });
`;

export async function diagnoseReplica(
  session: Session,
  replica: NodeSpec,
  master: NodeSpec,
): Promise<string[]> {
  const out: string[] = [];
  const rs = session.secretsOf(replica.name);
  const ms = session.secretsOf(master.name);
  if (ms.requirepass !== undefined && rs.masterauth !== ms.requirepass) {
    out.push(
      rs.masterauth === undefined
        ? `auth: ${master.name} requires a password but ${replica.name} has no masterauth`
        : `auth: masterauth of ${replica.name} does not match requirepass of ${master.name}`,
    );
  }
  const t = session.transport(replica);
  try {
    const r = await t.exec(
      ['node', '-e', TCP_PROBE, master.address, String(master.server.port), String(REACHABILITY_TIMEOUT_MS)],
      { timeoutMs: REACHABILITY_TIMEOUT_MS + 5000 },
    );
    const verdict = r.stdout.toString().trim();
    if (r.code !== 0) {
      out.push(
        `network: ${master.name} (${master.address}:${master.server.port}) is unreachable from ${replica.name}'s host: ${verdict || r.stderr.trim()}`,
      );
    }
  } catch (e) {
    out.push(`network: cannot test reachability from ${replica.name}'s host: ${(e as Error).message}`);
  }
  const tail = (await logTail(t, replica, 40)).filter((l) => RELEVANT_LOG_LINE.test(l)).slice(-5);
  if (tail.length > 0) out.push(`log of ${replica.name}:`, ...tail.map((l) => `  ${l}`));
  return out;
}
