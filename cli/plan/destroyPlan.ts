/**
 * The plan of `orchestrate destroy`, pure like the apply plan: per node, stop its agent, remove its service
 * (and boot registration), its config file, manifest and pid file; with --purge also its data directory and log.
 * A node with nothing installed gets no actions. Per machine, once no node's manifest is left, the shared agent
 * bundle and the directories apply created (when empty) go too. Replicas are handled before their masters.
 */
import type { NodeSpec } from '../inventory/model';
import { TransportPool } from '../transport/pool';
import { nodeLayout } from './agentConfig';
import type { NodeFacts } from './facts';
import { serviceFilePath, type ServiceManager } from './service';

export type DestroyAction =
  | { kind: 'stop'; manager: ServiceManager | 'pidfile' }
  | { kind: 'remove-service'; manager: ServiceManager; path: string }
  | { kind: 'remove-files'; paths: string[] }
  | { kind: 'purge'; paths: string[] };

export interface DestroyNodePlan {
  name: string;
  machine: string;
  installed: boolean;
  actions: DestroyAction[];
}

export interface DestroyPlan {
  format: 1;
  purge: boolean;
  nodes: DestroyNodePlan[];
  /** Node names per wave: deepest replicas first, masters last. */
  waves: string[][];
  machines: { machine: string; nodes: string[]; agentPath: string; dirs: string[] }[];
  changedNodes: number;
}

const MANAGERS: ServiceManager[] = ['systemd', 'sysv', 'daemon'];

export function computeDestroyPlan(
  scope: NodeSpec[],
  facts: Map<string, NodeFacts>,
  purge: boolean,
): DestroyPlan {
  const nodes: DestroyNodePlan[] = [];
  const machines = new Map<string, DestroyPlan['machines'][number]>();
  for (const node of scope) {
    const f = facts.get(node.name);
    const l = nodeLayout(node);
    const machine = TransportPool.machineKey(node);
    const actions: DestroyAction[] = [];
    const serviceFiles = f ? Object.keys(f.serviceFiles) : [];
    const installed = Boolean(f && (f.manifest || f.config || f.process.running || serviceFiles.length > 0));
    if (f && installed) {
      const manager =
        f.manifest?.manager ?? MANAGERS.find((m) => f.serviceFiles[serviceFilePath(m, l)] !== undefined);
      if (f.process.running || f.live.reachable)
        actions.push({ kind: 'stop', manager: manager ?? 'pidfile' });
      for (const m of MANAGERS) {
        const p = serviceFilePath(m, l);
        if (f.serviceFiles[p] !== undefined) actions.push({ kind: 'remove-service', manager: m, path: p });
      }
      actions.push({ kind: 'remove-files', paths: [l.configPath, l.manifestPath, l.pidFile] });
    }
    if (purge && f) actions.push({ kind: 'purge', paths: [l.dataDir, l.logFile] });
    nodes.push({ name: node.name, machine, installed, actions });
    if (!machines.has(machine)) {
      machines.set(machine, {
        machine,
        nodes: [],
        agentPath: l.agentPath,
        dirs: [
          node.paths.run,
          node.paths.config,
          node.paths.install,
          ...(purge ? [node.paths.log, node.paths.data] : []),
        ],
      });
    }
    machines.get(machine)!.nodes.push(node.name);
  }
  const depths = [...new Set(scope.map((n) => n.depth))].sort((a, b) => b - a);
  return {
    format: 1,
    purge,
    nodes,
    waves: depths.map((d) => scope.filter((n) => n.depth === d).map((n) => n.name)),
    machines: [...machines.values()],
    changedNodes: nodes.filter((n) => n.actions.length > 0).length,
  };
}

export function describeDestroyAction(a: DestroyAction): string {
  switch (a.kind) {
    case 'stop':
      return a.manager === 'pidfile' ? 'stop agent (by its pid file)' : `stop agent (${a.manager})`;
    case 'remove-service':
      return `remove ${a.manager} service ${a.path}`;
    case 'remove-files':
      return `remove ${a.paths.join(', ')}`;
    case 'purge':
      return `delete data and log: ${a.paths.join(', ')}`;
  }
}
