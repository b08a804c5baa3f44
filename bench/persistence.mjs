// Persistence benchmark (issue 3): the built agent (dist/orchestrate-agent.js) side by side with real redis-server 7
// in the same run, same settings, on the same mixed dataset of BENCH_KEYS keys (default 1,000,000): 96% strings
// "key:%012d" with 100-byte values (the keys redis-benchmark -r 1000000 writes to), 1% each lists (16 items),
// hashes (8 fields), sets (8 members) and zsets (8 members). For each server:
// - SAVE time and dump file size; BGSAVE time (command to rdb_bgsave_in_progress:0) with no load;
// - load time at startup ("DB loaded from disk: X seconds" in the log) of its own dump, median of 3 restarts;
// - throughput and p99 latency of `redis-benchmark -P 16 -c 50 -t set -r 1000000 -d 100` undisturbed, then with a
//   BGSAVE started inside the same load, which runs in rounds of 0.3 s until the BGSAVE is over (so the figure
//   covers the whole BGSAVE and little else; the undisturbed figure uses the same rounds);
// - the extra memory of that BGSAVE: rdb_last_cow_size (Redis: copy-on-write pages of the fork child; agent: the
//   snapshot's marks of changed keys, the keys and position table of one pass and unwritten bytes) and how much higher the
//   process RSS peaks during the BGSAVE than during the same load alone (the server's own process only: Redis's
//   fork child is not counted there, its copy-on-write is), against the dataset (used_memory after loading).
// SAVE, BGSAVE without load and loading run unpinned; for the redis-benchmark runs the server (all its threads)
// is pinned to core 0 and redis-benchmark to core 1 when taskset exists (2-core machine). Ratios are agent/redis.
// Targets: SAVE and load <= 1.5x Redis; throughput during BGSAVE >= 70% of undisturbed; extra memory <= 10% of the
// dataset under that load.
// Knobs (environment): BENCH_KEYS, BENCH_REPS (default 1; medians over reps).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  HOST,
  captureOutput,
  freePort,
  hasTaskset,
  killOnExit,
  loadedFromDiskSeconds,
  parseInfo,
  rssBytes as processRssBytes,
  runSetLoad,
  runSetLoadUntil,
  serverCommand,
  serverSettings,
  timeAsync,
  upperMedian as median,
} from './support.mjs';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 1);
/** Loads at startup per server (median): a load takes about a second and one sample varied by +-15% here. */
const LOAD_REPS = Math.max(3, REPS);
const VALUE_BYTES = 100;
/** Commands per pipelined batch while populating. */
const POPULATE_BATCH = 5000;

