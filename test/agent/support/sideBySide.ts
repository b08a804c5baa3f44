/**
 * Side-by-side comparison of the agent with real Redis 7.0: the same commands go to both over raw RESP
 * connections and the replies must be identical, byte for byte unless a command says its order is undefined
 * in Redis ('sorted' compares arrays as multisets, 'pairs' compares flat key/value arrays as sets of pairs).
 *
 * Commands are written as strings split on spaces ('SET k v') or as arrays when an argument has spaces.
 */
import { startPair, type TestServer } from '../../helpers/servers';
import { waitFor } from '../../helpers/waitFor';
import { RespConnection, sortedPairs, sortedValue, type Reply } from './respConnection';

export type Compare = 'raw' | 'sorted' | 'pairs';
export type Command = string | string[] | { args: string | string[]; compare: Compare };

export interface SideBySide {
  agent: TestServer;
  redis: TestServer;
  /** Connections to the agent and to Redis. */
  a: RespConnection;
  r: RespConnection;
  /** Runs each command on both and expects equal replies. Returns the agent's replies. */
  same(...commands: Command[]): Promise<Reply[]>;
  /** Runs one command on both and returns both replies, for custom checks. */
  both(args: string | string[]): Promise<[Reply, Reply]>;
  /** Opens another pair of connections (for blocking tests). */
  connect(): Promise<[RespConnection, RespConnection]>;
  /** Waits until both servers (or the ones `conns` reach) report `n` blocked clients. */
  blockedClients(n: number, conns?: RespConnection[]): Promise<void>;
  stop(): Promise<void>;
}

function argsOf(c: string | string[]): string[] {
  return typeof c === 'string' ? c.split(' ') : c;
}

export async function startSideBySide(serverArgs: string[] = []): Promise<SideBySide> {
  const { agent, redis } = await startPair(serverArgs);
  const a = await RespConnection.open(agent.port);
  const r = await RespConnection.open(redis.port);
  const extra: RespConnection[] = [];
  const both = async (args: string | string[]): Promise<[Reply, Reply]> => {
    const argv = argsOf(args);
    return Promise.all([a.send(argv), r.send(argv)]);
  };
  return {
    agent,
    redis,
    a,
    r,
    both,
    async same(...commands: Command[]): Promise<Reply[]> {
      const out: Reply[] = [];
      for (const c of commands) {
        const spec = typeof c === 'object' && !Array.isArray(c) ? c : { args: c, compare: 'raw' as Compare };
        const argv = argsOf(spec.args);
        const [x, y] = await both(argv);
        const label = argv.join(' ');
        if (spec.compare === 'raw')
          expect({ command: label, reply: x.raw }).toEqual({ command: label, reply: y.raw });
        else if (spec.compare === 'sorted') {
          expect({ command: label, reply: sortedValue(x.value) }).toEqual({
            command: label,
            reply: sortedValue(y.value),
          });
        } else {
          expect({ command: label, reply: sortedPairs(x.value) }).toEqual({
            command: label,
            reply: sortedPairs(y.value),
          });
        }
        out.push(x);
      }
      return out;
    },
    async connect(): Promise<[RespConnection, RespConnection]> {
      const pair: [RespConnection, RespConnection] = [
        await RespConnection.open(agent.port),
        await RespConnection.open(redis.port),
      ];
      extra.push(...pair);
      return pair;
    },
    async blockedClients(n: number, conns: RespConnection[] = [a, r]): Promise<void> {
      for (const conn of conns) {
        await waitFor(
          async () => {
            const info = (await conn.call('INFO', 'clients')).value as string;
            return new RegExp(`blocked_clients:${n}\\b`).test(info);
          },
          { description: `${n} blocked clients` },
        );
      }
    },
    async stop(): Promise<void> {
      for (const c of [a, r, ...extra]) c.close();
      await Promise.all([agent.stop(), redis.stop()]);
    },
  };
}

/**
 * The usual lifecycle of a side-by-side test file: both servers started once for the file, stopped after it, and
 * (unless `flushEachTest` is false) both emptied before each test. Call it at the top level of the file (or of a
 * describe block); the returned object is usable inside tests and hooks.
 */
export function sideBySideSuite(
  options: { serverArgs?: string[]; flushEachTest?: boolean } = {},
): SideBySide {
  let current: SideBySide | null = null;
  const get = (): SideBySide => {
    if (current === null) throw new Error('the side-by-side servers are used before beforeAll started them');
    return current;
  };
  beforeAll(async () => {
    current = await startSideBySide(options.serverArgs);
  });
  afterAll(async () => {
    await current?.stop();
  });
  if (options.flushEachTest !== false) {
    beforeEach(async () => {
      await get().same('FLUSHALL');
    });
  }
  return {
    get agent() {
      return get().agent;
    },
    get redis() {
      return get().redis;
    },
    get a() {
      return get().a;
    },
    get r() {
      return get().r;
    },
    same: (...commands) => get().same(...commands),
    both: (args) => get().both(args),
    connect: () => get().connect(),
    blockedClients: (n, conns) => get().blockedClients(n, conns),
    stop: () => get().stop(),
  };
}
