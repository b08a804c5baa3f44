/**
 * Command-line options and help texts, parsed with node:util parseArgs (strict: an unknown option is an error,
 * exit 2). One table per command says which options it takes, so `--help` and parsing never disagree.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../errors';

export interface Options {
  json: boolean;
  yes: boolean;
  parallel: number;
  limit: string[];
  verifyTimeoutMs: number;
  acceptNewHostKeys: boolean;
  noColor: boolean;
  agent?: string;
  purge: boolean;
  help: boolean;
  stateDir?: string;
  noRollback: boolean;
  to?: string;
  /** Seconds between polls with --watch; undefined without it. */
  watchSeconds?: number;
  prometheus: boolean;
  switchover: boolean;
}

export const DEFAULT_PARALLEL = 10;
export const MAX_PARALLEL = 256;
export const DEFAULT_VERIFY_TIMEOUT_MS = 120_000;
export const DEFAULT_WATCH_SECONDS = 2;

type OptionName =
  | 'json'
  | 'yes'
  | 'parallel'
  | 'limit'
  | 'verify-timeout'
  | 'accept-new-host-keys'
  | 'no-color'
  | 'agent'
  | 'purge'
  | 'help'
  | 'state-dir'
  | 'no-rollback'
  | 'to'
  | 'watch'
  | 'prometheus'
  | 'switchover';

const OPTION_SPECS: Record<
  OptionName,
  { type: 'boolean' | 'string'; short?: string; multiple?: boolean; help: string; arg?: string }
