/**
 * The command table: one entry per command with Redis's metadata (arity, flags, key positions, ACL categories).
 * It is the single source of truth for dispatch, arity errors and the COMMAND command.
 *
 * Arity follows Redis: a positive number is the exact argument count including the command name, a negative
 * one is the minimum. Key positions (firstKey, lastKey, step) are argv indexes; lastKey -1 means "to the end".
 */
import type { Client } from '../server/client';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'no_multi'
  | 'allow_busy'
  | 'sentinel'
  | 'no_mandatory_keys'
  | 'movablekeys'
  | 'no_async_loading'
  /** Internal: refused unless enable-debug-command (or enable-module-command) allows it. Not shown by COMMAND. */
  | 'protected';

/** Bit flags computed once at registration so that dispatch checks are cheap. */
export const F = {
  write: 1 << 0,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  admin: 1 << 3,
  pubsub: 1 << 4,
  noscript: 1 << 5,
  blocking: 1 << 6,
  loading: 1 << 7,
  stale: 1 << 8,
  skip_monitor: 1 << 9,
  skip_slowlog: 1 << 10,
  fast: 1 << 11,
  no_auth: 1 << 12,
  may_replicate: 1 << 13,
  no_multi: 1 << 14,
  allow_busy: 1 << 15,
  sentinel: 1 << 16,
  no_mandatory_keys: 1 << 17,
  movablekeys: 1 << 18,
  no_async_loading: 1 << 19,
  protected: 1 << 20,
} as const satisfies Record<CommandFlag, number>;

export type CommandHandler = (c: Client, argv: string[]) => void;

export interface CommandSpec {
  /** Lowercase name, e.g. 'get'; subcommands use their own name ('get' under 'config'). */
  name: string;
  arity: number;
  flags: CommandFlag[];
  firstKey: number;
  lastKey: number;
  step: number;
  /** ACL categories without the '@' (string, read, fast...), reported by COMMAND. */
  categories?: string[];
  /** COMMAND DOCS fields. */
  summary?: string;
  since?: string;
  group?: string;
  /** Subcommands (CONFIG GET, CLIENT LIST...). When present, dispatch goes to the matching subcommand. */
  subcommands?: CommandSpec[];
  /** Not needed on a container whose subcommands all have handlers. */
  handler?: CommandHandler;
}

export interface Command {
  readonly spec: CommandSpec;
  /** 'get' or 'config|get'; used in error messages and statistics. */
  readonly fullName: string;
  readonly bits: number;
  /**
   * spec.arity, copied here: specs come from many object literals (different shapes), Commands from one, so
   * dispatch reads it with a monomorphic load.
   */
  readonly arity: number;
  readonly handler: CommandHandler | undefined;
  readonly subcommands: Map<string, Command> | undefined;
  readonly parent: Command | undefined;
  /**
   * Latency histogram for INFO latencystats and LATENCY HISTOGRAM: counts per power-of-two bucket of
   * microseconds (bucket b holds durations in [2^(b-1), 2^b)); allocated on first use.
   */
  latencyBuckets: Uint32Array | undefined;
  /** INFO commandstats counters. */
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

function flagBits(flags: readonly CommandFlag[]): number {
  let bits = 0;
  for (const f of flags) bits |= F[f];
  return bits;
}

/** Distinct command-name spellings remembered by the lookup cache. */
const MAX_SPELLINGS = 1024;

export class CommandTable {
  readonly commands = new Map<string, Command>();
  private readonly bySpelling = new Map<string, Command>();

  register(specs: readonly CommandSpec[]): void {
    for (const spec of specs) {
      if (this.commands.has(spec.name)) throw new Error(`command registered twice: ${spec.name}`);
      this.commands.set(spec.name, this.build(spec, undefined));
    }
  }

  private build(spec: CommandSpec, parent: Command | undefined): Command {
    const cmd: Command = {
      spec,
      fullName: parent ? `${parent.fullName}|${spec.name}` : spec.name,
      bits: flagBits(spec.flags),
      arity: spec.arity,
      handler: spec.handler,
      subcommands: undefined,
      parent,
      latencyBuckets: undefined,
      calls: 0,
      usec: 0,
      rejectedCalls: 0,
      failedCalls: 0,
    };
    if (spec.subcommands) {
      const subs = new Map<string, Command>();
      for (const sub of spec.subcommands) subs.set(sub.name, this.build(sub, cmd));
      (cmd as { subcommands: Map<string, Command> }).subcommands = subs;
    }
    return cmd;
  }

  /**
   * Finds the command for an argv (the subcommand when the command has them); undefined when unknown.
   * Names are case-insensitive; the spellings clients actually send are cached so the usual lookup is one get.
   */
  lookup(argv: readonly string[]): Command | undefined {
    const name = argv[0];
    let cmd = this.bySpelling.get(name);
    if (cmd === undefined) {
      cmd = this.commands.get(name.toLowerCase());
      if (cmd === undefined) return undefined;
      if (this.bySpelling.size < MAX_SPELLINGS) this.bySpelling.set(name, cmd);
    }
    if (cmd.subcommands !== undefined && argv.length > 1) {
      const sub = cmd.subcommands.get(argv[1].toLowerCase());
      if (sub !== undefined) return sub;
    }
    return cmd;
  }
}

/** Shorthand for table entries: `cmd('get', 2, ['readonly', 'fast'], 1, 1, 1, handler)`. */
export function cmd(
  name: string,
  arity: number,
  flags: CommandFlag[],
  firstKey: number,
  lastKey: number,
  step: number,
  handler: CommandHandler,
  extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, firstKey, lastKey, step, handler, ...extra };
}

/**
 * A command that only dispatches to its subcommands (CLIENT, CONFIG, OBJECT, ...): Redis lists such containers
 * with arity -2, no flags, no keys and @slow; an unknown subcommand gets "unknown subcommand" from dispatch.
 */
export function container(name: string, subcommands: CommandSpec[]): CommandSpec {
  return { name, arity: -2, flags: [], firstKey: 0, lastKey: 0, step: 0, categories: ['slow'], subcommands };
}
