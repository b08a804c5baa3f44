// Replication benchmark: the built agent (dist/orchestrate-agent.js) master -> replica, side by side with real
// redis-server -> redis-server in the same run, same settings (no persistence, diskless sync without delay,
// loopback). For each pair:
// 1. Full sync of BENCH_KEYS (default 1,000,000) keys with 100-byte values: time from REPLICAOF to the link being
//    up with every key loaded, and MB/s (size of the same dataset's RDB, measured with SAVE, over that time).
// 2. The master's throughput and p99 latency under `redis-benchmark -P 16 -c 50 SET` while a full sync runs,
//    against the same load undisturbed (the load runs in rounds until the sync is over, so it covers the whole
//    sync and little else), and with the replica online afterwards (streaming only: the cost of having a replica,
//    its CPU on the shared cores included).
// 3. Replication lag (write on the master -> visible on the replica, polled on the replica) p50/p99, idle and
//    under the same -P 16 SET load; under load also split in its two parts, the master's reply to the SET and
//    the time from that reply until the value is visible on the replica, which tells which side a change moved.
// Ratios are agent/redis. Targets (issue 4): full sync time <= 1x Redis; throughput during a full sync >= 70% of
// undisturbed; lag p99 under load <= Redis's.
// Layout (BENCH_LAYOUT): `shared` (default) leaves every process unpinned, so the replica's CPU competes with the
// master's on this machine's cores; `pinned` gives the master core 0 to itself and puts the replica and the load
// on core 1, as when the replica runs on another host: the master's own cost of a full sync, not the replica's.
// (Pinned, the load shares core 1 with the replica, which may cap a load as fast as Redis's during the sync.)
// Knobs (environment): BENCH_KEYS, BENCH_LAG_SAMPLES (default 2000), BENCH_REPS (default 1), BENCH_LAYOUT.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import {
  HOST,
  captureOutput,
  hasTaskset,
  pinned,
  freePort,
  killOnExit,
  parseInfo,
  runSetLoad,
  runSetLoadUntil,
  serverCommand,
  serverSettings,
  upperMedian,
} from './support.mjs';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 2000);
const REPS = Number(process.env.BENCH_REPS ?? 1);
const VALUE_BYTES = 100;
const COMMON = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];
const LAYOUT = process.env.BENCH_LAYOUT ?? 'shared';
if (LAYOUT !== 'shared' && LAYOUT !== 'pinned')
  throw new Error(`BENCH_LAYOUT: shared or pinned, not ${LAYOUT}`);
if (LAYOUT === 'pinned' && !hasTaskset) throw new Error('BENCH_LAYOUT=pinned needs taskset and 2 cores');
/** Cores of the pinned layout (undefined: unpinned). */
const MASTER_CORE = LAYOUT === 'pinned' ? 0 : undefined;
const REPLICA_CORE = LAYOUT === 'pinned' ? 1 : undefined;
const LOAD_CORE = LAYOUT === 'pinned' ? 1 : undefined;

