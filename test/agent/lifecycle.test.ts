/**
 * The agent as a process, the way operators and the orchestrator drive it: log lines in redis-server's format,
 * clean shutdown on SIGTERM/SIGINT and SHUTDOWN, daemonize with pidfile, logfile, idle client timeout,
 * maxclients, protected mode with Redis's DENIED text.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { AGENT_BUNDLE, HOST, freePort, rawExchange, startServer, type TestServer } from '../helpers/servers';
import { runProcess } from '../helpers/process';
import { waitFor } from '../helpers/waitFor';

/** `count` connections to `port`, open (the caller destroys them). */
async function openConnections(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = net.connect(port, HOST);
    sockets.push(s);
    await new Promise((r) => s.once('connect', r));
  }
  return sockets;
}

const LOG_LINE = /^\d+:[MSC] \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] /;

describe('logging and signals', () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  it('logs startup in redis-server format: version, port and PID first, then Ready to accept connections', async () => {
    server = await startServer();
    const lines = server.output().trim().split('\n');
    for (const line of lines) expect(line).toMatch(LOG_LINE);
    const start = lines.findIndex((l) => l.includes(`PID: ${server.pid}`));
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines[start]).toContain(`port=${server.port}`);
    expect(lines[start]).toMatch(/version=\d+\.\d+\.\d+/);
    expect(lines.findIndex((l) => l.includes('Ready to accept connections'))).toBeGreaterThan(start);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s shuts down cleanly with exit code 0', async (signal) => {
    server = await startServer();
    await server.kill(signal);
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain(`Received ${signal} scheduling shutdown...`);
    expect(server.output()).toContain('ready to exit, bye bye...');
  });

  it('SIGTERM with save points writes the dump before exiting, like redis-server', async () => {
    server = await startServer({ args: ['--save', '3600 1'] });
    await server.client.set('persisted', 'yes');
    await server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(path.join(server.dir, 'dump.rdb'))).toBe(true);
  });

  it('SHUTDOWN NOSAVE exits without saving; the client sees the connection close', async () => {
    server = await startServer({ args: ['--save', '3600 1'] });
    await server.client.set('k', 'v');
    const c = server.connect();
    await expect(c.call('SHUTDOWN', 'NOSAVE')).rejects.toThrow();
    expect(await server.exited).toBe(0);
    expect(existsSync(path.join(server.dir, 'dump.rdb'))).toBe(false);
    expect(server.output()).toContain('User requested shutdown...');
  });

  it('SHUTDOWN argument errors match Redis', async () => {
    server = await startServer();
    const redis = await startServer({ kind: 'redis' });
    try {
      for (const args of [['FOO'], ['SAVE', 'NOSAVE'], ['ABORT'], ['ABORT', 'NOW']]) {
        const [a, r] = await Promise.all([
          server.client.call('SHUTDOWN', ...args).catch((e: Error) => e.message),
          redis.client.call('SHUTDOWN', ...args).catch((e: Error) => e.message),
        ]);
        expect({ args, reply: a }).toEqual({ args, reply: r });
      }
    } finally {
      await redis.stop();
    }
  });
});

describe('daemonize, pidfile and logfile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'daemon-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('daemonize yes returns once the server is ready, writes the pidfile and logs to the logfile', async () => {
    const port = await freePort();
    const pidfile = path.join(dir, 'agent.pid');
    const logfile = path.join(dir, 'agent.log');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          AGENT_BUNDLE,
          '--port',
          String(port),
          '--bind',
          HOST,
          '--daemonize',
          'yes',
          '--pidfile',
          pidfile,
          '--logfile',
          logfile,
          '--dir',
          dir,
          '--save',
          '',
        ],
        { stdio: 'ignore' },
      );
      child.on('exit', resolve);
    });
    expect(code).toBe(0);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    expect(pid).toBeGreaterThan(0);
    const client = new Redis({ host: HOST, port, retryStrategy: () => null });
    try {
      expect(await client.ping()).toBe('PONG');
      expect(readFileSync(logfile, 'utf8')).toContain(`PID: ${pid}`);
      const info = await client.info('server');
      expect(info).toContain(`process_id:${pid}`);
    } finally {
      client.disconnect();
      process.kill(pid, 'SIGTERM');
    }
    await waitFor(() => !existsSync(pidfile), { description: 'the pidfile to be removed at shutdown' });
    expect(readFileSync(logfile, 'utf8')).toContain('bye bye');
  });

  it('daemonize with a bad configuration exits non-zero with the error', async () => {
    const res = await runProcess(process.execPath, [AGENT_BUNDLE, '--daemonize', 'yes', '--port', 'nope']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("argument couldn't be parsed into an integer");
  });
});

