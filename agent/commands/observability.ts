/**
 * SLOWLOG and LATENCY: read and reset what server/observability.ts records about slow commands and latency
 * events. Replies follow Redis 7.0 (a SLOWLOG entry is [id, unix time, microseconds, args, client addr,
 * client name]; LATENCY LATEST rows are [event, unix time, latest ms, max ms]).
 */
import { ReplyError } from '../errors';
import type { Client } from '../server/client';
import { helpReply } from './help';
import { cmd, container, type Command, type CommandSpec } from './table';

/** SLOWLOG GET without a count returns this many entries. */
const SLOWLOG_DEFAULT_COUNT = 10;

function slowlogGet(c: Client, argv: string[]): void {
  let count = SLOWLOG_DEFAULT_COUNT;
  if (argv.length === 3) {
    if (!/^-?\d+$/.test(argv[2]) || Number(argv[2]) < -1) {
      throw new ReplyError('ERR count should be greater than or equal to -1');
    }
    count = Number(argv[2]);
    if (count === -1) count = Infinity;
  }
  const entries = c.server.slowlog.entries.slice(0, count);
  const r = c.reply;
  r.array(entries.length);
  for (const e of entries) {
    r.array(6);
    r.integer(e.id);
    r.integer(e.timeSec);
    r.integer(e.durationUs);
    r.bulkArray(e.argv);
    r.bulk(e.peer);
    r.bulk(e.name);
  }
}

function latencyLatest(c: Client): void {
  const events = [...c.server.latency.events];
  c.reply.array(events.length);
  for (const [name, e] of events) {
    c.reply.array(4);
    c.reply.bulk(name);
    c.reply.integer(e.latestSec);
    c.reply.integer(e.latestMs);
    c.reply.integer(e.maxMs);
  }
}

function latencyHistory(c: Client, argv: string[]): void {
  const e = c.server.latency.events.get(argv[2].toLowerCase());
  const history = e?.history ?? [];
  c.reply.array(history.length);
  for (const [sec, ms] of history) {
    c.reply.array(2);
    c.reply.integer(sec);
    c.reply.integer(ms);
  }
}

function latencyDoctor(c: Client): void {
  const latency = c.server.latency;
  const lines: string[] = [];
  if (latency.thresholdMs <= 0) {
    lines.push('Latency monitoring is disabled: set latency-monitor-threshold to a number of milliseconds.');
  } else if (latency.events.size === 0) {
    lines.push('No latency spikes were observed during the lifetime of this instance.');
  } else {
    for (const [name, e] of latency.events) {
      const avg = e.history.reduce((n, [, ms]) => n + ms, 0) / Math.max(1, e.history.length);
      lines.push(
        `${name}: ${e.history.length} latency spikes (average ${Math.round(avg)}ms, worst ${e.maxMs}ms).`,
      );
    }
  }
  c.reply.verbatim(lines.join('\n') + '\n');
}

function latencyGraph(c: Client, argv: string[]): void {
  const e = c.server.latency.events.get(argv[2].toLowerCase());
  if (!e) throw new ReplyError(`ERR No samples available for event '${argv[2]}'`);
  const rows = e.history.map(
    ([sec, ms]) =>
      `${new Date(sec * 1000).toISOString()} ${'#'.repeat(Math.min(60, Math.ceil((ms * 60) / Math.max(1, e.maxMs))))} ${ms}ms`,
  );
  c.reply.verbatim(
    `${argv[2]} - high ${e.maxMs} ms, low ${Math.min(...e.history.map(([, ms]) => ms))} ms\n${rows.join('\n')}\n`,
  );
}

/** LATENCY HISTOGRAM: per command, calls and cumulative counts at power-of-two microsecond bounds. */
function latencyHistogram(c: Client, argv: string[]): void {
  const wanted = argv.slice(2).map((n) => n.toLowerCase());
  const found: Command[] = [];
  const visit = (x: Command) => {
    if (
      x.latencyBuckets !== undefined &&
      x.calls > 0 &&
      (wanted.length === 0 || wanted.includes(x.fullName))
    ) {
      found.push(x);
    }
    if (x.subcommands) for (const sub of x.subcommands.values()) visit(sub);
  };
  for (const x of c.server.commands.commands.values()) visit(x);
  const r = c.reply;
  r.map(found.length);
  for (const x of found) {
    const buckets = x.latencyBuckets!;
    let last = buckets.length - 1;
    while (last > 0 && buckets[last] === 0) last--;
    let first = 0;
    while (first < last && buckets[first] === 0) first++;
    r.bulk(x.fullName);
    r.map(2);
    r.bulk('calls');
    r.integer(x.calls);
    r.bulk('histogram_usec');
    r.map(last - first + 1);
    let cumulative = 0;
    for (let b = 0; b < first; b++) cumulative += buckets[b];
    for (let b = first; b <= last; b++) {
      cumulative += buckets[b];
      r.integer(2 ** b);
      r.integer(cumulative);
    }
  }
}

const SLOWLOG_HELP = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
];

const LATENCY_HELP = [
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

const admin = (name: string, arity: number, handler: (c: Client, argv: string[]) => void): CommandSpec =>
  cmd(name, arity, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, handler, {
    categories: ['admin', 'slow', 'dangerous'],
  });
const help = (name: string, lines: string[]): CommandSpec =>
  cmd('help', 2, ['loading', 'stale'], 0, 0, 0, (c) => helpReply(c, name, lines), { categories: ['slow'] });

export const observabilityCommands: CommandSpec[] = [
  container('slowlog', [
    admin('get', -2, slowlogGet),
    admin('len', 2, (c) => c.reply.integer(c.server.slowlog.entries.length)),
    admin('reset', 2, (c) => {
      c.server.slowlog.reset();
      c.reply.ok();
    }),
    help('SLOWLOG', SLOWLOG_HELP),
  ]),
  container('latency', [
    admin('latest', 2, latencyLatest),
    admin('history', 3, latencyHistory),
    admin('reset', -2, (c, argv) => c.reply.integer(c.server.latency.reset(argv.slice(2)))),
    admin('doctor', 2, latencyDoctor),
    admin('graph', 3, latencyGraph),
    admin('histogram', -2, latencyHistogram),
    help('LATENCY', LATENCY_HELP),
  ]),
];
