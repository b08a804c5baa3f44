/**
 * Per-key access metadata, the equivalent of Redis's 24-bit `robj->lru` field, kept by the database's dict with
 * each value (valueMap.ts):
 * - LRU mode (every maxmemory-policy except the *-lfu ones): the LRU clock, seconds modulo 2^24, at the last
 *   access. OBJECT IDLETIME and LRU eviction read it.
 * - LFU mode: (minutes modulo 2^16) << 8 | logarithmic counter, decayed by lfu-decay-time and incremented with
 *   probability 1 / ((counter - 5) * lfu-log-factor + 1), as Redis's LFULogIncr. OBJECT FREQ and LFU eviction
 *   read it.
 * The policy is module-level state bound to the configuration (`bindAccessPolicy`), like the encoding limits.
 */
import type { Config } from '../config/config';

/** LRU clock wraps at 24 bits, one tick per second. */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
const LRU_CLOCK_RESOLUTION_MS = 1000;
/** Counter a new key starts with in LFU mode (so that it is not evicted at once). */
export const LFU_INIT_VAL = 5;

export const accessPolicy = {
  lfu: false,
  lfuLogFactor: 10,
  lfuDecayTimeMinutes: 1,
  /** Randomness for the LFU increment; injectable for tests. */
  random: Math.random as () => number,
};

export function lruClock(nowMs: number): number {
  return Math.floor(nowMs / LRU_CLOCK_RESOLUTION_MS) & LRU_CLOCK_MAX;
}

/** Milliseconds since the stamp was taken, for an LRU stamp (Redis's estimateObjectIdleTime). */
export function idleTimeMs(stamp: number, nowMs: number): number {
  const clock = lruClock(nowMs);
  const ticks = clock >= stamp ? clock - stamp : clock + (LRU_CLOCK_MAX - stamp);
  return ticks * LRU_CLOCK_RESOLUTION_MS;
}

function minutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 65535;
}

/** The LFU counter after decay (OBJECT FREQ). */
export function lfuCounter(stamp: number, nowMs: number): number {
  const last = stamp >>> 8;
  let counter = stamp & 255;
  const now = minutes(nowMs);
  const elapsed = now >= last ? now - last : 65535 - last + now;
  const periods =
    accessPolicy.lfuDecayTimeMinutes > 0 ? Math.floor(elapsed / accessPolicy.lfuDecayTimeMinutes) : 0;
  counter = periods > counter ? 0 : counter - periods;
  return counter;
}

/** Stamp for a key created now. */
export function newStamp(nowMs: number): number {
  return accessPolicy.lfu ? (minutes(nowMs) << 8) | LFU_INIT_VAL : lruClock(nowMs);
}

/** Stamp after an access to a key whose previous stamp was `old` (undefined when unknown). */
export function touchedStamp(old: number | undefined, nowMs: number): number {
  if (!accessPolicy.lfu) return lruClock(nowMs);
  let counter = old === undefined ? LFU_INIT_VAL : lfuCounter(old, nowMs);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (accessPolicy.random() < 1 / (base * accessPolicy.lfuLogFactor + 1)) counter++;
  }
  return (minutes(nowMs) << 8) | counter;
}

/** Follows maxmemory-policy, lfu-log-factor and lfu-decay-time. */
export function bindAccessPolicy(config: Config): void {
  const policy = (v: string) => {
    accessPolicy.lfu = v.endsWith('-lfu');
  };
  policy(config.get('maxmemory-policy'));
  config.onChange('maxmemory-policy', policy);
  accessPolicy.lfuLogFactor = config.getInt('lfu-log-factor');
  config.onChange('lfu-log-factor', (v) => (accessPolicy.lfuLogFactor = Number(v)));
  accessPolicy.lfuDecayTimeMinutes = config.getInt('lfu-decay-time');
  config.onChange('lfu-decay-time', (v) => (accessPolicy.lfuDecayTimeMinutes = Number(v)));
}
