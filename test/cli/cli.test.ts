/**
 * The `orchestrate` command line, run in-process through `main` with captured streams: help and version, exit
 * codes (0 ok, 1 failure, 2 bad input), --json documents, colour rules, and refusals that leave every host
 * untouched (bad inventory, missing secret, no confirmation, unreachable host).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pkg from '../../package.json';
import { runInProcess, type InProcessRun } from '../helpers/cliInProcess';

const REPO = path.resolve(__dirname, '../..');
const AGENT_BUNDLE = path.join(REPO, 'dist/orchestrate-agent.js');

function run(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; tty?: boolean; stdin?: string } = {},
): Promise<InProcessRun> {
  return runInProcess(args, { ...opts, env: { HOME: process.env.HOME, ...opts.env } });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An inventory of two local nodes whose every path is under `root` (which must stay absent when refused). */
function localInventory(root: string, extra = '', defaultsExtra = ''): string {
  const file = path.join(dir, 'inv.yaml');
  writeFileSync(
    file,
    `version: 1
defaults:
  connection: local
${defaultsExtra}  service: { manager: daemon, autoRestart: false }
  paths: { install: ${root}/opt, config: ${root}/etc, data: ${root}/data, log: ${root}/log, run: ${root}/run }
${extra}hosts:
  m: { address: 127.0.0.1, server: { port: 7191 } }
  r: { address: 127.0.0.1, server: { port: 7192 }, replicaof: m }
`,
  );
  return file;
}