describe('connection limits and timeouts', () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  it('timeout closes idle clients but not subscribers or blocked clients', async () => {
    server = await startServer({ args: ['--timeout', '1'] });
    const idle = server.connect();
    const subscriber = server.connect();
    const blocked = server.connect();
    await subscriber.subscribe('ch');
    await idle.ping();
    const blockedId = String(await blocked.client('ID'));
    const pop = blocked.blpop('never', 0);
    let idleClosed = false;
    idle.on('end', () => (idleClosed = true));
    await waitFor(() => idleClosed, { timeoutMs: 5000, description: 'the idle client to be closed' });
    const probe = server.connect();
    expect(await probe.pubsub('NUMSUB', 'ch')).toEqual(['ch', 1]);
    expect(await probe.call('CLIENT', 'LIST', 'ID', blockedId)).toContain('flags=b');
    await probe.lpush('never', 'x');
    expect(await pop).toEqual(['never', 'x']);
  });

  it('maxclients refuses extra connections with Redis error text', async () => {
    server = await startServer({ args: ['--maxclients', '3'] });
    const extra = await openConnections(server.port, 2);
    try {
      await waitFor(
        async () => ((await server.client.client('LIST')) as string).trim().split('\n').length === 3,
      );
      // Nothing is sent: the refusal comes on accept, and input left unread would make the close a reset.
      const res = await rawExchange(server.port, '');
      expect(res).toEqual({ received: '-ERR max number of clients reached\r\n', closed: true });
      expect(await server.client.info('stats')).toMatch(/rejected_connections:1\r\n/);
    } finally {
      for (const s of extra) s.destroy();
    }
  });

  it.each(['agent', 'redis'] as const)(
    '%s: maxclients is lowered to fit the open-file limit, and CONFIG SET refuses more than it holds',
    async (kind) => {
      server = await startServer({ kind, openFilesLimit: 100 });
      // 100 descriptors, 32 kept for the server itself.
      expect(server.output()).toContain(
        'You requested maxclients of 10000 requiring at least 10032 max file descriptors.',
      );
      expect(server.output()).toContain(
        "Current maximum open files is 100. maxclients has been reduced to 68 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
      );
      expect(await server.client.config('GET', 'maxclients')).toEqual(['maxclients', '68']);
      await expect(server.client.config('SET', 'maxclients', '69')).rejects.toThrow(
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with 68",
      );
      expect(await server.client.config('SET', 'maxclients', '68')).toBe('OK');
      const extra = await openConnections(server.port, 67);
      try {
        await waitFor(async () =>
          server.client.info('clients').then((i) => /connected_clients:68\r\n/.test(i)),
        );
        const res = await rawExchange(server.port, ''); // unread input would make the close a reset
        expect(res).toEqual({ received: '-ERR max number of clients reached\r\n', closed: true });
      } finally {
        for (const s of extra) s.destroy();
      }
    },
  );

  it('refuses to start when the open-file limit leaves no descriptor for a client', async () => {
    const r = await runProcess('prlimit', [
      '--nofile=32:32',
      process.execPath,
      AGENT_BUNDLE,
      '--port',
      String(await freePort()),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      "Your current 'ulimit -n' of 32 is not enough for the server to start. Please increase your open file limit to at least 33. Exiting.",
    );
  });

  it('tcp-keepalive is applied to client sockets (setting accepted and reported)', async () => {
    server = await startServer({ args: ['--tcp-keepalive', '60'] });
    expect(await server.client.config('GET', 'tcp-keepalive')).toEqual(['tcp-keepalive', '60']);
    expect(await server.client.ping()).toBe('PONG');
  });
});

describe('protected mode', () => {
  /**
   * Runs the agent and redis-server in a network namespace of their own whose loopback also carries 10.99.0.1,
   * so a client can connect from a non-loopback address without any traffic leaving the test's namespace.
   */
  it('with no password, non-loopback clients get Redis DENIED text even with bind; loopback clients are served', async () => {
    const script = [
      'ip link set lo up',
      'ip addr add 10.99.0.1/32 dev lo',
      `${process.execPath} ${AGENT_BUNDLE} --port 7401 --save "" --dir /tmp >/dev/null 2>&1 & A=$!`,
      '/usr/bin/redis-server --port 7402 --save "" --dir /tmp >/dev/null 2>&1 & R=$!',
      `${process.execPath} ${AGENT_BUNDLE} --port 7403 --bind 0.0.0.0 --save "" --dir /tmp >/dev/null 2>&1 & B=$!`,
      'for i in $(seq 1 100); do redis-cli -p 7401 ping >/dev/null 2>&1 && redis-cli -p 7402 ping >/dev/null 2>&1 && redis-cli -p 7403 ping >/dev/null 2>&1 && break; sleep 0.1; done',
      'echo "agent-external: $(redis-cli -h 10.99.0.1 -p 7401 ping)"',
      'echo "redis-external: $(redis-cli -h 10.99.0.1 -p 7402 ping)"',
      'echo "agent-loopback: $(redis-cli -h 127.0.0.1 -p 7401 ping)"',
      'echo "agent-bound-external: $(redis-cli -h 10.99.0.1 -p 7403 ping)"',
      'kill $A $R $B',
    ].join('\n');
    const { output: out } = await runProcess('unshare', ['--net', 'sh', '-c', script], { timeoutMs: 20_000 });
    const line = (label: string) =>
      out
        .split('\n')
        .find((l) => l.startsWith(label))
        ?.slice(label.length + 2);
    expect(line('agent-external')).toMatch(/^DENIED Redis is running in protected mode/);
    expect(line('agent-external')).toBe(line('redis-external'));
    expect(line('agent-loopback')).toBe('PONG');
    expect(line('agent-bound-external')).toBe(line('redis-external'));
  });
});
