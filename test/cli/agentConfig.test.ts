/**
 * The agent config file: what the orchestrator writes for each role, that its quoting survives the redis.conf
 * tokenizer (round trip, byte by byte and fuzzed), and that comparison is by meaning: a file rewritten by a real
 * redis-server's CONFIG REWRITE compares equal to what we wrote, a real change does not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../cli/inventory/load';
import { defaultSecretReader, resolveSecrets } from '../../cli/inventory/secrets';
import {
  canonicalMap,
  desiredDirectives,
  diffConfig,
  memoryBytes,
  parseConfig,
  quoteArg,
  renderConfig,
  splitArgs,
} from '../../cli/plan/agentConfig';
import { freePort, startRedis, stopAll } from './support/redisServers';

afterAll(async () => {
  await stopAll();
});

const INVENTORY = `version: 1
defaults:
  server: { requirepass: { env: PW }, maxmemory: 64mb, directives: { hz: 15, maxmemory-policy: allkeys-lru } }
hosts:
  m: { address: 10.0.0.1 }
  r: { address: 10.0.0.2, replicaof: m, server: { port: 6380 } }
  cache: { address: 10.0.0.3, server: { persistence: "off" }, service: { autoRestart: false } }
`;

function setup(pw = 'p@ss "word"\twith\\tricks') {
  const inv = parseInventory(INVENTORY, 'inv.yaml', { dir: '/tmp' });
  const secrets = resolveSecrets(inv, defaultSecretReader({ PW: pw }));
  const node = (n: string) => inv.nodes.find((x) => x.name === n)!;
  const directives = (n: string, daemonize = true) => {
    const spec = node(n);
    return desiredDirectives({
      node: spec,
      master: spec.replicaof ? node(spec.replicaof) : undefined,
      secrets: secrets.get(n)!,
      daemonize,
    });
  };
  return { inv, node, directives };
}

const pairs = (ds: { name: string; args: string[] }[]) => ds.map((d) => [d.name, ...d.args].join(' '));

test('a master gets bind, auth on both sides, persistence and no replicaof', () => {
  const { directives } = setup('pw');
  expect(pairs(directives('m'))).toEqual([
    'bind 10.0.0.1',
    'port 6379',
    'protected-mode yes',
    'daemonize yes',
    'pidfile /run/orchestrate/m.pid',
    'logfile /var/log/orchestrate/m.log',
    'dir /var/lib/orchestrate/m',
    'dbfilename dump.rdb',
    'requirepass pw',
    'masterauth pw',
    'save 3600 1',
    'save 300 100',
    'save 60 10000',
    'appendonly no',
    'maxmemory 64mb',
    'hz 15',
    'maxmemory-policy allkeys-lru',
  ]);
});

test('a replica follows its master by address and port, read-only, with the master password as masterauth', () => {
  const { directives } = setup('pw');
  const r = pairs(directives('r', false));
  expect(r).toContain('replicaof 10.0.0.1 6379');
  expect(r).toContain('replica-read-only yes');
  expect(r).toContain('replica-announce-ip 10.0.0.2');
  expect(r).toContain('masterauth pw');
  expect(r).toContain('port 6380');
  expect(r).toContain('daemonize no');
});

test('persistence off writes save "" and appendonly no', () => {
  const { directives } = setup('pw');
  const c = directives('cache');
  expect(c.filter((d) => d.name === 'save' || d.name === 'appendonly')).toEqual([
    { name: 'save', args: [''] },
    { name: 'appendonly', args: ['no'] },
  ]);
  expect(renderConfig(c, [])).toContain('\nsave ""\nappendonly no\n');
});

test('rendered configs parse back to the same directives, secrets with quotes and escapes included', () => {
  const { directives } = setup();
  const ds = directives('r');
  const parsed = parseConfig(renderConfig(ds, ['header line']));
  expect(parsed.bad).toEqual([]);
  expect(parsed.directives).toEqual(ds);
});

test('the tokenizer handles redis.conf quoting like Redis', () => {
  expect(splitArgs('save ""')).toEqual(['save', '']);
  expect(splitArgs('requirepass "a\\"b\\\\c\\x41\\n"')).toEqual(['requirepass', 'a"b\\cA\n']);
  expect(splitArgs("masteruser 'it\\'s'")).toEqual(['masteruser', "it's"]);
  expect(splitArgs('  bind   1.2.3.4 ::1  ')).toEqual(['bind', '1.2.3.4', '::1']);
  expect(() => splitArgs('requirepass "open')).toThrow(/unbalanced/);
  expect(() => splitArgs('requirepass "a"b')).toThrow(/followed by a space/);
});

test('quoting round-trips every string of a bounded fuzz run, and every prefix of a line tokenizes or fails cleanly', () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = [
    'a',
    'Z',
    '0',
    ' ',
    '"',
    "'",
    '\\',
    '\n',
    '\t',
    '\r',
    'x',
    '#',
    'é',
    '\u0001',
    '\u007f',
    '$',
    '*',
  ];
  for (let i = 0; i < 800; i++) {
    const len = Math.floor(rand() * 12);
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const line = `requirepass ${quoteArg(s)}`;
    expect(line.includes('\n')).toBe(false);
    expect(splitArgs(line)).toEqual(['requirepass', s]);
    // Byte by byte: every prefix either tokenizes or throws our syntax error, never anything else.
    for (let k = 0; k <= line.length; k++) {
      try {
        splitArgs(line.slice(0, k));
      } catch (e) {
        expect((e as Error).name).toBe('Error');
        expect((e as Error).message).toMatch(/unbalanced quotes|closing quote/);
      }
    }
  }
});

test('memory sizes follow redis.conf units', () => {
  expect(memoryBytes('1gb')).toBe(1024 ** 3);
  expect(memoryBytes('1g')).toBe(1e9);
  expect(memoryBytes('64MB')).toBe(64 * 1024 ** 2);
  expect(memoryBytes('512k')).toBe(512000);
  expect(memoryBytes('100')).toBe(100);
  expect(memoryBytes('lots')).toBeUndefined();
});

test('comparison is by meaning: units, case, save split over lines, comments and unmanaged lines do not count', () => {
  const { directives } = setup('pw');
  const ours = directives('m');
  const theirs = parseConfig(`# rewritten
bind 10.0.0.1
port 6379
protected-mode YES
daemonize yes
pidfile "/run/orchestrate/m.pid"
logfile /var/log/orchestrate/m.log
dir /var/lib/orchestrate/m
dbfilename dump.rdb
requirepass "pw"
masterauth pw
save 3600 1 300 100 60 10000
appendonly no
maxmemory 67108864
hz 15
maxmemory-policy allkeys-lru
latency-tracking-info-percentiles 50 99 99.9
user default on sanitize-payload #abc ~* &* +@all
`).directives;
  expect(diffConfig(ours, theirs)).toEqual([]);
});

test('real differences are reported, secrets masked, removals of previously written directives included', () => {
  const { directives } = setup('pw');
  const ours = directives('m');
  const theirs = parseConfig(
    renderConfig(ours, [])
      .replace('maxmemory 64mb', 'maxmemory 32mb')
      .replace('requirepass pw', 'requirepass old')
      .replace('hz 15', 'hz 15\nrepl-backlog-size 1mb'),
  ).directives;
  expect(diffConfig(ours, theirs, ['repl-backlog-size'])).toEqual([
    { name: 'requirepass', from: '(secret)', to: '(secret)', secret: true, runtime: 'config-set' },
    {
      name: 'maxmemory',
      from: String(32 * 1024 ** 2),
      to: String(64 * 1024 ** 2),
      secret: false,
      runtime: 'config-set',
    },
    { name: 'repl-backlog-size', from: String(1024 ** 2), to: undefined, secret: false, runtime: 'restart' },
  ]);
});

test('a file rewritten by a real redis-server (CONFIG SET + CONFIG REWRITE) still matches by meaning', async () => {
  const { directives } = setup('pw with "quotes"');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-conf-'));
  const port = await freePort();
  // Our directives for a replica, pointed at this test machine and without a master to follow.
  const ds = directives('r', false)
    .filter((d) => !['pidfile', 'logfile', 'dir', 'replicaof', 'bind', 'port'].includes(d.name))
    .concat([
      { name: 'port', args: [String(port)] },
      { name: 'bind', args: ['127.0.0.1'] },
      { name: 'dir', args: [dir] },
    ]);
  const file = path.join(dir, 'node.conf');
  writeFileSync(file, renderConfig(ds, ['written by the test']));
  try {
    const server = await startRedis([], { configFile: file, port, password: 'pw with "quotes"' });
    const c = server.client();
    // The server runs with what the file says.
    expect(await c.config('GET', 'maxmemory')).toEqual(['maxmemory', String(64 * 1024 ** 2)]);
    expect(await c.config('GET', 'save')).toEqual(['save', '3600 1 300 100 60 10000']);
    expect(await c.config('GET', 'masterauth')).toEqual(['masterauth', 'pw with "quotes"']);
    // A runtime change persisted by REWRITE: the file now differs only in that directive.
    await c.config('SET', 'maxmemory', '128mb');
    await c.config('REWRITE');
    const rewritten = parseConfig(readFileSync(file, 'utf8')).directives;
    expect(diffConfig(ds, rewritten).map((d) => [d.name, d.from, d.to])).toEqual([
      ['maxmemory', String(128 * 1024 ** 2), String(64 * 1024 ** 2)],
    ]);
    await c.config('SET', 'maxmemory', '64mb');
    await c.config('REWRITE');
    expect(diffConfig(ds, parseConfig(readFileSync(file, 'utf8')).directives)).toEqual([]);
    expect(canonicalMap(ds).get('requirepass')).toBe('pw with "quotes"');
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