async function startServer(kind, core, args = []) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-repl-${kind}-`));
  const [cmd, argv] = serverCommand(kind, [
    ...serverSettings(port, dir),
    '--enable-debug-command',
    'yes',
    ...COMMON,
    ...args,
  ]);
  const [runCmd, runArgv] = core === undefined ? [cmd, argv] : pinned(core, cmd, argv);
  const child = spawn(runCmd, runArgv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = killOnExit(child);
  const output = captureOutput(child, 20000);
  for (let i = 0; ; i++) {
    const probe = new Redis({ host: HOST, port, lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      if (i > 400 || child.exitCode !== null) throw new Error(`${kind} did not start:\n${output()}`);
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  const client = new Redis({ host: HOST, port, maxRetriesPerRequest: 3 });
  client.on('error', () => undefined);
  return {
    kind,
    port,
    dir,
    client,
    output,
    async stop() {
      client.disconnect();
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      forget();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function info(client, section) {
  return parseInfo(await client.info(section));
}

async function populate(node) {
  try {
    await node.client.call('DEBUG', 'POPULATE', String(KEYS), 'key', String(VALUE_BYTES));
  } catch {
    const value = 'x'.repeat(VALUE_BYTES);
    for (let start = 0; start < KEYS; start += 10_000) {
      const args = [];
      for (let i = start; i < Math.min(KEYS, start + 10_000); i++) args.push(`key:${i}`, value);
      await node.client.mset(...args);
    }
  }
  const n = await node.client.dbsize();
  if (n !== KEYS) throw new Error(`${node.kind}: populated ${n} keys instead of ${KEYS}`);
}

/** The dataset's RDB size: SAVE into the server's dir, then the file size. */
async function rdbBytes(node) {
  await node.client.call('SAVE');
  return statSync(path.join(node.dir, 'dump.rdb')).size;
}

/** Starts a fresh replica, points it at the master, resolves with the sync time in ms. */
async function fullSync(master) {
  const replica = await startServer(master.kind, REPLICA_CORE);
  const t0 = process.hrtime.bigint();
  await replica.client.call('REPLICAOF', HOST, String(master.port));
  for (;;) {
    const r = await info(replica.client, 'replication');
    if (r.master_link_status === 'up') break;
    await sleep(5);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const keys = await replica.client.dbsize();
  if (keys < KEYS) throw new Error(`${master.kind} replica has ${keys} keys after the sync`);
  return { ms, replica };
}

/** The SET load of this benchmark (on LOAD_CORE). */
const LOAD = { valueBytes: VALUE_BYTES, core: LOAD_CORE };
const runBenchmark = (port, requests) => runSetLoad(port, requests, LOAD);
const runLoadUntil = (port, finished, round, maxMs) => runSetLoadUntil(port, finished, round, LOAD, maxMs);
/** Length of one round of the SET load (see runSetLoadUntil). */
const ROUND_SECONDS = 0.3;
/** The load during a full sync stops after this many times the unloaded sync time, synced or not. */
const SYNC_LOAD_MAX_FACTOR = 4;
/** Longest load under the lag samples. */
const LAG_LOAD_MAX_MS = 30_000;

/**
 * Waits until the replica is caught up: link up, nothing loading, its offset at the master's. A replica that
 * overran its output buffer under the load may be in a new full sync when that load ends.
 */
async function waitCaughtUp(master, replica) {
  for (;;) {
    const [m, r, p] = await Promise.all([
      info(master.client, 'replication'),
      info(replica.client, 'replication'),
      info(replica.client, 'persistence'),
    ]);
    const caughtUp =
      r.master_link_status === 'up' &&
      r.master_sync_in_progress === '0' &&
      p.loading === '0' &&
      r.slave_repl_offset === m.master_repl_offset;
    if (caughtUp) return;
    await sleep(20);
  }
}

/**
 * Lag samples: SET on the master, then poll GET on the replica until the value shows up. Returns p50/p99 of the
 * whole, of the master's reply (`set`) and of the rest (`vis`: from that reply to the value seen on the replica).
 */
async function measureLag(master, replica, samples) {
  const w = master.client.duplicate();
  const r = replica.client.duplicate();
  await Promise.all([w.connect?.().catch(() => undefined), r.connect?.().catch(() => undefined)]);
  const lags = [];
  const sets = [];
  const vis = [];
  for (let i = 0; i < samples; i++) {
    const key = `lag:${i % 100}`;
    const value = `${i}`;
    const t0 = process.hrtime.bigint();
    await w.set(key, value);
    const t1 = process.hrtime.bigint();
    for (;;) {
      if ((await r.get(key)) === value) break;
    }
    const t2 = process.hrtime.bigint();
    lags.push(Number(t2 - t0) / 1e6);
    sets.push(Number(t1 - t0) / 1e6);
    vis.push(Number(t2 - t1) / 1e6);
  }
  w.disconnect();
  r.disconnect();
  const q = (list, p) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  };
  return {
    p50: q(lags, 0.5),
    p99: q(lags, 0.99),
    setP50: q(sets, 0.5),
    setP99: q(sets, 0.99),
    visP50: q(vis, 0.5),
    visP99: q(vis, 0.99),
  };
}

async function measure(kind) {
  const master = await startServer(kind, MASTER_CORE);
  try {
    await populate(master);
    const bytes = await rdbBytes(master);
    // 1. Full sync time.
    const sync = await fullSync(master);
    await sync.replica.stop();

    // 2. Throughput undisturbed (no replica), then with a full sync running inside the load. The load runs in
    //    rounds of ROUND_SECONDS: undisturbed for twice the unloaded sync time (at least 3 s), then until the new
    //    replica's link is up, so that it covers the whole sync and little else.
    const calib = await runBenchmark(master.port, 200_000);
    const round = Math.round(calib.rps * ROUND_SECONDS);
    const undisturbed = await runLoadUntil(master.port, () => false, round, Math.max(3000, 2 * sync.ms));
    const replica = await startServer(kind, REPLICA_CORE);
    let synced = false;
    const syncStart = process.hrtime.bigint();
    const syncing = (async () => {
      await sleep(50);
      await replica.client.call('REPLICAOF', HOST, String(master.port));
      for (;;) {
        if ((await info(replica.client, 'replication')).master_link_status === 'up') break;
        await sleep(10);
      }
      synced = true;
    })();
    // Capped: under a sustained load on this machine a replica may never finish (its output buffer on the master
    // overflows and the sync starts over); then "during" covers the cap, and the sync ends after the load.
    const capMs = Math.max(3000, SYNC_LOAD_MAX_FACTOR * sync.ms);
    const loaded = await runLoadUntil(master.port, () => synced, round, capMs);
    const syncedWithinLoad = synced;
    await syncing;
    const fullSyncs = Number((await info(master.client, 'stats')).sync_full);
    const syncUnderLoadMs = Number(process.hrtime.bigint() - syncStart) / 1e6;

    // The same load with the replica online (no sync): what serving a replica costs the master on this machine,
    // the replica's own CPU included (it shares the cores); the figure "during full sync" is bounded by it.
    await waitCaughtUp(master, replica);
    const online = await runLoadUntil(master.port, () => false, round, Math.max(3000, 2 * sync.ms));

    // 3. Lag idle and under load.
    await waitCaughtUp(master, replica);
    const idle = await measureLag(master, replica, LAG_SAMPLES);
    // The load runs (in rounds) until the last lag sample is taken, for LAG_LOAD_MAX_MS at most: a replica that
    // cannot keep up with the load on this machine (Redis's too) must be able to catch up and answer.
    let lagDone = false;
    const load = runLoadUntil(master.port, () => lagDone, round, LAG_LOAD_MAX_MS);
    await sleep(300);
    const busy = await measureLag(master, replica, LAG_SAMPLES);
    lagDone = true;
    await load;
    await replica.stop();
    return {
      bytes,
      syncMs: sync.ms,
      mbPerSec: bytes / 1024 / 1024 / (sync.ms / 1000),
      undisturbed,
      during: loaded,
      online,
      rounds: loaded.rounds,
      syncedWithinLoad,
      fullSyncs,
      syncUnderLoadMs,
      idle,
      busy,
    };
  } finally {
    await master.stop();
  }
}

function fmt(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

const loadBefore = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
const results = { agent: [], redis: [] };
for (let rep = 0; rep < REPS; rep++) {
  for (const kind of ['redis', 'agent']) {
    process.stderr.write(`run ${rep + 1}/${REPS}: ${kind}...\n`);
    results[kind].push(await measure(kind));
  }
}
const med = (kind, pick) => upperMedian(results[kind].map(pick));
const rows = [
  ['full sync time (ms)', (r) => r.syncMs, 0],
  ['full sync MB/s', (r) => r.mbPerSec, 1],
  ['RDB size (MB)', (r) => r.bytes / 1024 / 1024, 1],
  ['SET -P16 undisturbed (ops/s)', (r) => r.undisturbed.rps, 0],
  ['SET -P16 during full sync (ops/s)', (r) => r.during.rps, 0],
  ['  during/undisturbed', (r) => r.during.rps / r.undisturbed.rps, 2],
  ['SET -P16 with the replica online (ops/s)', (r) => r.online.rps, 0],
  ['  online/undisturbed', (r) => r.online.rps / r.undisturbed.rps, 2],
  ['SET -P16 p99 undisturbed (ms)', (r) => r.undisturbed.p99, 2],
  ['SET -P16 p99 during full sync (ms)', (r) => r.during.p99, 2],
  ['SET -P16 max during full sync (ms)', (r) => r.during.max, 1],
  ['sync under load (ms)', (r) => r.syncUnderLoadMs, 0],
  ['lag p50 idle (ms)', (r) => r.idle.p50, 3],
  ['lag p99 idle (ms)', (r) => r.idle.p99, 3],
  ['lag p50 under load (ms)', (r) => r.busy.p50, 3],
  ['lag p99 under load (ms)', (r) => r.busy.p99, 3],
  ['  of which master reply p50 (ms)', (r) => r.busy.setP50, 3],
  ['  of which master reply p99 (ms)', (r) => r.busy.setP99, 3],
  ['  then visible on replica p50 (ms)', (r) => r.busy.visP50, 3],
  ['  then visible on replica p99 (ms)', (r) => r.busy.visP99, 3],
];
console.log(
  `\nReplication benchmark: ${KEYS} keys x ${VALUE_BYTES} B, ${os.cpus().length} cores, layout ${LAYOUT}, ` +
    `${new Date().toISOString()}, ` +
    `load average before/after ${loadBefore} / ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
console.log(
  `${'metric'.padEnd(38)}${'redis'.padStart(14)}${'agent'.padStart(14)}${'agent/redis'.padStart(14)}`,
);
for (const [name, pick, digits] of rows) {
  const r = med('redis', pick);
  const a = med('agent', pick);
  console.log(
    `${name.padEnd(38)}${fmt(r, digits).padStart(14)}${fmt(a, digits).padStart(14)}${fmt(a / r, 2).padStart(14)}`,
  );
}
for (const kind of ['redis', 'agent']) {
  const runs = results[kind];
  console.log(
    `${kind}: the load during the full sync ran ${runs.map((r) => r.rounds).join('/')} rounds of ${ROUND_SECONDS} s; ` +
      `sync finished within the load: ${runs.map((r) => (r.syncedWithinLoad ? 'yes' : 'no')).join('/')}; ` +
      `full syncs for the replica synced under load (1 = no restart): ${runs.map((r) => r.fullSyncs - 1).join('/')}`,
  );
}
