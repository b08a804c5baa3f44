/**
 * `orchestrate` entry point, and the only place that turns errors into exit codes:
 * 0 success; 1 failure (a host, a step, verification; also bugs, reported as such); 2 bad input (arguments,
 * inventory, secrets, missing confirmation flag). Everything the process touches (stdio, env, cwd) comes in as a
 * `CliIO`, so tests run the real command path in-process.
 *
 * Output contract: stdout carries the result (the plan, the summary, or exactly one JSON document with --json,
 * errors included); progress and error messages for people go to stderr.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import pkg from '../package.json';
import { runApply } from './commands/apply';
import type { CommandContext, CommandOutcome } from './commands/context';
import { runDestroy } from './commands/destroy';
import { runHistory } from './commands/history';
import { runPromote } from './commands/promote';
import { runRestart } from './commands/restart';
import { runRollback } from './commands/rollback';
import { runStatus } from './commands/status';
import {
  commandHelp,
  commandSpec,
  COMMANDS,
  generalHelp,
  parseCommandLine,
  type Options,
} from './commands/options';
import { runPlan } from './commands/plan';
import { runValidate } from './commands/validate';
import { InventoryError, isOrchestrateError, UserError } from './errors';
import { suggest } from './inventory/schemaCheck';
import { isInteractive, processIO, writeLine, type CliIO } from './ui/io';
import { createProgress } from './ui/progress';
import { colorWanted, makeStyle, type Style } from './ui/style';

export const VERSION: string = pkg.version;

/** The inventory used when none is given: a master and a replica on this machine. */
export function embeddedInventoryPath(): string {
  // dist/orchestrate.js and cli/main.ts both sit one level below the package root.
  return path.resolve(__dirname, '..', 'inventories', 'local.yaml');
}

const RUNNERS: Record<string, (ctx: CommandContext) => Promise<CommandOutcome>> = {
  validate: runValidate,
  plan: runPlan,
  apply: runApply,
  destroy: runDestroy,
  status: runStatus,
  history: runHistory,
  rollback: runRollback,
  promote: runPromote,
  restart: runRestart,
};

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  const style0 = makeStyle(colorWanted(io.env, Boolean(io.stderr.isTTY), argv.includes('--no-color')));
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    const spec = topic ? commandSpec(topic) : undefined;
    io.stdout.write(spec ? commandHelp(spec) : generalHelp(VERSION));
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    writeLine(io.stdout, `orchestrate ${VERSION}`);
    return 0;
  }
  let json = rest.includes('--json');
  try {
    const spec = commandSpec(command);
    if (!spec) {
      const hint = suggest(
        command,
        COMMANDS.map((c) => c.name),
      );
      throw new UserError(
        'E_USAGE',
        `unknown command "${command}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        [`commands: ${COMMANDS.map((c) => c.name).join(', ')}`],
      );
    }
    const { options, positionals } = parseCommandLine(spec, rest);
    json = options.json;
    if (options.help) {
      io.stdout.write(commandHelp(spec));
      return 0;
    }
    // A command with an ARGUMENT (promote HOST) takes it beside the optional inventory, in either order: the
    // inventory is the one that names a file.
    let argument: string | undefined;
    if (spec.argument && positionals.length > 0) {
      const fileLike = (p: string) => /\.(ya?ml|json)$/i.test(p) || existsSync(path.resolve(io.cwd, p));
      const first = positionals.length === 2 && fileLike(positionals[1]) && !fileLike(positionals[0]);
      argument = positionals.splice(first ? 0 : positionals.length - 1, 1)[0];
    }
    if (spec.argument && argument === undefined) {
      throw new UserError('E_USAGE', `${spec.name} needs ${spec.argument}`, [
        `see: orchestrate ${spec.name} --help`,
      ]);
    }
    if (positionals.length > 1) {
      throw new UserError(
        'E_USAGE',
        `${spec.name} takes one inventory file, got ${positionals.length}: ${positionals.join(' ')}`,
      );
    }
    const ctx = makeContext(io, options, positionals[0]);
    ctx.argument = argument;
    if (ctx.embeddedInventory) ctx.note(`using the embedded inventory ${ctx.inventoryPath}`);
    const outcome = await RUNNERS[spec.name](ctx);
    if (json && outcome.json !== undefined) writeLine(io.stdout, JSON.stringify(outcome.json, null, 2));
    return outcome.exitCode;
  } catch (e) {
    return reportError(e, io, json, style0);
  }
}

function makeContext(io: CliIO, options: Options, inventoryArg: string | undefined): CommandContext {
  const style = makeStyle(colorWanted(io.env, Boolean(io.stdout.isTTY), options.noColor) && !options.json);
  const errStyle = makeStyle(colorWanted(io.env, Boolean(io.stderr.isTTY), options.noColor));
  const interactive = isInteractive(io);
  return {
    io,
    options,
    inventoryPath: inventoryArg ?? embeddedInventoryPath(),
    embeddedInventory: inventoryArg === undefined,
    style,
    // listr2 only when a person watches stderr and colour/cursor control is allowed.
    progress: createProgress({
      stream: io.stderr,
      style: errStyle,
      live: Boolean(io.stderr.isTTY) && io.env.TERM !== 'dumb' && errStyle.enabled,
    }),
    say: (line = '') => {
      if (!options.json) writeLine(io.stdout, line);
    },
    note: (line) => writeLine(io.stderr, line),
    interactive,
  };
}

function reportError(e: unknown, io: CliIO, json: boolean, style: Style): number {
  if (isOrchestrateError(e)) {
    if (json) {
      const doc =
        e.data !== undefined
          ? { ...(e.data as object), error: { code: e.code, message: e.message, details: e.details } }
          : {
              ok: false,
              error: {
                code: e.code,
                message: e.message,
                details: e.details,
                ...(e instanceof InventoryError ? { problems: e.problems } : {}),
              },
            };
      writeLine(io.stdout, JSON.stringify(doc, null, 2));
    }
    writeLine(io.stderr, `${style.red('error')}: ${e.message} ${style.dim(`[${e.code}]`)}`);
    for (const d of e.details) writeLine(io.stderr, `  ${d}`);
    return e.exitCode;
  }
  // Not an error we raise on purpose: a bug. Say so, with the stack, and fail.
  const err = e instanceof Error ? e : new Error(String(e));
  if (json)
    writeLine(io.stdout, JSON.stringify({ ok: false, error: { code: 'E_INTERNAL', message: err.message } }));
  writeLine(
    io.stderr,
    `${style.red('internal error (a bug in orchestrate, please report it)')}: ${err.stack ?? err.message}`,
  );
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
