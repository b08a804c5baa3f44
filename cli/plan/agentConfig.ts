/**
 * The agent's config file (redis.conf syntax) as the orchestrator wants it, and comparison with what a host has.
 *
 * Format: one directive per line, `name arg arg ...`; arguments split on blanks, double-quoted arguments take
 * escapes (\n \r \t \b \a \\ \" \xHH), single-quoted ones only \'; `#` starts a comment line. Some directives
 * accumulate over lines (`save`), others keep the last line.
 *
 * Comparison is semantic, never textual: after a runtime change the agent rewrites the file itself (CONFIG
 * REWRITE) with its own layout, comments and extra lines. Only directives the orchestrator manages, or wrote last
 * time (so a removed extra directive is noticed), are compared, after normalising names, yes/no, memory units and
 * `save` schedules. Each directive has a row in `DIRECTIVES` saying how a change reaches a running agent.
 */
import { isLoopback } from '../inventory/rules';
import type { NodeSpec } from '../inventory/model';
import type { NodeSecrets } from '../inventory/secrets';

/** How a changed value reaches a running agent. */
export type RuntimeApply = 'config-set' | 'replicaof' | 'restart';

export interface DirectiveRule {
  runtime: RuntimeApply;
  secret?: boolean;
  memory?: boolean;
  /** Accumulates over several lines (save). */
  multi?: boolean;
}

/**
 * Directives the orchestrator writes. bind and port are runtime-settable in Redis 7, but changing them under the
 * replicas' and the orchestrator's feet is what a restart is for; the rest match Redis 7's CONFIG SET rules.
 */
export const DIRECTIVES: Record<string, DirectiveRule> = {
  bind: { runtime: 'restart' },
  port: { runtime: 'restart' },
  'protected-mode': { runtime: 'config-set' },
  daemonize: { runtime: 'restart' },
  pidfile: { runtime: 'restart' },
  logfile: { runtime: 'restart' },
  dir: { runtime: 'restart' },
  dbfilename: { runtime: 'restart' },
  requirepass: { runtime: 'config-set', secret: true },
  masterauth: { runtime: 'config-set', secret: true },
  masteruser: { runtime: 'config-set' },
  replicaof: { runtime: 'replicaof' },
  'replica-read-only': { runtime: 'config-set' },
  'replica-announce-ip': { runtime: 'config-set' },
  save: { runtime: 'config-set', multi: true },
  appendonly: { runtime: 'config-set' },
  maxmemory: { runtime: 'config-set', memory: true },
};

/** Extra directives from the inventory: tried with CONFIG SET, restart if the agent refuses. */
const EXTRA_RULE: DirectiveRule = { runtime: 'config-set' };

export function ruleFor(name: string): DirectiveRule {
  return DIRECTIVES[name] ?? EXTRA_RULE;
}

export interface Directive {
  name: string;
  args: string[];
}

/** Where a node's files live on its host. Several nodes can share a host: names keep them apart. */
export interface NodeLayout {
  agentPath: string;
  configPath: string;
  manifestPath: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
  runDir: string;
  /** start|stop|status script used for sysv (as the init script) and daemon modes. */
  controlScript: string;
  serviceName: string;
}

export const AGENT_FILE_NAME = 'orchestrate-agent.js';

export function nodeLayout(node: NodeSpec): NodeLayout {
  const p = node.paths;
  return {
    agentPath: `${p.install}/${AGENT_FILE_NAME}`,
    configPath: `${p.config}/${node.name}.conf`,
    manifestPath: `${p.config}/${node.name}.manifest.json`,
    dataDir: `${p.data}/${node.name}`,
    logFile: `${p.log}/${node.name}.log`,
    pidFile: `${p.run}/${node.name}.pid`,
    runDir: p.run,
    controlScript: `${p.install}/orchestrate-${node.name}.sh`,
    serviceName: `orchestrate-${node.name}`,
  };
}

export interface DesiredConfigInput {
  node: NodeSpec;
  master?: NodeSpec;
  secrets: NodeSecrets;
  /** systemd supervises a foreground process; sysv and daemon modes need the agent to detach. */
  daemonize: boolean;
}

