/**
 * SCAN cursors. Redis's cursor is a position in its hash table's reverse-binary bucket order, which survives
 * resizes. A JS Map has no addressable positions, but its iterators are *live*: they stay valid while the map
 * changes, visit every entry present from start to end exactly once, and skip deleted ones. So a cursor here
 * names a parked live iterator:
 *
 * - cursor 0 opens a new iterator; each call advances it by COUNT entries, parks it under a fresh cursor number
 *   and returns that number (0 when the iteration is complete);
 * - a cursor is single-use: the call that resumes it retires it, so a replayed or forged cursor is unknown;
 * - an unknown cursor, or one that belongs to another container (the database was flushed or swapped, the
 *   client changed database, another key), starts a new iteration from the beginning. The guarantee "every
 *   element present during the whole iteration is returned" still holds; some elements are returned twice,
 *   which SCAN allows.
 * - at most MAX_PARKED_CURSORS are kept; the oldest is dropped first (its client restarts, as above).
 */

/** Parked iterations kept per server; abandoned ones are evicted oldest first. */
export const MAX_PARKED_CURSORS = 4096;

interface Parked {
  source: object;
  iter: Iterator<unknown>;
  /** An entry read ahead to know whether the iteration is complete. */
  lookahead: IteratorResult<unknown>;
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Parses a cursor as Redis's parseScanCursorOrReply (strtoul): optional sign, decimal digits, no spaces, within
 * 64 bits; negative values wrap. Returns the canonical decimal text or null when invalid.
 */
export function parseCursor(text: string): string | null {
  const m = /^([+-]?)(\d*)$/.exec(text);
  if (!m) return null;
  if (m[2] === '') return m[1] === '' ? '0' : null;
  let n = BigInt(m[2]);
  if (n > UINT64_MAX) return null;
  if (m[1] === '-' && n !== 0n) n = (1n << 64n) - n;
  return n.toString();
}

export class ScanCursors {
  private readonly parked = new Map<string, Parked>();
  /**
   * Cursor numbers are never reused during a run, and start at a random point so that a cursor kept across a
   * restart of the server (or a failover) is very unlikely to name somebody else's iteration.
   */
  private counter: number;

  constructor(random: () => number = Math.random) {
    this.counter = Math.floor(random() * 2 ** 40);
  }

  /**
   * Advances the iteration named by `cursor` over `source` by up to `count` entries. `open` makes a new live
   * iterator over `source`. Returns the entries and the cursor to hand back ('0' when done).
   */
  step<T>(
    cursor: string,
    source: object,
    open: () => Iterator<T>,
    count: number,
  ): { items: T[]; next: string } {
    let state: Parked | undefined;
    if (cursor !== '0') {
      state = this.parked.get(cursor);
      if (state !== undefined) this.parked.delete(cursor);
      if (state !== undefined && state.source !== source) state = undefined;
    }
    if (state === undefined) {
      const iter = open();
      state = { source, iter, lookahead: iter.next() };
    }
    const items: T[] = [];
    let r = state.lookahead as IteratorResult<T>;
    while (!r.done && items.length < count) {
      items.push(r.value);
      r = (state.iter as Iterator<T>).next();
    }
    if (r.done) return { items, next: '0' };
    state.lookahead = r;
    const next = String(++this.counter);
    this.parked.set(next, state);
    if (this.parked.size > MAX_PARKED_CURSORS) {
      const oldest = this.parked.keys().next().value as string;
      this.parked.delete(oldest);
    }
    return { items, next };
  }

  get size(): number {
    return this.parked.size;
  }
}
