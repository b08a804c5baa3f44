/**
 * Real redis-server 7 processes for orchestrator tests: the reference the agent is compatible with, so the
 * verification and fact-gathering logic is proven against the real thing. Every server runs on 127.0.0.1 with its
 * own temp dir and is killed by `stopAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { waitFor } from '../../helpers/waitFor';

export interface RedisServer {
  port: number;
  dir: string;
  proc: ChildProcess;
  client(password?: string): Redis;
  stop(): Promise<void>;
}

const servers: RedisServer[] = [];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startRedis(
  args: string[] = [],
  opts: { password?: string; configFile?: string; port?: number } = {},
): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-redis-'));
  // With a config file, the file alone decides (it must name the port): nothing added after it overrides it.
  const argv = opts.configFile
    ? [opts.configFile, ...args]
    : [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--repl-diskless-sync-delay',
        '0',
        '--dir',
        dir,
        ...args,
      ];
  const proc = spawn('/usr/bin/redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const clients: Redis[] = [];
  const server: RedisServer = {
    port,
    dir,
    proc,
    client(password = opts.password) {
      const c = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    async stop() {
      clients.forEach((c) => c.disconnect());
      await new Promise<void>((resolve) => {
        // 'close' (not 'exit'): also wait for the stdio pipes, so no handle outlives the test.
        if (proc.exitCode !== null || proc.signalCode !== null) {
          if (proc.stdout!.closed && proc.stderr!.closed) return resolve();
        }
        proc.once('close', () => resolve());
        proc.kill('SIGKILL');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  servers.push(server);
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
      const c = new Redis({
        host: '127.0.0.1',
        port,
        lazyConnect: true,
        enableReadyCheck: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        disconnectTimeout: 100,
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.call('PING').catch((e: Error) => {
          if (!/NOAUTH/.test(e.message)) throw e;
        });
        return true;
      } finally {
        if (c.status !== 'end') c.disconnect();
      }
    },
    { timeoutMs: 10_000, description: `redis-server on ${port}` },
  );
  return server;
}

export async function stopAll(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
}
