/**
 * Real redis-server 7 processes for the persistence tests: the reference the codec must agree with.
 *
 * Each server listens on a free loopback port with persistence off (`--save "" --appendonly no`) in its own temporary
 * directory, DEBUG enabled (DEBUG DIGEST / RELOAD), plus the test's own settings. A server can start from a given RDB
 * file (copied into its directory), which is how files written by our writer are loaded. stop() kills the process and
 * removes the directory; a server that exits during startup (e.g. it refused the RDB file) fails start with its log.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { waitFor } from '../../../helpers/waitFor';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_CHECK_RDB = '/usr/bin/redis-check-rdb';
const HOST = '127.0.0.1';
const LOG_KEEP_CHARS = 20_000;

export interface RealRedis {
  port: number;
  dir: string;
  /** ioredis client (no retries); closed by stop(). */
  client: Redis;
  /** Path of the server's dump file (where SAVE writes and startup loads). */
  dumpPath: string;
  log(): string;
  stop(): Promise<void>;
}

export interface StartRealRedisOptions {
  /** Extra redis-server arguments, e.g. ['--hash-max-listpack-entries', '4']. */
  args?: string[];
  /** An RDB file the server loads at startup. */
  rdbFile?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRealRedis(options: StartRealRedisOptions = {}): Promise<RealRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rdb-test-redis-'));
  const dumpPath = path.join(dir, 'dump.rdb');
  if (options.rdbFile !== undefined) copyFileSync(options.rdbFile, dumpPath);
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--dbfilename',
    'dump.rdb',
    '--enable-debug-command',
    'yes',
    '--daemonize',
    'no',
    ...(options.args ?? []),
  ];
  const child: ChildProcess = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (b: Buffer): void => {
    output = (output + b.toString('utf8')).slice(-LOG_KEEP_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    await closeClient(client);
    if (!exited) {
      child.kill('SIGKILL');
      await exit;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server exited during startup:\n${output}`);
        return (await pingOnce(port)) === '+PONG';
      },
      { timeoutMs: 15_000, description: `redis-server on port ${port}` },
    );
    if (exited) throw new Error(`redis-server exited during startup:\n${output}`);
    await client.connect();
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- redis-server log ---\n${output}`);
  }
  return { port, dir, client, dumpPath, log: () => output, stop };
}

/** One PING over a plain socket: the first reply line, or a thrown error (refused, -LOADING...). */
function pingOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('PING timed out')));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (b) => {
      reply += b.toString('latin1');
      const eol = reply.indexOf('\r\n');
      if (eol >= 0) {
        socket.destroy();
        resolve(reply.slice(0, eol));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('closed before a reply')));
  });
}

/** Disconnects and waits until the socket is closed, so no handle outlives the test. */
async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end' || client.status === 'wait') {
    client.disconnect();
    return;
  }
  const closed = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  await closed;
}

/** Runs redis-check-rdb on a file: exit status and output. */
export function checkRdbWithRedis(file: string): { ok: boolean; output: string } {
  const r = spawnSync(REDIS_CHECK_RDB, [file], { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
