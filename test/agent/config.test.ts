/**
 * Configuration: CONFIG GET/SET/RESETSTAT/REWRITE compared with real redis-server, every Redis 7.0 parameter
 * reported with Redis's default, redis-server compatible startup errors (file, line, directive; exit code 1),
 * and CONFIG REWRITE keeping the file's comments and layout while writing atomically.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { runProcess } from '../helpers/process';
import { AGENT_BUNDLE, startServer, type TestServer } from '../helpers/servers';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite({ flushEachTest: false });

/** Settings the test harness passes on the command line (they differ from defaults on purpose). */
const HARNESS_SET = new Set([
  'port',
  'bind',
  'dir',
  'enable-debug-command',
  'daemonize',
  'save',
  'appendonly',
]);

describe('CONFIG GET', () => {
  it('reports every Redis 7.0 parameter, aliases included, with the same values', async () => {
    const all = async (c: TestServer) => {
      const flat = (await c.client.config('GET', '*')) as string[];
      const m = new Map<string, string>();
      for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
      return m;
    };
    const [a, r] = await Promise.all([all(t.agent), all(t.redis)]);
    expect([...a.keys()].sort()).toEqual([...r.keys()].sort());
    for (const [name, value] of r) {
      if (HARNESS_SET.has(name)) continue;
      expect({ name, value: a.get(name) }).toEqual({ name, value });
    }
  });

  it('takes several glob patterns, case-insensitively, and lists each parameter once', async () => {
    for (const args of [
      ['maxmemory'],
      ['MAXMEMORY'],
      ['maxmemory-*'],
      ['MaxMem*'],
      ['maxmemory', 'maxmemory-policy', 'maxmemory'],
      ['*max*entries*'],
      ['slave-read-only'],
      ['nosuchthing'],
      ['timeout', 'tcp-keepalive', 'hz', 'notify-keyspace-events'],
    ]) {
      await t.same({ args: ['CONFIG', 'GET', ...args], compare: 'pairs' });
    }
    await t.same('CONFIG GET', 'CONFIG', 'CONFIG FOO');
  });
});

describe('CONFIG SET', () => {
  afterEach(async () => {
    await t.same('CONFIG SET maxmemory 0 maxmemory-policy noeviction hz 10 timeout 0');
  });

  it('validates like Redis: unknown, immutable, protected, duplicate, bad values, odd argument count', async () => {
    await t.same(
      'CONFIG SET foo bar',
      'CONFIG SET maxmemory 1 foo bar',
      'CONFIG SET daemonize yes',
      'CONFIG SET dir /tmp',
      'CONFIG SET dbfilename x.rdb',
      'CONFIG SET maxmemory 10mb maxmemory 20mb',
      'CONFIG SET maxmemory abc',
      'CONFIG SET maxmemory -1',
      'CONFIG SET maxmemory-policy foo',
      'CONFIG SET appendfsync sometimes',
      'CONFIG SET loglevel nothing',
      'CONFIG SET maxclients 0',
      'CONFIG SET port abc',
      'CONFIG SET port 70000',
      'CONFIG SET timeout 1.5',
      'CONFIG SET slowlog-log-slower-than -2',
      'CONFIG SET protected-mode maybe',
      'CONFIG SET save 1',
      'CONFIG SET notify-keyspace-events Z',
      'CONFIG SET client-output-buffer-limit nope',
      'CONFIG SET client-output-buffer-limit "normal 1 2"',
      'CONFIG SET proto-max-bulk-len 100',
      'CONFIG SET a b c',
      'CONFIG SET maxmemory',
    );
  });

  it('sets several parameters atomically: nothing changes when one of them is invalid', async () => {
    await t.same(
      'CONFIG SET maxmemory 10mb maxmemory-policy nosuch',
      'CONFIG GET maxmemory',
      'CONFIG SET maxmemory 10mb maxmemory-policy allkeys-lru hz 1000',
      { args: 'CONFIG GET maxmemory*', compare: 'pairs' },
      'CONFIG GET hz',
    );
  });

  it('canonicalises values the way Redis prints them', async () => {
    await t.same(
      'CONFIG SET maxmemory 1gb',
      'CONFIG GET maxmemory',
      'CONFIG SET maxmemory 100k',
      'CONFIG GET maxmemory',
      ['CONFIG', 'SET', 'save', '100 10 200 20'],
      'CONFIG GET save',
      ['CONFIG', 'SET', 'save', ''],
      'CONFIG GET save',
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 2mb 3 replica 10mb 5mb 30'],
      'CONFIG GET client-output-buffer-limit',
      'CONFIG SET slave-read-only no',
      'CONFIG GET replica-read-only',
      'CONFIG SET replica-read-only yes',
      'CONFIG SET appendfsync ALWAYS',
      'CONFIG GET appendfsync',
      'CONFIG SET appendfsync everysec',
      'CONFIG SET hash-max-listpack-value 1kb',
      'CONFIG GET hash-max-ziplist-value',
      'CONFIG SET hash-max-listpack-value 64',
      'CONFIG SET latency-tracking-info-percentiles "50 99.5"',
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99.5'],
      'CONFIG GET latency-tracking-info-percentiles',
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'],
    );
  });
});

