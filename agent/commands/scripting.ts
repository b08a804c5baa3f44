/**
 * Scripting without a script engine: the agent runs no Lua and no functions. The commands exist so that clients
 * get clear, Redis-shaped answers: EVAL/FCALL are refused with an explanation, EVALSHA finds no script (as Redis
 * does for an unknown SHA, so client libraries fall back to EVAL and surface its error), FUNCTION/SCRIPT FLUSH
 * succeed (there is nothing to flush), SCRIPT EXISTS reports nothing cached, and introspection shows empty state.
 */
import { ReplyError } from '../errors';
import type { Client } from '../server/client';
import { intArg, is } from './args';
import { helpReply } from './help';
import { cmd, container, type CommandFlag, type CommandSpec } from './table';

export const NO_SCRIPTING =
  'ERR scripting is not supported by this server (orchestrate-agent has no Lua engine)';

function refuse(): void {
  throw new ReplyError(NO_SCRIPTING);
}

/** EVAL checks its key count like Redis before refusing. */
function evalScript(_c: Client, argv: string[]): void {
  checkNumkeys(argv);
  refuse();
}

function checkNumkeys(argv: string[]): void {
  const numkeys = intArg(argv[2]);
  if (numkeys > argv.length - 3)
    throw new ReplyError("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) throw new ReplyError("ERR Number of keys can't be negative");
}

/** No script is ever cached, so any SHA is unknown (clients then fall back to EVAL). */
function evalsha(): void {
  throw new ReplyError('NOSCRIPT No matching script. Please use EVAL.');
}

/** No function is ever loaded. */
function fcall(): void {
  throw new ReplyError('ERR Function not found');
}

/** SCRIPT FLUSH / FUNCTION FLUSH [ASYNC|SYNC], with each one's own error text (as in Redis 7.0). */
function flush(c: Client, argv: string[]): void {
  const fn = is(argv[0], 'FUNCTION');
  if (fn && argv.length > 3) {
    throw new ReplyError(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try FUNCTION HELP.`,
    );
  }
  if (argv.length > 3 || (argv.length === 3 && !is(argv[2], 'ASYNC') && !is(argv[2], 'SYNC'))) {
    throw new ReplyError(
      fn
        ? 'ERR FUNCTION FLUSH only supports SYNC|ASYNC option'
        : 'ERR SCRIPT FLUSH only support SYNC|ASYNC option',
    );
  }
  c.reply.ok();
}

const SCRIPT_FLAGS: CommandFlag[] = ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'];
const script = (name: string, flags: CommandFlag[], handler: (c: Client, argv: string[]) => void) =>
  cmd(name, -3, flags, 0, 0, 0, handler, { categories: ['slow', 'scripting'] });
const sub = (
  name: string,
  arity: number,
  handler: (c: Client, argv: string[]) => void,
  flags: CommandFlag[] = ['noscript'],
) => cmd(name, arity, flags, 0, 0, 0, handler, { categories: ['slow', 'scripting'] });

export const scriptingCommands: CommandSpec[] = [
  script('eval', SCRIPT_FLAGS, evalScript),
  script('eval_ro', ['readonly', ...SCRIPT_FLAGS], evalScript),
  script('evalsha', SCRIPT_FLAGS, evalsha),
  script('evalsha_ro', ['readonly', ...SCRIPT_FLAGS], evalsha),
  script('fcall', SCRIPT_FLAGS, fcall),
  script('fcall_ro', ['readonly', ...SCRIPT_FLAGS], fcall),
  container('script', [
    sub('flush', -2, flush, ['noscript', 'may_replicate']),
    sub('exists', -3, (c, argv) => {
      c.reply.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) c.reply.integer(0);
    }),
    sub('load', 3, refuse, ['noscript', 'stale', 'may_replicate']),
    sub(
      'kill',
      2,
      () => {
        throw new ReplyError('NOTBUSY No scripts in execution right now.');
      },
      ['noscript', 'allow_busy'],
    ),
    sub('debug', 3, refuse),
    sub('help', 2, (c) =>
      helpReply(c, 'SCRIPT', [
        'FLUSH [ASYNC|SYNC]',
        '    Flush the Lua scripts cache. Very dangerous on replicas.',
        'EXISTS <sha1> [<sha1> ...]',
        '    Return information about the existence of the scripts in the script cache.',
      ]),
    ),
  ]),
  container('function', [
    sub('flush', -2, flush, ['write', 'noscript']),
    sub('list', -2, (c) => c.reply.array(0)),
    sub(
      'stats',
      2,
      (c) => {
        c.reply.map(2);
        c.reply.bulk('running_script');
        c.reply.null();
        c.reply.bulk('engines');
        c.reply.map(0);
      },
      ['noscript', 'allow_busy'],
    ),
    sub('dump', 2, refuse),
    sub('restore', -3, refuse, ['write', 'denyoom', 'noscript']),
    sub('load', -3, refuse, ['write', 'denyoom', 'noscript']),
    sub(
      'delete',
      3,
      () => {
        throw new ReplyError('ERR Library not found');
      },
      ['write', 'noscript'],
    ),
    sub(
      'kill',
      2,
      () => {
        throw new ReplyError('NOTBUSY No scripts in execution right now.');
      },
      ['noscript', 'allow_busy'],
    ),
    sub('help', 2, (c) =>
      helpReply(c, 'FUNCTION', [
        'FLUSH [ASYNC|SYNC]',
        '    Deletes all libraries.',
        'LIST',
        '    Return general information on all the libraries.',
        'STATS',
        '    Return information about the current function running.',
      ]),
    ),
  ]),
];
