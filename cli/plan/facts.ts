/**
 * Facts: what a node's host has right now, gathered read-only.
 *
 * One shell script per node (sent on stdin, run as root when privileged) reports the OS, uid, Node.js, init system,
 * the installed agent's checksum and version, the node's config file, manifest and service files (base64) and
 * whether its pid file names a live process. Then the node's agent is asked directly (INFO, CONFIG GET) over the
 * transport's forward. Facts hold secrets (the config file, live passwords): they feed the planner and the
 * executor and are never printed; the plan derived from them is secret-free.
 */
import { OperationFailure, messageOf } from '../errors';
import type { NodeSpec } from '../inventory/model';
import type { NodeSecrets } from '../inventory/secrets';
import { configGet, connectAgent, RedisAuthError, type AgentConnection } from '../redis/connect';
import type { Info } from '../redis/info';
import type { Transport } from '../transport/transport';
import { nodeLayout, parseConfig, type Directive } from './agentConfig';
import { serviceFilePath, type ServiceManager } from './service';

/** What apply records on a host about a node it installed; destroy and later plans read it. */
export interface Manifest {
  managedBy: 'orchestrate';
  format: 1;
  node: string;
  manager: ServiceManager;
  serviceFile: string;
  bootEnabled: boolean;
  /** Directive names apply wrote, so that one dropped from the inventory is removed. */
  directives: string[];
}

export interface LiveFacts {
  reachable: boolean;
  /** Why the agent could not be asked (connection refused, no password fits, ...). */
  error?: string;
  authFailed?: boolean;
  /** Which password let us in. */
  passwordSource?: 'inventory' | 'config-file' | 'none';
  info?: Info;
  /** CONFIG GET values of runtime-settable managed directives (secrets included: never print). */
  runtimeConfig?: Record<string, string>;
}

export interface NodeFacts {
  node: string;
  os: { kernel: string; id?: string; version?: string; pretty?: string };
  uid: number;
  nodejs: { path?: string; version?: string };
  systemd: boolean;
  initd: boolean;
  agent: { sha256?: string; version?: string };
  config?: { text: string; directives: Directive[]; badLines: number[] };
  manifest?: Manifest;
  /** Existing service files by path (unit, init script, control script). */
  serviceFiles: Record<string, string>;
  bootEnabled: boolean;
  systemdUnit?: { active: string; enabled: string };
  process: { running: boolean; pid?: number };
  live: LiveFacts;
}

/** Directives read back with CONFIG GET to notice runtime drift (someone ran CONFIG SET by hand). */
export const LIVE_CHECKED_DIRECTIVES = [
  'maxmemory',
  'appendonly',
  'save',
  'requirepass',
  'masterauth',
  'protected-mode',
];

const FACTS_SCRIPT = `
agent="$1"; config="$2"; manifest="$3"; pidfile="$4"; svc="$5"; shift 5
echo "kernel=$(uname -s 2>/dev/null)"
if [ -r /etc/os-release ]; then
  ( . /etc/os-release; echo "os_id=\${ID:-}"; echo "os_version=\${VERSION_ID:-}"; echo "os_pretty=\${PRETTY_NAME:-}" )
fi
echo "uid=$(id -u)"
node_path=$(command -v node 2>/dev/null || true)
echo "node_path=$node_path"
if [ -n "$node_path" ]; then echo "node_version=$("$node_path" --version 2>/dev/null)"; fi
if [ -d /run/systemd/system ]; then echo "systemd=1"; fi
if [ -d /etc/init.d ]; then echo "initd=1"; fi
if [ -f "$agent" ]; then
  echo "agent_sha256=$(sha256sum "$agent" 2>/dev/null | cut -d' ' -f1)"
  # Line 2 of the bundle names its version (scripts/build.mjs); older bundles are asked.
  marker=$(sed -n '2{s|^// orchestrate-agent v=|v=|p;q}' "$agent" 2>/dev/null)
  if [ -n "$marker" ]; then echo "agent_version=$marker"
  elif [ -n "$node_path" ]; then echo "agent_version=$("$node_path" "$agent" --version 2>/dev/null | head -n 1)"; fi
fi
emit() { if [ -f "$2" ]; then printf '%s=' "$1"; base64 < "$2" | tr -d '\\n'; echo; fi; }
emit config "$config"
emit manifest "$manifest"
for f in "$@"; do
  if [ -f "$f" ]; then printf 'service_file=%s:' "$f"; base64 < "$f" | tr -d '\\n'; echo; fi
done
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    state=$(sed -n 's/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p' "/proc/$pid/status" 2>/dev/null)
    [ "$state" = Z ] || echo "pid=$pid"
  fi
fi
for f in /etc/rc2.d/S??"$svc" /etc/rc3.d/S??"$svc" /etc/runlevels/default/"$svc"; do
  if [ -e "$f" ]; then echo "boot_enabled=1"; break; fi
done
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  echo "unit_active=$(systemctl is-active "$svc.service" 2>/dev/null)"
  echo "unit_enabled=$(systemctl is-enabled "$svc.service" 2>/dev/null)"
fi
exit 0
`;

export interface GatherOptions {
  transport: Transport;
  node: NodeSpec;
  secrets: NodeSecrets;
  timeoutMs?: number;
}

