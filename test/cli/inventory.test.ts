/**
 * Inventory loading: the shipped inventories resolve as documented (precedence defaults < groups < host), and
 * every kind of bad input is reported with file:line:column, the path inside the inventory and what is wrong,
 * all problems at once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InventoryError, UserError, type InventoryProblem } from '../../cli/errors';
import { loadInventoryFile, parseInventory } from '../../cli/inventory/load';
import { defaultSecretReader, resolveSecrets } from '../../cli/inventory/secrets';
import { resolveLimit } from '../../cli/commands/context';

const REPO = path.resolve(__dirname, '../..');

function problemsOf(text: string): InventoryProblem[] {
  try {
    parseInventory(text, 'inv.yaml', { dir: '/tmp' });
  } catch (e) {
    if (e instanceof InventoryError) return e.problems;
    throw e;
  }
  throw new Error('expected the inventory to be refused');
}

/** Problems as `line:column path: message` strings. */
function located(text: string): string[] {
  return problemsOf(text).map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
}

const HEAD = 'version: 1\n';

describe('shipped inventories', () => {
  test('example.yaml: master and replica on the seed addresses, one tree, secrets by reference', () => {
    const inv = loadInventoryFile(path.join(REPO, 'inventories/example.yaml'));
    expect(inv.nodes.map((n) => [n.name, n.address, n.role, n.replicaof, n.depth, n.tree])).toEqual([
      ['redis-master', '10.142.130.81', 'master', undefined, 0, 'main'],
      ['redis-replica', '10.142.130.82', 'replica', 'redis-master', 1, 'main'],
    ]);
    expect(inv.nodes[0].server.requirepass).toEqual({ env: 'REDIS_PASSWORD' });
    // Group directives merge into the defaults' directives.
    expect(inv.nodes[1].server.directives).toEqual({
      'maxmemory-policy': 'noeviction',
      'tcp-keepalive': 60,
      'repl-backlog-size': '64mb',
    });
    expect(inv.nodes[1].server.bind).toEqual(['10.142.130.82']);
  });

  test('local.yaml: both nodes on this machine, everything under the home directory', () => {
    const inv = loadInventoryFile(path.join(REPO, 'inventories/local.yaml'));
    expect(inv.nodes.map((n) => [n.name, n.connection, n.address, n.server.port])).toEqual([
      ['local-master', 'local', '127.0.0.1', 7151],
      ['local-replica', 'local', '127.0.0.1', 7152],
    ]);
    for (const n of inv.nodes) {
      for (const p of Object.values(n.paths))
        expect(p.startsWith(path.join(os.homedir(), '.local/state/orchestrate'))).toBe(true);
    }
  });

  test('both inventories point editors at the schema', () => {
    for (const f of ['example.yaml', 'local.yaml']) {
      const first = readFileSync(path.join(REPO, 'inventories', f), 'utf8').split('\n')[0];
      expect(first).toBe('# yaml-language-server: $schema=../schemas/inventory.schema.json');
    }
  });
});

describe('precedence', () => {
  const text = `${HEAD}defaults:
  server: { port: 7000, maxmemory: 1mb, directives: { hz: 10, maxmemory-policy: noeviction } }
  ssh: { user: deploy, port: 2200 }
groups:
  a: { server: { port: 7001, directives: { hz: 20 } }, ssh: { user: alice } }
  b: { server: { port: 7002 } }
hosts:
  one: { address: 10.0.0.1, groups: [a, b] }
  two: { address: 10.0.0.2, groups: [b, a], server: { maxmemory: 2mb } }
  three: { address: 10.0.0.3, ssh: { port: 22 } }
`;
  const inv = parseInventory(text, 'p.yaml', { dir: '/tmp' });
  const node = (n: string) => inv.nodes.find((x) => x.name === n)!;

  test('later groups in a host list override earlier ones, the host overrides all', () => {
    expect(node('one').server.port).toBe(7002);
    expect(node('two').server.port).toBe(7001);
    expect(node('two').server.maxmemory).toBe('2mb');
    expect(node('three').server.port).toBe(7000);
    expect(node('three').ssh.port).toBe(22);
    expect(node('one').ssh.port).toBe(2200);
  });

  test('mappings merge key by key', () => {
    expect(node('one').server.directives).toEqual({ hz: 20, 'maxmemory-policy': 'noeviction' });
    expect(node('three').server.directives).toEqual({ hz: 10, 'maxmemory-policy': 'noeviction' });
    expect(node('one').ssh.user).toBe('alice');
    expect(node('three').ssh.user).toBe('deploy');
  });

  test('origins remember where each value came from', () => {
    expect(node('one').origins['server.port']).toEqual(['groups', 'b', 'server', 'port']);
    expect(node('two').origins['server.maxmemory']).toEqual(['hosts', 'two', 'server', 'maxmemory']);
    expect(inv.locate(node('one').origins['server.port'])).toEqual({ line: 7, column: 24 });
  });
});

