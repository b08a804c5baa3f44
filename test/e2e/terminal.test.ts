/**
 * On a terminal the built CLI shows live listr2 progress per host and step, coloured unless NO_COLOR is set; the
 * same command without a terminal prints plain timestamped lines. Runs dist/orchestrate.js under a
 * pseudo-terminal (util-linux `script`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess, type ProcessRun } from '../helpers/process';
import { localInventoryYaml } from './support/localTopology';
import { AGENT_BUNDLE, CLI_BUNDLE, REPO, requireBundles, runCli } from './support/runCli';

const ESC = '\u001b';
let dir: string;
let inventory: string;

beforeAll(() => {
  requireBundles();
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-tty-'));
  inventory = path.join(dir, 'inv.yaml');
  const root = path.join(dir, 'host');
  writeFileSync(
    inventory,
    localInventoryYaml(root, { m: { port: 7181 }, r: { port: 7182, replicaof: 'm' } }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function underTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  const command = [process.execPath, CLI_BUNDLE, ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  // A fresh pty has no size; give it one as a terminal window would.
  return runProcess('script', ['-qfec', `stty cols 120 rows 40; ${command}`, '/dev/null'], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: dir, TERM: 'xterm-256color', ...env },
  });
}

test('a terminal gets live listr2 progress with colour', async () => {
  const r = await underTerminal(['plan', inventory, '--agent', AGENT_BUNDLE], {});
  expect(r.code).toBe(0);
  expect(r.output).toContain('gather facts (2 nodes)');
  expect(r.output).toMatch(/✔|√/);
  expect(r.output).toMatch(new RegExp(`${ESC}\\[3\\dm`));
  expect(r.output).toContain('2 nodes to change, 0 unchanged.');
});

test('NO_COLOR keeps the terminal free of colour codes', async () => {
  const r = await underTerminal(['plan', inventory, '--agent', AGENT_BUNDLE], { NO_COLOR: '1' });
  expect(r.code).toBe(0);
  expect(r.output).toContain('gather facts (2 nodes)');
  expect(r.output).not.toMatch(new RegExp(`${ESC}\\[(3\\d|9\\d|1|2)m`));
});

test('without a terminal progress is plain timestamped lines', async () => {
  const r = await runCli(['plan', inventory, '--agent', AGENT_BUNDLE], { HOME: dir });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} == gather facts \(2 nodes\)$/m);
  expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} m: facts: ok \(agent not running\) \d+ ms$/m);
  expect(r.stderr + r.stdout).not.toContain('\u001b[');
});
