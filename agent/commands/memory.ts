/**
 * MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE, from the server's memory accounting (server/memory.ts):
 * the same estimates that INFO memory and maxmemory use, so the numbers agree with each other.
 */
import { ReplyError, Err } from '../errors';
import type { Client } from '../server/client';
import { entryBytes } from '../server/memory';
import { intArg, is } from './args';
import { helpReply } from './help';
import { cmd, container, type CommandSpec } from './table';

function usage(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    if (argv.length !== 5 || !is(argv[3], 'SAMPLES')) throw new ReplyError(Err.syntax);
    if (intArg(argv[4]) < 0) throw new ReplyError(Err.syntax);
  }
  const v = c.db.lookupRead(argv[2], false);
  if (v === undefined) {
    c.reply.nullBulk();
    return;
  }
  c.reply.integer(entryBytes(argv[2], v));
}

function stats(c: Client): void {
  const server = c.server;
  const used = server.usedMemoryBytes();
  const dataset = server.memory.datasetBytes();
  const startup = server.startupMemoryBytes;
  const rss = process.memoryUsage.rss();
  const heap = process.memoryUsage();
  const keys = server.keyspace.keyCount;
  const overhead = Math.max(0, used - dataset);
  const overheadOf = (name: string) => server.memoryOverheads.get(name)?.() ?? 0;
  const r = c.reply;
  const ints: Array<[string, number]> = [
    ['peak.allocated', server.peakMemoryBytes],
    ['total.allocated', used],
    ['startup.allocated', startup],
    ['replication.backlog', overheadOf('mem_replication_backlog')],
    ['clients.slaves', overheadOf('mem_clients_slaves')],
    ['clients.normal', server.clientsMemoryBytes()],
    ['cluster.links', 0],
    ['aof.buffer', overheadOf('mem_aof_buffer')],
    ['lua.caches', 0],
    ['functions.caches', 0],
  ];
  const dbs = server.keyspace.dbs.filter((db) => db.size > 0);
  const tail: Array<[string, number, 'int' | 'double']> = [
    ['overhead.total', overhead, 'int'],
    ['keys.count', keys, 'int'],
    ['keys.bytes-per-key', keys > 0 ? Math.floor((used - startup) / keys) : 0, 'int'],
    ['dataset.bytes', dataset, 'int'],
    ['dataset.percentage', used - startup > 0 ? (dataset * 100) / (used - startup) : 0, 'double'],
    ['peak.percentage', server.peakMemoryBytes > 0 ? (used * 100) / server.peakMemoryBytes : 0, 'double'],
    ['allocator.allocated', heap.heapUsed + heap.external, 'int'],
    ['allocator.active', heap.heapTotal + heap.external, 'int'],
    ['allocator.resident', rss, 'int'],
    ['allocator-fragmentation.ratio', 1, 'double'],
    ['allocator-fragmentation.bytes', 0, 'int'],
    ['allocator-rss.ratio', 1, 'double'],
    ['allocator-rss.bytes', 0, 'int'],
    ['rss-overhead.ratio', 1, 'double'],
    ['rss-overhead.bytes', 0, 'int'],
    ['fragmentation', used > 0 ? rss / used : 0, 'double'],
    ['fragmentation.bytes', rss - used, 'int'],
  ];
  r.map(ints.length + dbs.length + tail.length);
  for (const [k, v] of ints) {
    r.bulk(k);
    r.integer(v);
  }
  for (const db of dbs) {
    r.bulk(`db.${db.id}`);
    r.map(3);
    r.bulk('overhead.hashtable.main');
    r.integer(db.size * MAP_ENTRY_BYTES);
    r.bulk('overhead.hashtable.expires');
    r.integer(db.expires.size * MAP_ENTRY_BYTES);
    r.bulk('overhead.hashtable.slot-to-keys');
    r.integer(0);
  }
  for (const [k, v, kind] of tail) {
    r.bulk(k);
    if (kind === 'int') r.integer(Math.round(v));
    else r.double(v);
  }
}

/** What one Map entry of the main or expires table costs (V8's OrderedHashMap, with growth slack). */
const MAP_ENTRY_BYTES = 40;

function doctor(c: Client): void {
  const server = c.server;
  const used = server.usedMemoryBytes();
  const maxmemory = server.config.getInt('maxmemory');
  const lines: string[] = [];
  if (server.keyspace.keyCount === 0) {
    lines.push('The instance is empty: there is nothing to analyse yet.');
  } else {
    lines.push(
      `Dataset estimate: ${server.memory.datasetBytes()} bytes in ${server.keyspace.keyCount} keys.`,
    );
    if (server.peakMemoryBytes > used * 1.5) {
      lines.push(
        `Peak memory (${server.peakMemoryBytes} bytes) is well above current usage (${used} bytes).`,
      );
    }
    if (maxmemory > 0 && used > maxmemory * 0.9) {
      lines.push(`Used memory is above 90% of maxmemory (${maxmemory} bytes).`);
    }
    if (lines.length === 1) lines.push('No memory issue found.');
  }
  c.reply.verbatim(lines.join('\n') + '\n');
}

const MEMORY_HELP = [
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

const sub = (name: string, arity: number, handler: (c: Client, argv: string[]) => void, extra = {}) =>
  cmd(name, arity, ['readonly'], 0, 0, 0, handler, { categories: ['slow'], ...extra });

export const memoryCommands: CommandSpec[] = [
  container('memory', [
    cmd('usage', -3, ['readonly'], 2, 2, 1, usage, { categories: ['read', 'slow'] }),
    sub('stats', 2, stats),
    sub('doctor', 2, doctor),
    sub('malloc-stats', 2, (c) => c.reply.verbatim('Stats not supported for the current allocator\n')),
    sub('purge', 2, (c) => c.reply.ok()),
    sub('help', 2, (c) => helpReply(c, 'MEMORY', MEMORY_HELP)),
  ]),
];
