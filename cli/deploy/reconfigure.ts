/**
 * Runtime reconfiguration of a running agent, so that a change needs no restart:
 * CONFIG SET for each changed parameter (passwords first, so that a new REPLICAOF link already authenticates),
 * REPLICAOF last, then CONFIG REWRITE so the agent persists what it now runs with. The file is then read back and
 * compared by meaning; if the agent's rewrite left a managed directive different (or the agent has no REWRITE),
 * our own rendering is written. Values travel over the Redis protocol, never on a command line.
 * When the agent refuses a CONFIG SET (a parameter it cannot change live), the caller falls back to a restart.
 */
import { OperationFailure, messageOf } from '../errors';
import { diffConfig, nodeLayout, parseConfig, type DirectiveChange } from '../plan/agentConfig';
import type { DesiredNode } from '../plan/plan';
import type { Transport } from '../transport/transport';
import type { Session } from './session';

export class RuntimeChangeRefused extends Error {}

const ORDER: Record<string, number> = { masteruser: 0, masterauth: 1, requirepass: 2, replicaof: 9 };

/** The CONFIG SET value of a directive as desired: its arguments joined, "" when it is to be removed. */
export function runtimeValue(d: DesiredNode, name: string): string {
  const lines = d.directives.filter((x) => x.name === name);
  if (lines.length === 0) return '';
  if (name === 'save')
    return lines
      .flatMap((l) => l.args)
      .filter((a) => a !== '')
      .join(' ');
  return lines[lines.length - 1].args.join(' ');
}

export async function applyRuntimeChanges(
  session: Session,
  d: DesiredNode,
  changes: DirectiveChange[],
  diskPassword: string | undefined,
  previouslyManaged: string[],
): Promise<string> {
  const node = d.node;
  const conn = await session.connect(node, [diskPassword]);
  const notes: string[] = [];
  try {
    const ordered = [...changes].sort((a, b) => (ORDER[a.name] ?? 5) - (ORDER[b.name] ?? 5));
    for (const c of ordered) {
      if (c.runtime === 'replicaof') {
        const line = d.directives.find((x) => x.name === 'replicaof');
        try {
          if (line) await conn.redis.call('REPLICAOF', line.args[0], line.args[1]);
          else await conn.redis.call('REPLICAOF', 'NO', 'ONE');
        } catch (e) {
          throw new RuntimeChangeRefused(`REPLICAOF refused: ${messageOf(e)}`);
        }
        notes.push(line ? `REPLICAOF ${line.args[0]} ${line.args[1]}` : 'REPLICAOF NO ONE');
        continue;
      }
      try {
        await conn.redis.config('SET', c.name, runtimeValue(d, c.name));
      } catch (e) {
        throw new RuntimeChangeRefused(`CONFIG SET ${c.name} refused: ${messageOf(e)}`);
      }
      notes.push(`CONFIG SET ${c.name}`);
    }
    let rewritten = true;
    try {
      await conn.redis.config('REWRITE');
    } catch {
      rewritten = false;
    }
    notes.push(rewritten ? 'CONFIG REWRITE' : 'CONFIG REWRITE refused');
  } finally {
    await conn.close();
  }
  const t = session.transport(node);
  const fixed = await ensureConfigFile(t, d, previouslyManaged);
  if (fixed) notes.push('config file written');
  return notes.join(', ');
}

/**
 * Makes the node's config file agree with the desired directives (by meaning) and have mode 0600.
 * Returns true when it had to write the file.
 */
export async function ensureConfigFile(
  t: Transport,
  d: DesiredNode,
  previouslyManaged: string[],
): Promise<boolean> {
  const path = nodeLayout(d.node).configPath;
  const current = await t.readFile(path, { privileged: true });
  const differs =
    !current ||
    diffConfig(d.directives, parseConfig(current.toString('utf8')).directives, previouslyManaged).length > 0;
  if (differs) {
    await t.upload(Buffer.from(d.configText), path, { mode: 0o600, privileged: true });
    return true;
  }
  const r = await t.exec(['chmod', '600', path], { privileged: true });
  if (r.code !== 0)
    throw new OperationFailure('E_APPLY_STEP', `${d.node.name}: chmod 600 ${path}: ${r.stderr.trim()}`);
  return false;
}
