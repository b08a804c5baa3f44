/**
 * Server commands compared with real redis-server where their replies are deterministic, and checked for shape
 * where they report process state: INFO (sections, field names), COMMAND, TIME, DEBUG, MEMORY, SLOWLOG,
 * LATENCY, MONITOR, scripting answers, errors worded as Redis.
 */
import net from 'node:net';
import { HOST } from '../helpers/servers';
import { waitFor } from '../helpers/waitFor';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite({ flushEachTest: false });

/** INFO text -> section name -> field names. */
function infoFields(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) {
      current = line.slice(2);
      sections.set(current, []);
    } else if (line.includes(':')) {
      sections.get(current)!.push(line.slice(0, line.indexOf(':')));
    }
  }
  return sections;
}

describe('INFO', () => {
  it('has Redis 7.0 sections in Redis order, and every Redis field of the core sections', async () => {
    await t.agent.client.set('k', 'v');
    await t.redis.client.set('k', 'v');
    const [a, r] = await Promise.all([t.agent.client.info(), t.redis.client.info()]);
    const fa = infoFields(a);
    const fr = infoFields(r);
    expect([...fa.keys()]).toEqual([...fr.keys()]);
    for (const section of ['Server', 'Clients', 'Memory', 'Stats', 'CPU', 'Cluster', 'Keyspace']) {
      const missing = fr.get(section)!.filter((f) => !fa.get(section)!.includes(f));
      expect({ section, missing }).toEqual({ section, missing: [] });
    }
    expect(a).toContain('agent_version:');
    expect(a).toMatch(/\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n/);
  });

  it('selects sections: one, several, all, everything, default, unknown', async () => {
    const c = t.agent.client;
    const names = async (...args: string[]) => [
      ...infoFields((await c.call('INFO', ...args)) as string).keys(),
    ];
    const rnames = async (...args: string[]) => [
      ...infoFields((await t.redis.client.call('INFO', ...args)) as string).keys(),
    ];
    for (const args of [
      ['server'],
      ['CLIENTS', 'memory'],
      ['default'],
      ['all'],
      ['everything'],
      ['nosuch'],
      ['commandstats'],
    ]) {
      expect({ args, sections: await names(...args) }).toEqual({ args, sections: await rnames(...args) });
    }
    await t.same('INFO nosuch');
  });

  it('counts commands, errors by kind, keyspace hits and misses', async () => {
    const c = t.agent.connect();
    await c.config('RESETSTAT');
    await c.set('hit', '1');
    await c.get('hit');
    await c.get('miss');
    await c.call('NOSUCHCMD').catch(() => undefined);
    await c.lpush('hit', 'x').catch(() => undefined);
    const stats = await c.info('stats');
    expect(stats).toMatch(/keyspace_hits:1\r\n/);
    expect(stats).toMatch(/keyspace_misses:1\r\n/);
    expect(stats).toMatch(/total_error_replies:2\r\n/);
    const errors = await c.info('errorstats');
    expect(errors).toContain('errorstat_ERR:count=1');
    expect(errors).toContain('errorstat_WRONGTYPE:count=1');
    const cmds = await c.info('commandstats');
    expect(cmds).toMatch(/cmdstat_get:calls=2,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0/);
    expect(cmds).toMatch(
      /cmdstat_lpush:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1/,
    );
  });

  it('reports used_memory growing with the dataset and shrinking when it is deleted', async () => {
    const c = t.agent.connect();
    const used = async () => Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
    await c.flushall();
    const before = await used();
    await c.call('DEBUG', 'POPULATE', '10000', 'mem', '100');
    const after = await used();
    expect(after - before).toBeGreaterThan(10000 * 100);
    expect(after - before).toBeLessThan(10000 * 400);
    await c.flushall();
    expect(await used()).toBeLessThan(before + 100_000);
    expect(await c.info('memory')).toMatch(/used_memory_rss:\d+\r\n/);
  });
});