describe('help and version', () => {
  test('--help lists the commands and exits 0; no arguments prints it and exits 2', async () => {
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['validate', 'plan', 'apply', 'destroy']) expect(h.stdout).toContain(`  ${c} `);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: orchestrate <command>');
  });

  test.each(['validate', 'plan', 'apply', 'destroy'])('%s --help shows its own options', async (cmd) => {
    const h = await run([cmd, '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain(`Usage: orchestrate ${cmd} [INVENTORY] [options]`);
    expect(h.stdout).toContain('--json');
    if (cmd === 'apply')
      expect(h.stdout).toMatch(
        /--verify-timeout DURATION[\s\S]*--parallel N[\s\S]*--limit HOST\|GROUP[\s\S]*--accept-new-host-keys/,
      );
    if (cmd === 'destroy') expect(h.stdout).toContain('--purge');
    if (cmd === 'validate') expect(h.stdout).not.toContain('--parallel');
  });

  test('--version prints the package version', async () => {
    const v = await run(['--version']);
    expect(v).toEqual({
      code: 0,
      stdout: `orchestrate ${pkg.version}\n`,
      stderr: '',
    });
  });
});

describe('bad input exits 2', () => {
  test('an unknown command suggests the closest one', async () => {
    const r = await run(['aply']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: unknown command "aply" (did you mean "apply"?) [E_USAGE]');
  });
  test.each([
    [['apply', '--bogus'], "Unknown option '--bogus'"],
    [['apply', '--parallel', '0'], '--parallel must be an integer from 1 to 256'],
    [['apply', '--verify-timeout', 'soon'], 'invalid duration "soon"'],
    [['plan', 'a.yaml', 'b.yaml'], 'plan takes one inventory file, got 2'],
    [['validate', '--yes'], "Unknown option '--yes'"],
  ])('%j is refused', async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
  test('--limit naming nothing in the inventory is refused before any host is contacted', async () => {
    const root = path.join(dir, 'hosts');
    const r = await run(['plan', localInventory(root), '--limit', 'nosuch', '--agent', AGENT_BUNDLE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--limit nosuch: no such host or group');
    expect(existsSync(root)).toBe(false);
  });
  test('a missing inventory file is reported', async () => {
    const r = await run(['validate', path.join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read inventory .*nope\.yaml: ENOENT: no such file or directory/);
  });
});

describe('validate', () => {
  test('a valid inventory prints its topology', async () => {
    const r = await run(['validate', path.join(REPO, 'inventories/example.yaml')], {
      env: { REDIS_PASSWORD: 'x' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'valid: ' +
        `${path.join(REPO, 'inventories/example.yaml')}: 2 nodes, 1 replication tree\n` +
        'tree main:\n  redis-master (10.142.130.81:6379)\n  └─ redis-replica (10.142.130.82:6379)\n',
    );
  });
  test('a missing secret is only a warning for validate', async () => {
    const r = await run(['validate', path.join(REPO, 'inventories/example.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('environment variable REDIS_PASSWORD is not set');
  });
  test('problems go to stderr as file:line:column lines, exit 2', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'version: 1\nhosts:\n  m: { address: 10.0.0.1 }\n  r: { address: 10.0.0.2, replicaof: nope }\n',
    );
    const r = await run(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: inventory is invalid (1 problem) [E_INVENTORY_INVALID]\n  ${file}:4:38: hosts.r.replicaof: unknown host "nope" (hosts: m, r)\n`,
    );
    expect(r.stdout).toBe('');
  });
  test('--json gives one document with the located problems', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\nhosts:\n  m: { address: 10.0.0.1, server: { requirepass: hunter2 } }\n');
    const r = await run(['validate', file, '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('E_INVENTORY_INVALID');
    expect(doc.error.problems).toEqual([
      expect.objectContaining({
        file,
        line: 3,
        column: 50,
        path: 'hosts.m.server.requirepass',
        kind: 'secret',
      }),
    ]);
    expect(r.stdout).not.toContain('hunter2');
  });
  test('--json on success', async () => {
    const r = await run(['validate', path.join(REPO, 'inventories/local.yaml'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.nodes.map((n: { name: string; role: string }) => [n.name, n.role])).toEqual([
      ['local-master', 'master'],
      ['local-replica', 'replica'],
    ]);
  });
});

describe('colour', () => {
  const bad = () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\nhosts: {}\n');
    return file;
  };
  test('no escape codes when output is not a terminal', async () => {
    const r = await run(['validate', bad()]);
    expect(r.stderr).not.toContain('\u001b[');
  });
  test('colour on a terminal, none with NO_COLOR or --no-color', async () => {
    expect((await run(['validate', bad()], { tty: true })).stderr).toContain('\u001b[31merror');
    expect((await run(['validate', bad()], { tty: true, env: { NO_COLOR: '1' } })).stderr).not.toContain(
      '\u001b[',
    );
    expect((await run(['validate', bad(), '--no-color'], { tty: true })).stderr).not.toContain('\u001b[');
  });
});

describe('refusals leave hosts untouched', () => {
  test('an invalid inventory changes nothing', async () => {
    const root = path.join(dir, 'hosts');
    const file = localInventory(root, 'groups: { g: { server: { port: 99999 } } }\n');
    const r = await run(['apply', file, '--yes', '--agent', AGENT_BUNDLE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('groups.g.server.port: must be <= 65535');
    expect(existsSync(root)).toBe(false);
  });
  test('a secret that cannot be read changes nothing', async () => {
    const root = path.join(dir, 'hosts');
    const file = localInventory(root, '', '  server: { requirepass: { env: MISSING_PW } }\n');
    const r = await run(['apply', file, '--yes', '--agent', AGENT_BUNDLE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[E_SECRET_MISSING]');
    expect(r.stderr).toContain('defaults.server.requirepass: environment variable MISSING_PW is not set');
    expect(existsSync(root)).toBe(false);
  });
  test('without a terminal and without --yes, apply shows the plan and changes nothing', async () => {
    const root = path.join(dir, 'hosts');
    const r = await run(['apply', localInventory(root), '--agent', AGENT_BUNDLE]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('+ m  127.0.0.1:7191  master  [daemon]');
    expect(r.stderr).toContain(
      'not changing hosts without confirmation: no terminal to ask on [E_CONFIRMATION_REQUIRED]',
    );
    expect(existsSync(root)).toBe(false);
  });
  test('answering no on a terminal changes nothing, exit 1', async () => {
    const root = path.join(dir, 'hosts');
    const r = await run(['apply', localInventory(root), '--agent', AGENT_BUNDLE, '--no-color'], {
      tty: true,
      stdin: 'n\n',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Apply changes to 2 node(s)? [y/N]');
    expect(r.stderr).toContain('not confirmed; nothing was changed [E_DECLINED]');
    expect(existsSync(root)).toBe(false);
  });
  test('an unreachable SSH host fails fact gathering with exit 1 and nothing is changed anywhere', async () => {
    const root = path.join(dir, 'hosts');
    const file = path.join(dir, 'ssh.yaml');
    writeFileSync(
      file,
      `version: 1
defaults:
  ssh: { port: 1, user: root, knownHostsFile: ${dir}/known_hosts, connectTimeoutMs: 2000 }
hosts:
  local: { address: 127.0.0.1, connection: local, service: { manager: daemon, autoRestart: false }, paths: { install: ${root}/opt, config: ${root}/etc, data: ${root}/data, log: ${root}/log, run: ${root}/run }, server: { port: 7193 } }
  far: { address: 127.0.0.1, server: { port: 7194 }, replicaof: local }
`,
    );
    const r = await run(['apply', file, '--yes', '--agent', AGENT_BUNDLE, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe('E_FACTS');
    expect(doc.error.details[0]).toMatch(
      /^far: ssh connection to 127\.0\.0\.1:1 failed: connect ECONNREFUSED/,
    );
    expect(existsSync(root)).toBe(false);
  });
});
