/**
 * The planner: desired state (inventory + secrets) against observed state (facts) gives a plan, as plain data.
 *
 * Pure: no I/O, no clock, no secrets in the output. `computePlan` returns the `Plan` (printable, JSON-able, what
 * history will record) and, separately, the `DesiredNode` contents the executor writes (config text with secrets,
 * service file, manifest). Rules per node, in order:
 * - agent bundle checksum differs -> upload-agent (+ restart when running);
 * - config file differs -> if the node runs and every change can be applied live: reconfigure (CONFIG SET /
 *   REPLICAOF, then CONFIG REWRITE); otherwise write-config (+ restart when running);
 * - live state differs while the file is right (someone ran REPLICAOF or CONFIG SET by hand) -> reconfigure;
 * - service file or boot registration differs -> install-service;
 * - not running -> start.
 * Nothing differs -> no actions: apply then touches nothing on that node.
 */
import type { Inventory, NodeSpec } from '../inventory/model';
import type { NodeSecrets } from '../inventory/secrets';
import { num, type Info } from '../redis/info';
import {
  canonicalMap,
  desiredDirectives,
  diffConfig,
  memoryBytes,
  nodeLayout,
  renderConfig,
  ruleFor,
  type Directive,
  type DirectiveChange,
} from './agentConfig';
import { LIVE_CHECKED_DIRECTIVES, type Manifest, type NodeFacts } from './facts';
import { chooseManager, renderServiceFile, serviceFilePath, type ServiceManager } from './service';

export const PLAN_FORMAT = 1;
export const MIN_NODE_MAJOR = 18;

export type Action =
  | { kind: 'upload-agent'; path: string; fromSha256?: string; toSha256: string; version: string }
  | { kind: 'write-config'; path: string; created: boolean; changes: DirectiveChange[] }
  | { kind: 'install-service'; manager: ServiceManager; path: string; reason: string; bootEnabled: boolean }
  | { kind: 'reconfigure'; changes: DirectiveChange[]; drift: boolean }
  | { kind: 'start' }
  | { kind: 'restart'; reasons: string[] }
  | { kind: 'write-manifest'; path: string };

export interface ObservedNode {
  running: boolean;
  reachable: boolean;
  role?: string;
  masterHost?: string;
  masterPort?: number;
  linkStatus?: string;
  agentVersion?: string;
  agentSha256?: string;
  os?: string;
  nodejs?: string;
  error?: string;
}

export interface NodePlan {
  name: string;
  address: string;
  port: number;
  role: 'master' | 'replica';
  replicaof?: { name: string; address: string; port: number };
  depth: number;
  manager: ServiceManager;
  observed: ObservedNode;
  actions: Action[];
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  inventory: { file: string; checksum: string };
  agent: { version: string; sha256: string };
  nodes: NodePlan[];
  /** Node names per depth: masters first, then their replicas, ... */
  waves: string[][];
  warnings: string[];
  /** Problems that forbid applying (Node.js missing, a manager the host cannot run, ...). */
  blockers: { node: string; message: string }[];
  /** Number of nodes with at least one action. */
  changedNodes: number;
}

/** What the executor writes for a node. Holds secrets: never print or serialise. */
export interface DesiredNode {
  node: NodeSpec;
  directives: Directive[];
  configText: string;
  serviceFile: { path: string; text: string };
  manifest: Manifest;
  manifestText: string;
  nodePath: string;
}

export interface PlanInput {
  inventory: Pick<Inventory, 'file' | 'checksum' | 'nodes'>;
  /** Nodes to act on (after --limit), a subset of inventory.nodes. */
  scope: NodeSpec[];
  secrets: Map<string, NodeSecrets>;
  facts: Map<string, NodeFacts>;
  agent: { version: string; sha256: string };
}

export interface PlanResult {
  plan: Plan;
  desired: Map<string, DesiredNode>;
}

export function configHeader(node: NodeSpec): string[] {
  return [
    `orchestrate agent ${node.name}: written by \`orchestrate apply\`; the next apply restores what the inventory says.`,
    'Runtime changes (CONFIG SET + CONFIG REWRITE) may rewrite this file; it is compared by meaning, not text.',
  ];
}

