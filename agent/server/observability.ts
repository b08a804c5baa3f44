/**
 * What the server records about its own behaviour for SLOWLOG, LATENCY and INFO's instantaneous rates.
 *
 * - SlowLog: commands slower than slowlog-log-slower-than microseconds, newest first, at most slowlog-max-len;
 *   arguments are truncated like Redis (32 arguments, 128 bytes each) so the log stays small.
 * - LatencyMonitor: per event ("command", "fast-command", ...) the latest and maximum latency above
 *   latency-monitor-threshold ms, plus a short history (LATENCY HISTORY), as Redis keeps them.
 * - RateSampler: instantaneous_ops_per_sec and friends, averaged over the last samples taken by the cron.
 */

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const SLOWLOG_MAX_ARGS = 32;
const SLOWLOG_MAX_ARG_CHARS = 128;
/** LATENCY HISTORY keeps this many samples per event (Redis: LATENCY_TS_LEN). */
const LATENCY_HISTORY_LEN = 160;
/** Samples averaged for instantaneous metrics (Redis: STATS_METRIC_SAMPLES). */
const RATE_SAMPLES = 16;

export interface SlowLogEntry {
  id: number;
  timeSec: number;
  durationUs: number;
  argv: string[];
  peer: string;
  name: string;
}

export class SlowLog {
  entries: SlowLogEntry[] = [];
  private nextId = 0;

  constructor(
    public thresholdUs: number,
    public maxLen: number,
  ) {}

  /** Records a command if it was slow enough. */
  consider(argv: readonly string[], durationUs: number, nowMs: number, peer: string, name: string): void {
    if (this.thresholdUs < 0 || durationUs < this.thresholdUs) return;
    const argc = Math.min(argv.length, SLOWLOG_MAX_ARGS);
    const args: string[] = [];
    for (let i = 0; i < argc; i++) {
      if (argc !== argv.length && i === argc - 1) {
        args.push(`... (${argv.length - argc + 1} more arguments)`);
        break;
      }
      const a = argv[i];
      args.push(
        a.length > SLOWLOG_MAX_ARG_CHARS
          ? `${a.slice(0, SLOWLOG_MAX_ARG_CHARS)}... (${a.length - SLOWLOG_MAX_ARG_CHARS} more bytes)`
          : a,
      );
    }
    this.entries.unshift({
      id: this.nextId++,
      timeSec: Math.floor(nowMs / 1000),
      durationUs: Math.floor(durationUs),
      argv: args,
      peer,
      name,
    });
    this.trim();
  }

  trim(): void {
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}

export interface LatencyEvent {
  latestSec: number;
  latestMs: number;
  maxMs: number;
  history: Array<[number, number]>;
}

export class LatencyMonitor {
  readonly events = new Map<string, LatencyEvent>();

  constructor(public thresholdMs: number) {}

  /** Records a latency sample for an event when it reaches the threshold. */
  add(event: string, ms: number, nowMs: number): void {
    if (this.thresholdMs <= 0 || ms < this.thresholdMs) return;
    const sec = Math.floor(nowMs / 1000);
    const rounded = Math.floor(ms);
    let e = this.events.get(event);
    if (!e) {
      e = { latestSec: sec, latestMs: rounded, maxMs: rounded, history: [] };
      this.events.set(event, e);
    }
    e.latestSec = sec;
    e.latestMs = rounded;
    e.maxMs = Math.max(e.maxMs, rounded);
    const last = e.history[e.history.length - 1];
    if (last && last[0] === sec) last[1] = Math.max(last[1], rounded);
    else e.history.push([sec, rounded]);
    if (e.history.length > LATENCY_HISTORY_LEN) e.history.shift();
  }

  /** Resets the given events (all when none given); returns how many were reset. */
  reset(names: string[]): number {
    if (names.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const name of names) if (this.events.delete(name.toLowerCase())) n++;
    return n;
  }
}

/** A metric sampled by the cron: the rate of change of a counter, averaged over the last samples. */
export class RateSampler {
  private readonly samples: number[] = [];
  private lastValue = 0;
  private lastMs = 0;

  sample(value: number, nowMs: number): void {
    if (this.lastMs !== 0 && nowMs > this.lastMs) {
      this.samples.push(((value - this.lastValue) * 1000) / (nowMs - this.lastMs));
      if (this.samples.length > RATE_SAMPLES) this.samples.shift();
    }
    this.lastValue = value;
    this.lastMs = nowMs;
  }

  /** Per second, averaged. */
  get rate(): number {
    if (this.samples.length === 0) return 0;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }
}
