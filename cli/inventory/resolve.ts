/**
 * Layer merging: built-in defaults < `defaults` < each group the host lists (in that order) < the host itself.
 *
 * Mappings merge key by key (so a group can change `server.port` and keep the default `server.bind`); scalars and
 * lists replace. Some mappings are atomic values and replace as a whole: a secret reference (mixing `{env}` from one
 * layer with `{file}` from another would be nonsense) and a jump host. Every leaf remembers the inventory path it came
 * from (`origins`), so rules and later steps can point at the line that set it.
 */
import os from 'node:os';
import path from 'node:path';
import {
  BUILTIN_DEFAULTS,
  type Connection,
  type JumpHostSpec,
  type NodeSpec,
  type PathsSpec,
  type SecretRef,
  type ServerSpec,
  type ServiceSpec,
  type SshSpec,
} from './model';
import type { PathSegment } from './yamlPositions';

type Obj = Record<string, unknown>;

export interface Layer {
  value: Obj | undefined;
  /** Inventory path of this layer, e.g. ['groups', 'caches']. */
  path: PathSegment[];
}

/** Keys (dotted, relative to a layer) whose mapping values replace rather than merge. */
const ATOMIC_KEYS = new Set([
  'ssh.password',
  'ssh.identityPassphrase',
  'ssh.jumpHost',
  'server.requirepass',
  'server.masterauth',
]);

/** Sections of a layer that take part in the merge; anything else in a layer (address, groups...) is per host. */
const MERGED_SECTIONS = ['connection', 'tree', 'ssh', 'server', 'service', 'paths'];

export interface Merged {
  value: Obj;
  origins: Record<string, PathSegment[]>;
}

export function mergeLayers(layers: Layer[]): Merged {
  const value: Obj = {};
  const origins: Record<string, PathSegment[]> = {};
  for (const layer of layers) {
    if (!layer.value) continue;
    for (const section of MERGED_SECTIONS) {
      if (!(section in layer.value)) continue;
      mergeInto(value, section, layer.value[section], [...layer.path, section], section, origins);
    }
  }
  return { value, origins };
}

function isPlainObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mergeInto(
  target: Obj,
  key: string,
  incoming: unknown,
  sourcePath: PathSegment[],
  dotted: string,
  origins: Record<string, PathSegment[]>,
): void {
  if (isPlainObject(incoming) && !ATOMIC_KEYS.has(dotted)) {
    const existing = isPlainObject(target[key]) ? (target[key] as Obj) : {};
    target[key] = existing;
    origins[dotted] = sourcePath;
    for (const [k, v] of Object.entries(incoming)) {
      mergeInto(existing, k, v, [...sourcePath, k], `${dotted}.${k}`, origins);
    }
    return;
  }
  target[key] = incoming;
  // A replaced value drops the origins of whatever was merged below it before.
  for (const k of Object.keys(origins)) if (k.startsWith(`${dotted}.`)) delete origins[k];
  origins[dotted] = sourcePath;
}

/** Expands `~/` to the local home and makes relative paths relative to the inventory directory. */
export function localPath(p: string, inventoryDir: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(inventoryDir, p);
}

function localSecret(ref: SecretRef | undefined, inventoryDir: string): SecretRef | undefined {
  if (!ref) return undefined;
  if ('file' in ref) return { file: localPath(ref.file, inventoryDir) };
  return { env: ref.env };
}

export interface HostInput {
  name: string;
  raw: Obj;
  merged: Merged;
}

/**
 * Fills in every default and normalises paths. Topology fields (role, tree, depth) are filled in by the rules,
 * which know the whole graph; here they get provisional values.
 */