describe('syntax errors', () => {
  test('a YAML syntax error names its line and column', () => {
    expect(located(`${HEAD}hosts:\n  a: { address: 10.0.0.1\n`)).toEqual([
      '4:1 : YAML syntax: unexpected end of the stream within a flow collection',
    ]);
  });
  test('a duplicated key is refused with its position', () => {
    const [p] = problemsOf(`${HEAD}hosts:\n  a:\n    address: 10.0.0.1\n    address: 10.0.0.2\n`);
    expect(p.kind).toBe('syntax');
    expect(p.message).toMatch(/duplicated mapping key/);
    expect([p.line, p.column]).toEqual([5, 5]);
  });
  test('an empty file is refused', () => {
    expect(located('# nothing\n')).toEqual(['1:1 : the inventory is empty']);
  });
});

describe('schema errors', () => {
  test('unknown settings get a did-you-mean', () => {
    expect(located(`${HEAD}hosts:\n  a:\n    adress: 10.0.0.1\n`)).toEqual([
      '3:3 hosts.a: missing required setting "address"',
      '4:5 hosts.a.adress: unknown setting "adress" (did you mean "address"?)',
    ]);
  });
  test('wrong types, enums, ranges and the format version', () => {
    expect(
      located(`version: 2
hosts:
  a:
    address: 10.0.0.1
    server:
      port: 70000
      persistence: sometimes
      bind: 10.0.0.1
    ssh: { become: maybe }
`),
    ).toEqual([
      '1:10 version: must be 1',
      '6:13 hosts.a.server.port: must be <= 65535',
      '7:20 hosts.a.server.persistence: must be one of "rdb", "aof", "rdb+aof", "off", not "sometimes"',
      '8:13 hosts.a.server.bind: must be a list, not string "10.0.0.1"',
      '9:20 hosts.a.ssh.become: must be a boolean, not string "maybe"',
    ]);
  });
  test('host names must be usable in file names', () => {
    const ps = located(`${HEAD}hosts:\n  "bad name!": { address: 10.0.0.1 }\n`);
    expect(ps.some((p) => /"bad name!" is not valid/.test(p))).toBe(true);
    expect(ps[0].startsWith('3:3 ')).toBe(true);
  });
  test('memory sizes must be bytes or a unit size', () => {
    expect(located(`${HEAD}hosts:\n  a: { address: 10.0.0.1, server: { maxmemory: lots } }\n`)).toEqual([
      '3:48 hosts.a.server.maxmemory: must be a number of bytes or a size such as 512mb or 2gb',
    ]);
  });
});

