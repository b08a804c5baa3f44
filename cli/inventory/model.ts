/**
 * The resolved inventory: what every other part of the CLI works from.
 *
 * The YAML document is layered (built-in defaults < `defaults` < groups in the order a host lists them < the host);
 * resolution flattens it into one complete `NodeSpec` per logical node, with every optional setting filled in and
 * every local path made absolute. Secrets stay references here (`SecretRef`); they are read only when a command
 * needs them (`cli/inventory/secrets.ts`), so `validate` works without them and nothing logs them by accident.
 * `origins` keeps, per setting, the inventory path it was taken from, so later errors can point at the right line.
 */
import type { PathSegment, Position } from './yamlPositions';

export type SecretRef = { env: string } | { file: string };

export type Connection = 'ssh' | 'local';
export type Persistence = 'rdb' | 'aof' | 'rdb+aof' | 'off';
export type ServiceManagerChoice = 'auto' | 'systemd' | 'sysv' | 'daemon';
export type HostKeyPolicy = 'strict' | 'accept-new';

export interface JumpHostSpec {
  address: string;
  port: number;
  user: string;
  identityFile?: string;
  useAgent: boolean;
  password?: SecretRef;
}

export interface SshSpec {
  /** Where to connect; the node's address unless set. */
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  identityPassphrase?: SecretRef;
  useAgent: boolean;
  password?: SecretRef;
  jumpHost?: JumpHostSpec;
  become: boolean;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsFile: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface ServerSpec {
  port: number;
  bind: string[];
  requirepass?: SecretRef;
  /** Explicit masterauth; when absent it is derived (see `cli/plan/agentConfig.ts`). */
  masterauth?: SecretRef;
  masteruser?: string;
  persistence: Persistence;
  save: string;
  maxmemory?: string | number;
  directives: Record<string, string | number | boolean | Array<string | number | boolean>>;
}

export interface ServiceSpec {
  manager: ServiceManagerChoice;
  autoRestart: boolean;
  allowAutoRestartWithoutPersistence: boolean;
}

export interface PathsSpec {
  install: string;
  config: string;
  data: string;
  log: string;
  run: string;
}

export interface NodeSpec {
  name: string;
  address: string;
  groups: string[];
  role: 'master' | 'replica';
  /** Name of the node this one replicates from. */
  replicaof?: string;
  /** Name of the replication tree (defaults to the name of its master). */
  tree: string;
  /** 0 for masters, 1 for their replicas, 2 for replicas of replicas, ... */
  depth: number;
  connection: Connection;
  ssh: SshSpec;
  server: ServerSpec;
  service: ServiceSpec;
  paths: PathsSpec;
  /** Setting key (e.g. `server.port`) -> inventory path of the value that won the merge. */
  origins: Record<string, PathSegment[]>;
}

export interface Inventory {
  /** Path as given on the command line (used in messages). */
  file: string;
  /** Absolute directory of the inventory file; relative local paths resolve against it. */
  dir: string;
  /** sha256 of the file's bytes. */
  checksum: string;
  /** Nodes ordered masters first, then depth by depth, by name within a depth. */
  nodes: NodeSpec[];
  groups: Record<string, string[]>;
  /** Non-fatal findings (e.g. a node reachable without a password). */
  warnings: string[];
  /** Position of an inventory path, for messages raised after loading. */
  locate(path: readonly PathSegment[], opts?: { key?: boolean }): Position;
}

export const BUILTIN_DEFAULTS = {
  connection: 'ssh' as Connection,
  ssh: {
    port: 22,
    become: false,
    hostKeyPolicy: 'strict' as HostKeyPolicy,
    knownHostsFile: '~/.ssh/known_hosts',
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 60_000,
  },
  server: {
    port: 6379,
    persistence: 'rdb' as Persistence,
    save: '3600 1 300 100 60 10000',
  },
  service: {
    manager: 'auto' as ServiceManagerChoice,
    autoRestart: true,
    allowAutoRestartWithoutPersistence: false,
  },
  paths: {
    install: '/opt/orchestrate',
    config: '/etc/orchestrate',
    data: '/var/lib/orchestrate',
    log: '/var/log/orchestrate',
    run: '/run/orchestrate',
  } satisfies PathsSpec,
};

/**
 * Directives the orchestrator derives from the inventory. Setting them under `server.directives` would create a
 * second source of truth, so the rules refuse it and name the setting to use instead.
 */
export const MANAGED_DIRECTIVES: Record<string, string> = {
  port: 'server.port',
  bind: 'server.bind',
  requirepass: 'server.requirepass',
  masterauth: 'server.masterauth',
  masteruser: 'server.masteruser',
  replicaof: 'replicaof',
  slaveof: 'replicaof',
  'replica-announce-ip': 'address',
  'slave-announce-ip': 'address',
  save: 'server.save / server.persistence',
  appendonly: 'server.persistence',
  dir: 'paths.data',
  dbfilename: 'paths.data',
  logfile: 'paths.log',
  pidfile: 'paths.run',
  daemonize: 'service.manager',
  'protected-mode': 'server.requirepass and server.bind',
  maxmemory: 'server.maxmemory',
  include: '(not supported: one file per node)',
};

/** Directive names whose values are secrets: never in clear in an inventory, never printed. */
export const SECRET_DIRECTIVES = new Set([
  'requirepass',
  'masterauth',
  'tls-key-file-pass',
  'tls-client-key-file-pass',
]);

export function nodeByName(inv: Inventory, name: string): NodeSpec | undefined {
  return inv.nodes.find((n) => n.name === name);
}
