/**
 * Redis's own tools against the agent: redis-cli with commands (plain, --raw, -n, -3, --pipe, --scan, commands
 * on stdin, interactive through a pseudo-terminal) gives the same output as against redis-server, and
 * redis-benchmark's default test set runs cleanly.
 */
import { spawn } from 'node:child_process';
import { runProcess } from '../helpers/process';
import { startPair, type TestServer } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';

let agent: TestServer;
let redis: TestServer;

beforeAll(async () => {
  ({ agent, redis } = await startPair());
});
afterAll(async () => {
  await Promise.all([agent.stop(), redis.stop()]);
});

async function run(
  cmd: string,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string }> {
  // stdin is a pipe even without input, as when redis-cli is fed by another program.
  const r = await runProcess(cmd, args, { input: input ?? '', timeoutMs });
  return { code: r.code, out: r.output };
}

const cli = (server: TestServer, args: string[], input?: string) =>
  run('redis-cli', ['-p', String(server.port), ...args], input);

async function same(args: string[], input?: string): Promise<string> {
  const [a, r] = await Promise.all([cli(agent, args, input), cli(redis, args, input)]);
  expect({ args, code: a.code, out: a.out }).toEqual({ args, code: r.code, out: r.out });
  return a.out;
}

describe('redis-cli', () => {
  it('runs commands given as arguments, in the default, --raw and RESP3 output modes', async () => {
    await same(['FLUSHALL']);
    await same(['SET', 'greeting', 'hello world']);
    await same(['GET', 'greeting']);
    await same(['--raw', 'GET', 'greeting']);
    await same(['RPUSH', 'list', 'a', 'b', 'c']);
    await same(['LRANGE', 'list', '0', '-1']);
    await same(['--raw', 'LRANGE', 'list', '0', '-1']);
    await same(['-3', 'HSET', 'h', 'f', 'v']);
    await same(['-3', 'HGETALL', 'h']);
    await same(['-3', 'DEBUG', 'PROTOCOL', 'map']);
    await same(['-3', 'DEBUG', 'PROTOCOL', 'double']);
    await same(['INCRBYFLOAT', 'n', '1.5']);
    await same(['GET', 'nosuchkey']);
    await same(['LPUSH', 'greeting', 'x']);
    await same(['NOSUCHCOMMAND']);
    await same(['-n', '3', 'SET', 'in3', 'x']);
    await same(['-n', '3', 'DBSIZE']);
    await same(['CONFIG', 'GET', 'maxmemory']);
  });

  it('runs commands read from standard input', async () => {
    await same([], 'SET a 1\nINCR a\nGET a\nMULTI\nINCR a\nEXEC\n');
  });

  it('mass-inserts with --pipe', async () => {
    let input = '';
    for (let i = 0; i < 5000; i++) input += `*3\r\n$3\r\nSET\r\n$${`p${i}`.length}\r\np${i}\r\n$1\r\nx\r\n`;
    const [a, r] = await Promise.all([cli(agent, ['--pipe'], input), cli(redis, ['--pipe'], input)]);
    expect(a.code).toBe(0);
    expect(a.out).toContain('errors: 0, replies: 5000');
    expect(r.out).toContain('errors: 0, replies: 5000');
    expect(await agent.client.exists('p0', 'p4999')).toBe(2);
  });

  it('iterates keys with --scan --pattern', async () => {
    const [a, r] = await Promise.all([
      cli(agent, ['--scan', '--pattern', 'p1*']),
      cli(redis, ['--scan', '--pattern', 'p1*']),
    ]);
    const sorted = (s: string) => s.trim().split('\n').sort();
    expect(sorted(a.out)).toEqual(sorted(r.out));
    expect(sorted(a.out).length).toBe(1111);
  });

  it('prints INFO sections the way it prints them from Redis', async () => {
    const a = await cli(agent, ['INFO', 'keyspace']);
    expect(a.out).toMatch(/^# Keyspace\r?\ndb0:keys=\d+,expires=0,avg_ttl=0/);
  });

  it('works interactively through a pseudo-terminal (prompt, typed commands, replies)', async () => {
    // `script` gives redis-cli a terminal of a known size; we type only once the prompt is shown, because the
    // line editor discards input typed before it takes over the terminal.
    const child = spawn(
      'script',
      ['-qec', `stty cols 120 rows 40; redis-cli -p ${agent.port}`, '/dev/null'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const prompt = `127.0.0.1:${agent.port}>`;
    const promptCount = () => out.split(prompt).length - 1;
    try {
      await waitFor(() => promptCount() >= 1, { description: 'the redis-cli prompt' });
      child.stdin.write('SET tty-key 42\r');
      await waitFor(() => out.includes('OK') && promptCount() >= 2, { description: 'OK' });
      child.stdin.write('GET tty-key\r');
      await waitFor(() => out.includes('"42"') && promptCount() >= 3, { description: 'the value' });
      child.stdin.write('quit\r');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('redis-benchmark', () => {
  it('runs the whole default test set cleanly, and the server keeps serving afterwards', async () => {
    const res = await run(
      'redis-benchmark',
      ['-p', String(agent.port), '-n', '2000', '-c', '10', '-q', '--csv'],
      undefined,
      120_000,
    );
    expect(res.code).toBe(0);
    const rows = res.out
      .split('\n')
      .filter((l) => l.startsWith('"') && !l.startsWith('"test"'))
      .map((l) => l.split(',').map((c) => c.replaceAll('"', '')));
    const names = rows.map((r) => r[0]);
    for (const expected of [
      'PING_INLINE',
      'PING_MBULK',
      'SET',
      'GET',
      'INCR',
      'LPUSH',
      'RPUSH',
      'LPOP',
      'RPOP',
      'SADD',
      'HSET',
      'SPOP',
      'ZADD',
      'ZPOPMIN',
      'LRANGE_100 (first 100 elements)',
      'LRANGE_600 (first 600 elements)',
      'MSET (10 keys)',
    ]) {
      expect(names).toContain(expected);
    }
    for (const row of rows) expect(Number(row[1])).toBeGreaterThan(0);
    expect(res.out).not.toMatch(/error/i);
    expect(await agent.client.ping()).toBe('PONG');
    expect(await agent.client.llen('mylist')).toBeGreaterThan(0);
  });
});