/** A minimal RESP client over one socket: pipelined commands, replies parsed as they come. */
class Conn {
  constructor(port) {
    this.socket = net.connect({ host: HOST, port });
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.socket.on('data', (d) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.drain();
    });
  }
  ready() {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }
  /** Parses one reply at `p`: [value, next offset] or null when incomplete. */
  parse(p) {
    const b = this.buf;
    const eol = b.indexOf('\r\n', p);
    if (eol < 0) return null;
    const type = String.fromCharCode(b[p]);
    const line = b.toString('latin1', p + 1, eol);
    if (type === '+' || type === ':') return [line, eol + 2];
    if (type === '-') return [new Error(line), eol + 2];
    if (type === '$' || type === '=') {
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      if (b.length < eol + 2 + n + 2) return null;
      return [b.toString('latin1', eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    if (type === '*') {
      const n = Number(line);
      const out = [];
      let q = eol + 2;
      for (let i = 0; i < n; i++) {
        const r = this.parse(q);
        if (r === null) return null;
        out.push(r[0]);
        q = r[1];
      }
      return [out, q];
    }
    throw new Error(`unexpected reply type ${type}`);
  }
  drain() {
    let p = 0;
    while (this.waiting.length > 0) {
      const r = this.parse(p);
      if (r === null) break;
      p = r[1];
      this.waiting.shift()(r[0]);
    }
    this.buf = this.buf.subarray(p);
  }
  /** Sends several commands at once; resolves with their replies. */
  pipeline(commands) {
    const parts = [];
    for (const argv of commands) {
      parts.push(`*${argv.length}\r\n`);
      for (const a of argv) parts.push(`$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`);
    }
    const replies = commands.map(() => new Promise((resolve) => this.waiting.push(resolve)));
    this.socket.write(Buffer.from(parts.join(''), 'latin1'));
    return Promise.all(replies);
  }
  async call(...argv) {
    const [r] = await this.pipeline([argv]);
    if (r instanceof Error) throw r;
    return r;
  }
  close() {
    this.socket.destroy();
  }
}

async function info(conn, section) {
  return parseInfo(await conn.call('INFO', section));
}

/** RSS in bytes, 0 once the process is gone (the sampler may outlive it). */
function rssBytes(pid) {
  try {
    return processRssBytes(pid);
  } catch {
    return 0;
  }
}

async function startServer(kind, dir, args = []) {
  const port = await freePort();
  const [cmd, argv] = serverCommand(
    kind,
    [...serverSettings(port, dir), ...args],
    ['--max-old-space-size=8192'],
  );
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = killOnExit(child);
  const output = captureOutput(child, 50000);
  let conn;
  for (let i = 0; ; i++) {
    try {
      conn = new Conn(port);
      await conn.ready();
      const pong = await conn.call('PING');
      if (pong === 'PONG') break;
      conn.close();
    } catch {
      conn?.close();
    }
    if (i > 6000 || child.exitCode !== null) throw new Error(`${kind} did not start:\n${output()}`);
    await sleep(20);
  }
  return {
    kind,
    port,
    dir,
    conn,
    pid: child.pid,
    output,
    async stop() {
      conn.close();
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      forget();
    },
  };
}

function* datasetCommands() {
  const value = (i) => {
    let s = `v${i}:`;
    while (s.length < VALUE_BYTES) s += ((i * 2654435761) >>> 0).toString(36);
    return s.slice(0, VALUE_BYTES);
  };
  const others = Math.floor(KEYS / 100);
  const strings = KEYS - 4 * others;
  for (let i = 0; i < strings; i++) yield ['SET', `key:${String(i).padStart(12, '0')}`, value(i)];
  for (let i = 0; i < others; i++) {
    yield ['RPUSH', `list:${i}`, ...Array.from({ length: 16 }, (_, j) => `item-${j}-${i}`.padEnd(20, '.'))];
    yield [
      'HSET',
      `hash:${i}`,
      ...Array.from({ length: 8 }, (_, j) => [`field${j}`, `value-${i}-${j}`]).flat(),
    ];
    yield [
      'SADD',
      `set:${i}`,
      ...Array.from({ length: 8 }, (_, j) => (j % 2 ? String(i * 8 + j) : `m${i}-${j}`)),
    ];
    yield [
      'ZADD',
      `zset:${i}`,
      ...Array.from({ length: 8 }, (_, j) => [String(j * 1.5 + i), `z${i}-${j}`]).flat(),
    ];
  }
}

async function populate(server) {
  let batch = [];
  for (const c of datasetCommands()) {
    batch.push(c);
    if (batch.length >= POPULATE_BATCH) {
      await server.conn.pipeline(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await server.conn.pipeline(batch);
  const n = Number(await server.conn.call('DBSIZE'));
  if (n !== KEYS) throw new Error(`${server.kind}: ${n} keys instead of ${KEYS}`);
}

async function timed(fn) {
  return (await timeAsync(fn)).ms;
}

/** Highest RSS of `pid` while `promise` runs (sampled every 20 ms). */
async function peakRss(pid, promise) {
  let peak = rssBytes(pid);
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, rssBytes(pid));
      await sleep(20);
    }
  })();
  const value = await promise;
  done = true;
  await sampler;
  return { value, peak };
}

/** BGSAVE, then polls until it is over. */
async function bgsave(server) {
  const ms = await timed(async () => {
    await server.conn.call('BGSAVE');
    for (;;) {
      const f = await info(server.conn, 'persistence');
      if (f.rdb_bgsave_in_progress === '0') {
        if (f.rdb_last_bgsave_status !== 'ok') throw new Error(`${server.kind}: BGSAVE failed`);
        break;
      }
      await sleep(10);
    }
  });
  const f = await info(server.conn, 'persistence');
  return { ms, cowBytes: Number(f.rdb_last_cow_size) };
}

/** The SET load of this benchmark, redis-benchmark on core 1. */
const runBenchmark = (port, requests) => runSetLoad(port, requests, { valueBytes: VALUE_BYTES, core: 1 });
const runLoadUntil = (port, finished, round, maxMs) =>
  runSetLoadUntil(port, finished, round, { valueBytes: VALUE_BYTES, core: 1 }, maxMs);
/** Length of one round of the SET load (see runSetLoadUntil). */
const ROUND_SECONDS = 0.3;

async function measure(kind) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-persist-${kind}-`));
  try {
    let server = await startServer(kind, dir);
    await populate(server);
    const dataset = Number((await info(server.conn, 'memory')).used_memory);
    const saves = [];
    const bgsaves = [];
    const loads = [];
    for (let r = 0; r < REPS; r++) {
      saves.push(await timed(() => server.conn.call('SAVE')));
      bgsaves.push((await bgsave(server)).ms);
    }
    const fileBytes = statSync(path.join(dir, 'dump.rdb')).size;
    for (let r = 0; r < LOAD_REPS; r++) {
      await server.stop();
      server = await startServer(kind, dir);
      loads.push(loadedFromDiskSeconds(server.output()) * 1000);
    }
    const rssLoaded = rssBytes(server.pid);
    // From here on redis-benchmark runs: the server (all its threads) on core 0, the load generator on core 1.
    if (hasTaskset) execFileSync('taskset', ['-a', '-p', '-c', '0', String(server.pid)], { stdio: 'ignore' });
    // The loads run in rounds of about ROUND_SECONDS: "during" covers the BGSAVE from start to end (and the
    // rest of its last round), "undisturbed" the same number of seconds without a snapshot.
    const calib = await runBenchmark(server.port, 300_000);
    const round = Math.round(calib.rps * ROUND_SECONDS);
    const undisturbedFor = (seconds) =>
      peakRss(
        server.pid,
        runLoadUntil(server.port, () => false, round, seconds * 1000),
      );
    const quietSeconds = Math.max(3, (median(bgsaves) / 1000) * 3);
    const quiet = await undisturbedFor(quietSeconds);
    let saveDone = false;
    const saveRun = (async () => {
      await sleep(50);
      const r = await bgsave(server);
      saveDone = true;
      return r;
    })();
    const loadRun = runLoadUntil(server.port, () => saveDone, round);
    const saving = await peakRss(server.pid, saveRun);
    const save = saving.value;
    const loaded = await loadRun;
    // Undisturbed again, so that warm-up and heap growth do not favour either run, for at least as long as the
    // BGSAVE under load took: under a steady overwrite load the agent's heap (and RSS) climbs between major GCs,
    // so a shorter window would see a lower peak whatever the snapshot costs.
    const quiet2 = await undisturbedFor(Math.max(quietSeconds, save.ms / 1000));
    const undisturbed = {
      rps: (quiet.value.rps + quiet2.value.rps) / 2,
      p99: (quiet.value.p99 + quiet2.value.p99) / 2,
    };
    await server.stop();
    return {
      kind,
      dataset,
      rssLoaded,
      saveMs: median(saves),
      bgsaveMs: median(bgsaves),
      loadMs: median(loads),
      fileBytes,
      undisturbed,
      during: loaded,
      bgsaveUnderLoadMs: save.ms,
      rounds: loaded.rounds,
      cowBytes: save.cowBytes,
      rssGrowth: Math.max(0, saving.peak - Math.max(quiet.peak, quiet2.peak)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const pct = (x) => `${(x * 100).toFixed(1)}%`;

const agent = await measure('agent');
const redis = await measure('redis');
const rows = [
  ['SAVE (ms)', agent.saveMs, redis.saveMs],
  ['BGSAVE, no load (ms)', agent.bgsaveMs, redis.bgsaveMs],
  ['load at startup (ms)', agent.loadMs, redis.loadMs],
  ['dump file (bytes)', agent.fileBytes, redis.fileBytes],
  ['SET -P 16 undisturbed (ops/s)', agent.undisturbed.rps, redis.undisturbed.rps],
  ['SET -P 16 during BGSAVE (ops/s)', agent.during.rps, redis.during.rps],
  ['p99 undisturbed (ms)', agent.undisturbed.p99, redis.undisturbed.p99],
  ['p99 during BGSAVE (ms)', agent.during.p99, redis.during.p99],
  ['BGSAVE under that load (ms)', agent.bgsaveUnderLoadMs, redis.bgsaveUnderLoadMs],
  ['extra memory: rdb_last_cow_size (bytes)', agent.cowBytes, redis.cowBytes],
  ['extra memory: RSS peak during BGSAVE - during load alone (bytes)', agent.rssGrowth, redis.rssGrowth],
  ['dataset: used_memory (bytes)', agent.dataset, redis.dataset],
];
console.log(
  `\npersistence benchmark: ${KEYS} keys (96% 100-byte strings, 4% collections), ${REPS} rep(s), medians; ` +
    `${hasTaskset ? 'under load: server on core 0, redis-benchmark on core 1' : 'not pinned'}\n`,
);
console.log('| measure | agent | redis | agent/redis |');
console.log('|---|---:|---:|---:|');
for (const [name, a, r] of rows) {
  const fmt = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  console.log(`| ${name} | ${fmt(a)} | ${fmt(r)} | ${r ? (a / r).toFixed(2) : '-'} |`);
}
for (const s of [agent, redis]) {
  console.log(
    `\n${s.kind}: throughput during BGSAVE ${pct(s.during.rps / s.undisturbed.rps)} of undisturbed; ` +
      `extra memory ${mb(s.cowBytes)} (${pct(s.cowBytes / s.dataset)} of the dataset ${mb(s.dataset)}), ` +
      `RSS growth ${mb(s.rssGrowth)} (${pct(s.rssGrowth / s.dataset)}); RSS after load ${mb(s.rssLoaded)}; ` +
      `the load under BGSAVE ran ${s.rounds} rounds of ${ROUND_SECONDS} s`,
  );
}
console.log(
  `\ntargets: SAVE ${(agent.saveMs / redis.saveMs).toFixed(2)}x Redis (<= 1.5), load ` +
    `${(agent.loadMs / redis.loadMs).toFixed(2)}x (<= 1.5), agent throughput during BGSAVE ` +
    `${pct(agent.during.rps / agent.undisturbed.rps)} (>= 70%), agent extra memory ${pct(agent.cowBytes / agent.dataset)} (<= 10%)`,
);
