/**
 * End to end over SSH: the built CLI against real sshd test hosts (127.0.0.81 master, 127.0.0.82 replica,
 * 127.0.0.83 for a misconfigured replica), each with its own /etc, /opt, /var and /run, pushing the real agent
 * bundle. Proves: a refused inventory touches no host; apply installs and verifies sync; a second apply and plan
 * see no changes and touch nothing; a replica killed and started the way the host boots resyncs from its
 * persisted config; a runtime-settable change needs no restart; status falls back to the SSH tunnel when the
 * server port cannot be dialled directly; a replica that cannot authenticate fails
 * verification with a diagnosis; secrets stay out of output, command lines and file modes; destroy removes what
 * apply installed and keeps data unless --purge.
 *
 * Needs `npm run build` (dist/orchestrate.js and dist/orchestrate-agent.js), root, sshd and overlayfs.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { NodeReader, type DirectDial } from '../../cli/commands/status';
import { Session } from '../../cli/deploy/session';
import { loadInventoryFile } from '../../cli/inventory/load';
import { defaultSecretReader, resolveSecrets } from '../../cli/inventory/secrets';
import { RedisUnavailable } from '../../cli/redis/connect';
import { startSshHosts, type SshHost, type SshHosts } from '../helpers/sshHosts';
import { waitFor } from '../helpers/waitFor';
import { AGENT_BUNDLE, requireBundles, runCli, testClient } from './support/runCli';

jest.setTimeout(180_000);

const PASSWORD = 'e2e-pass "with quotes" and spaces';
const WRONG = 'not-the-password';
let lab: SshHosts;
let dir: string;
let port: number;
/** A private copy of the agent bundle: dist/ may be rebuilt by someone else while these tests run. */
let agent: string;
const clients: Redis[] = [];

function portFreeOn(address: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(p, address, () => s.close(() => resolve(true)));
  });
}

async function pickPort(): Promise<number> {
  for (let p = 7300; p < 7400; p++) {
    if (
      (await portFreeOn('127.0.0.81', p)) &&
      (await portFreeOn('127.0.0.82', p)) &&
      (await portFreeOn('127.0.0.83', p))
    ) {
      return p;
    }
  }
  throw new Error('no free port');
}

function writeInventory(
  opts: { maxmemory?: string; withBroken?: boolean; brokenFixed?: boolean; secondMaster?: boolean } = {},
): string {
  const h = (n: string) => lab.host(n);
  const file = path.join(dir, 'inventory.yaml');
  writeFileSync(
    file,
    `version: 1
defaults:
  tree: main
  ssh:
    user: root
    identityFile: ${lab.clientKeyFile}
    knownHostsFile: ${lab.knownHostsFile}
    useAgent: false
  server:
    port: ${port}
    requirepass: { env: E2E_PASSWORD }
    maxmemory: ${opts.maxmemory ?? '64mb'}
    directives: { enable-debug-command: "yes" } # the test compares datasets with DEBUG DIGEST
hosts:
  m:
    address: 127.0.0.81
    ssh: { port: ${h('m').port} }
  r:
    address: 127.0.0.82
    ssh: { port: ${h('r').port} }
    replicaof: m
${
  opts.withBroken
    ? `  r2:
    address: 127.0.0.83
    ssh: { port: ${h('r2').port} }
    replicaof: m
${opts.brokenFixed ? '' : '    server: { masterauth: { env: E2E_WRONG } }\n'}`
    : ''
}${opts.secondMaster ? `  m2: { address: 127.0.0.83, ssh: { port: ${h('r2').port} } }\n` : ''}`,
  );
  return file;
}

const ENV = { E2E_PASSWORD: PASSWORD, E2E_WRONG: WRONG };

function client(address: string): Redis {
  const c = testClient(address, port, PASSWORD);
  clients.push(c);
  return c;
}

