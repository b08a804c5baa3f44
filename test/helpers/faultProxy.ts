/**
 * A TCP proxy for fault-injection tests: put it between a replica and its master (the replica connects to the
 * proxy's port) and then cut, refuse or stall the traffic on demand.
 *
 * - `cut()`: destroys every proxied connection at once (both sides see the connection drop);
 * - `refuse(true)`: new connections are closed as soon as they arrive (a partitioned master), until
 *   `refuse(false)`;
 * - `stall(true)`: stops moving bytes in both directions while keeping connections open (a silent network:
 *   the replica sees no data and must time out by itself), until `stall(false)`;
 * - `limitFromTarget(n)`: each new connection gets at most n bytes from the target, the rest is held back
 *   (a transfer that stops half-way), until `limitFromTarget(Infinity)`.
 * Listens on 127.0.0.1 only; `close()` ends everything.
 */
import net from 'node:net';
import { HOST } from './servers';

export interface FaultProxy {
  port: number;
  /** Connections accepted so far (the replica's connection attempts). */
  readonly accepted: number;
  /** Connections currently open. */
  readonly open: number;
  /** Bytes forwarded in each direction. */
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
  cut(): void;
  limitFromTarget(bytes: number): void;
  refuse(on: boolean): void;
  stall(on: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes sent to the client on this connection, and what is held back by the limit. */
  sent: number;
  held: Buffer[];
}

export async function startFaultProxy(targetPort: number, targetHost = HOST): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let refusing = false;
  let stalled = false;
  let accepted = 0;
  let toTarget = 0;
  let fromTarget = 0;
  let limit = Infinity;

  const deliver = (pair: Pair, d: Buffer): void => {
    const room = limit - pair.sent;
    if (room >= d.length && pair.held.length === 0) {
      pair.sent += d.length;
      fromTarget += d.length;
      pair.client.write(d);
      return;
    }
    if (room > 0 && pair.held.length === 0) {
      const part = d.subarray(0, room);
      pair.sent += part.length;
      fromTarget += part.length;
      pair.client.write(part);
      d = d.subarray(room);
    }
    pair.held.push(d);
  };

  const server = net.createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: Pair = { client, upstream, sent: 0, held: [] };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      toTarget += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => deliver(pair, d));
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    get bytesToTarget() {
      return toTarget;
    },
    get bytesFromTarget() {
      return fromTarget;
    },
    limitFromTarget(bytes: number) {
      limit = bytes;
      if (bytes === Infinity) {
        for (const p of pairs) {
          const held = p.held;
          p.held = [];
          for (const d of held) deliver(p, d);
        }
      }
    },
    cut() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    refuse(on: boolean) {
      refusing = on;
    },
    stall(on: boolean) {
      stalled = on;
      for (const p of pairs) {
        if (on) {
          p.client.pause();
          p.upstream.pause();
        } else {
          p.client.resume();
          p.upstream.resume();
        }
      }
    },
    close() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
