/**
 * Errors of the agent. Two families, kept apart:
 * - ReplyError: a client's mistake, answered with Redis's exact error text; the connection goes on.
 * - AgentError: the operator's mistake or the environment (bad config file, unreadable dump, port in use), with a
 *   stable `code`; main.ts turns it into a log line and exit code 1. Anything else thrown is a bug.
 */

/** Redis's error replies, word for word (Redis 7.0). */
export const Err = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  noSuchKey: 'ERR no such key',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  readonly: "READONLY You can't write against a read only replica.",
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  loading: 'LOADING Redis is loading the dataset in memory',
  masterDown: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  noReplicas: 'NOREPLICAS Not enough good replicas to write.',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  overflow: 'ERR increment or decrement would overflow',
  timeoutNegative: 'ERR timeout is negative',
  timeoutNotFloat: 'ERR timeout is not a float or out of range',
} as const;

export function wrongArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

export function unknownCommand(argv: readonly string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${argv[i].slice(0, 128 - args.length)}' `;
  }
  return `ERR unknown command '${argv[0].slice(0, 128)}', with args beginning with: ${args}`;
}

export function unknownSubcommand(argv: readonly string[]): string {
  return `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`;
}

/** Thrown by command code to answer the client with an error; `reply` is the text after '-'. */
export class ReplyError extends Error {
  readonly code = 'REPLY_ERROR';
  constructor(readonly reply: string) {
    super(reply);
  }
}

export type AgentErrorCode =
  'CONFIG_FILE' | 'CONFIG_ARGS' | 'LISTEN' | 'RDB_LOAD' | 'AOF_LOAD' | 'PIDFILE' | 'DAEMONIZE' | 'FILE_LIMIT';

/** An error the operator can fix (configuration, files, ports). */
export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