describe('secrets', () => {
  test('a password written in clear text is refused, naming the reference forms', () => {
    const ps = problemsOf(
      `${HEAD}defaults:\n  server:\n    requirepass: hunter2\nhosts:\n  a: { address: 10.0.0.1 }\n`,
    );
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ line: 4, column: 18, path: 'defaults.server.requirepass', kind: 'secret' });
    expect(ps[0].message).toMatch(/secret written in clear text.*\{ env: NAME \} or \{ file: path \}/);
    // The secret itself never appears in the message.
    expect(JSON.stringify(ps)).not.toContain('hunter2');
  });
  test('an SSH password in clear text is refused too', () => {
    const ps = problemsOf(`${HEAD}hosts:\n  a: { address: 10.0.0.1, ssh: { password: "s3cret" } }\n`);
    expect(ps.map((p) => [p.path, p.kind])).toEqual([['hosts.a.ssh.password', 'secret']]);
  });
  test('a secret hidden in extra directives is refused', () => {
    const ps = problemsOf(
      `${HEAD}hosts:\n  a:\n    address: 10.0.0.1\n    server: { directives: { masterauth: "x" } }\n`,
    );
    expect(ps.map((p) => [p.line, p.column, p.path, p.kind])).toEqual([
      [5, 29, 'hosts.a.server.directives.masterauth', 'secret'],
    ]);
  });
  test('references resolve from the environment and from files; masterauth follows the master', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-inv-'));
    writeFileSync(path.join(dir, 'pw.txt'), 'file-secret\n');
    const inv = parseInventory(
      `${HEAD}hosts:
  m: { address: 10.0.0.1, server: { requirepass: { env: PW_M } } }
  r: { address: 10.0.0.2, replicaof: m, server: { requirepass: { file: pw.txt } } }
  lone: { address: 10.0.0.3 }
`,
      'inv.yaml',
      { dir },
    );
    try {
      const secrets = resolveSecrets(inv, defaultSecretReader({ PW_M: 'env-secret' }));
      expect(secrets.get('m')).toMatchObject({ requirepass: 'env-secret', masterauth: 'env-secret' });
      expect(secrets.get('r')).toMatchObject({ requirepass: 'file-secret', masterauth: 'env-secret' });
      expect(secrets.get('lone')).toMatchObject({ requirepass: undefined, masterauth: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('a missing environment variable is bad input naming where it is referenced', () => {
    const inv = parseInventory(
      `${HEAD}hosts:\n  m:\n    address: 10.0.0.1\n    server: { requirepass: { env: NOPE_PW } }\n`,
      'inv.yaml',
      {
        dir: '/tmp',
      },
    );
    let err: unknown;
    try {
      resolveSecrets(inv, defaultSecretReader({}));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_SECRET_MISSING');
    expect((err as UserError).details).toEqual([
      'inv.yaml:5:28: hosts.m.server.requirepass: environment variable NOPE_PW is not set',
    ]);
  });
});

describe('topology rules', () => {
  test('an unknown replicaof target is named, with a suggestion', () => {
    expect(
      located(
        `${HEAD}hosts:\n  master: { address: 10.0.0.1 }\n  r: { address: 10.0.0.2, replicaof: mastr }\n`,
      ),
    ).toEqual(['4:38 hosts.r.replicaof: unknown host "mastr" (did you mean "master"?)']);
  });
  test('a host replicating from itself is refused', () => {
    expect(located(`${HEAD}hosts:\n  a: { address: 10.0.0.1, replicaof: a }\n`)).toEqual([
      '3:38 hosts.a.replicaof: a host cannot replicate from itself',
    ]);
  });
  test('a cycle is reported once with its members', () => {
    expect(
      located(`${HEAD}hosts:
  a: { address: 10.0.0.1, replicaof: c }
  b: { address: 10.0.0.2, replicaof: a }
  c: { address: 10.0.0.3, replicaof: b }
  d: { address: 10.0.0.4 }
`),
    ).toEqual([
      '3:38 hosts.a.replicaof: replication cycle: a -> c -> b -> a (every tree needs one master that replicates from nobody)',
    ]);
  });
  test('two masters in one tree are refused', () => {
    expect(
      located(`${HEAD}defaults: { tree: main }
hosts:
  a: { address: 10.0.0.1 }
  b: { address: 10.0.0.2 }
  c: { address: 10.0.0.3, replicaof: a }
`),
    ).toEqual([
      '5:3 hosts.b: two masters in replication tree "main": a and b (give b replicaof, or put it in another tree)',
    ]);
  });
  test('a replica placed in another tree than its master is refused', () => {
    expect(
      located(`${HEAD}hosts:
  a: { address: 10.0.0.1, tree: one }
  b: { address: 10.0.0.2, replicaof: a, tree: two }
`),
    ).toEqual([
      '4:47 hosts.b.tree: host b is in tree "two" but replicates from a, which belongs to tree "one"',
    ]);
  });
  test('a stated role that contradicts replicaof is refused', () => {
    expect(
      located(`${HEAD}hosts:
  a: { address: 10.0.0.1, role: replica }
  b: { address: 10.0.0.2, role: master, replicaof: c }
  c: { address: 10.0.0.3 }
`),
    ).toEqual([
      '3:33 hosts.a.role: role is replica but replicaof is missing: which host does it follow?',
      '4:33 hosts.b.role: role is master but replicaof is set (c); a master replicates from nobody',
    ]);
  });
  test('duplicate address:port is refused', () => {
    expect(
      located(`${HEAD}hosts:
  a: { address: 10.0.0.1 }
  b: { address: 10.0.0.1, replicaof: a }
`),
    ).toEqual(['4:17 hosts.b.address: duplicate address:port 10.0.0.1:6379: also used by host a']);
  });
  test('two nodes on one machine with distinct ports are fine', () => {
    const inv = parseInventory(
      `${HEAD}hosts:\n  a: { address: 10.0.0.1 }\n  b: { address: 10.0.0.1, replicaof: a, server: { port: 6380 } }\n`,
      'inv.yaml',
      { dir: '/tmp' },
    );
    expect(inv.nodes.map((n) => n.depth)).toEqual([0, 1]);
  });
});

describe('safety rules', () => {
  test('a master with persistence off and auto restart is refused', () => {
    const ps = problemsOf(
      `${HEAD}defaults: { server: { persistence: "off" } }\nhosts:\n  a: { address: 10.0.0.1 }\n`,
    );
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ line: 2, column: 36, path: 'defaults.server.persistence' });
    expect(ps[0].message).toMatch(/come back empty and its replicas would wipe their copies/);
  });
  test('persistence off is accepted without auto restart, or with the explicit override', () => {
    for (const service of ['{ autoRestart: false }', '{ allowAutoRestartWithoutPersistence: true }']) {
      const inv = parseInventory(
        `${HEAD}hosts:\n  a: { address: 10.0.0.1, server: { persistence: "off" }, service: ${service} }\n`,
        'inv.yaml',
        { dir: '/tmp' },
      );
      expect(inv.nodes[0].server.persistence).toBe('off');
    }
  });
  test('a replica with persistence off is fine: only masters restart empty into their replicas', () => {
    const inv = parseInventory(
      `${HEAD}hosts:\n  a: { address: 10.0.0.1 }\n  b: { address: 10.0.0.2, replicaof: a, server: { persistence: "off" } }\n`,
      'inv.yaml',
      { dir: '/tmp' },
    );
    expect(inv.nodes[1].server.persistence).toBe('off');
  });
  test('binding only to loopback on a host others must reach is refused', () => {
    expect(located(`${HEAD}hosts:\n  a: { address: 10.0.0.1, server: { bind: [127.0.0.1] } }\n`)).toEqual([
      "3:43 hosts.a.server.bind: bind (127.0.0.1) does not include the host's address 10.0.0.1, which its replicas and the orchestrator connect to",
    ]);
  });
  test('no password on a public address is a warning', () => {
    const inv = parseInventory(`${HEAD}hosts:\n  a: { address: 10.0.0.1 }\n`, 'inv.yaml', { dir: '/tmp' });
    expect(inv.warnings).toEqual([expect.stringMatching(/^a: no requirepass while listening on 10.0.0.1/)]);
  });
  test('directives the orchestrator derives cannot be set by hand', () => {
    expect(
      located(
        `${HEAD}hosts:\n  a:\n    address: 10.0.0.1\n    server: { directives: { replicaof: "x 1", appendonly: "yes" } }\n`,
      ),
    ).toEqual([
      '5:29 hosts.a.server.directives.replicaof: directive "replicaof" is derived by the orchestrator; set replicaof instead',
      '5:47 hosts.a.server.directives.appendonly: directive "appendonly" is derived by the orchestrator; set server.persistence instead',
    ]);
  });
  test('home-relative paths are refused for SSH hosts', () => {
    expect(located(`${HEAD}hosts:\n  a: { address: 10.0.0.1, paths: { data: ~/data } }\n`)).toEqual([
      '3:42 hosts.a.paths.data: "~" paths are only allowed with connection: local; use an absolute path on a',
    ]);
  });
  test('an unknown group is named', () => {
    expect(
      located(`${HEAD}groups: { web: {} }\nhosts:\n  a: { address: 10.0.0.1, groups: [wbe] }\n`),
    ).toEqual(['4:36 hosts.a.groups[0]: unknown group "wbe" (did you mean "web"?)']);
  });
});

test('every problem of an inventory is reported at once, in file order', () => {
  const ps = located(`${HEAD}defaults:
  server: { requirepass: plain }
hosts:
  a: { address: 10.0.0.1, colour: blue }
  b: { address: 10.0.0.2, replicaof: a, server: { port: 0 } }
`);
  expect(ps).toEqual([
    '3:26 defaults.server.requirepass: secret written in clear text; put it in an environment variable or a file and reference it: { env: NAME } or { file: path }',
    '5:27 hosts.a.colour: unknown setting "colour" (allowed: address, groups, role, replicaof, connection, tree, ssh, server, service, paths)',
    '6:57 hosts.b.server.port: must be >= 1',
  ]);
});

test('--limit takes host and group names, and refuses unknown ones', () => {
  const inv = parseInventory(
    `${HEAD}groups: { g: {} }\nhosts:\n  a: { address: 10.0.0.1 }\n  b: { address: 10.0.0.2, replicaof: a, groups: [g] }\n  c: { address: 10.0.0.3, replicaof: a }\n`,
    'inv.yaml',
    { dir: '/tmp' },
  );
  expect(resolveLimit(inv, ['g', 'c']).map((n) => n.name)).toEqual(['b', 'c']);
  expect(() => resolveLimit(inv, ['x'])).toThrow(/--limit x: no such host or group/);
});

describe('robustness', () => {
  const example = readFileSync(path.join(REPO, 'inventories/example.yaml'), 'utf8');
  const outcome = (text: string): string => {
    try {
      parseInventory(text, 'fuzz.yaml', { dir: '/tmp' });
      return 'ok';
    } catch (e) {
      if (!(e instanceof InventoryError)) throw e;
      for (const p of e.problems) {
        expect(p.line).toBeGreaterThanOrEqual(1);
        expect(p.column).toBeGreaterThanOrEqual(1);
      }
      return 'invalid';
    }
  };

  test('every prefix of the example inventory loads or is refused with located problems, never a crash', () => {
    const seen = new Set<string>();
    for (let i = 0; i <= example.length; i += 7) seen.add(outcome(example.slice(0, i)));
    expect(outcome(example)).toBe('ok');
    expect(seen.has('invalid')).toBe(true);
  });

  test('random mutations (bounded fuzz) are refused cleanly or accepted', () => {
    let seed = 99;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const junk = [':', '-', ' ', '\n', '{', '}', '[', ']', '"', "'", '#', '&a', '*a', '!!str', '\t', 'x'];
    for (let i = 0; i < 300; i++) {
      let text = example;
      for (let k = 0; k < 3; k++) {
        const at = rand(text.length);
        text =
          rand(2) === 0
            ? text.slice(0, at) + junk[rand(junk.length)] + text.slice(at)
            : text.slice(0, at) + text.slice(at + 1 + rand(5));
      }
      expect(['ok', 'invalid']).toContain(outcome(text));
    }
  });
});
