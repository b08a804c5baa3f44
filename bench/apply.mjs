// Apply benchmark (issue 5): the built CLI (dist/orchestrate.js) against real sshd test hosts (test/helpers/
// sshHosts.ts: one mount + pid namespace per host on 127.0.0.101, .102, ...), pushing the real agent bundle.
// For 2 hosts (a master and a replica) and 20 hosts (a master and 19 replicas):
// 1. fresh apply, including verified sync of every replica;
// 2. no-op re-apply (facts from every host, empty plan, sync verification again).
// Targets: fresh 2-host apply <= 10 s; no-op re-apply <= 2 s; 20 hosts <= 2x the 2-host time.
// Knobs (environment): BENCH_SIZES (default "2,20"), BENCH_PARALLEL (default: the number of hosts),
// BENCH_VERBOSE=1 (print the CLI's timestamped progress, to see where the time goes), BENCH_SYNC_DELAY=<s> (sets
// repl-diskless-sync-delay in the inventory; unset, the agent's Redis default of 5 s applies, and a fresh apply
// waits that long for the first full sync).
// Needs root, sshd, unshare and overlayfs, like the e2e tests. Every host and agent is gone when it ends.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/orchestrate.js');
const AGENT = path.join(ROOT, 'dist/orchestrate-agent.js');
const SIZES = (process.env.BENCH_SIZES ?? '2,20').split(',').map(Number);
const FIRST_ADDRESS = 101;
const PASSWORD = 'bench-password';
const TARGET_FRESH_2_S = 10;
const TARGET_NOOP_S = 2;
const TARGET_SCALE = 2;
const SYNC_DELAY =
  process.env.BENCH_SYNC_DELAY !== undefined
    ? `, directives: { repl-diskless-sync-delay: ${Number(process.env.BENCH_SYNC_DELAY)} }`
    : '';

const work = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-bench-apply-'));
// A private copy of the agent: dist/ may be rebuilt while the benchmark runs.
const agent = path.join(work, 'orchestrate-agent.js');
copyFileSync(AGENT, agent);

/** The sshd harness is TypeScript: bundle it once for this script. */
async function loadHarness() {
  const out = path.join(work, 'sshHosts.mjs');
  await build({
    entryPoints: [path.join(ROOT, 'test/helpers/sshHosts.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  return import(pathToFileURL(out).href);
}

function portFree(address, port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, address, () => s.close(() => resolve(true)));
  });
}

async function pickPort(addresses) {
  for (let p = 7400; p < 7500; p++) {
    const free = await Promise.all(addresses.map((a) => portFree(a, p)));
    if (free.every(Boolean)) return p;
  }
  throw new Error('no free agent port');
}

function runCli(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: work, NO_COLOR: '1', BENCH_PASSWORD: PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (process.env.BENCH_VERBOSE) process.stderr.write(out);
      if (code !== 0) reject(new Error(`orchestrate ${args[0]} exited ${code}:\n${out}`));
      else resolve({ seconds, out });
    });
  });
}

async function benchSize(harness, n) {
  const specs = Array.from({ length: n }, (_, i) => ({
    name: `h${i + 1}`,
    address: `127.0.0.${FIRST_ADDRESS + i}`,
  }));
  const lab = await harness.startSshHosts(specs);
  try {
    const port = await pickPort(specs.map((s) => s.address));
    const inventory = path.join(work, `inventory-${n}.yaml`);
    const hosts = lab.hosts.map(
      (h, i) =>
        `  ${h.name}: { address: ${h.address}, ssh: { port: ${h.port} }${i > 0 ? ', replicaof: h1' : ''} }`,
    );
    writeFileSync(
      inventory,
      `version: 1
defaults:
  ssh: { user: root, identityFile: ${lab.clientKeyFile}, knownHostsFile: ${lab.knownHostsFile}, useAgent: false }
  server: { port: ${port}, requirepass: { env: BENCH_PASSWORD }${SYNC_DELAY} }
hosts:
${hosts.join('\n')}
`,
    );
    const parallel = String(process.env.BENCH_PARALLEL ?? n);
    const common = [inventory, '--yes', '--agent', agent, '--parallel', parallel];
    const fresh = await runCli(['apply', ...common]);
    if (!/Applied changes to \d+ node\(s\)\. Sync verified/.test(fresh.out)) throw new Error(fresh.out);
    const noop = await runCli(['apply', ...common]);
    if (!/No changes applied\. Sync verified/.test(noop.out)) throw new Error(noop.out);
    return { n, fresh: fresh.seconds, noop: noop.seconds };
  } finally {
    await lab.stop();
  }
}

console.log(
  `repl-diskless-sync-delay: ${process.env.BENCH_SYNC_DELAY ?? '5 (default)'} s; load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${os.cpus().length} cores`,
);
const results = [];
try {
  const harness = await loadHarness();
  for (const n of SIZES) {
    const r = await benchSize(harness, n);
    results.push(r);
    console.log(
      `${String(n).padStart(2)} hosts: fresh apply ${r.fresh.toFixed(2)} s, no-op re-apply ${r.noop.toFixed(2)} s`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const two = results.find((r) => r.n === 2);
const twenty = results.find((r) => r.n === 20);
const verdict = (ok) => (ok ? 'ok' : 'MISSED');
console.log('');
if (two) {
  console.log(
    `fresh 2-host apply   ${two.fresh.toFixed(2)} s   target <= ${TARGET_FRESH_2_S} s   ${verdict(two.fresh <= TARGET_FRESH_2_S)}`,
  );
}
for (const r of results) {
  console.log(
    `no-op re-apply (${String(r.n).padStart(2)})  ${r.noop.toFixed(2)} s   target <= ${TARGET_NOOP_S} s    ${verdict(r.noop <= TARGET_NOOP_S)}`,
  );
}
if (two && twenty) {
  const fresh = twenty.fresh / two.fresh;
  const noop = twenty.noop / two.noop;
  console.log(
    `20 vs 2 hosts        fresh ${fresh.toFixed(2)}x, no-op ${noop.toFixed(2)}x   target <= ${TARGET_SCALE}x   ${verdict(fresh <= TARGET_SCALE && noop <= TARGET_SCALE)}`,
  );
}