describe('COMMAND', () => {
  it('INFO, GETKEYS, LIST filters and errors match Redis', async () => {
    await t.same(
      'COMMAND INFO get nosuch',
      'COMMAND INFO config|get',
      'COMMAND GETKEYS set a b',
      'COMMAND GETKEYS mset a 1 b 2',
      'COMMAND GETKEYS ping x',
      'COMMAND GETKEYS nosuch x',
      'COMMAND GETKEYS get a b',
      'COMMAND GETKEYS',
      'COMMAND COUNT x',
      'COMMAND FOO',
      'COMMAND DOCS nosuch',
      { args: 'COMMAND LIST FILTERBY PATTERN cl*', compare: 'sorted' },
      { args: 'COMMAND LIST FILTERBY ACLCAT pubsub', compare: 'sorted' },
      'COMMAND LIST FILTERBY MODULE foo',
      'COMMAND LIST FILTERBY nope x',
    );
  });

  it('lists every command redis-server has, and COUNT agrees with the list', async () => {
    const a = (await t.agent.client.call('COMMAND', 'LIST')) as string[];
    const count = await t.agent.client.call('COMMAND', 'COUNT');
    expect(a.filter((n) => !n.includes('|')).length).toBe(count);
    const own = new Set(a);
    for (const name of [
      'get',
      'set',
      'client|list',
      'config|set',
      'multi',
      'subscribe',
      'info',
      'debug',
      'memory|usage',
    ]) {
      expect(own.has(name)).toBe(true);
    }
  });

  it('DOCS returns a map with summary/group per command', async () => {
    const docs = (await t.agent.client.call('COMMAND', 'DOCS', 'client')) as unknown[];
    expect(docs[0]).toBe('client');
    expect(docs[1]).toEqual(expect.arrayContaining(['group', 'subcommands']));
  });
});

