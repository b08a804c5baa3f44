/**
 * The sorted-set value: a member -> score Map for O(1) ZSCORE and membership, plus an indexable skip list
 * (keyspace/skiplist.ts) for O(log n) rank and range queries. Both always hold the same elements.
 *
 * Reported encoding, as Redis 7.0 decides it:
 * - ZADD/ZINCRBY on a missing key create a "listpack" zset unless zset-max-listpack-entries is 0 or the first
 *   member is longer than zset-max-listpack-value;
 * - adding a member converts to "skiplist" when the size would exceed the entries limit or the member is too
 *   long; nothing converts back;
 * - stored results (ZUNIONSTORE, ZRANGESTORE...) and loaded values are "listpack" exactly when they fit both
 *   limits (`ZSetValue.from`).
 */
import type { CollectionValue } from './database';
import { encodingLimits } from './encodingLimits';
import { SkipList, type SkipNode } from './skiplist';

export class ZSetValue implements CollectionValue {
  readonly type = 'zset' as const;
  readonly scores = new Map<string, number>();
  readonly list: SkipList;
  /** Still what Redis would keep as a listpack. */
  compact: boolean;

  constructor(compact = true, random: () => number = Math.random) {
    this.compact = compact;
    this.list = new SkipList(random);
  }

  /** The zset ZADD creates for a missing key whose first member is `firstMember`. */
  static forFirstMember(firstMember: string): ZSetValue {
    return new ZSetValue(
      encodingLimits.zsetMaxListpackEntries !== 0 &&
        firstMember.length <= encodingLimits.zsetMaxListpackValue,
    );
  }

  /** The zset a store command creates for about `sizeHint` members of at most `maxLength` bytes. */
  static forSize(sizeHint: number, maxLength: number): ZSetValue {
    return new ZSetValue(
      sizeHint <= encodingLimits.zsetMaxListpackEntries && maxLength <= encodingLimits.zsetMaxListpackValue,
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
      for (const node of z.list) {
        if (Object.is(node.score, -0)) {
          node.score = 0;
          z.scores.set(node.member, 0);
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
      // A listpack stores an integral score as an integer, so -0 reads back as 0 there.
      if (score === 0 && this.compact) score = 0;
      this.scores.set(member, score);
      this.list.insert(score, member);
      return true;
    }
    if (score === 0 && this.compact) score = 0;
    if (old !== score) {
      this.scores.set(member, score);
      this.list.updateScore(old, member, score);
    }
    return false;
  }

  delete(member: string): boolean {
    const old = this.scores.get(member);
    if (old === undefined) return false;
    this.scores.delete(member);
    this.list.delete(old, member);
    return true;
  }

  /** 0-based rank from the lowest score (or the highest with `reverse`), undefined when absent. */
  rank(member: string, reverse = false): number | undefined {
    const s = this.scores.get(member);
    if (s === undefined) return undefined;
    const r = this.list.rank(s, member) - 1;
    return reverse ? this.size - 1 - r : r;
  }

  /** Node at 0-based ascending rank (0 <= rank < size). */
  nodeAt(rank: number): SkipNode {
    return this.list.byRank(rank + 1) as SkipNode;
  }

  /** (member, score) pairs in ascending order. */
  *entries(): IterableIterator<[string, number]> {
    for (const n of this.list) yield [n.member, n.score];
  }

  clone(): ZSetValue {
    const z = new ZSetValue(false);
    for (const n of this.list) z.add(n.member, n.score);
    z.compact = this.compact;
    return z;
  }
}
