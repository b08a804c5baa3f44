/**
 * Apply as a non-root SSH user with `become: true`: every privileged step goes through `sudo -n` without a TTY,
 * files land owned by root with the right modes, a second plan sees no changes, destroy cleans up. A user
 * whose sudo wants a password is refused quickly with the reason instead of hanging.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSshHosts, type SshHosts } from '../helpers/sshHosts';
import { requireBundles, runCli } from './support/runCli';

jest.setTimeout(120_000);

let lab: SshHosts;
let dir: string;

beforeAll(async () => {
  requireBundles();
  lab = await startSshHosts([
    { name: 'solo', address: '127.0.0.84', users: [{ name: 'deploy', sudo: true }, { name: 'intern' }] },
  ]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-become-'));
});

afterAll(async () => {
  await lab?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function inventory(user: string): string {
  const h = lab.host('solo');
  const file = path.join(dir, `${user}.yaml`);
  writeFileSync(
    file,
    `version: 1
hosts:
  solo:
    address: 127.0.0.84
    ssh: { user: ${user}, port: ${h.port}, become: true, identityFile: ${lab.clientKeyFile}, knownHostsFile: ${lab.knownHostsFile}, useAgent: false }
    server: { port: 7481, requirepass: { env: BECOME_PW } }
`,
  );
  return file;
}

const ENV = { BECOME_PW: 'become-secret' };

test('apply, plan and destroy as a sudoer install root-owned files through sudo -n', async () => {
  const solo = lab.host('solo');
  const a = await runCli(['apply', inventory('deploy'), '--yes', '--json'], ENV);
  expect({ code: a.code, stderr: a.code === 0 ? '' : a.stderr }).toEqual({ code: 0, stderr: '' });
  expect(a.json.plan.nodes[0].manager).toBe('sysv');
  const st = solo.sh(
    'stat -c "%U %a %n" /etc/orchestrate/solo.conf /opt/orchestrate/orchestrate-agent.js /etc/init.d/orchestrate-solo',
  );
  expect(st.stdout.trim().split('\n')).toEqual([
    'root 600 /etc/orchestrate/solo.conf',
    'root 755 /opt/orchestrate/orchestrate-agent.js',
    'root 755 /etc/init.d/orchestrate-solo',
  ]);
  // The agent runs as root, started through sudo.
  expect(solo.sh('stat -c %U /proc/$(cat /run/orchestrate/solo.pid)').stdout.trim()).toBe('root');

  const p = await runCli(['plan', inventory('deploy'), '--json'], ENV);
  expect(p.code).toBe(0);
  expect(p.json.plan.changedNodes).toBe(0);

  const d = await runCli(['destroy', inventory('deploy'), '--yes', '--purge'], ENV);
  expect({ code: d.code, stderr: d.code === 0 ? '' : d.stderr }).toEqual({ code: 0, stderr: '' });
  expect(solo.sh('ls /etc/orchestrate /opt/orchestrate /var/lib/orchestrate').code).not.toBe(0);
});

test('a user whose sudo needs a password is refused with the reason, nothing changed', async () => {
  const started = Date.now();
  const r = await runCli(['apply', inventory('intern'), '--yes'], ENV);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    /gathering facts failed.*(password is required|not in the sudoers|may not run sudo)/,
  );
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(lab.host('solo').sh('ls /etc/orchestrate').code).not.toBe(0);
});