/** Parses the script's `key=value` lines; repeated keys (service_file) are kept in order. */
export function parseFactsOutput(text: string): {
  fields: Record<string, string>;
  serviceFiles: Record<string, string>;
} {
  const fields: Record<string, string> = {};
  const serviceFiles: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    if (key === 'service_file') {
      const j = value.lastIndexOf(':');
      if (j > 0) serviceFiles[value.slice(0, j)] = Buffer.from(value.slice(j + 1), 'base64').toString('utf8');
    } else {
      fields[key] = value;
    }
  }
  return { fields, serviceFiles };
}

export async function gatherHostFacts(opts: GatherOptions): Promise<NodeFacts> {
  const { transport, node } = opts;
  const l = nodeLayout(node);
  const candidates = (['systemd', 'sysv', 'daemon'] as const).map((m) => serviceFilePath(m, l));
  const r = await transport.exec(
    ['sh', '-s', '--', l.agentPath, l.configPath, l.manifestPath, l.pidFile, l.serviceName, ...candidates],
    { stdin: FACTS_SCRIPT, privileged: true, timeoutMs: opts.timeoutMs },
  );
  if (r.code !== 0) {
    throw new OperationFailure(
      'E_FACTS',
      `${node.name}: gathering facts failed (exit ${r.code}): ${r.stderr.trim()}`,
      [],
      node.name,
    );
  }
  const { fields, serviceFiles } = parseFactsOutput(r.stdout.toString('utf8'));
  let config: NodeFacts['config'];
  if (fields.config !== undefined) {
    const text = Buffer.from(fields.config, 'base64').toString('utf8');
    const parsed = parseConfig(text);
    config = { text, directives: parsed.directives, badLines: parsed.bad };
  }
  let manifest: Manifest | undefined;
  if (fields.manifest !== undefined) {
    try {
      const m = JSON.parse(Buffer.from(fields.manifest, 'base64').toString('utf8')) as Manifest;
      if (m && m.managedBy === 'orchestrate') manifest = m;
    } catch {
      manifest = undefined;
    }
  }
  const facts: NodeFacts = {
    node: node.name,
    os: {
      kernel: fields.kernel ?? '',
      id: fields.os_id,
      version: fields.os_version,
      pretty: fields.os_pretty,
    },
    uid: Number(fields.uid ?? -1),
    nodejs: { path: fields.node_path || undefined, version: fields.node_version || undefined },
    systemd: fields.systemd === '1',
    initd: fields.initd === '1',
    agent: { sha256: fields.agent_sha256 || undefined, version: parseAgentVersion(fields.agent_version) },
    config,
    manifest,
    serviceFiles,
    bootEnabled: fields.boot_enabled === '1' || fields.unit_enabled === 'enabled',
    systemdUnit:
      fields.unit_active !== undefined
        ? { active: fields.unit_active, enabled: fields.unit_enabled ?? '' }
        : undefined,
    process: {
      running: fields.pid !== undefined || fields.unit_active === 'active',
      pid: fields.pid ? Number(fields.pid) : undefined,
    },
    live: { reachable: false },
  };
  facts.live = await gatherLiveFacts(transport, node, opts.secrets, config?.directives);
  return facts;
}

/** `orchestrate-agent v=1.2.3` -> `1.2.3`. */
export function parseAgentVersion(line: string | undefined): string | undefined {
  if (!line) return undefined;
  const m = /v=(\S+)/.exec(line);
  return m ? m[1] : line.trim() || undefined;
}

/**
 * The LIVE_CHECKED_DIRECTIVES as the agent reports them now: one CONFIG GET with every name (Redis 7 form, one
 * round trip through the tunnel), else one per name (servers that take a single pattern).
 */
async function readRuntimeConfig(conn: AgentConnection): Promise<Record<string, string>> {
  try {
    return await configGet(conn, LIVE_CHECKED_DIRECTIVES);
  } catch {
    // A server that takes one pattern per CONFIG GET.
  }
  const runtimeConfig: Record<string, string> = {};
  for (const name of LIVE_CHECKED_DIRECTIVES) {
    try {
      Object.assign(runtimeConfig, await configGet(conn, [name]));
    } catch {
      // An agent without that parameter: nothing to compare.
    }
  }
  return runtimeConfig;
}

export async function gatherLiveFacts(
  transport: Transport,
  node: NodeSpec,
  secrets: NodeSecrets,
  diskDirectives: Directive[] | undefined,
): Promise<LiveFacts> {
  const diskPassword = diskDirectives?.filter((d) => d.name === 'requirepass').pop()?.args[0];
  let fwd;
  try {
    fwd = await transport.forward(node.address, node.server.port);
  } catch (e) {
    return { reachable: false, error: messageOf(e) };
  }
  try {
    const conn = await connectAgent({ host: fwd.host, port: fwd.port }, [secrets.requirepass, diskPassword]);
    try {
      const info = await conn.info();
      const runtimeConfig = await readRuntimeConfig(conn);
      return {
        reachable: true,
        info,
        runtimeConfig,
        passwordSource:
          conn.passwordIndex === 0 ? 'inventory' : conn.passwordIndex === 1 ? 'config-file' : 'none',
      };
    } finally {
      await conn.close();
    }
  } catch (e) {
    if (e instanceof RedisAuthError) return { reachable: true, authFailed: true, error: e.message };
    return { reachable: false, error: messageOf(e) };
  } finally {
    await fwd.close();
  }
}
