/**
 * Real server processes for tests: the agent (dist/orchestrate-agent.js, built by `npm run build`) and Debian's
 * redis-server, started the same way so a test can run one scenario against both and compare replies.
 *
 * Each server gets a free loopback port and its own temporary directory (its `dir`), DEBUG enabled, persistence
 * off unless the test's args say otherwise; it may start from a given RDB file (copied into its directory as
 * dump.rdb). Readiness is probed with PING on a plain socket (no client library: nothing is left behind when a
 * probe fails). `stop()` kills the process (SIGKILL unless asked for a clean SIGTERM shutdown), closes clients
 * (waiting until their sockets are closed) and removes the directory; every test must call it (afterEach/afterAll).
 * A server that exits during startup (it refused its data file, for instance) fails startServer with its output.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { waitFor } from './waitFor';

export const AGENT_BUNDLE = path.resolve(__dirname, '../../dist/orchestrate-agent.js');
export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_CHECK_RDB = '/usr/bin/redis-check-rdb';
export const HOST = '127.0.0.1';
/** How much of a server's output a test keeps for its failure messages. */
const LOG_KEEP_CHARS = 50_000;

export type ServerKind = 'agent' | 'redis';

export interface TestServer {
  kind: ServerKind;
  port: number;
  dir: string;
  /** The dump file in `dir` (dump.rdb): where SAVE writes and startup loads. */
  dumpPath: string;
  pid: number;
  /** A connected ioredis client (no retries); closed by stop(). */
  client: Redis;
  /** A new ioredis client to this server; closed by stop(). */
  connect(options?: RedisOptions): Redis;
  /** Process output so far (stdout + stderr). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  hasExited(): boolean;
  /** Kills the process (SIGKILL by default) and waits for it, keeping the directory. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kills, closes clients and removes the directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  kind?: ServerKind;
  /** Extra arguments after the defaults (later ones win), e.g. ['--save', '60 1']. */
  args?: string[];
  /** A config file passed as the first argument (redis-server style). */
  configFile?: string;
  /** Reuse a directory (restarts); otherwise a new temporary one is made. */
  dir?: string;
  port?: number;
  /** Wait until PING answers PONG (default), or only until the port accepts connections. */
  waitForPong?: boolean;
  env?: NodeJS.ProcessEnv;
  /** requirepass of the server: the startup probe and connect() authenticate with it. */
  password?: string;
  /** An RDB file copied into the directory as dump.rdb before the server starts (it loads it at startup). */
  rdbFile?: string;
  /** Start it under this open-file limit (soft and hard, util-linux's prlimit). */
  openFilesLimit?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const kind = options.kind ?? 'agent';
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), `test-${kind}-`));
  const port = options.port ?? (await freePort());
  const dumpPath = path.join(dir, 'dump.rdb');
  if (options.rdbFile !== undefined) copyFileSync(options.rdbFile, dumpPath);
  const args = [
    ...(options.configFile ? [options.configFile] : []),
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--enable-debug-command',
    'yes',
    '--daemonize',
    'no',
    ...(options.configFile ? [] : ['--save', '', '--appendonly', 'no']),
    ...(options.args ?? []),
  ];
  let command = kind === 'agent' ? [process.execPath, AGENT_BUNDLE, ...args] : [REDIS_SERVER, ...args];
  if (options.openFilesLimit !== undefined) {
    command = ['prlimit', `--nofile=${options.openFilesLimit}:${options.openFilesLimit}`, ...command];
  }
  const child: ChildProcess = spawn(command[0], command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env,
  });
  let out = '';
  const collect = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-LOG_KEEP_CHARS);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  const exitedPromise = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const clients: Redis[] = [];
  const connect = (extra: RedisOptions = {}): Redis => {
    const r = new Redis({
      host: HOST,
      port,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      password: options.password,
      ...extra,
    });
    r.on('error', () => undefined);
    clients.push(r);
    return r;
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (!exited) {
      child.kill(signal);
      await exitedPromise;
    }
  };
  const server: TestServer = {
    kind,
    port,
    dir,
    dumpPath,
    pid: child.pid ?? -1,
    client: undefined as unknown as Redis,
    connect,
    output: () => out,
    exited: exitedPromise,
    hasExited: () => exited,
    kill,
    stop: async () => {
      await Promise.all(clients.map(closeClient));
      await kill();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`${kind} exited during startup`);
        const reply = await probe(port, options.password, options.waitForPong !== false);
        return options.waitForPong === false || reply === '+PONG';
      },
      { timeoutMs: 20_000, intervalMs: 25, description: `${kind} on port ${port}` },
    );
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n--- ${kind} output ---\n${out}`);
  }
  server.client = connect();
  return server;
}

/**
 * One readiness probe on a plain socket: connects, optionally AUTHs and PINGs, and returns the last reply line
 * ('+PONG', '-LOADING ...'), or '' when only the connection was asked for. Rejects when refused or closed early.
 */
function probe(port: number, password: string | undefined, ping: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    const expected = (password !== undefined ? 1 : 0) + 1;
    let received = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('probe timed out')));
    socket.on('connect', () => {
      if (!ping) {
        socket.destroy();
        resolve('');
        return;
      }
      const auth =
        password !== undefined
          ? `*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n`
          : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (b) => {
      received += b.toString('latin1');
      const lines = received.split('\r\n');
      if (lines.length > expected) {
        socket.destroy();
        resolve(lines[expected - 1]);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed before a reply')));
  });
}

/** Disconnects an ioredis client and waits until its socket is closed, so no handle outlives the test. */
async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'wait') {
    client.disconnect();
    return;
  }
  const closed = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  await closed;
}

/** Runs redis-check-rdb on a file: whether it accepts it, and its output. */
export function checkRdbWithRedis(file: string): { ok: boolean; output: string } {
  const r = spawnSync(REDIS_CHECK_RDB, [file], { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Starts the agent and a real redis-server with the same arguments, for side-by-side comparisons. */
export async function startPair(args: string[] = []): Promise<{ agent: TestServer; redis: TestServer }> {
  const [agent, redis] = await Promise.all([
    startServer({ kind: 'agent', args }),
    startServer({ kind: 'redis', args }),
  ]);
  return { agent, redis };
}

/**
 * Sends raw bytes on a fresh socket and collects everything the server sends back until `until(text)` holds
 * or the server closes the connection. For protocol-level tests that ioredis would hide.
 */
export async function rawExchange(
  port: number,
  input: Buffer | string,
  until: (received: string) => boolean = () => false,
  timeoutMs = 5_000,
): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, HOST);
    let received = '';
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closed });
    }, timeoutMs);
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (until(received)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ received, closed });
      }
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ received, closed });
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.write(input);
  });
}

/**
 * Blocks `server`'s event loop with DEBUG SLEEP (the server needs enable-debug-command) and resolves once it
 * sleeps, seen as a PING left unanswered for 100 ms. `awake` resolves when the sleep is over. The connections it
 * opens are the server's own (closed by stop()).
 */
export async function blockEventLoop(
  server: TestServer,
  seconds: number,
): Promise<{ awake: Promise<unknown> }> {
  const awake = server.connect().call('DEBUG', 'SLEEP', String(seconds));
  const probe = server.connect();
  await waitFor(
    async () => {
      const answered = probe.ping().then(() => true);
      const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 100));
      return !(await Promise.race([answered, timedOut]));
    },
    { description: `server ${server.port} blocked by DEBUG SLEEP` },
  );
  return { awake };
}
