/**
 * Configuration: redis.conf syntax (`directive arg ...` per line, sdssplitargs quoting, `#` comments,
 * `include <file>`), followed by `--directive value` overrides from the command line, exactly as redis-server
 * reads them. Values are checked against the directive table; the first bad line stops startup with an error
 * that names the file, the line and the directive, in redis-server's words (exit code 1).
 *
 * The Config object holds canonical text values; subsystems read typed values and subscribe to changes
 * (`onChange`) so that CONFIG SET takes effect at runtime. `setMany` is CONFIG SET's atomic path: every value is
 * validated before any is stored, and appliers that fail roll the whole change back.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AgentError } from '../errors';
import { splitInlineArgs } from '../resp/parser';
import { reprString } from '../resp/repr';
import { DIRECTIVES, type Directive, parseMemoryBig } from './directives';

/** Nested `include` depth at which we give up (a loop, most likely). */
const MAX_INCLUDE_DEPTH = 16;
/** What the fatal error header names as the program. */
const PROGRAM = 'orchestrate-agent';

export interface ConfigSource {
  file: string;
  line: number;
  text: string;
}

/** Applies a new value; returns an error message to refuse it (CONFIG SET then rolls back). */
export type Applier = (value: string) => string | undefined;

export class Config {
  private readonly byName = new Map<string, Directive>();
  private readonly values = new Map<string, string>();
  /** Current values under every name and alias as spelled in the table: `get` is one lookup on the hot path. */
  private readonly byAnyName = new Map<string, string>();
  private readonly listeners = new Map<string, Array<(value: string) => void>>();
  private readonly appliers = new Map<string, Applier>();
  /** Directives set from the file or command line: `repeatable` ones reset once, protected mode reads bind. */
  private readonly seenInLoad = new Set<string>();
  /** The absolute path of the main config file, when there is one (CONFIG REWRITE writes it). */
  configFile: string | undefined;

  constructor(readonly directives: readonly Directive[] = DIRECTIVES) {
    for (const d of directives) {
      this.byName.set(d.name, d);
      for (const a of d.aliases ?? []) this.byName.set(a, d);
      this.remember(d, d.default);
    }
  }

  private remember(d: Directive, value: string): void {
    this.values.set(d.name, value);
    this.byAnyName.set(d.name, value);
    for (const a of d.aliases ?? []) this.byAnyName.set(a, value);
  }

  lookup(name: string): Directive | undefined {
    return this.byName.get(name.toLowerCase());
  }

  get(name: string): string {
    const v = this.byAnyName.get(name);
    if (v !== undefined) return v;
    const d = this.lookup(name);
    if (!d) throw new Error(`unknown config directive in code: ${name}`);
    return this.values.get(d.name)!;
  }

  getInt(name: string): number {
    return Number(this.get(name));
  }

  getBool(name: string): boolean {
    return this.get(name) === 'yes';
  }

  /** Subscribes to changes of a directive (after load, and on every CONFIG SET). */
  onChange(name: string, listener: (value: string) => void): void {
    const d = this.lookup(name)!;
    const list = this.listeners.get(d.name) ?? [];
    list.push(listener);
    this.listeners.set(d.name, list);
  }

  /**
   * Installs the function that puts a new value into effect and may refuse it (binding a port, changing
   * directory). It runs before the value is stored and before onChange listeners.
   */
  setApplier(name: string, apply: Applier): void {
    this.appliers.set(this.lookup(name)!.name, apply);
  }

  /** Validates `args` for a directive; returns the canonical value or an error message. */
  validate(d: Directive, args: string[], fromFile = false): string | { error: string } {
    let current = this.values.get(d.name)!;
    if (fromFile && d.repeatable && !this.seenInLoad.has(d.name))
      current = d.name === 'save' ? '' : d.default;
    const result = normalize(d, args, current);
    if (typeof result !== 'string') return result;
    if (fromFile && d.name === 'save' && this.seenInLoad.has('save') && result !== '') {
      return [current, result].filter(Boolean).join(' ');
    }
    return result;
  }

  /**
   * Validates and stores a value. Returns an error message (without prefix) when the value is invalid.
   * `fromFile` applies the repeatable rule: the first occurrence replaces the default, later ones add.
   */
  set(name: string, args: string[], fromFile = false): string | undefined {
    const d = this.lookup(name);
    if (!d) return 'Unknown option';
    const value = this.validate(d, args, fromFile);
    if (typeof value !== 'string') return value.error;
    if (fromFile) this.seenInLoad.add(d.name);
    return this.store(d, value);
  }

  /** Runs the applier, stores and notifies; returns the applier's error, if any (nothing stored then). */
  private store(d: Directive, value: string): string | undefined {
    if (this.values.get(d.name) === value) return undefined;
    const apply = this.appliers.get(d.name);
    if (apply) {
      const error = apply(value);
      if (error !== undefined) return error;
    }
    this.remember(d, value);
    for (const l of this.listeners.get(d.name) ?? []) l(value);
    return undefined;
  }

  /**
   * CONFIG SET: all pairs or none. Returns undefined on success, else [directive name as given, error].
   * Validation of every pair happens first; if applying one fails, the ones applied before are restored.
   */
  setMany(pairs: Array<[string, string]>): [string, string] | undefined {
    const planned: Array<[Directive, string, string]> = [];
    for (const [name, raw] of pairs) {
      const d = this.lookup(name)!;
      const value = this.validate(d, [raw]);
      if (typeof value !== 'string') return [name, value.error];
      planned.push([d, value, name]);
    }
    const done: Array<[Directive, string]> = [];
    for (const [d, value, name] of planned) {
      const previous = this.values.get(d.name)!;
      const error = this.store(d, value);
      if (error !== undefined) {
        for (const [pd, pv] of done.reverse()) this.store(pd, pv);
        return [name, error];
      }
      done.push([d, previous]);
    }
    return undefined;
  }

