/**
 * An in-process Server for tests that look at what the network cannot show: the propagated command stream
 * (what replicas and the AOF receive) and the dataset itself. Time is a fake clock the test moves; commands run
 * through the normal dispatch path on socket-less clients, and their replies are read back as RESP text.
 */
import { registerCoreCommands } from '../../../agent/commands/index';
import { Config } from '../../../agent/config/config';
import type { Client } from '../../../agent/server/client';
import { Server, type PropagatedCommand } from '../../../agent/server/server';

export interface InProcess {
  server: Server;
  client: Client;
  /** Every batch the server propagated so far (MULTI/EXEC wrapping included). */
  batches: PropagatedCommand[][];
  /** Propagated commands as argv lists, batches flattened. */
  propagated(): string[][];
  /** Forgets what was propagated so far. */
  clearPropagated(): void;
  /** Runs a command as `client` (or another client) and returns its RESP reply text. */
  run(args: string | string[], on?: Client): string;
  /** Sets the fake clock (ms since the epoch). */
  setTime(ms: number): void;
  newClient(): Client;
}

export function startInProcess(overrides: string[][] = [], startMs = 1_700_000_000_000): InProcess {
  let now = startMs;
  const config = new Config();
  config.load(undefined, overrides);
  const server = new Server(config, { nowMs: () => now });
  registerCoreCommands(server);
  const batches: PropagatedCommand[][] = [];
  server.propagationTargets.push((cmds) => batches.push([...cmds]));
  const client = server.createClient(null, '127.0.0.1:1', '127.0.0.1:2');
  const read = (c: Client): string =>
    c.reply
      .take()
      .map((p) => (typeof p === 'string' ? p : p.toString('latin1')))
      .join('');
  return {
    server,
    client,
    batches,
    propagated: () => batches.flat().map((p) => p.argv),
    clearPropagated: () => {
      batches.length = 0;
    },
    run(args, on = client) {
      server.call(on, typeof args === 'string' ? args.split(' ') : args);
      return read(on);
    },
    setTime(ms) {
      now = ms;
      server.nowMs = ms;
    },
    newClient: () => server.createClient(null, '127.0.0.1:3', '127.0.0.1:2'),
  };
}
