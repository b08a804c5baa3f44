/**
 * Configuration: redis.conf syntax (`directive arg ...` per line, sdssplitargs quoting, `#` comments,
 * `include <file>`), followed by `--directive value` overrides from the command line, exactly as redis-server
 * reads them. Values are checked against the directive table; the first bad line stops startup with an error
 * that names the file, the line and the directive.
 *
 * The Config object holds canonical text values; subsystems read typed values and subscribe to changes
 * (`onChange`) so that CONFIG SET takes effect at runtime.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AgentError } from '../errors';
import { splitInlineArgs } from '../resp/parser';
import { DIRECTIVES, type Directive, parseMemory } from './directives';

/** Nested `include` depth at which we give up (a loop, most likely). */
const MAX_INCLUDE_DEPTH = 16;

export interface ConfigSource {
  file: string;
  line: number;
  text: string;
}

export class Config {
  private readonly byName = new Map<string, Directive>();
  private readonly values = new Map<string, string>();
  private readonly listeners = new Map<string, Array<(value: string) => void>>();
  /** Directives set from the file or command line: REWRITE keeps them, and `repeatable` ones reset once. */
  private readonly seenInLoad = new Set<string>();
  /** The absolute path of the main config file, when there is one (CONFIG REWRITE writes it). */
  configFile: string | undefined;

  constructor(readonly directives: readonly Directive[] = DIRECTIVES) {
    for (const d of directives) {
      this.byName.set(d.name, d);
      for (const a of d.aliases ?? []) this.byName.set(a, d);
      this.values.set(d.name, d.default);
    }
  }

  lookup(name: string): Directive | undefined {
    return this.byName.get(name.toLowerCase());
  }

  get(name: string): string {
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
   * Validates and stores a value. Returns an error message (without prefix) when the value is invalid.
   * `fromFile` applies the repeatable rule: the first occurrence replaces the default, later ones append.
   */
  set(name: string, args: string[], fromFile = false): string | undefined {
    const d = this.lookup(name);
    if (!d) return 'Unknown option';
    let current = this.values.get(d.name)!;
    if (fromFile && d.repeatable && !this.seenInLoad.has(d.name))
      current = d.name === 'save' ? '' : d.default;
    const result = normalize(d, args, current);
    if (typeof result !== 'string') return result.error;
    let value = result;
    if (fromFile && d.repeatable && d.name === 'save' && this.seenInLoad.has('save') && value !== '') {
      value = [current, value].filter(Boolean).join(' ');
    }
    if (fromFile) this.seenInLoad.add(d.name);
    const changed = this.values.get(d.name) !== value;
    this.values.set(d.name, value);
    if (changed) for (const l of this.listeners.get(d.name) ?? []) l(value);
    return undefined;
  }

  /** Was this directive given in the file or on the command line? */
  wasLoaded(name: string): boolean {
    const d = this.lookup(name);
    return d !== undefined && this.seenInLoad.has(d.name);
  }

  /** All (name, value) pairs whose name matches a CONFIG GET glob pattern. */
  entries(): Array<[string, string]> {
    return this.directives.map((d) => [d.name, this.values.get(d.name)!]);
  }

  /** Loads a config file's text (plus its includes) and then command-line overrides. */
  load(file: string | undefined, overrides: string[][]): void {
    if (file !== undefined) {
      this.configFile = resolve(file);
      this.loadFile(this.configFile, 0);
    }
    for (const args of overrides) {
      this.applyLine(args, { file: '(command line)', line: 0, text: args.join(' ') });
    }
  }

  private loadFile(path: string, depth: number): void {
    if (depth > MAX_INCLUDE_DEPTH) {
      throw new AgentError('CONFIG_FILE', `Fatal error, too many nested includes at ${path}`);
    }
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (err) {
      throw new AgentError(
        'CONFIG_FILE',
        `Fatal error, can't open config file '${path}': ${(err as Error).message}`,
      );
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
  }

  private applyLine(args: string[], source: ConfigSource): void {
    const d = this.lookup(args[0]);
    if (!d || args.length < 2 || (!d.multiArg && args.length !== 2)) {
      throw configFileError(source, 'Bad directive or wrong number of arguments');
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
      if (!/^-?\d+$/.test(text.trim())) return { error: "argument couldn't be parsed into an integer" };
      const n = Number(text);
      if (n < (d.min ?? -Infinity) || n > (d.max ?? Infinity)) {
        return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      }
      return String(n);
    }
    case 'memory': {
      const n = parseMemory(text);
      if (n === null) return { error: 'argument must be a memory value' };
      if (n < (d.min ?? 0)) return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      return String(n);
    }
    case 'enum': {
      const v = text.toLowerCase();
      if (!d.values!.includes(v))
        return { error: `argument(s) must be one of the following: ${d.values!.join(', ')}` };
      return v;
    }
    case 'string':
      return text;
    case 'special':
      return d.normalize!(args, current);
  }
}

function configFileError(source: ConfigSource, reason: string): AgentError {
  return new AgentError(
    'CONFIG_FILE',
    `\n*** FATAL CONFIG FILE ERROR ***\nReading the configuration file ${source.file}, at line ${source.line}\n` +
      `>>> '${source.text}'\n${reason}`,
  );
}

/**
 * Splits redis-server style arguments: an optional config file first, then `--name value ...` groups.
 * Returns the file (or undefined) and the override lines.
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
    if (word.startsWith('--')) {
      overrides.push([word.slice(2)]);
    } else if (overrides.length > 0) {
      overrides[overrides.length - 1].push(word);
    } else {
      throw new AgentError('CONFIG_ARGS', `Unexpected argument '${word}' (expected --directive value)`);
    }
  }
  return { file, overrides };
}