  /** Was this directive given in the file or on the command line? */
  wasLoaded(name: string): boolean {
    const d = this.lookup(name);
    return d !== undefined && this.seenInLoad.has(d.name);
  }

  /** Every (name, value) pair, aliases included (CONFIG GET lists them too, as Redis does), hidden ones excepted. */
  entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const d of this.directives) {
      if (d.hidden) continue;
      const v = this.values.get(d.name)!;
      out.push([d.name, v]);
      for (const a of d.aliases ?? []) out.push([a, v]);
    }
    return out;
  }

  /** Loads a config file's text (plus its includes) and then command-line overrides. */
  load(file: string | undefined, overrides: string[][]): void {
    let lineOffset = 0;
    if (file !== undefined) {
      this.configFile = resolve(file);
      lineOffset = this.loadFile(this.configFile, 0);
    }
    // Like redis-server, command-line options count as lines after the file's.
    overrides.forEach((args, k) => {
      const text = [args[0], ...args.slice(1).map(reprString)].join(' ');
      this.applyLine(args, { file: '(command line)', line: lineOffset + k + 1, text });
    });
  }

  /** Reads one file; returns its number of lines. */
  private loadFile(path: string, depth: number): number {
    if (depth > MAX_INCLUDE_DEPTH) {
      throw new AgentError('CONFIG_FILE', `Fatal error, too many nested includes at ${path}`);
    }
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'No such file or directory'
          : (err as Error).message;
      throw new AgentError('CONFIG_FILE', `Fatal error, can't open config file '${path}': ${reason}`);
    }
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const raw = lines[n].trim();
      if (raw === '' || raw.startsWith('#')) continue;
      const source = { file: path, line: n + 1, text: raw };
      const args = splitInlineArgs(raw);
      if (args === null) throw configFileError(source, 'Unbalanced quotes in configuration line');
      if (args.length === 0) continue;
      if (args[0].toLowerCase() === 'include') {
        if (args.length !== 2) throw configFileError(source, 'Bad directive or wrong number of arguments');
        this.loadFile(resolve(dirname(path), args[1]), depth + 1);
        continue;
      }
      this.applyLine(args, source);
    }
    return lines.length;
  }

  private applyLine(args: string[], source: ConfigSource): void {
    const d = this.lookup(args[0]);
    if (!d) throw configFileError(source, 'Bad directive or wrong number of arguments');
    if (args.length < 2 || (!d.multiArg && args.length !== 2)) {
      // `save ""`-style empty values are fine for multi-argument directives.
      if (!(d.multiArg && args.length === 1 && d.kind === 'special')) {
        throw configFileError(source, 'wrong number of arguments');
      }
    }
    const error = this.set(d.name, args.slice(1), true);
    if (error) throw configFileError(source, error);
  }
}

function normalize(d: Directive, args: string[], current: string): string | { error: string } {
  const text = args.join(' ');
  switch (d.kind) {
    case 'bool': {
      const v = text.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: "argument must be 'yes' or 'no'" };
      return v;
    }
    case 'int': {
      if (!/^-?\d+$/.test(text)) return { error: "argument couldn't be parsed into an integer" };
      const n = BigInt(text);
      if (n > INT64_MAX || n < INT64_MIN) return { error: "argument couldn't be parsed into an integer" };
      if (n < BigInt(d.min!) || n > BigInt(d.max!)) {
        return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      }
      return String(n);
    }
    case 'memory': {
      const n = parseMemoryBig(text);
      if (n === null) return { error: 'argument must be a memory value' };
      if (n < BigInt(d.min!) || n > BigInt(d.max!)) {
        return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      }
      return String(n);
    }
    case 'enum': {
      const chosen = d.flags ? text.toLowerCase().split(/\s+/).filter(Boolean) : [text.toLowerCase()];
      if (chosen.length === 0 || chosen.some((v) => !d.values!.includes(v))) {
        return { error: `argument(s) must be one of the following: ${d.values!.join(', ')}` };
      }
      return chosen.join(' ');
    }
    case 'string':
      return text;
    case 'special':
      return d.normalize!(args, current);
  }
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function configFileError(source: ConfigSource, reason: string): AgentError {
  return new AgentError(
    'CONFIG_FILE',
    `\n*** FATAL CONFIG FILE ERROR (${PROGRAM}) ***\n` +
      `Reading the configuration file ${source.file}, at line ${source.line}\n` +
      `>>> '${source.text}'\n${reason}`,
  );
}

/**
 * Splits redis-server style arguments: an optional config file first, then `--name value ...` groups.
 * Returns the file (or undefined) and the override lines. A lone `-` as the file means standard input in Redis;
 * it is not supported here.
 */
export function parseCommandLine(argv: string[]): { file: string | undefined; overrides: string[][] } {
  let file: string | undefined;
  let k = 0;
  if (argv.length > 0 && !argv[0].startsWith('--')) {
    file = argv[0];
    k = 1;
  }
  const overrides: string[][] = [];
  for (; k < argv.length; k++) {
    const word = argv[k];
    if (word.startsWith('--') && word.length > 2) {
      overrides.push([word.slice(2)]);
    } else if (overrides.length > 0) {
      overrides[overrides.length - 1].push(word);
    } else {
      throw new AgentError('CONFIG_ARGS', `Unexpected argument '${word}' (expected --directive value)`);
    }
  }
  return { file, overrides };
}