describe('TIME, DEBUG, MEMORY, scripting', () => {
  it('TIME returns seconds and microseconds close to the system clock', async () => {
    const [secs, micros] = (await t.agent.client.time()) as unknown as [string, string];
    expect(Math.abs(Number(secs) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(micros)).toBeLessThan(1_000_000);
    await t.same('TIME x');
  });

  it('DEBUG errors and simple subcommands match Redis', async () => {
    await t.same(
      'DEBUG',
      'DEBUG NOSUCH',
      'DEBUG OBJECT nosuch',
      'DEBUG SLEEP 0',
      'DEBUG SLEEP x',
      'DEBUG LOG hello',
      'FLUSHALL',
      'DEBUG POPULATE 3',
      'DEBUG POPULATE 2 pre 10',
      'MGET key:0 key:1 key:2 pre:0 pre:1',
      'DEBUG POPULATE 2 short 3',
      'MGET short:0 short:1',
      'DEBUG POPULATE x',
      'DBSIZE',
      'FLUSHALL',
    );
  });

  it('DEBUG OBJECT reports the encoding and idle time of a key', async () => {
    await t.agent.client.set('dobj', 'abc');
    const line = (await t.agent.client.call('DEBUG', 'OBJECT', 'dobj')) as string;
    expect(line).toMatch(
      /^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/,
    );
  });

  it('DEBUG SLEEP blocks the server for the given time', async () => {
    const started = Date.now();
    await t.agent.client.call('DEBUG', 'SLEEP', '0.3');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('DEBUG is refused unless enable-debug-command allows it', async () => {
    const { startPair } = await import('../helpers/servers');
    const { agent, redis } = await startPair(['--enable-debug-command', 'no']);
    try {
      const [a, r] = await Promise.all([
        agent.client.call('DEBUG', 'SLEEP', '0').catch((e: Error) => e.message),
        redis.client.call('DEBUG', 'SLEEP', '0').catch((e: Error) => e.message),
      ]);
      expect(a).toBe(r);
    } finally {
      await Promise.all([agent.stop(), redis.stop()]);
    }
  });

  it('MEMORY USAGE and STATS', async () => {
    await t.same(
      'MEMORY',
      'MEMORY FOO',
      'MEMORY USAGE nosuch',
      'MEMORY USAGE x SAMPLES',
      'MEMORY USAGE x FOO 1',
    );
    await t.agent.client.set('mu', 'x'.repeat(1000));
    const usage = (await t.agent.client.call('MEMORY', 'USAGE', 'mu')) as number;
    expect(usage).toBeGreaterThan(1000);
    expect(usage).toBeLessThan(1300);
    const stats = (await t.agent.client.call('MEMORY', 'STATS')) as unknown[];
    const rstats = (await t.redis.client.call('MEMORY', 'STATS')) as unknown[];
    const keys = (arr: unknown[]) =>
      arr.filter((_, i) => i % 2 === 0).filter((k) => !String(k).startsWith('db.'));
    expect(keys(stats)).toEqual(keys(rstats));
    expect(await t.agent.client.call('MEMORY', 'DOCTOR')).toEqual(expect.any(String));
  });

  it('scripting: EVAL is refused clearly, EVALSHA finds no script, FLUSH and EXISTS answer like Redis', async () => {
    await t.same(
      'EVALSHA abc 0',
      'EVALSHA abc 5',
      'FCALL f 0',
      'SCRIPT FLUSH',
      'SCRIPT FLUSH ASYNC',
      'SCRIPT FLUSH nope',
      'SCRIPT EXISTS a b',
      'SCRIPT KILL',
      'FUNCTION FLUSH',
      'FUNCTION FLUSH SYNC',
      'FUNCTION LIST',
      'FUNCTION KILL',
    );
    await expect(t.agent.client.eval('return 1', 0)).rejects.toThrow(/scripting is not supported/);
  });
});

describe('SLOWLOG and LATENCY', () => {
  it('SLOWLOG records commands over the threshold with their arguments, newest first', async () => {
    const c = t.agent.connect();
    await c.config('SET', 'slowlog-log-slower-than', '0');
    await c.call('SLOWLOG', 'RESET');
    await c.set('slow-key', 'v');
    await c.call('DEBUG', 'SLEEP', '0.05');
    await c.config('SET', 'slowlog-log-slower-than', '10000');
    const entries = (await c.call('SLOWLOG', 'GET', '-1')) as Array<
      [number, number, number, string[], string, string]
    >;
    const sleep = entries.find((e) => e[3][0] === 'DEBUG')!;
    expect(sleep[2]).toBeGreaterThanOrEqual(49_000);
    expect(sleep[3]).toEqual(['DEBUG', 'SLEEP', '0.05']);
    expect(sleep[4]).toMatch(/^127\.0\.0\.1:\d+$/);
    const set = entries.find((e) => e[3][0] === 'set')!;
    expect(set[3]).toEqual(['set', 'slow-key', 'v']);
    expect(entries.indexOf(sleep)).toBeLessThan(entries.indexOf(set));
    expect(await c.call('SLOWLOG', 'LEN')).toBe(entries.length);
    expect(((await c.call('SLOWLOG', 'GET', '1')) as unknown[]).length).toBe(1);
    await c.call('SLOWLOG', 'RESET');
    await t.same('SLOWLOG GET -2', 'SLOWLOG GET x', 'SLOWLOG FOO', 'SLOWLOG LEN x');
  });

  it('SLOWLOG truncates long arguments and argument lists like Redis', async () => {
    for (const s of [t.agent, t.redis]) {
      await s.client.config('SET', 'slowlog-log-slower-than', '0');
      await s.client.call('SLOWLOG', 'RESET');
      await s.client.call('ECHO', 'y'.repeat(200));
      await s.client.call('MSET', ...Array.from({ length: 40 }, (_, i) => `k${i}`));
      await s.client.config('SET', 'slowlog-log-slower-than', '10000');
    }
    const args = async (s: typeof t.agent) =>
      ((await s.client.call('SLOWLOG', 'GET', '-1')) as Array<[number, number, number, string[]]>)
        .map((e) => e[3])
        .filter((a) => a[0] === 'ECHO' || a[0] === 'MSET');
    expect(await args(t.agent)).toEqual(await args(t.redis));
  });

  it('LATENCY LATEST/HISTORY record events over latency-monitor-threshold', async () => {
    const c = t.agent.connect();
    await c.call('LATENCY', 'RESET');
    await c.config('SET', 'latency-monitor-threshold', '20');
    await c.call('DEBUG', 'SLEEP', '0.05');
    await c.config('SET', 'latency-monitor-threshold', '0');
    const latest = (await c.call('LATENCY', 'LATEST')) as Array<[string, number, number, number]>;
    expect(latest.length).toBe(1);
    expect(latest[0][0]).toBe('command');
    expect(latest[0][2]).toBeGreaterThanOrEqual(49);
    const history = (await c.call('LATENCY', 'HISTORY', 'command')) as Array<[number, number]>;
    expect(history.length).toBe(1);
    expect(await c.call('LATENCY', 'RESET')).toBe(1);
    await t.same('LATENCY LATEST', 'LATENCY HISTORY command', 'LATENCY RESET', 'LATENCY FOO', 'LATENCY HELP');
  });
});

describe('MONITOR', () => {
  it("streams other clients' commands in Redis's format", async () => {
    const lines: string[][] = [];
    for (const server of [t.agent, t.redis]) {
      const socket = net.connect(server.port, HOST);
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.write('MONITOR\r\n');
      await waitFor(() => text.startsWith('+OK\r\n'));
      const c = server.connect();
      await c.select(2);
      await c.set('mon', 'a "quoted"\nvalue');
      await c.call('AUTH', 'secret-password').catch(() => undefined);
      await c.get('mon');
      await waitFor(() => text.includes('"get"'));
      socket.destroy();
      lines.push(
        text
          .split('\r\n')
          .slice(1)
          .filter(Boolean)
          .map((l) => l.replace(/^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]/, '[$1 client]')),
      );
    }
    expect(lines[0]).toEqual(lines[1]);
    expect(lines[0]).toContain('[2 client] "set" "mon" "a \\"quoted\\"\\nvalue"');
  });
});