export function persistenceDirectives(node: NodeSpec): Directive[] {
  const schedule = node.server.save.trim().split(/\s+/);
  const saveLines: Directive[] = [];
  for (let i = 0; i + 1 < schedule.length; i += 2)
    saveLines.push({ name: 'save', args: [schedule[i], schedule[i + 1]] });
  const rdb = node.server.persistence === 'rdb' || node.server.persistence === 'rdb+aof';
  const aof = node.server.persistence === 'aof' || node.server.persistence === 'rdb+aof';
  return [
    ...(rdb ? saveLines : [{ name: 'save', args: [''] }]),
    { name: 'appendonly', args: [aof ? 'yes' : 'no'] },
  ];
}

/** The directives a node's config file must hold, in file order. */
export function desiredDirectives(input: DesiredConfigInput): Directive[] {
  const { node, master, secrets } = input;
  const layout = nodeLayout(node);
  const s = node.server;
  const out: Directive[] = [
    { name: 'bind', args: [...s.bind] },
    { name: 'port', args: [String(s.port)] },
    // Protected mode refuses non-loopback clients when the default user has no password; keep it on unless that
    // would lock out replicas and the orchestrator (no password, non-loopback address: the rules warn about it).
    { name: 'protected-mode', args: [s.requirepass || s.bind.every(isLoopback) ? 'yes' : 'no'] },
    { name: 'daemonize', args: [input.daemonize ? 'yes' : 'no'] },
    { name: 'pidfile', args: [layout.pidFile] },
    { name: 'logfile', args: [layout.logFile] },
    { name: 'dir', args: [layout.dataDir] },
    { name: 'dbfilename', args: ['dump.rdb'] },
  ];
  if (secrets.requirepass !== undefined) out.push({ name: 'requirepass', args: [secrets.requirepass] });
  if (secrets.masterauth !== undefined) out.push({ name: 'masterauth', args: [secrets.masterauth] });
  if (s.masteruser) out.push({ name: 'masteruser', args: [s.masteruser] });
  if (master) {
    out.push({ name: 'replicaof', args: [master.address, String(master.server.port)] });
    out.push({ name: 'replica-read-only', args: ['yes'] });
    // The master lists its replicas by the address their connection comes from, which behind NAT or on a
    // multi-address host is not the one they serve on: announce the inventory's.
    out.push({ name: 'replica-announce-ip', args: [node.address] });
  }
  out.push(...persistenceDirectives(node));
  if (s.maxmemory !== undefined) out.push({ name: 'maxmemory', args: [String(s.maxmemory)] });
  for (const [name, value] of Object.entries(s.directives)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values)
      out.push({ name, args: splitArgs(typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)) });
  }
  return out;
}

export function renderConfig(directives: Directive[], header: string[]): string {
  const lines = header.map((h) => `# ${h}`);
  for (const d of directives) lines.push([d.name, ...d.args.map(quoteArg)].join(' '));
  return `${lines.join('\n')}\n`;
}

/** Quotes one argument so that the redis.conf tokenizer gives it back unchanged. */
export function quoteArg(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9._/:@+,=*%-]+$/.test(arg)) return arg;
  let out = '"';
  for (const ch of arg) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export class ConfigSyntaxError extends Error {}

/**
 * Splits one config line into arguments the way redis.conf does. Throws on unbalanced quotes or a closing quote
 * not followed by a blank.
 */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) return args;
    let cur = '';
    if (line[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const ch = line[i];
        if (ch === '\\' && i + 1 < n) {
          const nx = line[i + 1];
          if (nx === 'x' && i + 3 < n && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          cur += ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[nx] ?? nx;
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        cur += ch;
        i++;
      }
      if (!closed) throw new ConfigSyntaxError('unbalanced quotes');
      if (i < n && !/\s/.test(line[i]))
        throw new ConfigSyntaxError('closing quote must be followed by a space');
    } else if (line[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        if (line[i] === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (line[i] === "'") {
          closed = true;
          i++;
          break;
        }
        cur += line[i];
        i++;
      }
      if (!closed) throw new ConfigSyntaxError('unbalanced quotes');
      if (i < n && !/\s/.test(line[i]))
        throw new ConfigSyntaxError('closing quote must be followed by a space');
    } else {
      while (i < n && !/\s/.test(line[i])) cur += line[i++];
    }
    args.push(cur);
  }
}

/** Parses a config file into directives in file order; lines that do not parse are returned in `bad`. */
export function parseConfig(text: string): { directives: Directive[]; bad: number[] } {
  const directives: Directive[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    try {
      const [name, ...args] = splitArgs(line);
      if (name) directives.push({ name: name.toLowerCase(), args });
    } catch {
      bad.push(i + 1);
    }
  });
  return { directives, bad };
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1000,
  kb: 1024,
  m: 1000 * 1000,
  mb: 1024 * 1024,
  g: 1000 * 1000 * 1000,
  gb: 1024 * 1024 * 1024,
};

