// Side-by-side throughput benchmark: the built agent (dist/orchestrate-agent.js) against real redis-server.
//
// Both servers run with the same settings (no persistence, loopback only), pinned to core 0 with taskset when
// it exists, while redis-benchmark runs on core 1. For each command and pipeline depth the two servers are
// measured alternately, several repetitions each, and the medians are compared: requests per second (from
// redis-benchmark's CSV) and the server's CPU time per operation (utime + stime of the whole process from
// /proc/<pid>/stat, before and after the run). Ratios are agent/redis: throughput >= 0.9 at -P 1 and >= 0.8 at
// -P 16, CPU per op <= 1.3 are the targets.
//
// Memory (RSS with a million keys or list elements) is bench/memory.mjs's subject (`npm run bench:memory`).
//
// Knobs (environment): BENCH_REPS (default 3), BENCH_SCALE (request counts multiplier, default 1),
// BENCH_TESTS (comma list, default all), BENCH_PIPELINES (default "1,16").
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AGENT,
  HOST,
  REDIS_SERVER,
  cpuSeconds,
  freePort,
  hasTaskset,
  median,
  pinned,
  serverCommand,
  serverSettings,
} from './support.mjs';

const REDIS_BENCHMARK = 'redis-benchmark';
const CLIENTS = 50;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const PIPELINES = (process.env.BENCH_PIPELINES ?? '1,16').split(',').map(Number);
/** Requests per run at -P 1 and -P 16, sized for roughly one second against Redis on a small machine. */
const TESTS = [
  { name: 'SET', t: 'set', n: [100_000, 600_000] },
  { name: 'GET', t: 'get', n: [100_000, 600_000] },
  { name: 'INCR', t: 'incr', n: [100_000, 600_000] },
  { name: 'LPUSH', t: 'lpush', n: [100_000, 600_000] },
  { name: 'RPOP', t: 'rpop', n: [100_000, 600_000] },
  { name: 'SADD', t: 'sadd', n: [100_000, 600_000] },
  { name: 'HSET', t: 'hset', n: [100_000, 600_000] },
  { name: 'ZADD', t: 'zadd', n: [100_000, 500_000] },
  { name: 'LRANGE_100', t: 'lrange_100', n: [40_000, 60_000] },
  { name: 'MSET', t: 'mset', n: [60_000, 150_000] },
].filter((t) => !process.env.BENCH_TESTS || process.env.BENCH_TESTS.split(',').includes(t.name));

async function waitForPort(port, proc) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server on ${port} exited with ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST);
      s.once('connect', () => {
        s.end('PING\r\n');
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`server on ${port} did not start`);
}

async function startServer(kind) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  const settings = serverSettings(port, dir);
  const [cmd, args] = pinned(
    0,
    ...serverCommand(kind, kind === 'agent' ? settings : [...settings, '--daemonize', 'no']),
  );
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, proc);
  return {
    kind,
    port,
    pid: proc.pid,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runBenchmark(server, test, pipeline, requests) {
  const [cmd, args] = pinned(1, REDIS_BENCHMARK, [
    '-h',
    HOST,
    '-p',
    String(server.port),
    '-c',
    String(CLIENTS),
    '-n',
    String(requests),
    '-P',
    String(pipeline),
    '-t',
    test.t,
    '--csv',
  ]);
  const before = cpuSeconds(server.pid);
  const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const cpu = cpuSeconds(server.pid) - before;
  const line = out
    .split('\n')
    .find((l) => l.toUpperCase().startsWith(`"${test.name}`) && !l.includes('needed'));
  if (!line) throw new Error(`no result for ${test.name} in:\n${out}`);
  const rps = Number(line.split(',')[1].replaceAll('"', ''));
  // LRANGE runs an LPUSH first to fill the list; its CPU is part of the run, so count its requests too.
  const opsRun = test.t.startsWith('lrange') ? requests * 2 : requests;
  return { rps, cpuUsPerOp: (cpu * 1e6) / opsRun };
}

async function main() {
  if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run npm run build`);
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is not installed`);
  const started = Date.now();
  const servers = [await startServer('agent'), await startServer('redis')];
  const results = [];
  try {
    // Warm-up: let the agent's JIT settle on every command before measuring.
    for (const s of servers) for (const test of TESTS) runBenchmark(s, test, 16, 50_000);
    for (const pipeline of PIPELINES) {
      for (const test of TESTS) {
        const n = Math.round(test.n[pipeline === 1 ? 0 : 1] * SCALE);
        const samples = { agent: [], redis: [] };
        for (let rep = 0; rep < REPS; rep++) {
          for (const s of rep % 2 ? [...servers].reverse() : servers) {
            samples[s.kind].push(runBenchmark(s, test, pipeline, n));
          }
        }
        const summary = (kind) => ({
          rps: median(samples[kind].map((r) => r.rps)),
          cpu: median(samples[kind].map((r) => r.cpuUsPerOp)),
        });
        const row = { test: test.name, pipeline, agent: summary('agent'), redis: summary('redis') };
        results.push(row);
        printRow(row);
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  console.log(
    `\n${REPS} repetitions each, medians; -c ${CLIENTS}; ${hasTaskset ? 'servers on core 0, redis-benchmark on core 1' : 'not pinned'}; ` +
      `${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}; node ${process.version}; ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

let headerPrinted = false;
function printRow({ test, pipeline, agent, redis }) {
  if (!headerPrinted) {
    headerPrinted = true;
    console.log(
      ['command', 'P', 'agent rps', 'redis rps', 'ratio', 'agent us/op', 'redis us/op', 'cpu ratio']
        .map((h, i) => (i === 0 ? h.padEnd(11) : h.padStart(i === 1 ? 3 : 12)))
        .join(' '),
    );
  }
  console.log(
    [
      test.padEnd(11),
      String(pipeline).padStart(3),
      agent.rps.toFixed(0).padStart(12),
      redis.rps.toFixed(0).padStart(12),
      (agent.rps / redis.rps).toFixed(2).padStart(12),
      agent.cpu.toFixed(2).padStart(12),
      redis.cpu.toFixed(2).padStart(12),
      (agent.cpu / redis.cpu).toFixed(2).padStart(12),
    ].join(' '),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
