// Throughput of the RDB codec (agent/persistence) on 1,000,000 string keys with 100-byte values, side by side with
// real redis-server 7 on the same file.
//
// Measured, each the median of BENCH_REPS runs:
// - write: our writer producing the whole file as chunks (rdbChunks, LZF on like rdbcompression yes), then the same
//   with the chunks written to a file;
// - read: our reader parsing the file from a Buffer and from a file stream (readRdbStream);
// - Redis: loading our file at startup ("DB loaded from disk") and SAVE of the same dataset, and our reader on
//   Redis's own dump.
// The codec is bundled with esbuild on the fly (no build step needed). Knobs: BENCH_KEYS (default 1,000,000),
// BENCH_REPS (default 3), BENCH_VALUE_BYTES (default 100).
import { spawn } from 'node:child_process';
import {
  createReadStream,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import {
  HOST,
  REDIS_SERVER,
  ROOT,
  freePort,
  loadedFromDiskSeconds,
  serverSettings,
  time,
  timeAsync,
  upperMedian as median,
} from './support.mjs';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 100);

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-rdb-codec-'));
const bundle = path.join(dir, 'codec.cjs');
await build({
  entryPoints: [path.join(ROOT, 'agent/persistence/index.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: bundle,
  logLevel: 'warning',
});
const codec = createRequire(import.meta.url)(bundle);

/**
 * Deterministic values that LZF cannot shrink much (like real payloads), keys "key:<n>". Strings are made from Buffers
 * so they are flat, as strings read from a socket are (concatenated ones would be flattened on first write).
 */
function makeEntries() {
  const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
  const value = Buffer.alloc(VALUE_BYTES);
  let seed = 12345;
  const entries = new Array(KEYS);
  for (let i = 0; i < KEYS; i++) {
    for (let j = 0; j < VALUE_BYTES; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      value[j] = alphabet[seed >>> 26];
    }
    const key = Buffer.from(`key:${i}`, 'latin1').toString('latin1');
    entries[i] = { db: 0, key, value: { type: 'string', value: value.toString('latin1') }, expireAtMs: null };
  }
  return entries;
}

/** Sends one command over a raw socket and returns the first reply line. */
function command(port, ...args) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    let reply = '';
    s.on('connect', () =>
      s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`),
    );
    s.on('data', (b) => {
      reply += b.toString();
      if (reply.includes('\r\n')) {
        s.destroy();
        resolve(reply.slice(0, reply.indexOf('\r\n')));
      }
    });
    s.on('error', reject);
  });
}

async function startRedisWith(file) {
  const rdir = mkdtempSync(path.join(dir, 'redis-'));
  if (file) writeFileAt(path.join(rdir, 'dump.rdb'), readFileSync(file));
  const port = await freePort();
  const child = spawn(REDIS_SERVER, serverSettings(port, rdir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (b) => (log += b));
  child.stderr.on('data', (b) => (log += b));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await command(port, 'PING')) === '+PONG') break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`redis-server did not start:\n${log}`);
    await sleep(50);
  }
  return {
    port,
    dumpPath: path.join(rdir, 'dump.rdb'),
    log: () => log,
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function writeFileAt(file, buf) {
  const fd = openSync(file, 'w');
  writeSync(fd, buf);
  closeSync(fd);
}

const results = [];
function report(name, ms, extra = '') {
  results.push({ name, ms });
  console.log(`${name.padEnd(46)} ${ms.toFixed(0).padStart(7)} ms  ${extra}`);
}

try {
  console.log(
    `RDB codec: ${KEYS.toLocaleString()} string keys, ${VALUE_BYTES}-byte values, median of ${REPS}`,
  );
  const entries = makeEntries();
  const file = path.join(dir, 'ours.rdb');

  let image;
  const writeMs = [];
  for (let r = 0; r < REPS; r++) {
    const { ms, result } = time(() => [...codec.rdbChunks(entries, { aux: codec.redisAuxFields() })]);
    writeMs.push(ms);
    image = Buffer.concat(result);
  }
  report('write: rdbChunks -> chunks in memory', median(writeMs), `${(image.length / 1e6).toFixed(1)} MB`);

  const fileMs = [];
  for (let r = 0; r < REPS; r++) {
    fileMs.push(
      time(() => {
        const fd = openSync(file, 'w');
        for (const chunk of codec.rdbChunks(entries, { aux: codec.redisAuxFields() })) writeSync(fd, chunk);
        closeSync(fd);
      }).ms,
    );
  }
  report('write: rdbChunks -> file', median(fileMs), `${(statSync(file).size / 1e6).toFixed(1)} MB`);

  const readMs = [];
  for (let r = 0; r < REPS; r++) {
    const { ms, result } = time(() => codec.parseRdb(image));
    if (result.entries.length !== KEYS) throw new Error(`read ${result.entries.length} keys`);
    readMs.push(ms);
  }
  report('read: parseRdb(Buffer)', median(readMs));

  const streamMs = [];
  for (let r = 0; r < REPS; r++) {
    const { ms } = await timeAsync(async () => {
      let n = 0;
      for await (const e of codec.readRdbStream(createReadStream(file, { highWaterMark: 64 * 1024 }))) {
        if (e.kind === 'entry') n++;
      }
      if (n !== KEYS) throw new Error(`streamed ${n} keys`);
    });
    streamMs.push(ms);
  }
  report('read: readRdbStream(file stream, 64 KiB chunks)', median(streamMs));

  const redis = await startRedisWith(file);
  try {
    const loadedSeconds = loadedFromDiskSeconds(redis.log());
    if (!Number.isNaN(loadedSeconds))
      report('redis-server 7: load our file at startup', loadedSeconds * 1000);
    const saveMs = [];
    for (let r = 0; r < REPS; r++) {
      saveMs.push(
        (
          await timeAsync(async () => {
            const reply = await command(redis.port, 'SAVE');
            if (reply !== '+OK') throw new Error(`SAVE: ${reply}`);
          })
        ).ms,
      );
    }
    report(
      'redis-server 7: SAVE of the same dataset',
      median(saveMs),
      `${(statSync(redis.dumpPath).size / 1e6).toFixed(1)} MB`,
    );
    const theirs = readFileSync(redis.dumpPath);
    const parseTheirs = [];
    for (let r = 0; r < REPS; r++) parseTheirs.push(time(() => codec.parseRdb(theirs)).ms);
    report("read: parseRdb(Redis's own dump)", median(parseTheirs));
  } finally {
    await redis.stop();
  }
  const byName = Object.fromEntries(results.map((r) => [r.name, r.ms]));
  const save = byName['redis-server 7: SAVE of the same dataset'];
  const load = byName['redis-server 7: load our file at startup'];
  if (save)
    console.log(
      `ratio write-to-file / Redis SAVE: ${(byName['write: rdbChunks -> file'] / save).toFixed(2)}`,
    );
  if (load)
    console.log(
      `ratio read (file stream) / Redis load: ${(byName['read: readRdbStream(file stream, 64 KiB chunks)'] / load).toFixed(2)}`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