export function buildNodeSpec(input: HostInput, inventoryDir: string): NodeSpec {
  const m = input.merged.value;
  const sshIn = (m.ssh ?? {}) as Obj;
  const serverIn = (m.server ?? {}) as Obj;
  const serviceIn = (m.service ?? {}) as Obj;
  const pathsIn = (m.paths ?? {}) as Obj;
  const address = String(input.raw.address);
  const connection = (m.connection as Connection | undefined) ?? BUILTIN_DEFAULTS.connection;

  const jumpIn = sshIn.jumpHost as Obj | undefined;
  const defaultUser = safeUserName();
  const jumpHost: JumpHostSpec | undefined = jumpIn
    ? {
        address: String(jumpIn.address),
        port: (jumpIn.port as number | undefined) ?? 22,
        user: (jumpIn.user as string | undefined) ?? (sshIn.user as string | undefined) ?? defaultUser,
        identityFile: jumpIn.identityFile ? localPath(String(jumpIn.identityFile), inventoryDir) : undefined,
        useAgent: (jumpIn.useAgent as boolean | undefined) ?? Boolean(process.env.SSH_AUTH_SOCK),
        password: localSecret(jumpIn.password as SecretRef | undefined, inventoryDir),
      }
    : undefined;

  const ssh: SshSpec = {
    host: (sshIn.host as string | undefined) ?? address,
    port: (sshIn.port as number | undefined) ?? BUILTIN_DEFAULTS.ssh.port,
    user: (sshIn.user as string | undefined) ?? defaultUser,
    identityFile: sshIn.identityFile ? localPath(String(sshIn.identityFile), inventoryDir) : undefined,
    identityPassphrase: localSecret(sshIn.identityPassphrase as SecretRef | undefined, inventoryDir),
    useAgent: (sshIn.useAgent as boolean | undefined) ?? Boolean(process.env.SSH_AUTH_SOCK),
    password: localSecret(sshIn.password as SecretRef | undefined, inventoryDir),
    jumpHost,
    become: (sshIn.become as boolean | undefined) ?? BUILTIN_DEFAULTS.ssh.become,
    hostKeyPolicy:
      (sshIn.hostKeyPolicy as SshSpec['hostKeyPolicy'] | undefined) ?? BUILTIN_DEFAULTS.ssh.hostKeyPolicy,
    knownHostsFile: localPath(
      (sshIn.knownHostsFile as string | undefined) ?? BUILTIN_DEFAULTS.ssh.knownHostsFile,
      inventoryDir,
    ),
    connectTimeoutMs: (sshIn.connectTimeoutMs as number | undefined) ?? BUILTIN_DEFAULTS.ssh.connectTimeoutMs,
    commandTimeoutMs: (sshIn.commandTimeoutMs as number | undefined) ?? BUILTIN_DEFAULTS.ssh.commandTimeoutMs,
  };

  const server: ServerSpec = {
    port: (serverIn.port as number | undefined) ?? BUILTIN_DEFAULTS.server.port,
    bind: (serverIn.bind as string[] | undefined) ?? [address],
    requirepass: localSecret(serverIn.requirepass as SecretRef | undefined, inventoryDir),
    masterauth: localSecret(serverIn.masterauth as SecretRef | undefined, inventoryDir),
    masteruser: serverIn.masteruser as string | undefined,
    persistence:
      (serverIn.persistence as ServerSpec['persistence'] | undefined) ?? BUILTIN_DEFAULTS.server.persistence,
    save: (serverIn.save as string | undefined) ?? BUILTIN_DEFAULTS.server.save,
    maxmemory: serverIn.maxmemory as string | number | undefined,
    directives: { ...((serverIn.directives as ServerSpec['directives'] | undefined) ?? {}) },
  };

  const service: ServiceSpec = {
    manager: (serviceIn.manager as ServiceSpec['manager'] | undefined) ?? BUILTIN_DEFAULTS.service.manager,
    autoRestart: (serviceIn.autoRestart as boolean | undefined) ?? BUILTIN_DEFAULTS.service.autoRestart,
    allowAutoRestartWithoutPersistence:
      (serviceIn.allowAutoRestartWithoutPersistence as boolean | undefined) ??
      BUILTIN_DEFAULTS.service.allowAutoRestartWithoutPersistence,
  };

  const expandRemote = (p: string): string =>
    connection === 'local' && (p === '~' || p.startsWith('~/')) ? localPath(p, inventoryDir) : p;
  const paths: PathsSpec = {
    install: expandRemote((pathsIn.install as string | undefined) ?? BUILTIN_DEFAULTS.paths.install),
    config: expandRemote((pathsIn.config as string | undefined) ?? BUILTIN_DEFAULTS.paths.config),
    data: expandRemote((pathsIn.data as string | undefined) ?? BUILTIN_DEFAULTS.paths.data),
    log: expandRemote((pathsIn.log as string | undefined) ?? BUILTIN_DEFAULTS.paths.log),
    run: expandRemote((pathsIn.run as string | undefined) ?? BUILTIN_DEFAULTS.paths.run),
  };

  const replicaof = input.raw.replicaof as string | undefined;
  return {
    name: input.name,
    address,
    groups: (input.raw.groups as string[] | undefined) ?? [],
    role: replicaof ? 'replica' : 'master',
    replicaof,
    tree: (m.tree as string | undefined) ?? '',
    depth: 0,
    connection,
    ssh,
    server,
    service,
    paths,
    origins: input.merged.origins,
  };
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'root';
  }
}