/** Memory value in bytes, redis.conf style (k = 1000, kb = 1024), or undefined when it is not one. */
export function memoryBytes(v: string): number | undefined {
  const m = /^(\d+)([kmg]b?)?$/i.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * MEMORY_UNITS[(m[2] ?? '').toLowerCase()];
}

/** Canonical text of one directive's value(s), for comparison. */
function normalize(name: string, values: string[][]): string {
  const rule = DIRECTIVES[name];
  if (rule?.multi) {
    // `save ""` (or `save` with no pairs) means no snapshots; pairs accumulate across lines.
    const pairs = values.flat().filter((v) => v !== '');
    return pairs.join(' ');
  }
  const last = values[values.length - 1] ?? [];
  if (rule?.secret) return last.join(' ');
  return last
    .map((a) => {
      const lower = a.toLowerCase();
      if (lower === 'yes' || lower === 'no') return lower;
      const bytes = memoryBytes(a);
      return bytes !== undefined && (rule?.memory || /[kmg]b?$/i.test(a)) ? String(bytes) : a;
    })
    .join(' ');
}

export type ConfigMap = Map<string, string>;

/** name -> canonical value, over the given directive names. Missing directives are absent from the map. */
export function canonicalMap(directives: Directive[], names?: Iterable<string>): ConfigMap {
  const grouped = new Map<string, string[][]>();
  for (const d of directives) {
    if (!grouped.has(d.name)) grouped.set(d.name, []);
    grouped.get(d.name)!.push(d.args);
  }
  const out: ConfigMap = new Map();
  const wanted = names ? new Set(names) : new Set(grouped.keys());
  for (const name of wanted) {
    const values = grouped.get(name);
    if (values) out.set(name, normalize(name, values));
  }
  return out;
}

export interface DirectiveChange {
  name: string;
  /** Canonical old value, undefined when absent. Secrets are replaced by "(secret)". */
  from?: string;
  to?: string;
  secret: boolean;
  runtime: RuntimeApply;
}

const MASK = '(secret)';

/**
 * How a directive that is no longer wanted leaves a running agent: REPLICAOF NO ONE, an empty password, or (for
 * anything whose default we cannot name) a restart.
 */
function removalRuntime(name: string): RuntimeApply {
  if (name === 'replicaof') return 'replicaof';
  if (name === 'requirepass' || name === 'masterauth' || name === 'masteruser') return 'config-set';
  return 'restart';
}

/**
 * Managed directives whose canonical values differ between `desired` and `actual`. `previouslyManaged` are
 * directive names written by an earlier apply: when no longer desired they show as removals.
 */
export function diffConfig(
  desired: Directive[],
  actual: Directive[],
  previouslyManaged: string[] = [],
): DirectiveChange[] {
  const names = new Set([...desired.map((d) => d.name), ...previouslyManaged]);
  const want = canonicalMap(desired, names);
  const have = canonicalMap(actual, names);
  const changes: DirectiveChange[] = [];
  for (const name of names) {
    const a = have.get(name);
    const w = want.get(name);
    if (a === w) continue;
    // Absent and empty are the same for multi-line directives only when the default is also empty: not so for
    // save, whose default is a schedule. So absent vs "" is a change.
    const rule = ruleFor(name);
    const secret = Boolean(rule.secret);
    changes.push({
      name,
      from: a === undefined ? undefined : secret ? MASK : a,
      to: w === undefined ? undefined : secret ? MASK : w,
      secret,
      runtime: w === undefined ? removalRuntime(name) : rule.runtime,
    });
  }
  return changes;
}