export function nodeMajor(version: string | undefined): number | undefined {
  const m = /^v?(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}

export function observe(f: NodeFacts | undefined): ObservedNode {
  if (!f) return { running: false, reachable: false };
  const info = f.live.info;
  return {
    // Ours only: a pid file naming a live process, or an active unit. Something else answering on the port is not.
    running: f.process.running,
    reachable: f.live.reachable && !f.live.authFailed,
    role: info?.role,
    masterHost: info?.master_host,
    masterPort: info ? num(info, 'master_port') : undefined,
    linkStatus: info?.master_link_status,
    agentVersion: f.agent.version,
    agentSha256: f.agent.sha256,
    os: f.os.pretty ?? f.os.kernel,
    nodejs: f.nodejs.version,
    error: f.live.error,
  };
}

/** Canonical form of a CONFIG GET value, comparable with the canonical config-file form. */
function canonicalLive(name: string, value: string): string {
  if (name === 'save') return value.trim().split(/\s+/).filter(Boolean).join(' ');
  if (name === 'maxmemory') return String(memoryBytes(value) ?? value);
  const lower = value.toLowerCase();
  return lower === 'yes' || lower === 'no' ? lower : value;
}

/** Runtime differences between what the agent runs with and what the file (already correct) says. */
export function liveDrift(
  desired: Directive[],
  info: Info | undefined,
  runtime: Record<string, string> | undefined,
): DirectiveChange[] {
  const changes: DirectiveChange[] = [];
  const want = canonicalMap(desired);
  if (info?.role) {
    const wantReplicaof = want.get('replicaof');
    const haveReplicaof =
      info.role === 'slave' ? `${info.master_host ?? ''} ${info.master_port ?? ''}` : undefined;
    if (wantReplicaof !== haveReplicaof) {
      changes.push({
        name: 'replicaof',
        from: haveReplicaof ?? 'NO ONE',
        to: wantReplicaof ?? 'NO ONE',
        secret: false,
        runtime: 'replicaof',
      });
    }
  }
  for (const name of LIVE_CHECKED_DIRECTIVES) {
    const have = runtime?.[name];
    if (have === undefined) continue;
    const w = want.get(name);
    const secret = Boolean(ruleFor(name).secret);
    // An unmanaged directive (no maxmemory in the inventory) is not ours to reset; an absent password is "".
    if (w === undefined && !secret) continue;
    const wantValue = w ?? '';
    if (canonicalLive(name, have) === wantValue) continue;
    changes.push({
      name,
      from: secret ? '(secret)' : canonicalLive(name, have),
      to: secret ? '(secret)' : wantValue,
      secret,
      runtime: 'config-set',
    });
  }
  return changes;
}

export function computePlan(input: PlanInput): PlanResult {
  const byName = new Map(input.inventory.nodes.map((n) => [n.name, n]));
  const warnings: string[] = [];
  const blockers: Plan['blockers'] = [];
  const nodes: NodePlan[] = [];
  const desired = new Map<string, DesiredNode>();

  for (const node of input.scope) {
    const facts = input.facts.get(node.name);
    const secrets = input.secrets.get(node.name) ?? {};
    const master = node.replicaof ? byName.get(node.replicaof) : undefined;
    const layout = nodeLayout(node);
    const observed = observe(facts);
    const privileged = facts ? facts.uid === 0 || (node.ssh.become && node.connection === 'ssh') : false;
    const choice = chooseManager(node, {
      systemd: facts?.systemd ?? false,
      initd: facts?.initd ?? false,
      privileged,
    });
    const manager = choice.manager ?? 'daemon';
    const nodePlan: NodePlan = {
      name: node.name,
      address: node.address,
      port: node.server.port,
      role: node.role,
      replicaof: master
        ? { name: master.name, address: master.address, port: master.server.port }
        : undefined,
      depth: node.depth,
      manager,
      observed,
      actions: [],
    };
    nodes.push(nodePlan);
    if (!facts) {
      blockers.push({ node: node.name, message: 'no facts gathered' });
      continue;
    }
    if (choice.problem) blockers.push({ node: node.name, message: choice.problem });
    const major = nodeMajor(facts.nodejs.version);
    if (!facts.nodejs.path || major === undefined || major < MIN_NODE_MAJOR) {
      blockers.push({
        node: node.name,
        message: `Node.js >= ${MIN_NODE_MAJOR} is required on the host to run the agent (found: ${facts.nodejs.version ?? 'none'})`,
      });
    }
    if (!privileged) {
      const systemPaths = Object.values(node.paths).filter((p) => /^\/(etc|opt|var|run|usr)(\/|$)/.test(p));
      if (systemPaths.length > 0) {
        blockers.push({
          node: node.name,
          message: `${systemPaths.join(', ')} need root: log in as root, set ssh.become, or choose paths the user owns`,
        });
      }
    }
    if (!facts.process.running && facts.live.reachable) {
      blockers.push({
        node: node.name,
        message: `${node.address}:${node.server.port} is already served by another process (no pid file or service of this node's agent); stop it or choose another port`,
      });
    }
    const nodePath = facts.nodejs.path ?? '/usr/bin/node';

    // Desired contents.
    const directives = desiredDirectives({ node, master, secrets, daemonize: manager !== 'systemd' });
    const configText = renderConfig(directives, configHeader(node));
    const svcPath = serviceFilePath(manager, layout);
    const svcText = renderServiceFile(manager, node, nodePath);
    const bootEnabled = node.service.autoRestart && manager !== 'daemon';
    const manifest: Manifest = {
      managedBy: 'orchestrate',
      format: 1,
      node: node.name,
      manager,
      serviceFile: svcPath,
      bootEnabled,
      directives: [...new Set(directives.map((d) => d.name))].sort(),
    };
    desired.set(node.name, {
      node,
      directives,
      configText,
      serviceFile: { path: svcPath, text: svcText },
      manifest,
      manifestText: `${JSON.stringify(manifest, null, 2)}\n`,
      nodePath,
    });

    const running = observed.running;
    const restartReasons: string[] = [];
    const actions: Action[] = [];

    if (facts.agent.sha256 !== input.agent.sha256) {
      actions.push({
        kind: 'upload-agent',
        path: layout.agentPath,
        fromSha256: facts.agent.sha256,
        toSha256: input.agent.sha256,
        version: input.agent.version,
      });
      if (running) restartReasons.push(`agent ${facts.agent.version ?? '?'} -> ${input.agent.version}`);
    }

    const previous = facts.manifest?.directives ?? [];
    const fileChanges = facts.config ? diffConfig(directives, facts.config.directives, previous) : [];
    const configMissing = !facts.config;
    const liveUsable = observed.reachable && facts.live.info !== undefined;
    if (configMissing) {
      actions.push({
        kind: 'write-config',
        path: layout.configPath,
        created: true,
        changes: diffConfig(directives, [], []),
      });
      if (running) restartReasons.push('config file was missing');
    } else if (fileChanges.length > 0) {
      const live = fileChanges.every((c) => c.runtime !== 'restart');
      if (running && live && liveUsable && restartReasons.length === 0) {
        actions.push({ kind: 'reconfigure', changes: fileChanges, drift: false });
      } else {
        actions.push({ kind: 'write-config', path: layout.configPath, created: false, changes: fileChanges });
        if (running) {
          const needing = fileChanges.filter((c) => c.runtime === 'restart').map((c) => c.name);
          restartReasons.push(
            needing.length > 0
              ? `${needing.join(', ')} cannot change at runtime`
              : 'config changed and the agent cannot be reached',
          );
        }
      }
    } else if (running && liveUsable && restartReasons.length === 0) {
      const drift = liveDrift(directives, facts.live.info, facts.live.runtimeConfig);
      if (drift.length > 0) actions.push({ kind: 'reconfigure', changes: drift, drift: true });
    }
    if (running && facts.live.authFailed) {
      restartReasons.push('the running agent refuses the inventory password and the one in its config file');
      warnings.push(`${node.name}: the running agent accepts neither known password; it will be restarted`);
    }

    const existingSvc = facts.serviceFiles[svcPath];
    const managerChanged = facts.manifest !== undefined && facts.manifest.manager !== manager;
    if (existingSvc !== svcText || facts.bootEnabled !== bootEnabled || managerChanged) {
      const reason =
        existingSvc === undefined
          ? 'missing'
          : existingSvc !== svcText
            ? 'definition changed'
            : managerChanged
              ? `manager ${facts.manifest!.manager} -> ${manager}`
              : bootEnabled
                ? 'register at boot'
                : 'unregister from boot';
      actions.push({ kind: 'install-service', manager, path: svcPath, reason, bootEnabled });
      if (running && managerChanged)
        restartReasons.push(`service manager ${facts.manifest!.manager} -> ${manager}`);
      if (
        running &&
        manager === 'systemd' &&
        existingSvc !== undefined &&
        execLine(existingSvc) !== execLine(svcText)
      ) {
        restartReasons.push('service command line changed');
      }
    }

    if (!running) actions.push({ kind: 'start' });
    else if (restartReasons.length > 0) {
      actions.push({ kind: 'restart', reasons: restartReasons });
      if (node.role === 'master' && node.server.persistence === 'off') {
        warnings.push(
          `${node.name}: restarting a master with persistence off empties its dataset, and its replicas will copy the empty dataset`,
        );
      }
    }
    // A manifest that is missing or stale (an earlier apply failed half-way) is recorded again.
    if (actions.length === 0 && JSON.stringify(facts.manifest) !== JSON.stringify(manifest)) {
      actions.push({ kind: 'write-manifest', path: layout.manifestPath });
    }
    nodePlan.actions = actions;
  }

  const depths = [...new Set(nodes.map((n) => n.depth))].sort((a, b) => a - b);
  const waves = depths.map((d) => nodes.filter((n) => n.depth === d).map((n) => n.name));
  return {
    plan: {
      format: PLAN_FORMAT,
      inventory: { file: input.inventory.file, checksum: input.inventory.checksum },
      agent: input.agent,
      nodes,
      waves,
      warnings,
      blockers,
      changedNodes: nodes.filter((n) => n.actions.length > 0).length,
    },
    desired,
  };
}

function execLine(unit: string): string | undefined {
  return unit.split('\n').find((l) => l.startsWith('ExecStart='));
}
