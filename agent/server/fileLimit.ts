/**
 * maxclients against the process's open-file limit, as Redis does: every client is a descriptor, and the server
 * keeps RESERVED_FDS more for itself (listeners, the log, the AOF and RDB files, replication links). When the
 * limit cannot hold maxclients + RESERVED_FDS, maxclients is lowered at startup (with Redis's warning) and CONFIG
 * SET refuses a value above it, so an extra client gets "-ERR max number of clients reached" instead of the
 * server running out of descriptors (accept failing with EMFILE, files that cannot be opened).
 *
 * Node raises its soft RLIMIT_NOFILE to the hard limit when it starts and has no call to raise it further or to
 * read it, so the limit is read from Linux's /proc/self/limits; where that is unreadable the limit is unknown and
 * maxclients is left as configured.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { AgentError } from '../errors';
import type { Logger } from './log';

/** Descriptors kept beyond the clients' (Redis's CONFIG_MIN_RESERVED_FDS). */
export const RESERVED_FDS = 32;

/** The soft limit on open files, or undefined when unknown or unlimited. */
export function openFilesLimit(
  readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  let text: string;
  try {
    text = readLimits();
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/**
 * Fits the configured maxclients under `limit` at startup, logging what Redis logs; a limit that leaves no
 * descriptor for a client is fatal.
 */
export function fitMaxClients(config: Config, log: Logger, limit: number | undefined): void {
  if (limit === undefined) return;
  const requested = config.getInt('maxclients');
  const needed = requested + RESERVED_FDS;
  if (limit >= needed) return;
  if (limit <= RESERVED_FDS) {
    throw new AgentError(
      'FILE_LIMIT',
      `Your current 'ulimit -n' of ${limit} is not enough for the server to start. ` +
        `Please increase your open file limit to at least ${RESERVED_FDS + 1}. Exiting.`,
    );
  }
  const reduced = limit - RESERVED_FDS;
  log.warning(`You requested maxclients of ${requested} requiring at least ${needed} max file descriptors.`);
  log.warning(
    `Current maximum open files is ${limit}. maxclients has been reduced to ${reduced} to compensate for ` +
      `low ulimit. If you need higher maxclients increase 'ulimit -n'.`,
  );
  config.set('maxclients', [String(reduced)]);
}

/** CONFIG SET maxclients: refuses a value the limit cannot hold, with Redis's text. */
export function maxClientsApplier(limit: number | undefined): (value: string) => string | undefined {
  return (value) =>
    limit !== undefined && Number(value) + RESERVED_FDS > limit
      ? `The operating system is not able to handle the specified number of clients, try with ${limit - RESERVED_FDS}`
      : undefined;
}