> = {
  json: { type: 'boolean', help: 'machine-readable output on stdout (progress stays on stderr)' },
  yes: {
    type: 'boolean',
    short: 'y',
    help: 'do not ask for confirmation (required when stdin is not a terminal)',
  },
  parallel: { type: 'string', arg: 'N', help: `hosts worked on at once (default ${DEFAULT_PARALLEL})` },
  limit: {
    type: 'string',
    multiple: true,
    arg: 'HOST|GROUP',
    help: 'only these hosts or groups (repeatable, or comma-separated)',
  },
  'verify-timeout': {
    type: 'string',
    arg: 'DURATION',
    help: `how long sync verification may take: 90, 90s, 2m, 500ms (default ${DEFAULT_VERIFY_TIMEOUT_MS / 1000}s)`,
  },
  'accept-new-host-keys': {
    type: 'boolean',
    help: 'record host keys of hosts not yet in known_hosts (a changed key is still refused)',
  },
  'no-color': { type: 'boolean', help: 'no colours (also: NO_COLOR=1, or output that is not a terminal)' },
  agent: {
    type: 'string',
    arg: 'PATH',
    help: 'agent bundle to push (default: orchestrate-agent.js beside the CLI)',
  },
  purge: { type: 'boolean', help: 'also delete data directories and logs' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
  'state-dir': {
    type: 'string',
    arg: 'DIR',
    help: 'history and lock directory (default: .orchestrate/<inventory name> beside the inventory)',
  },
  'no-rollback': { type: 'boolean', help: 'when verification fails, leave the hosts as they are' },
  to: {
    type: 'string',
    arg: 'ID',
    help: 'history entry to return to (default: the last good one before the latest change)',
  },
  watch: {
    type: 'string',
    arg: '[SECONDS]',
    help: `poll again every SECONDS (default ${DEFAULT_WATCH_SECONDS}) until interrupted`,
  },
  prometheus: {
    type: 'boolean',
    help: "Prometheus text exposition (for node_exporter's textfile collector)",
  },
  switchover: { type: 'boolean', help: 'restart the master via switchover to a replica and back' },
};

export interface CommandSpec {
  name: string;
  summary: string;
  description: string;
  options: OptionName[];
  /** A positional argument after INVENTORY (e.g. promote's HOST). */
  argument?: string;
  aliases?: string[];
}

const CONNECTING: OptionName[] = ['parallel', 'limit', 'accept-new-host-keys'];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'validate',
    summary: 'check an inventory (schema, topology, secrets) without contacting any host',
    description:
      'Reads the inventory, checks it against schemas/inventory.schema.json and the topology rules, and reports every problem with file:line:column. Referenced secrets are checked for presence (missing ones are warnings here, errors for plan and apply).',
    options: ['json', 'no-color', 'help'],
  },
  {
    name: 'plan',
    summary: 'show what apply would change, changing nothing',
    description:
      'Connects to every host (read-only), gathers facts (OS, Node.js, installed agent, config on disk, live role) and prints the changes apply would make, per host. Exit 1 when a host cannot be reached or cannot run the agent.',
    options: ['json', 'agent', 'no-color', 'help', ...CONNECTING],
  },
  {
    name: 'apply',
    summary: 'make the hosts match the inventory, then prove every replica is in sync',
    description:
      'Computes the plan, shows it and asks for confirmation (on a terminal; --yes skips it), then carries it out masters first, depth by depth: pushes the agent, writes its config (0600), installs the service, starts, reconfigures at runtime or restarts as needed. Ends with sync verification of every replica: exit 1 with a per-replica diagnosis when it does not complete within --verify-timeout.',
    options: [
      'json',
      'yes',
      'agent',
      'verify-timeout',
      'state-dir',
      'no-rollback',
      'no-color',
      'help',
      ...CONNECTING,
    ],
  },
  {
    name: 'destroy',
    summary: 'stop the agents and remove what apply installed (data kept unless --purge)',
    description:
      'Stops each agent, removes its service, config file and manifest, and the agent bundle once no node uses it. Data directories and logs stay unless --purge. Replicas are handled before their masters.',
    options: ['json', 'yes', 'purge', 'no-color', 'help', ...CONNECTING],
  },
  {
    name: 'status',
    aliases: ['health'],
    summary: 'replication health per node (exit 0 healthy, 1 degraded, 2 a node or link down)',
    description:
      'Reads INFO from every node (directly, or through an SSH tunnel when its port is not reachable) and shows per node: role, link, the master it follows and drift from the inventory, offset and lag, last I/O, sync progress, replicas, sync counters and whether they moved between two polls (a resync loop), persistence and agent version. Exit 0 healthy, 1 degraded (lag, drift, resync loop), 2 a node or a link down.',
    options: ['json', 'watch', 'prometheus', 'no-color', 'help', ...CONNECTING],
  },
  {
    name: 'history',
    summary: 'list the recorded runs (apply, rollback, promote, restart)',
    description:
      'Lists the runs recorded in the state directory: id, command, time, inventory checksum, outcome, and the topology before and after.',
    options: ['json', 'state-dir', 'no-color', 'help'],
  },
  {
    name: 'rollback',
    summary: 'return the hosts to a recorded state, with the same verification as apply',
    description:
      'Takes a history entry (--to ID; by default the last successful run before the latest run that changed hosts), shows the plan back to its inventory and topology, asks for confirmation and carries it out (switchover when the master moves), then verifies sync like apply.',
    options: ['json', 'yes', 'to', 'agent', 'verify-timeout', 'state-dir', 'no-color', 'help', ...CONNECTING],
  },
  {
    name: 'promote',
    argument: 'HOST',
    summary: 'make HOST the master of its tree by switchover, without losing acknowledged writes',
    description:
      "Pauses writes on the current master, waits until HOST has caught up, promotes it (the agent's FAILOVER TO), repoints the other replicas (partial resync) and leaves the old master a replica of HOST. The inventory is not changed: status shows the drift until it is updated.",
    options: ['json', 'yes', 'verify-timeout', 'state-dir', 'no-color', 'help', ...CONNECTING],
  },
  {
    name: 'restart',
    summary: 'rolling restart: replicas first, each back in sync before the next, the master last',
    description:
      'Restarts the agents one at a time, deepest replicas first, each verified back in sync (partial resync expected) before the next; the master last, directly or with --switchover via a replica and back.',
    options: ['json', 'yes', 'switchover', 'verify-timeout', 'state-dir', 'no-color', 'help', ...CONNECTING],
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Milliseconds from "90", "90s", "2m", "500ms", "1h". */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UserError('E_USAGE', `invalid duration "${text}" (examples: 90, 90s, 2m, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

export interface ParsedCommandLine {
  options: Options;
  positionals: string[];
}

export function parseCommandLine(spec: CommandSpec, argv: string[]): ParsedCommandLine {
  const config: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const name of spec.options) {
    const o = OPTION_SPECS[name];
    config[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  // --watch takes an optional number of seconds: a bare --watch means the default.
  const args = argv.map((a, i) =>
    a === '--watch' && !/^\d+(\.\d+)?$/.test(argv[i + 1] ?? '') ? `--watch=${DEFAULT_WATCH_SECONDS}` : a,
  );
  try {
    const parsed = parseArgs({ args, options: config, allowPositionals: true, strict: true });
    values = parsed.values as Record<string, unknown>;
    positionals = parsed.positionals;
  } catch (e) {
    throw new UserError(
      'E_USAGE',
      `${spec.name}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`,
      [`see: orchestrate ${spec.name} --help`],
    );
  }
  let parallel = DEFAULT_PARALLEL;
  if (values.parallel !== undefined) {
    parallel = Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
      throw new UserError(
        'E_USAGE',
        `--parallel must be an integer from 1 to ${MAX_PARALLEL}, not "${String(values.parallel)}"`,
      );
    }
  }
  const limit = ((values.limit as string[] | undefined) ?? []).flatMap((l) =>
    l
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
  return {
    options: {
      json: Boolean(values.json),
      yes: Boolean(values.yes),
      parallel,
      limit,
      verifyTimeoutMs:
        values['verify-timeout'] !== undefined
          ? parseDuration(String(values['verify-timeout']))
          : DEFAULT_VERIFY_TIMEOUT_MS,
      acceptNewHostKeys: Boolean(values['accept-new-host-keys']),
      noColor: Boolean(values['no-color']),
      agent: values.agent as string | undefined,
      purge: Boolean(values.purge),
      help: Boolean(values.help),
      stateDir: values['state-dir'] as string | undefined,
      noRollback: Boolean(values['no-rollback']),
      to: values.to as string | undefined,
      watchSeconds: values.watch !== undefined ? parseWatch(String(values.watch)) : undefined,
      prometheus: Boolean(values.prometheus),
      switchover: Boolean(values.switchover),
    },
    positionals,
  };
}

function parseWatch(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new UserError('E_USAGE', `--watch takes seconds > 0, not "${text}"`);
  return n;
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [
    `Usage: orchestrate ${spec.name} [INVENTORY]${spec.argument ? ` ${spec.argument}` : ''} [options]`,
    ...(spec.aliases ? [`Alias: ${spec.aliases.join(', ')}`] : []),
    '',
    spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.',
    '',
    wrap(spec.description, 100),
    '',
    'INVENTORY defaults to the embedded inventories/local.yaml (a master and a replica on this machine).',
    '',
    'Options:',
  ];
  for (const name of spec.options) {
    const o = OPTION_SPECS[name];
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`;
    lines.push(`  ${flag.padEnd(32)} ${o.help}`);
  }
  lines.push('', 'Exit codes: 0 success, 1 failure (a host, a step or verification), 2 bad input.');
  return `${lines.join('\n')}\n`;
}

export function generalHelp(version: string): string {
  const lines = [
    `orchestrate ${version}: Redis-style master-replica replication from an inventory, over SSH, with verified sync.`,
    '',
    'Usage: orchestrate <command> [INVENTORY] [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    '',
    'Run `orchestrate <command> --help` for its options. `orchestrate --version` prints the version.',
    'Exit codes: 0 success, 1 failure, 2 bad input.',
  ];
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out.join('\n');
}