describe('CONFIG SET port and bind', () => {
  it('moves the listener at runtime, keeps established connections, and refuses an address in use like Redis', async () => {
    const { freePort } = await import('../helpers/servers');
    const server = await startServer();
    try {
      const c = server.client;
      const taken = t.redis.port;
      await expect(c.config('SET', 'port', String(taken))).rejects.toThrow(
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.",
      );
      expect(await c.config('GET', 'port')).toEqual(['port', String(server.port)]);
      await expect(c.config('SET', 'bind', '10.255.255.1')).rejects.toThrow(
        "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.",
      );
      const next = await freePort();
      expect(await c.config('SET', 'port', String(next))).toBe('OK');
      expect(await c.ping()).toBe('PONG');
      const moved = new Redis({ host: '127.0.0.1', port: next, retryStrategy: () => null });
      try {
        expect(await moved.config('GET', 'port')).toEqual(['port', String(next)]);
      } finally {
        moved.disconnect();
      }
      const old = new Redis({
        host: '127.0.0.1',
        port: server.port,
        retryStrategy: () => null,
        lazyConnect: true,
      });
      old.on('error', () => undefined);
      await expect(old.connect()).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});

describe('CONFIG RESETSTAT', () => {
  it('clears command and error statistics', async () => {
    const c = t.agent.client;
    await c.get('x');
    await c.call('NOSUCH').catch(() => undefined);
    expect(await c.info('commandstats')).toContain('cmdstat_get:');
    expect(await c.config('RESETSTAT')).toBe('OK');
    const stats = await c.info('commandstats');
    expect(stats).not.toContain('cmdstat_get:');
    expect(await c.info('errorstats')).toBe('# Errorstats\r\n');
    expect(await c.info('stats')).toMatch(/total_error_replies:0\r\n/);
  });
});

describe('CONFIG REWRITE', () => {
  let dir: string;
  let server: TestServer;
  const original = [
    '# Agent configuration (hand written)',
    'port PORT',
    'save 60 1',
    'save 30 2',
    '',
    '# replication',
    'slave-read-only no',
    'maxmemory 1gb',
    '   # indented comment kept',
    'include INCLUDED',
    '# tail comment',
    '',
  ].join('\n');

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rewrite-'));
    writeFileSync(path.join(dir, 'included.conf'), 'tcp-keepalive 100\n');
    const port = await (await import('../helpers/servers')).freePort();
    const file = path.join(dir, 'agent.conf');
    writeFileSync(
      file,
      original.replace('PORT', String(port)).replace('INCLUDED', path.join(dir, 'included.conf')),
    );
    chmodSync(file, 0o640);
    server = await startServer({
      kind: 'agent',
      configFile: file,
      port,
      dir,
      args: ['--save', '', '--appendonly', 'no'],
    });
  });
  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rewrites changed values in place, keeps comments and includes, appends new ones, same file mode', async () => {
    const c = server.client;
    await c.config('SET', 'maxmemory', '100mb');
    await c.config('SET', 'replica-read-only', 'yes');
    await c.config('SET', 'save', '100 10 200 20');
    await c.config('SET', 'requirepass', 'p "w');
    await c.call('AUTH', 'p "w');
    await c.config('SET', 'hz', '20');
    expect(await c.config('REWRITE')).toBe('OK');
    const file = path.join(dir, 'agent.conf');
    const text = readFileSync(file, 'latin1');
    const lines = text.split('\n');
    expect(lines[0]).toBe('# Agent configuration (hand written)');
    expect(lines).toContain('save 100 10');
    expect(lines).toContain('save 200 20');
    expect(lines).not.toContain('save 60 1');
    expect(lines).toContain('replica-read-only yes');
    expect(lines).not.toContain('slave-read-only no');
    expect(lines).toContain('maxmemory 100mb');
    expect(lines).toContain('   # indented comment kept');
    expect(lines).toContain(`include ${path.join(dir, 'included.conf')}`);
    expect(lines.indexOf('maxmemory 100mb')).toBeLessThan(lines.indexOf('# tail comment'));
    expect(lines).toContain('# Generated by CONFIG REWRITE');
    expect(lines).toContain('hz 20');
    expect(lines).toContain('requirepass "p \\"w"');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).sort()).toEqual(['agent.conf', 'included.conf']);
    // The rewritten file starts a server with the same settings.
    await server.stop();
    const again = await startServer({
      kind: 'agent',
      configFile: file,
      port: server.port,
      password: 'p "w',
      dir,
    });
    try {
      expect(await again.client.config('GET', 'maxmemory')).toEqual(['maxmemory', String(100 * 1024 * 1024)]);
      expect(await again.client.config('GET', 'hz')).toEqual(['hz', '20']);
    } finally {
      await again.stop();
    }
  });

  it('a second rewrite with no change leaves the file identical', async () => {
    await server.client.config('SET', 'maxmemory', '5mb');
    await server.client.config('REWRITE');
    const first = readFileSync(path.join(dir, 'agent.conf'), 'latin1');
    await server.client.config('REWRITE');
    expect(readFileSync(path.join(dir, 'agent.conf'), 'latin1')).toBe(first);
  });

  it('without a config file it fails like Redis', async () => {
    await t.same('CONFIG REWRITE');
  });
});

