/**
 * Side-by-side comparison of the agent with real Redis 7.0: the same commands go to both over raw RESP
 * connections and the replies must be identical, byte for byte unless a command says its order is undefined
 * in Redis ('sorted' compares arrays as multisets, 'pairs' compares flat key/value arrays as sets of pairs).
 *
 * Commands are written as strings split on spaces ('SET k v') or as arrays when an argument has spaces.
 */
import { startPair, type TestServer } from '../../helpers/servers';
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
    async stop(): Promise<void> {
      for (const c of [a, r, ...extra]) c.close();
      await Promise.all([agent.stop(), redis.stop()]);
    },
  };
}
