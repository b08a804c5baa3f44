/**
 * The active expiry cycle: reclaims keys whose TTL passed although nobody touches them, like Redis's
 * activeExpireCycle. It runs from the server cron (hz times a second), only where keys may be deleted (a master:
 * db.expireIfDue checks the expiry mode), and is bounded in time per tick.
 *
 * Redis samples random keys of each database's expires table; a Map cannot be sampled, so each database keeps a
 * live iterator over its `expires` Map that walks it round and round (live iterators survive inserts and deletes).
 * Per database and loop, KEYS_PER_LOOP entries are checked; loops repeat while more than the acceptable share of
 * the checked keys had expired, and stop when the tick's time budget is spent, so a dataset full of long-lived
 * volatile keys costs little while a burst of expirations is reclaimed quickly. Deleted keys propagate as DEL
 * through the keyspace hooks.
 */
import type { Database, Keyspace } from './database';
import type { KeyMap } from './keyMap';

/** Base number of expires entries checked per loop (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
const KEYS_PER_LOOP = 20;
/** Share of a tick the cycle may use, in percent (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC). */
const TIME_PERCENT = 25;
/** Below this share of expired keys among those checked, a database is left for the next tick. */
const ACCEPTABLE_STALE_PERCENT = 10;
/** How many loops run between two clock reads. */
const LOOPS_PER_CLOCK_CHECK = 16;

export interface ActiveExpireOptions {
  /** active-expire-effort, 1..10. */
  effort: () => number;
  hz: () => number;
  /** A monotonic clock in ms for the time budget (not the keyspace's frozen command time). */
  monotonicMs?: () => number;
}

export class ActiveExpireCycle {
  /** DEBUG SET-ACTIVE-EXPIRE 0 turns the cycle off. */
  enabled = true;
  /** Keys removed by this cycle since start (tests and INFO may read it). */
  expiredTotal = 0;
  private nextDb = 0;
  private readonly walkers = new WeakMap<KeyMap<number>, Iterator<string>>();

  constructor(
    private readonly keyspace: Keyspace,
    private readonly options: ActiveExpireOptions,
  ) {}

  /** One cron tick. */
  run(): void {
    if (!this.enabled) return;
    const now = this.options.monotonicMs ?? (() => performance.now());
    const effort = Math.min(10, Math.max(1, this.options.effort())) - 1;
    const perLoop = KEYS_PER_LOOP + (KEYS_PER_LOOP / 4) * effort;
    const stalePercent = ACCEPTABLE_STALE_PERCENT - effort;
    const budgetMs = ((TIME_PERCENT + 2 * effort) * 10) / Math.max(1, this.options.hz());
    const started = now();
    const dbs = this.keyspace.dbs;
    let loops = 0;
    for (let n = 0; n < dbs.length; n++) {
      const db = dbs[this.nextDb];
      this.nextDb = (this.nextDb + 1) % dbs.length;
      for (;;) {
        if (db.expires.size === 0) break;
        const sampled = Math.min(perLoop, db.expires.size);
        const expired = this.checkSome(db, sampled);
        loops++;
        if (loops % LOOPS_PER_CLOCK_CHECK === 0 && now() - started > budgetMs) return;
        if (expired * 100 <= sampled * stalePercent) break;
      }
    }
  }

  /** Checks the next `count` entries of the database's expires walk; returns how many keys it removed. */
  private checkSome(db: Database, count: number): number {
    const expires = db.expires;
    let it = this.walkers.get(expires);
    if (it === undefined) {
      it = expires.keys();
      this.walkers.set(expires, it);
    }
    let removed = 0;
    for (let i = 0; i < count; i++) {
      let r = it.next();
      if (r.done) {
        it = expires.keys();
        this.walkers.set(expires, it);
        r = it.next();
        if (r.done) break;
      }
      if (db.expireIfDue(r.value)) removed++;
    }
    this.expiredTotal += removed;
    return removed;
  }
}
