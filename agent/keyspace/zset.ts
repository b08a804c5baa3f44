/**
 * The sorted-set value: a member -> score Map for O(1) ZSCORE and membership, plus a counted B+tree
 * (keyspace/orderTree.ts) for O(log n) rank and range queries. Both always hold the same elements.
 *
 * Reported encoding, as Redis 7.0 decides it:
 * - ZADD/ZINCRBY on a missing key create a "listpack" zset unless zset-max-listpack-entries is 0 or the first
 *   member is longer than zset-max-listpack-value;
 * - adding a member converts to "skiplist" when the size would exceed the entries limit or the member is too
 *   long; nothing converts back;
 * - stored results (ZUNIONSTORE, ZRANGESTORE...) and loaded values are "listpack" exactly when they fit both
 *   limits (`ZSetValue.from`).
 * A listpack stores integral scores as integers, so a score of -0 reads back as 0 while the zset is compact.
 */
import type { CollectionValue } from './database';
import { encodingLimits } from './encodingLimits';
import { OrderTree } from './orderTree';
import {
  lexAboveMin,
  lexBelowMax,
  scoreAboveMin,
  scoreBelowMax,
  type LexRange,
  type ScoreRange,
} from './zsetRange';

/** The zset object, its Map and the tree's fixed part. */
const ZSET_BASE_BYTES = 160;
/** Per member: the Map entry with its double, the tree entry and the string header. */
const ZSET_MEMBER_BYTES = 80;

export class ZSetValue implements CollectionValue {
  readonly type = 'zset' as const;
  readonly scores = new Map<string, number>();
  readonly tree = new OrderTree();
  /** Still what Redis would keep as a listpack. */
  compact: boolean;
  /** Sum of the members' lengths (for memoryBytes). */
  private dataBytes = 0;

  constructor(compact = true) {
    this.compact = compact;
  }

  /** The zset ZADD creates for a missing key whose first member is `firstMember`. */
  static forFirstMember(firstMember: string): ZSetValue {
    return new ZSetValue(
      encodingLimits.zsetMaxListpackEntries !== 0 &&
        firstMember.length <= encodingLimits.zsetMaxListpackValue,
    );
  }

  /**
   * Builds a zset from (member, score) pairs in any order (RDB loading, COPY, stores); a repeated member keeps
   * its last score. Encoded as Redis would encode the loaded or stored result.
   */
  static from(entries: Iterable<readonly [string, number]>): ZSetValue {
    const z = new ZSetValue(false);
    let maxLength = 0;
    for (const [m, s] of entries) {
      z.add(m, s);
      if (m.length > maxLength) maxLength = m.length;
    }
    z.compact =
      z.size <= encodingLimits.zsetMaxListpackEntries && maxLength <= encodingLimits.zsetMaxListpackValue;
    if (z.compact) {
      for (const [m, s] of z.scores) {
        if (Object.is(s, -0)) {
          z.scores.set(m, 0);
          z.tree.rescoreInPlace(s, m, 0);
        }
      }
    }
    return z;
  }

  get size(): number {
    return this.scores.size;
  }

  encoding(): string {
    return this.compact ? 'listpack' : 'skiplist';
  }

  score(member: string): number | undefined {
    return this.scores.get(member);
  }

  /** Adds or re-scores a member; returns true when it is new. The score must not be NaN. */
  add(member: string, score: number): boolean {
    const old = this.scores.get(member);
    if (old === undefined) {
      if (
        this.compact &&
        (this.scores.size + 1 > encodingLimits.zsetMaxListpackEntries ||
          member.length > encodingLimits.zsetMaxListpackValue)
      ) {
        this.compact = false;
      }
      if (score === 0 && this.compact) score = 0;
      this.scores.set(member, score);
      this.tree.insert(score, member);
      this.dataBytes += member.length;
      return true;
    }
    if (score === 0 && this.compact) score = 0;
    if (old !== score) {
      this.scores.set(member, score);
      this.tree.delete(old, member);
      this.tree.insert(score, member);
    }
    return false;
  }

  delete(member: string): boolean {
    const old = this.scores.get(member);
    if (old === undefined) return false;
    this.scores.delete(member);
    this.tree.delete(old, member);
    this.dataBytes -= member.length;
    return true;
  }

  /** Bytes of element data held (the sum of the lengths of every string in the value). */
  get contentBytes(): number {
    return this.dataBytes;
  }

  /** Estimated footprint in bytes (INFO used_memory, MEMORY USAGE, eviction): O(1). */
  memoryBytes(): number {
    return ZSET_BASE_BYTES + this.scores.size * ZSET_MEMBER_BYTES + this.dataBytes;
  }

  /** 0-based rank from the lowest score (or the highest with `reverse`), undefined when absent. */
  rank(member: string, reverse = false): number | undefined {
    const s = this.scores.get(member);
    if (s === undefined) return undefined;
    const r = this.tree.rank(s, member);
    return reverse ? this.size - 1 - r : r;
  }

  /** The member at 0-based ascending rank (0 <= rank < size). */
  memberAt(rank: number): string {
    const c = this.tree.cursorAt(rank);
    return c.leaf!.members[c.index];
  }

  /** Up to `count` (member, score) pairs from 0-based rank `start`, walking up or down (`reverse`). */
  slice(start: number, count: number, reverse: boolean): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    if (count <= 0) return out;
    this.tree.walk(start, reverse, (m, s) => {
      out.push([m, s]);
      return out.length < count;
    });
    return out;
  }

  /** Ranks [first, last] (ascending, inclusive) of the members within a score range; first > last when none. */
  scoreRangeRanks(r: ScoreRange): [number, number] {
    return [
      this.tree.countPrefix((s) => !scoreAboveMin(s, r)),
      this.tree.countPrefix((s) => scoreBelowMax(s, r)) - 1,
    ];
  }

  /** Ranks [first, last] of the members within a lexicographic range; first > last when none. */
  lexRangeRanks(r: LexRange): [number, number] {
    return [
      this.tree.countPrefix((_s, m) => !lexAboveMin(m, r)),
      this.tree.countPrefix((_s, m) => lexBelowMax(m, r)) - 1,
    ];
  }

  /** The lowest (member, score); the zset must not be empty. */
  first(): [string, number] {
    return this.tree.first();
  }

  /** The highest (member, score); the zset must not be empty. */
  last(): [string, number] {
    return this.tree.last();
  }

  /** (member, score) pairs in ascending order. */
  entries(): IterableIterator<[string, number]> {
    return this.tree.entries();
  }

  clone(): ZSetValue {
    const z = new ZSetValue(false);
    for (const [m, s] of this.tree.entries()) {
      z.scores.set(m, s);
      z.tree.insert(s, m);
    }
    z.compact = this.compact;
    z.dataBytes = this.dataBytes;
    return z;
  }
}
