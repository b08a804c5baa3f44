// Shared plumbing of the side-by-side benchmarks (bench/*.mjs): where the agent bundle and redis-server live, free
// loopback ports, the command line both servers start with, core pinning (servers on core 0, the load generator on
// core 1 of a 2-core machine), redis-benchmark SET runs parsed from its CSV, INFO parsing, /proc readings (CPU time,
// RSS) and medians. Each script keeps what is specific to its measurement; everything here talks to 127.0.0.1 only.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const AGENT = path.join(ROOT, 'dist/orchestrate-agent.js');
export const REDIS_SERVER = '/usr/bin/redis-server';
export const HOST = '127.0.0.1';
/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLK_TCK = 100;

/** Whether processes can be pinned to cores: taskset exists and there are at least 2 cores. */
export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return os.cpus().length >= 2;
  } catch {
    return false;
  }
})();

/** [command, args] that run `cmd args` on `core` when pinning is possible, unpinned otherwise. */
export const pinned = (core, cmd, args) =>
  hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];

/** A loopback port nobody listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The settings every benchmarked server starts with: loopback port, its own dir, no persistence. */
export function serverSettings(port, dir) {
  return ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'];
}

/** [command, args] that start a server of `kind` ('agent' or 'redis'); node flags apply to the agent only. */
export function serverCommand(kind, args, nodeFlags = []) {
  return kind === 'agent' ? [process.execPath, [...nodeFlags, AGENT, ...args]] : [REDIS_SERVER, args];
}

const children = new Set();
let exitHookInstalled = false;

/** Kills `child` with SIGKILL if the benchmark exits while it runs; the returned function forgets it. */
export function killOnExit(child) {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  children.add(child);
  return () => children.delete(child);
}

/** Keeps the last `limitChars` characters of a child's stdout and stderr; returns a reader of them. */
export function captureOutput(child, limitChars) {
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-limitChars)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-limitChars)));
  return () => out;
}

/** Seconds the last "DB loaded from disk" line of a server log reports, NaN when there is none. */
export function loadedFromDiskSeconds(log) {
  const all = [...log.matchAll(/DB loaded from disk: ([\d.]+) seconds/g)];
  return all.length > 0 ? Number(all[all.length - 1][1]) : NaN;
}

/** The fields of an INFO reply as name -> value. */
export function parseInfo(text) {
  const fields = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/**
 * `redis-benchmark -P 16 -c 50 -t set -r 1000000 -d valueBytes` against `port`, on `core` when given (unpinned
 * otherwise). Resolves with requests per second, p99 and max latency (ms) from the CSV, and the wall time (ms).
 */
export function runSetLoad(port, requests, { valueBytes, core }) {
  return new Promise((resolve, reject) => {
    const args = [
      '-h',
      HOST,
      '-p',
      String(port),
      '-t',
      'set',
      '-n',
      String(requests),
      '-P',
      '16',
      '-c',
      '50',
    ];
    args.push('-r', '1000000', '-d', String(valueBytes), '--csv');
    const [cmd, cmdArgs] =
      core === undefined ? ['redis-benchmark', args] : pinned(core, 'redis-benchmark', args);
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    const t0 = process.hrtime.bigint();
    child.on('close', () => {
      const line = out
        .trim()
        .split('\n')
        .find((l) => l.startsWith('"SET"'));
      if (!line) return reject(new Error(`redis-benchmark output: ${out}`));
      // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      const cols = line.split(',').map((c) => c.replace(/"/g, ''));
      resolve({
        rps: Number(cols[1]),
        p99: Number(cols[6]),
        max: Number(cols[7]),
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
      });
    });
  });
}

/** CPU seconds (user + system, all threads) the process used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size of a process in bytes (VmRSS); throws when the process is gone. */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m[1]) * 1024;
}

/** The median; for an even count, the mean of the two middle values. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The median; for an even count, the higher of the two middle values (always a measured sample). */
export function upperMedian(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Runs `fn` and returns its wall time in ms with its result. */
export function time(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result };
}

/** Awaits `fn` and returns its wall time in ms with its result. */
export async function timeAsync(fn) {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result };
}

/**
 * The load of runSetLoad in consecutive rounds of `roundRequests` until `finished()` is true after a round, or the
 * rounds have taken `maxMs` (at least one round), so that the load covers a background job (a BGSAVE, a full sync)
 * however long it takes, and little beyond it. Resolves with the throughput over all rounds (requests / wall
 * time), the worst p99 and max of the rounds, the wall time (ms) and the number of rounds. Undisturbed baselines
 * should use the same rounds (`finished` always false, a `maxMs`).
 */
export async function runSetLoadUntil(port, finished, roundRequests, options, maxMs = Infinity) {
  let requests = 0;
  let ms = 0;
  let p99 = 0;
  let max = 0;
  let rounds = 0;
  do {
    const r = await runSetLoad(port, roundRequests, options);
    requests += roundRequests;
    ms += r.ms;
    p99 = Math.max(p99, r.p99);
    max = Math.max(max, r.max);
    rounds++;
  } while (ms < maxMs && !(await finished()));
  return { rps: requests / (ms / 1000), p99, max, ms, rounds };
}
