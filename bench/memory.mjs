// Memory benchmark: resident set size of the built agent (dist/orchestrate-agent.js) against real redis-server
// after loading the same data, printed side by side with the ratio agent/redis (target <= 2).
//
// Scenarios, each on a fresh pair of servers (RSS rarely shrinks after a flush, so nothing is reused):
//   strings       1,000,000 keys of 16 bytes with 100-byte values (MSET batches)
//   list-100B     one list of 1,000,000 elements of 100 bytes (RPUSH batches)
//   list-10B      one list of 1,000,000 elements of 10 bytes (to show the fixed cost of a Node process)
// RSS is read from /proc/<pid>/status (VmRSS) once the load is acknowledged, every second for SETTLE_MS; the
// last sample is reported (V8 shrinks its heap once the process is idle) and the highest one as the peak.
// used_memory from INFO memory is printed too.
//
// Knobs (environment): BENCH_MEMORY_SCENARIOS (comma list), BENCH_MEMORY_COUNT (default 1000000),
// BENCH_NODE_FLAGS (extra node flags for the agent, e.g. V8 heap settings).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST, freePort, rssBytes, serverCommand, serverSettings } from './support.mjs';

const COUNT = Number(process.env.BENCH_MEMORY_COUNT ?? 1_000_000);
/** Keys or elements per MSET / RPUSH command. */
const BATCH = 1000;
/** Commands sent before waiting for their replies. */
const WINDOW = 16;
/** Idle time during which RSS is sampled (V8's memory reducer runs garbage collections once a process is idle). */
const SETTLE_MS = 12_000;
const SAMPLE_EVERY_MS = 1000;
/** Extra node flags for the agent process (experiments with V8 heap settings). */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

const SCENARIOS = [
  {
    name: 'strings',
    describe: `${COUNT} keys, 16-byte keys, 100-byte values`,
    command: (from, n) => {
      const args = ['MSET'];
      for (let i = from; i < from + n; i++) args.push(key16(i), value(i, 100));
      return args;
    },
  },
  {
    name: 'list-100B',
    describe: `1 list, ${COUNT} elements of 100 bytes`,
    command: (from, n) => {
      const args = ['RPUSH', 'biglist'];
      for (let i = from; i < from + n; i++) args.push(value(i, 100));
      return args;
    },
  },
  {
    name: 'list-10B',
    describe: `1 list, ${COUNT} elements of 10 bytes`,
    command: (from, n) => {
      const args = ['RPUSH', 'biglist'];
      for (let i = from; i < from + n; i++) args.push(value(i, 10));
      return args;
    },
  },
].filter(
  (s) =>
    !process.env.BENCH_MEMORY_SCENARIOS || process.env.BENCH_MEMORY_SCENARIOS.split(',').includes(s.name),
);

function key16(i) {
  return 'key:' + String(i).padStart(12, '0');
}

function value(i, size) {
  const s = String(i);
  return s + 'v'.repeat(size - s.length);
}

function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

/** A connection that sends commands and counts complete top-level replies (enough for +OK / :n / $n). */
class Conn {
  constructor(socket) {
    this.socket = socket;
    this.pending = [];
    this.buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      this.buf += d;
      this.drain();
    });
  }
  static open(port) {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, HOST, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  drain() {
    for (;;) {
      if (this.pending.length === 0) return;
      const reply = this.takeReply();
      if (reply === null) return;
      this.pending.shift()(reply);
    }
  }
  takeReply() {
    const end = this.buf.indexOf('\r\n');
    if (end < 0) return null;
    const head = this.buf.slice(0, end);
    if (head[0] === '$') {
      const len = Number(head.slice(1));
      if (len < 0) {
        this.buf = this.buf.slice(end + 2);
        return null;
      }
      if (this.buf.length < end + 2 + len + 2) return null;
      const body = this.buf.slice(end + 2, end + 2 + len);
      this.buf = this.buf.slice(end + 4 + len);
      return body;
    }
    this.buf = this.buf.slice(end + 2);
    if (head[0] === '-') throw new Error(head);
    return head;
  }
  send(args) {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.socket.write(encode(args));
    });
  }
  close() {
    this.socket.destroy();
  }
}

async function start(kind) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-memory-${kind}-`));
  const [cmd, args] = serverCommand(kind, serverSettings(port, dir), NODE_FLAGS);
  const proc = spawn(cmd, args, { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const c = await Conn.open(port);
      await c.send(['PING']);
      return { kind, proc, port, dir, conn: c };
    } catch {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${kind} did not start`);
      await sleep(50);
    }
  }
}

async function stop(s) {
  s.conn.close();
  s.proc.kill('SIGKILL');
  await new Promise((r) => (s.proc.exitCode !== null ? r() : s.proc.once('exit', r)));
  rmSync(s.dir, { recursive: true, force: true });
}

async function load(s, scenario) {
  const inflight = [];
  for (let from = 0; from < COUNT; from += BATCH) {
    inflight.push(s.conn.send(scenario.command(from, Math.min(BATCH, COUNT - from))));
    if (inflight.length >= WINDOW) await inflight.shift();
  }
  await Promise.all(inflight);
}

async function usedMemory(s) {
  const info = await s.conn.send(['INFO', 'memory']);
  const m = /used_memory:(\d+)/.exec(info);
  return m ? Number(m[1]) : NaN;
}

const mb = (n) => (n / 1024 / 1024).toFixed(1);

async function measure(scenario) {
  const results = {};
  for (const kind of ['redis', 'agent']) {
    const s = await start(kind);
    try {
      const baseline = rssBytes(s.proc.pid);
      const t0 = Date.now();
      await load(s, scenario);
      const loadMs = Date.now() - t0;
      const samples = [];
      for (let waited = 0; waited < SETTLE_MS; waited += SAMPLE_EVERY_MS) {
        await sleep(SAMPLE_EVERY_MS);
        samples.push(rssBytes(s.proc.pid));
      }
      // The settled value: what the process holds once idle collection has run (the last sample).
      results[kind] = {
        baseline,
        rss: samples[samples.length - 1],
        peak: Math.max(...samples),
        used: await usedMemory(s),
        loadMs,
      };
    } finally {
      await stop(s);
    }
  }
  return results;
}

console.log(
  `memory benchmark, ${os.cpus().length} cpus, node ${process.version}, ${new Date().toISOString()}`,
);
console.log(
  'scenario'.padEnd(12) +
    'redis RSS MB'.padStart(14) +
    'agent RSS MB'.padStart(14) +
    'ratio'.padStart(8) +
    'redis used MB'.padStart(15) +
    'agent used MB'.padStart(15) +
    'idle RSS r/a MB'.padStart(18) +
    'agent peak MB'.padStart(15),
);
for (const scenario of SCENARIOS) {
  const r = await measure(scenario);
  console.log(
    scenario.name.padEnd(12) +
      mb(r.redis.rss).padStart(14) +
      mb(r.agent.rss).padStart(14) +
      (r.agent.rss / r.redis.rss).toFixed(2).padStart(8) +
      mb(r.redis.used).padStart(15) +
      mb(r.agent.used).padStart(15) +
      `${mb(r.redis.baseline)}/${mb(r.agent.baseline)}`.padStart(18) +
      mb(r.agent.peak).padStart(15) +
      `   (${scenario.describe}; load ${r.redis.loadMs} ms / ${r.agent.loadMs} ms)`,
  );
}