function sh(host: SshHost, command: string): string {
  const r = host.sh(command);
  if (r.code !== 0) throw new Error(`${host.name}: ${command} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function stateOf(host: SshHost, name: string): string {
  // Everything apply may touch, with content hashes and mtimes: equal before and after means "touched nothing".
  return sh(
    host,
    `for f in /opt/orchestrate/orchestrate-agent.js /etc/orchestrate/${name}.conf /etc/orchestrate/${name}.manifest.json /etc/init.d/orchestrate-${name}; do stat -c '%n %a %Y' "$f"; sha256sum "$f"; done; cat /run/orchestrate/${name}.pid`,
  );
}

beforeAll(async () => {
  requireBundles();
  lab = await startSshHosts([
    { name: 'm', address: '127.0.0.81' },
    { name: 'r', address: '127.0.0.82' },
    { name: 'r2', address: '127.0.0.83' },
  ]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-e2e-'));
  agent = path.join(dir, 'orchestrate-agent.js');
  copyFileSync(AGENT_BUNDLE, agent);
  port = await pickPort();
});

afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await lab?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('an inventory with a second master is refused and no host is touched', async () => {
  const r = await runCli(['apply', writeInventory({ secondMaster: true }), '--yes', '--agent', agent], ENV);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /inventory\.yaml:\d+:\d+: hosts\.m2: two masters in replication tree "main": m and m2/,
  );
  for (const h of lab.hosts) expect(h.sh('ls /etc/orchestrate /opt/orchestrate').code).not.toBe(0);
});

test('apply installs master then replica and proves the replica in sync', async () => {
  const r = await runCli(['apply', writeInventory(), '--yes', '--json', '--agent', agent], ENV);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  const doc = r.json;
  expect(doc.plan.waves).toEqual([['m'], ['r']]);
  expect(doc.plan.changedNodes).toBe(2);
  expect(doc.verification.ok).toBe(true);
  expect(doc.verification.replicas).toEqual([{ name: 'r', ok: true, problems: [], diagnosis: [] }]);

  const m = lab.host('m');
  const rep = lab.host('r');
  // Files: agent pushed intact, config 0600, init script registered for boot.
  const bundleSha = createHash('sha256').update(readFileSync(agent)).digest('hex');
  expect(sh(m, 'sha256sum /opt/orchestrate/orchestrate-agent.js').split(' ')[0]).toBe(bundleSha);
  expect(sh(rep, 'stat -c %a /etc/orchestrate/r.conf').trim()).toBe('600');
  expect(sh(rep, 'ls /etc/rc2.d').split('\n')).toContain('S01orchestrate-r');
  const conf = sh(rep, 'cat /etc/orchestrate/r.conf');
  expect(conf).toContain(`replicaof 127.0.0.81 ${port}\n`);
  expect(conf).toContain('bind 127.0.0.82\n');
  expect(conf).toContain('masterauth "e2e-pass \\"with quotes\\" and spaces"\n');
  // Each host is its own machine: the replica's files are not on the master.
  expect(m.sh('test -e /etc/orchestrate/r.conf').code).not.toBe(0);

  // Data written on the master arrives on the replica.
  await client('127.0.0.81').set('e2e:key', 'hello');
  await waitFor(async () => (await client('127.0.0.82').get('e2e:key')) === 'hello', {
    description: 'key on replica',
  });

  // Secrets: not in the CLI's output, not on any command line of the hosts.
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  for (const h of [m, rep]) {
    expect(sh(h, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")).not.toContain('e2e-pass');
  }
});

test('plan afterwards shows no changes, and a second apply touches nothing', async () => {
  const before = [stateOf(lab.host('m'), 'm'), stateOf(lab.host('r'), 'r')];
  const p = await runCli(['plan', writeInventory(), '--agent', agent], ENV);
  expect(p.code).toBe(0);
  expect(p.stdout).toContain('No changes: 2 nodes already as the inventory says.');
  const a = await runCli(['apply', writeInventory(), '--yes', '--json', '--agent', agent], ENV);
  expect(a.code).toBe(0);
  expect(a.json.plan.changedNodes).toBe(0);
  expect(a.json.execution).toBeNull();
  expect(a.json.verification.ok).toBe(true);
  expect([stateOf(lab.host('m'), 'm'), stateOf(lab.host('r'), 'r')]).toEqual(before);
});

test('a replica killed and started the way the host boots resyncs from its persisted config', async () => {
  const rep = lab.host('r');
  const master = client('127.0.0.81');
  for (let i = 0; i < 100; i++) await master.set(`before:${i}`, String(i));
  sh(rep, 'kill -9 "$(cat /run/orchestrate/r.pid)"');
  // While it is down the master takes more writes.
  for (let i = 0; i < 100; i++) await master.set(`during:${i}`, String(i));
  // A reboot empties /run; then sysvinit runs the rc2.d start links.
  sh(rep, 'rm -rf /run/orchestrate; for s in /etc/rc2.d/S??orchestrate-*; do "$s" start; done');
  const replica = client('127.0.0.82');
  await waitFor(
    async () => {
      const info = String(await replica.info('replication'));
      return /master_link_status:up/.test(info) && (await replica.get('during:99')) === '99';
    },
    { timeoutMs: 30_000, description: 'replica back in sync after boot start' },
  );
  expect(await replica.get('before:0')).toBe('0');
  const digests = await Promise.all([master.call('DEBUG', 'DIGEST'), replica.call('DEBUG', 'DIGEST')]);
  expect(digests[1]).toBe(digests[0]);
  const p = await runCli(['plan', writeInventory(), '--json', '--agent', agent], ENV);
  expect(p.json.plan.changedNodes).toBe(0);
});

test('a change the agent can take at runtime is applied without a restart', async () => {
  const pids = [
    sh(lab.host('m'), 'cat /run/orchestrate/m.pid'),
    sh(lab.host('r'), 'cat /run/orchestrate/r.pid'),
  ];
  const r = await runCli(
    ['apply', writeInventory({ maxmemory: '128mb' }), '--yes', '--json', '--agent', agent],
    ENV,
  );
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.json.plan.nodes.map((n: { actions: { kind: string }[] }) => n.actions.map((a) => a.kind))).toEqual(
    [['reconfigure'], ['reconfigure']],
  );
  expect([
    sh(lab.host('m'), 'cat /run/orchestrate/m.pid'),
    sh(lab.host('r'), 'cat /run/orchestrate/r.pid'),
  ]).toEqual(pids);
  expect(await client('127.0.0.82').config('GET', 'maxmemory')).toEqual([
    'maxmemory',
    String(128 * 1024 * 1024),
  ]);
  expect(sh(lab.host('r'), 'stat -c %a /etc/orchestrate/r.conf').trim()).toBe('600');
  const p = await runCli(['plan', writeInventory({ maxmemory: '128mb' }), '--json', '--agent', agent], ENV);
  expect(p.json.plan.changedNodes).toBe(0);
});

test('status reads a node through its SSH tunnel when its server port cannot be dialled directly', async () => {
  const env = { ...process.env, ...ENV };
  const inventory = loadInventoryFile(writeInventory());
  const session = new Session(inventory, resolveSecrets(inventory, defaultSecretReader(env)), {
    acceptNewHostKeys: false,
    env,
  });
  const dialled: string[] = [];
  // As if a firewall stood between the operator and the server port: only SSH gets through.
  const firewalled: DirectDial = async (ep) => {
    dialled.push(`${ep.host}:${ep.port}`);
    throw new RedisUnavailable(`${ep.host}:${ep.port}: connection refused`);
  };
  const reader = new NodeReader(session, firewalled);
  try {
    const master = await reader.read(session.node('m'));
    const replica = await reader.read(session.node('r'));
    expect(dialled).toEqual([`127.0.0.81:${port}`, `127.0.0.82:${port}`]);
    expect([master.via, replica.via]).toEqual(['tunnel', 'tunnel']);
    expect(master.info.role).toBe('master');
    expect(replica.info).toMatchObject({
      role: 'slave',
      master_host: '127.0.0.81',
      master_link_status: 'up',
    });
    // The connection is kept for the next poll: no second direct dial.
    expect((await reader.read(session.node('m'))).via).toBe('tunnel');
    expect(dialled).toHaveLength(2);
  } finally {
    await reader.close();
    await session.close();
  }
});

test('a replica that cannot authenticate fails verification with a per-replica diagnosis, exit 1', async () => {
  const r = await runCli(
    [
      'apply',
      writeInventory({ maxmemory: '128mb', withBroken: true }),
      '--yes',
      '--verify-timeout',
      '6s',
      '--json',
      '--agent',
      agent,
    ],
    ENV,
  );
  expect(r.code).toBe(1);
  expect(r.json.error.code).toBe('E_VERIFY_FAILED');
  const verdicts = Object.fromEntries(r.json.verification.replicas.map((v: { name: string }) => [v.name, v]));
  expect(verdicts.r.ok).toBe(true);
  expect(verdicts.r2.ok).toBe(false);
  expect(verdicts.r2.problems[0]).toMatch(/^r2: link to m is down/);
  expect(verdicts.r2.diagnosis).toContain('auth: masterauth of r2 does not match requirepass of m');
  expect(r.stderr).toContain('auth: masterauth of r2 does not match requirepass of m');
  expect(r.stdout + r.stderr).not.toContain(WRONG);

  // Fixing the inventory fixes the replica, at runtime.
  const fixed = await runCli(
    [
      'apply',
      writeInventory({ maxmemory: '128mb', withBroken: true, brokenFixed: true }),
      '--yes',
      '--json',
      '--agent',
      agent,
    ],
    ENV,
  );
  expect({ code: fixed.code, stderr: fixed.code === 0 ? '' : fixed.stderr }).toEqual({ code: 0, stderr: '' });
  expect(fixed.json.plan.nodes.find((n: { name: string }) => n.name === 'r2').actions).toEqual([
    {
      kind: 'reconfigure',
      drift: false,
      changes: [
        { name: 'masterauth', from: '(secret)', to: '(secret)', secret: true, runtime: 'config-set' },
      ],
    },
  ]);
});

test('destroy stops the agents and removes what apply installed, keeping data until --purge', async () => {
  const inv = writeInventory({ maxmemory: '128mb', withBroken: true, brokenFixed: true });
  const r = await runCli(['destroy', inv, '--yes'], ENV);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout).toContain('Destroyed 3 node(s).');
  for (const [h, n] of [
    ['m', 'm'],
    ['r', 'r'],
    ['r2', 'r2'],
  ] as const) {
    const host = lab.host(h);
    expect(
      sh(host, `ls /etc/init.d /etc/rc2.d /etc/orchestrate /opt/orchestrate 2>/dev/null; true`),
    ).not.toMatch(/orchestrate-|\.conf|orchestrate-agent\.js/);
    expect(sh(host, `ls /var/lib/orchestrate`).trim()).toBe(n);
    expect(sh(host, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")).not.toContain(
      'orchestrate-agent.js',
    );
  }
  const again = await runCli(['destroy', inv, '--yes'], ENV);
  expect(again.stdout).toContain('Nothing to destroy.');
  const purge = await runCli(['destroy', inv, '--yes', '--purge'], ENV);
  expect(purge.code).toBe(0);
  for (const h of lab.hosts) expect(h.sh('ls /var/lib/orchestrate/*').stdout.trim()).toBe('');
});

test('host keys: unknown hosts are refused until --accept-new-host-keys records them', async () => {
  const emptyKnownHosts = path.join(dir, 'known_hosts.empty');
  writeFileSync(emptyKnownHosts, '');
  const file = path.join(dir, 'unknown-keys.yaml');
  writeFileSync(file, readFileSync(writeInventory(), 'utf8').replace(lab.knownHostsFile, emptyKnownHosts));
  const refused = await runCli(['plan', file, '--json', '--agent', agent], ENV);
  expect(refused.code).toBe(1);
  expect(refused.json.error.code).toBe('E_FACTS');
  expect(refused.json.error.details.join('\n')).toMatch(/m: host key of \[127\.0\.0\.81\]:\d+ is not in/);
  expect(readFileSync(emptyKnownHosts, 'utf8')).toBe('');
  const accepted = await runCli(['plan', file, '--accept-new-host-keys', '--agent', agent], ENV);
  expect(accepted.code).toBe(0);
  const recorded = readFileSync(emptyKnownHosts, 'utf8');
  for (const h of ['m', 'r'])
    expect(recorded).toContain(`[${lab.host(h).address}]:${lab.host(h).port} ${lab.host(h).hostPublicKey}`);
});

test('a host behind a jump host is reached through it', async () => {
  const file = path.join(dir, 'jump.yaml');
  const m = lab.host('m');
  writeFileSync(
    file,
    readFileSync(writeInventory(), 'utf8').replace(
      `    ssh: { port: ${lab.host('r').port} }`,
      `    ssh: { port: ${lab.host('r').port}, jumpHost: { address: 127.0.0.81, port: ${m.port}, user: root, identityFile: ${lab.clientKeyFile}, useAgent: false } }`,
    ),
  );
  expect(readFileSync(file, 'utf8')).toContain('jumpHost');
  const r = await runCli(['plan', file, '--json', '--limit', 'r', '--agent', agent], ENV);
  expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.json.plan.nodes.map((n: { name: string }) => n.name)).toEqual(['r']);
});
