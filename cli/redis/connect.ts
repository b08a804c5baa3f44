/**
 * Talking to an agent (or any Redis 7) from the orchestrator, with ioredis: one short-lived connection per use, no
 * automatic reconnects or offline queueing (a dead node must fail fast, not hang a plan), bounded connect and
 * command timeouts. The connection goes to a local endpoint that a transport provides: the node itself for local
 * hosts, an SSH forward for remote ones (the server port need not be reachable from the operator's machine).
 *
 * Authentication tries the passwords given in order (the inventory's, then the one in the node's config file, so
 * a password being rotated still lets us in) and remembers which one worked.
 */
import Redis from 'ioredis';
import { OperationFailure, messageOf } from '../errors';
import { parseInfo, type Info } from './info';

export const REDIS_CONNECT_TIMEOUT_MS = 5000;
export const REDIS_COMMAND_TIMEOUT_MS = 10_000;
export const REDIS_DISCONNECT_TIMEOUT_MS = 100;

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface AgentConnection {
  redis: Redis;
  /** Index into the password list that authenticated; -1 when none was needed. */
  passwordIndex: number;
  info(section?: string): Promise<Info>;
  close(): Promise<void>;
}

export class RedisAuthError extends Error {}

/** The agent is not (yet) accepting connections: worth retrying while it starts. */
export class RedisUnavailable extends OperationFailure {
  constructor(message: string) {
    super('E_REDIS', message);
  }
}

function client(ep: RedisEndpoint, commandTimeoutMs: number): Redis {
  return new Redis({
    host: ep.host,
    port: ep.port,
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    // ioredis keeps a timer this long after disconnect() on a socket that already failed; keep it short so the
    // CLI exits promptly.
    disconnectTimeout: REDIS_DISCONNECT_TIMEOUT_MS,
  });
}

/**
 * Connects and authenticates. Throws OperationFailure E_REDIS when the node cannot be reached, RedisAuthError when
 * no password fits.
 */
export async function connectAgent(
  ep: RedisEndpoint,
  passwords: Array<string | undefined>,
  opts: { commandTimeoutMs?: number } = {},
): Promise<AgentConnection> {
  const redis = client(ep, opts.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS);
  redis.on('error', () => undefined);
  const close = async () => {
    if (redis.status !== 'end') redis.disconnect();
  };
  try {
    await redis.connect();
  } catch (e) {
    await close();
    throw new RedisUnavailable(`cannot connect to ${ep.host}:${ep.port}: ${messageOf(e)}`);
  }
  let passwordIndex = -1;
  try {
    await redis.ping();
  } catch (e) {
    if (!/NOAUTH|Authentication required/i.test(messageOf(e))) {
      await close();
      const msg = `${ep.host}:${ep.port}: ${messageOf(e)}`;
      // LOADING: the agent is reading its dataset; closed/reset: it is going down or not fully up.
      if (/LOADING|Connection is closed|ECONNRESET|ECONNREFUSED/i.test(messageOf(e)))
        throw new RedisUnavailable(msg);
      throw new OperationFailure('E_REDIS', msg);
    }
    const candidates = passwords.map((p, i) => [p, i] as const).filter(([p]) => p !== undefined && p !== '');
    for (const [pw, i] of candidates) {
      try {
        await redis.auth(pw!);
        passwordIndex = i;
        break;
      } catch (err) {
        if (!/WRONGPASS|invalid password|invalid username/i.test(messageOf(err))) {
          await close();
          throw new OperationFailure('E_REDIS', `${ep.host}:${ep.port}: ${messageOf(err)}`);
        }
      }
    }
    if (passwordIndex < 0) {
      await close();
      throw new RedisAuthError(`${ep.host}:${ep.port} refused every known password`);
    }
  }
  return {
    redis,
    passwordIndex,
    info: async (section?: string) =>
      parseInfo(String(section ? await redis.info(section) : await redis.info())),
    close,
  };
}

/** CONFIG GET of several parameters in one round trip (Redis 7's form), as name -> value for those it knows. */
export async function configGet(
  conn: AgentConnection,
  names: readonly string[],
): Promise<Record<string, string>> {
  const flat = (await conn.redis.config('GET', ...names)) as string[];
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) if (names.includes(flat[i])) values[flat[i]] = flat[i + 1];
  return values;
}
