/**
 * Semantic rules: what the JSON Schema cannot say about an inventory.
 *
 * Topology: every `replicaof` names a known host, there are no cycles, every tree has exactly one master, a stated
 * `role` agrees with `replicaof`. Addresses: no two nodes share address:port, every node listens on the address its
 * replicas and the orchestrator will dial. Safety: no clear-text secrets and no hand-written copies of directives the
 * orchestrator derives, and no master with persistence off that restarts by itself (Redis documents that such a
 * master comes back empty and its replicas then wipe themselves). Rules also fill in the topology fields of each node
 * (role, tree, depth). Each problem names the inventory path whose value is wrong.
 */
import { MANAGED_DIRECTIVES, SECRET_DIRECTIVES, type NodeSpec, type SecretRef } from './model';
import { suggest } from './schemaCheck';
import type { PathSegment } from './yamlPositions';

export interface RuleProblem {
  path: PathSegment[];
  atKey?: boolean;
  message: string;
}

export interface RuleResult {
  problems: RuleProblem[];
  warnings: string[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
const WILDCARD = new Set(['0.0.0.0', '::', '*', '-::*', '* -::*']);

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

function originOf(node: NodeSpec, key: string): PathSegment[] {
  return node.origins[key] ?? ['hosts', node.name];
}

function sameRef(a: SecretRef | undefined, b: SecretRef | undefined): boolean {
  if (!a || !b) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

export function applyRules(nodes: NodeSpec[], groupNames: string[]): RuleResult {
  const problems: RuleProblem[] = [];
  const warnings: string[] = [];
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const names = nodes.map((n) => n.name);

  // Groups a host lists must exist.
  for (const n of nodes) {
    n.groups.forEach((g, i) => {
      if (!groupNames.includes(g)) {
        const hint = suggest(g, groupNames);
        problems.push({
          path: ['hosts', n.name, 'groups', i],
          message: `unknown group "${g}"${hint ? ` (did you mean "${hint}"?)` : groupNames.length ? ` (groups: ${groupNames.join(', ')})` : ' (no groups are defined)'}`,
        });
      }
    });
  }

  // replicaof targets.
  const validEdge = new Map<string, string>();
  for (const n of nodes) {
    if (!n.replicaof) continue;
    if (n.replicaof === n.name) {
      problems.push({ path: ['hosts', n.name, 'replicaof'], message: 'a host cannot replicate from itself' });
    } else if (!byName.has(n.replicaof)) {
      const hint = suggest(
        n.replicaof,
        names.filter((x) => x !== n.name),
      );
      problems.push({
        path: ['hosts', n.name, 'replicaof'],
        message: `unknown host "${n.replicaof}"${hint ? ` (did you mean "${hint}"?)` : ` (hosts: ${names.join(', ')})`}`,
      });
    } else {
      validEdge.set(n.name, n.replicaof);
    }
  }

  // Cycles: follow replicaof from every node; a walk that comes back to a visited node on its own path is a cycle.
  const inCycle = new Set<string>();
  for (const start of names) {
    const pathNames: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !pathNames.includes(cur) && !inCycle.has(cur)) {
      pathNames.push(cur);
      cur = validEdge.get(cur);
    }
    if (cur !== undefined && pathNames.includes(cur)) {
      const cycle = pathNames.slice(pathNames.indexOf(cur));
      cycle.forEach((c) => inCycle.add(c));
      const first = [...cycle].sort()[0];
      const ordered = [...cycle.slice(cycle.indexOf(first)), ...cycle.slice(0, cycle.indexOf(first)), first];
      problems.push({
        path: ['hosts', first, 'replicaof'],
        message: `replication cycle: ${ordered.join(' -> ')} (every tree needs one master that replicates from nobody)`,
      });
    }
  }

  // Roots, depths and trees.
  const rootOf = new Map<string, string>();
  for (const n of nodes) {
    if (inCycle.has(n.name)) continue;
    let cur = n.name;
    let depth = 0;
    let broken = false;
    while (validEdge.has(cur)) {
      cur = validEdge.get(cur)!;
      depth++;
      if (inCycle.has(cur)) {
        broken = true;
        break;
      }
    }
    if (n.replicaof && !validEdge.has(n.name)) broken = true;
    if (broken) continue;
    rootOf.set(n.name, cur);
    n.depth = depth;
  }
  const treeOfRoot = new Map<string, string>();
  const rootOfTree = new Map<string, string>();
  for (const n of nodes) {
    if (rootOf.get(n.name) !== n.name) continue;
    const tree = n.tree || n.name;
    const other = rootOfTree.get(tree);
    if (other) {
      problems.push({
        path: ['hosts', n.name],
        atKey: true,
        message: `two masters in replication tree "${tree}": ${other} and ${n.name} (give ${n.name} replicaof, or put it in another tree)`,
      });
    } else {
      rootOfTree.set(tree, n.name);
    }
    treeOfRoot.set(n.name, tree);
    n.tree = tree;
  }
  for (const n of nodes) {
    const root = rootOf.get(n.name);
    if (!root || root === n.name) continue;
    const tree = treeOfRoot.get(root)!;
    if (n.tree && n.tree !== tree) {
      problems.push({
        path: originOf(n, 'tree'),
        message: `host ${n.name} is in tree "${n.tree}" but replicates from ${n.replicaof}, which belongs to tree "${tree}"`,
      });
    }
    n.tree = tree;
  }

  // Addresses.
  const endpoints = new Map<string, string>();
  for (const n of nodes) {
    const key = `${n.address}:${n.server.port}`;
    const prev = endpoints.get(key);
    if (prev) {
      problems.push({
        path: n.origins['server.port'] ?? ['hosts', n.name, 'address'],
        message: `duplicate address:port ${key}: also used by host ${prev}`,
      });
    } else {
      endpoints.set(key, n.name);
    }
    if (!n.server.bind.some((b) => b === n.address || WILDCARD.has(b))) {
      problems.push({
        path: originOf(n, 'server.bind'),
        message: `bind (${n.server.bind.join(' ')}) does not include the host's address ${n.address}, which its replicas and the orchestrator connect to`,
      });
    }
    if (!n.server.requirepass && n.server.bind.some((b) => !isLoopback(b))) {
      warnings.push(
        `${n.name}: no requirepass while listening on ${n.server.bind.filter((b) => !isLoopback(b)).join(' ')}: anyone who reaches that address can read and write (protected-mode must be off for replicas to connect)`,
      );
    }
  }

  // Directives the orchestrator owns, and secrets in them.
  for (const n of nodes) {
    for (const name of Object.keys(n.server.directives)) {
      const at = originOf(n, `server.directives.${name}`);
      if (SECRET_DIRECTIVES.has(name)) {
        problems.push({
          path: at,
          atKey: true,
          message: `secret written in clear text in directives; use ${MANAGED_DIRECTIVES[name] ?? 'a secret reference'} with { env: NAME } or { file: path }`,
        });
      } else if (MANAGED_DIRECTIVES[name]) {
        problems.push({
          path: at,
          atKey: true,
          message: `directive "${name}" is derived by the orchestrator; set ${MANAGED_DIRECTIVES[name]} instead`,
        });
      }
    }
  }

  // Persistence off on a master that restarts by itself.
  for (const n of nodes) {
    if (n.replicaof || inCycle.has(n.name)) continue;
    if (
      n.server.persistence === 'off' &&
      n.service.autoRestart &&
      !n.service.allowAutoRestartWithoutPersistence
    ) {
      problems.push({
        path: originOf(n, 'server.persistence'),
        message:
          `master ${n.name} has persistence off and service.autoRestart on: after a crash or reboot it would come back ` +
          'empty and its replicas would wipe their copies. Set service.autoRestart: false, turn persistence on, or ' +
          'set service.allowAutoRestartWithoutPersistence: true if that is really wanted',
      });
    }
  }

  // Paths on remote hosts must be absolute: there is no agreed home directory over SSH.
  for (const n of nodes) {
    if (n.connection !== 'ssh') continue;
    for (const key of ['install', 'config', 'data', 'log', 'run'] as const) {
      if (n.paths[key].startsWith('~')) {
        problems.push({
          path: originOf(n, `paths.${key}`),
          message: `"~" paths are only allowed with connection: local; use an absolute path on ${n.name}`,
        });
      }
    }
  }

  // masterauth consistency.
  for (const n of nodes) {
    const master = n.replicaof ? byName.get(n.replicaof) : undefined;
    if (n.server.masteruser && !n.server.masterauth && !master?.server.requirepass) {
      problems.push({
        path: originOf(n, 'server.masteruser'),
        message: "masteruser needs a password: set server.masterauth or the master's server.requirepass",
      });
    }
    if (
      master &&
      n.server.masterauth &&
      master.server.requirepass &&
      !sameRef(n.server.masterauth, master.server.requirepass)
    ) {
      warnings.push(
        `${n.name}: server.masterauth is a different reference than ${master.name}'s server.requirepass; the replica can only sync if both hold the same password`,
      );
    }
    if (master && !master.server.requirepass && n.server.masterauth) {
      warnings.push(`${n.name}: server.masterauth is set but its master ${master.name} has no requirepass`);
    }
  }

  return { problems, warnings };
}

/** Checks a stated `role` against `replicaof` (the role is optional and only a guard). */
export function checkRole(name: string, role: unknown, replicaof: unknown): RuleProblem | undefined {
  if (role === 'master' && replicaof) {
    return {
      path: ['hosts', name, 'role'],
      message: `role is master but replicaof is set (${String(replicaof)}); a master replicates from nobody`,
    };
  }
  if (role === 'replica' && !replicaof) {
    return {
      path: ['hosts', name, 'role'],
      message: 'role is replica but replicaof is missing: which host does it follow?',
    };
  }
  return undefined;
}
