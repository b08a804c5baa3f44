/**
 * Reading secrets the inventory references.
 *
 * An inventory never holds a secret, only `{ env: NAME }` or `{ file: path }` on the machine running orchestrate.
 * They are read when a command needs them (plan and apply; validate only checks that they can be read) and the values
 * live in memory only: they reach hosts inside files written with mode 0600 or over the Redis protocol, never on a
 * command line and never in a log line. A secret file's trailing newline is dropped (editors add one).
 */
import { readFileSync } from 'node:fs';
import { UserError, messageOf } from '../errors';
import type { Inventory, NodeSpec, SecretRef } from './model';
import { formatPath } from './load';

/** Longest secret we accept; Redis passwords are short, this only bounds a mistaken file reference. */
export const SECRET_MAX_BYTES = 64 * 1024;

export interface NodeSecrets {
  requirepass?: string;
  /** The password this node presents to its master (and would present after a switchover). */
  masterauth?: string;
  sshPassword?: string;
  sshPassphrase?: string;
  jumpPassword?: string;
}

export type SecretReader = (ref: SecretRef) => string;

export function defaultSecretReader(env: NodeJS.ProcessEnv = process.env): SecretReader {
  return (ref) => {
    if ('env' in ref) {
      const v = env[ref.env];
      if (v === undefined || v === '') throw new Error(`environment variable ${ref.env} is not set`);
      return v;
    }
    let text: string;
    try {
      const bytes = readFileSync(ref.file);
      if (bytes.length > SECRET_MAX_BYTES) throw new Error(`larger than ${SECRET_MAX_BYTES} bytes`);
      text = bytes.toString('utf8');
    } catch (e) {
      throw new Error(`cannot read secret file ${ref.file}: ${messageOf(e)}`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw new Error(`secret file ${ref.file} is empty`);
    return value;
  };
}

/**
 * Resolves the secrets of every node. masterauth defaults to the master's requirepass for a replica and to the
 * node's own requirepass for a master, so that every node with requirepass also has masterauth (a demoted master
 * can then follow a promoted sibling).
 */
export function resolveSecrets(inv: Inventory, read: SecretReader): Map<string, NodeSecrets> {
  const problems: string[] = [];
  const out = new Map<string, NodeSecrets>();
  const get = (node: NodeSpec, key: string, ref: SecretRef | undefined): string | undefined => {
    if (!ref) return undefined;
    try {
      return read(ref);
    } catch (e) {
      const at = node.origins[key] ?? ['hosts', node.name];
      const pos = inv.locate(at);
      problems.push(`${inv.file}:${pos.line}:${pos.column}: ${formatPath(at)}: ${messageOf(e)}`);
      return undefined;
    }
  };
  const byName = new Map(inv.nodes.map((n) => [n.name, n]));
  for (const n of inv.nodes) {
    const s: NodeSecrets = {};
    s.requirepass = get(n, 'server.requirepass', n.server.requirepass);
    if (n.server.masterauth) s.masterauth = get(n, 'server.masterauth', n.server.masterauth);
    if (n.connection === 'ssh') {
      s.sshPassword = get(n, 'ssh.password', n.ssh.password);
      s.sshPassphrase = get(n, 'ssh.identityPassphrase', n.ssh.identityPassphrase);
      if (n.ssh.jumpHost?.password) s.jumpPassword = get(n, 'ssh.jumpHost', n.ssh.jumpHost.password);
    }
    out.set(n.name, s);
  }
  for (const n of inv.nodes) {
    const s = out.get(n.name)!;
    if (s.masterauth !== undefined) continue;
    const master = n.replicaof ? byName.get(n.replicaof) : undefined;
    s.masterauth = master ? out.get(master.name)!.requirepass : s.requirepass;
  }
  if (problems.length > 0) {
    throw new UserError(
      'E_SECRET_MISSING',
      `cannot read ${new Set(problems).size} secret(s) the inventory references`,
      [...new Set(problems)],
    );
  }
  return out;
}