/** Runs a command to completion, collecting its output. */
async function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number | null; out: string }> {
  const r = await runProcess(cmd, args, { cwd, timeoutMs: 10_000 });
  return { code: r.code, out: r.output };
}

describe('startup errors (redis-server compatible)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'badconf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      'an unknown directive',
      'port 7999\nfoo bar\n',
      2,
      "'foo bar'",
      'Bad directive or wrong number of arguments',
    ],
    ['a bad memory value', 'maxmemory abc\n', 1, "'maxmemory abc'", 'argument must be a memory value'],
    ['bad save parameters', 'save 1\n', 1, "'save 1'", 'Invalid save parameters'],
    ['a missing argument', 'port\n', 1, "'port'", 'wrong number of arguments'],
    ['too many arguments', 'port 1 2\n', 1, "'port 1 2'", 'wrong number of arguments'],
    ['unbalanced quotes', 'port "1\n', 1, "'port \"1'", 'Unbalanced quotes in configuration line'],
    [
      'an out of range integer',
      '\n\nport 70000\n',
      3,
      "'port 70000'",
      'argument must be between 0 and 65535 inclusive',
    ],
    [
      'a missing dir',
      'dir /nonexistent-dir-for-test\n',
      1,
      "'dir /nonexistent-dir-for-test'",
      'No such file or directory',
    ],
  ])(
    '%s stops startup with the file, line and directive, exit code 1',
    async (_name, text, line, shown, reason) => {
      const file = path.join(dir, `bad-${line}-${Math.random().toString(36).slice(2)}.conf`);
      writeFileSync(file, text);
      const res = await run(process.execPath, [AGENT_BUNDLE, file]);
      expect(res.code).toBe(1);
      expect(res.out).toContain('*** FATAL CONFIG FILE ERROR');
      expect(res.out).toContain(`Reading the configuration file ${file}, at line ${line}`);
      expect(res.out).toContain(`>>> ${shown}`);
      expect(res.out).toContain(reason);
      // Redis refuses the same file the same way.
      const redis = await run('/usr/bin/redis-server', [file]);
      expect(redis.code).toBe(1);
      expect(redis.out).toContain(`>>> ${shown}`);
      expect(redis.out).toContain(reason);
    },
  );

  it('a bad command-line option counts as a line after the file, like redis-server', async () => {
    const res = await run(process.execPath, [AGENT_BUNDLE, '--port', 'abc']);
    expect(res.code).toBe(1);
    expect(res.out).toContain(`>>> 'port "abc"'`);
    expect(res.out).toContain("argument couldn't be parsed into an integer");
    const unknown = await run(process.execPath, [AGENT_BUNDLE, '--foo', '1']);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain(`>>> 'foo "1"'`);
  });

  it('a missing config file or include is fatal', async () => {
    const res = await run(process.execPath, [AGENT_BUNDLE, '/nonexistent.conf']);
    expect(res.code).toBe(1);
    expect(res.out).toContain(
      "Fatal error, can't open config file '/nonexistent.conf': No such file or directory",
    );
    const file = path.join(dir, 'includes-missing.conf');
    writeFileSync(file, 'include /nonexistent2.conf\n');
    const inc = await run(process.execPath, [AGENT_BUNDLE, file]);
    expect(inc.code).toBe(1);
    expect(inc.out).toContain("can't open config file '/nonexistent2.conf'");
  });
});
