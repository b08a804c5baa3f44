/**
 * maxmemory eviction, approximated by sampling the way Redis does it: when the dataset estimate is over
 * `maxmemory`, pick victims among a few sampled keys according to `maxmemory-policy` and delete them (the server
 * propagates each eviction as a DEL and fires the `evicted` notification) until back under the limit.
 *
 * Policies: noeviction; allkeys-/volatile- lru (largest idle time), lfu (smallest decayed counter), random;
 * volatile-ttl (nearest expiry). Idle time and frequency come from the keyspace's per-key access stamps
 * (keyspace/access.ts); samples come from keyspace/sampling.ts's walkers, which cover the whole keyspace over
 * successive samples. Like Redis, a pool of the best candidates seen so far survives between evictions, so each
 * eviction compares more than `maxmemory-samples` keys.
 */
import { idleTimeMs, lfuCounter } from '../keyspace/access';
import type { Database, Keyspace } from '../keyspace/database';
import { sampleKey } from '../keyspace/sampling';

export type EvictionPolicy =
  | 'noeviction'
  | 'allkeys-lru'
  | 'volatile-lru'
  | 'allkeys-lfu'
  | 'volatile-lfu'
  | 'allkeys-random'
  | 'volatile-random'
  | 'volatile-ttl';

/**
 * Time one eviction pass may take (Redis bounds it by maxmemory-eviction-tenacity too); when it runs out while
 * still over the limit, another pass is scheduled right after the current event, and commands keep running.
 */
const EVICTION_BUDGET_MS = 2;
/** Candidates kept between evictions (Redis: EVPOOL_SIZE). */
const POOL_SIZE = 16;

export interface EvictionHost {
  keyspace: Keyspace;
  /** Estimated bytes counted against maxmemory. */
  usedBytes(): number;
  /** Deletes, propagates and notifies one eviction. */
  evict(db: Database, key: string): void;
  nowMs(): number;
  random(): number;
  /** Monotonic clock in ms (performance.now) for the time budget. */
  monotonicMs(): number;
  /** Runs `fn` once the current event is done. */
  defer(fn: () => void): void;
}

interface Candidate {
  db: Database;
  key: string;
  /** Higher is evicted first. */
  score: number;
}

export class Evictor {
  maxmemoryBytes = 0;
  policy: EvictionPolicy = 'noeviction';
  samples = 5;
  private pool: Candidate[] = [];
  private continuationScheduled = false;

  constructor(private readonly host: EvictionHost) {}

  configure(maxmemoryBytes: number, policy: EvictionPolicy, samples: number): void {
    this.maxmemoryBytes = maxmemoryBytes;
    if (policy !== this.policy) this.pool = [];
    this.policy = policy;
    this.samples = samples;
  }

  /** True while the dataset estimate is over the limit. */
  get overLimit(): boolean {
    return this.maxmemoryBytes > 0 && this.host.usedBytes() > this.maxmemoryBytes;
  }

  /**
   * Evicts until under the limit. Returns false when still over the limit and the policy found nothing to
   * evict (then commands that may grow memory get the OOM error).
   */
  perform(): boolean {
    if (this.maxmemoryBytes === 0 || this.host.usedBytes() <= this.maxmemoryBytes) return true;
    if (this.policy === 'noeviction') return false;
    const deadline = this.host.monotonicMs() + EVICTION_BUDGET_MS;
    for (let n = 0; ; n++) {
      const victim = this.pickVictim();
      if (victim === undefined) return false;
      this.host.evict(victim.db, victim.key);
      if (this.host.usedBytes() <= this.maxmemoryBytes) return true;
      if ((n & 15) === 15 && this.host.monotonicMs() > deadline) break;
    }
    if (!this.continuationScheduled) {
      this.continuationScheduled = true;
      this.host.defer(() => {
        this.continuationScheduled = false;
        this.perform();
      });
    }
    return true;
  }

  private pickVictim(): { db: Database; key: string } | undefined {
    const volatile = this.policy.startsWith('volatile-');
    if (this.policy.endsWith('-random')) {
      // Redis walks the databases in turn for random eviction; any non-empty one will do.
      for (const db of this.host.keyspace.dbs) {
        const key = sampleKey(volatile ? db.expires : db.dict, this.host.random);
        if (key !== undefined) return { db, key };
      }
      return undefined;
    }
    for (const db of this.host.keyspace.dbs) {
      const pool = volatile ? db.expires : db.dict;
      if (pool.size === 0) continue;
      for (let i = 0; i < this.samples; i++) {
        const key = sampleKey(pool, this.host.random);
        if (key === undefined) break;
        this.offer({ db, key, score: this.score(db, key) });
      }
    }
    // Best first; entries whose key vanished meanwhile (deleted, expired) are skipped.
    while (this.pool.length > 0) {
      const best = this.pool.pop()!;
      const gone = volatile ? !best.db.expires.has(best.key) : !best.db.dict.has(best.key);
      if (!gone) return best;
    }
    return undefined;
  }

  /** Keeps the POOL_SIZE best candidates, sorted by ascending score. */
  private offer(c: Candidate): void {
    const pool = this.pool;
    for (const p of pool) if (p.key === c.key && p.db === c.db) return;
    if (pool.length >= POOL_SIZE && c.score <= pool[0].score) return;
    let at = pool.length;
    while (at > 0 && pool[at - 1].score > c.score) at--;
    pool.splice(at, 0, c);
    if (pool.length > POOL_SIZE) pool.shift();
  }

  private score(db: Database, key: string): number {
    const now = this.host.nowMs();
    if (this.policy === 'volatile-ttl') return -(db.expires.get(key) ?? Infinity);
    const stamp = db.dict.stampOf(key);
    if (stamp === undefined) return Infinity;
    if (this.policy.endsWith('-lfu')) return 255 - lfuCounter(stamp, now);
    return idleTimeMs(stamp, now);
  }
}
