/**
 * An indexable skip list ordered by (score, member): each forward link records how many elements it jumps over
 * (its span), so that finding an element by rank, the rank of an element, and the first element of a score or
 * lexicographic range all take O(log n) expected time. The sorted-set value pairs it with a member -> score Map.
 *
 * Order: ascending score; equal scores by member bytes (JS string comparison on latin1 strings is byte order,
 * as memcmp in Redis). Scores are never NaN. Levels are drawn with p = 1/4 from an injectable random source.
 */

/** Enough levels for 4^32 elements. */
const MAX_LEVEL = 32;
const LEVEL_P = 0.25;

export interface SkipNode {
  readonly member: string;
  score: number;
  /** Previous node at level 0 (null for the first node). */
  prev: SkipNode | null;
  /** Forward links per level. */
  next: Array<SkipNode | null>;
  /** Elements jumped by each forward link (1 means the immediate next node). */
  span: number[];
}

function newNode(level: number, member: string, score: number): SkipNode {
  const next = new Array<SkipNode | null>(level);
  const span = new Array<number>(level);
  for (let i = 0; i < level; i++) {
    next[i] = null;
    span[i] = 0;
  }
  return { member, score, prev: null, next, span };
}

/** a < b in (score, member) order. */
function before(score: number, member: string, node: SkipNode): boolean {
  return node.score > score || (node.score === score && node.member > member);
}

/** The node's key is strictly less than (score, member). */
function lessThan(node: SkipNode, score: number, member: string): boolean {
  return node.score < score || (node.score === score && node.member < member);
}

export interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

/** A lexicographic bound: '-' and '+' are the infinities, otherwise a member with inclusiveness. */
export interface LexRange {
  min: string;
  max: string;
  minExclusive: boolean;
  maxExclusive: boolean;
  minInfinite: -1 | 0 | 1;
  maxInfinite: -1 | 0 | 1;
}

export function scoreAboveMin(score: number, r: ScoreRange): boolean {
  return r.minExclusive ? score > r.min : score >= r.min;
}

export function scoreBelowMax(score: number, r: ScoreRange): boolean {
  return r.maxExclusive ? score < r.max : score <= r.max;
}

export function lexAboveMin(member: string, r: LexRange): boolean {
  if (r.minInfinite === -1) return true;
  if (r.minInfinite === 1) return false;
  return r.minExclusive ? member > r.min : member >= r.min;
}

export function lexBelowMax(member: string, r: LexRange): boolean {
  if (r.maxInfinite === 1) return true;
  if (r.maxInfinite === -1) return false;
  return r.maxExclusive ? member < r.max : member <= r.max;
}

export class SkipList {
  private readonly head: SkipNode = newNode(MAX_LEVEL, '', -Infinity);
  private tailNode: SkipNode | null = null;
  private level = 1;
  length = 0;
  private readonly update: SkipNode[] = new Array<SkipNode>(MAX_LEVEL);
  private readonly rankAt: number[] = new Array<number>(MAX_LEVEL).fill(0);

  constructor(private readonly random: () => number = Math.random) {}

  private randomLevel(): number {
    let level = 1;
    while (level < MAX_LEVEL && this.random() < LEVEL_P) level++;
    return level;
  }

  get first(): SkipNode | null {
    return this.head.next[0];
  }

  get last(): SkipNode | null {
    return this.tailNode;
  }

  /** Inserts an element that is not present. Returns its node. */
  insert(score: number, member: string): SkipNode {
    const update = this.update;
    const rank = this.rankAt;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1];
      let nx = x.next[i];
      while (nx !== null && lessThan(nx, score, member)) {
        rank[i] += x.span[i];
        x = nx;
        nx = x.next[i];
      }
      update[i] = x;
    }
    const level = this.randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.head;
        this.head.span[i] = this.length;
      }
      this.level = level;
    }
    const node = newNode(level, member, score);
    for (let i = 0; i < level; i++) {
      const u = update[i];
      node.next[i] = u.next[i];
      u.next[i] = node;
      node.span[i] = u.span[i] - (rank[0] - rank[i]);
      u.span[i] = rank[0] - rank[i] + 1;
    }
    for (let i = level; i < this.level; i++) update[i].span[i]++;
    node.prev = update[0] === this.head ? null : update[0];
    const after = node.next[0];
    if (after !== null) after.prev = node;
    else this.tailNode = node;
    this.length++;
    return node;
  }

  /** Removes the element (score, member); returns whether it was found. */
  delete(score: number, member: string): boolean {
    const update = this.update;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && lessThan(nx, score, member)) {
        x = nx;
        nx = x.next[i];
      }
      update[i] = x;
    }
    const target = x.next[0];
    if (target === null || target.score !== score || target.member !== member) return false;
    this.unlink(target, update);
    return true;
  }

  private unlink(node: SkipNode, update: SkipNode[]): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i];
      if (u.next[i] === node) {
        u.span[i] += node.span[i] - 1;
        u.next[i] = node.next[i];
      } else {
        u.span[i]--;
      }
    }
    const after = node.next[0];
    if (after !== null) after.prev = node.prev;
    else this.tailNode = node.prev;
    while (this.level > 1 && this.head.next[this.level - 1] === null) this.level--;
    this.length--;
  }

  /**
   * Changes the score of an element in place when its position does not change, otherwise removes and
   * re-inserts it (as Redis's zslUpdateScore).
   */
  updateScore(oldScore: number, member: string, newScore: number): void {
    const update = this.update;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && lessThan(nx, oldScore, member)) {
        x = nx;
        nx = x.next[i];
      }
      update[i] = x;
    }
    const node = x.next[0] as SkipNode;
    const prevOk = node.prev === null || lessThan(node.prev, newScore, member);
    const nextNode = node.next[0];
    const nextOk = nextNode === null || before(newScore, member, nextNode);
    if (prevOk && nextOk) {
      node.score = newScore;
      return;
    }
    this.unlink(node, update);
    this.insert(newScore, member);
  }

  /** 1-based rank of (score, member), 0 when absent. */
  rank(score: number, member: string): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && (lessThan(nx, score, member) || (nx.score === score && nx.member === member))) {
        rank += x.span[i];
        x = nx;
        nx = x.next[i];
      }
      if (x !== this.head && x.member === member && x.score === score) return rank;
    }
    return 0;
  }

  /** Node at 1-based rank, or null when out of range. */
  byRank(rank: number): SkipNode | null {
    if (rank < 1 || rank > this.length) return null;
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && traversed + x.span[i] <= rank) {
        traversed += x.span[i];
        x = nx;
        nx = x.next[i];
      }
      if (traversed === rank) return x;
    }
    return null;
  }

  /** First node whose score is within the range's lower bound (and not beyond the upper), or null. */
  firstInScoreRange(r: ScoreRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && !scoreAboveMin(nx.score, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    const n = x.next[0];
    return n !== null && scoreBelowMax(n.score, r) ? n : null;
  }

  /** Last node whose score is within the range's upper bound (and not below the lower), or null. */
  lastInScoreRange(r: ScoreRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && scoreBelowMax(nx.score, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    return x !== this.head && scoreAboveMin(x.score, r) ? x : null;
  }

  /** First node within a lexicographic range (meaningful when all scores are equal), or null. */
  firstInLexRange(r: LexRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && !lexAboveMin(nx.member, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    const n = x.next[0];
    return n !== null && lexBelowMax(n.member, r) ? n : null;
  }

  /** Last node within a lexicographic range, or null. */
  lastInLexRange(r: LexRange): SkipNode | null {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && lexBelowMax(nx.member, r)) {
        x = nx;
        nx = x.next[i];
      }
    }
    return x !== this.head && lexAboveMin(x.member, r) ? x : null;
  }

  /** Number of nodes strictly before the first node with score inside the range's lower bound. */
  countBelowScoreMin(r: ScoreRange): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && !scoreAboveMin(nx.score, r)) {
        rank += x.span[i];
        x = nx;
        nx = x.next[i];
      }
    }
    return rank;
  }

  /** Number of nodes whose score is within the range's upper bound. */
  countUpToScoreMax(r: ScoreRange): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && scoreBelowMax(nx.score, r)) {
        rank += x.span[i];
        x = nx;
        nx = x.next[i];
      }
    }
    return rank;
  }

  /** Number of nodes strictly before the lexicographic range's lower bound. */
  countBelowLexMin(r: LexRange): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && !lexAboveMin(nx.member, r)) {
        rank += x.span[i];
        x = nx;
        nx = x.next[i];
      }
    }
    return rank;
  }

  /** Number of nodes within the lexicographic range's upper bound. */
  countUpToLexMax(r: LexRange): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let nx = x.next[i];
      while (nx !== null && lexBelowMax(nx.member, r)) {
        rank += x.span[i];
        x = nx;
        nx = x.next[i];
      }
    }
    return rank;
  }

  /** Nodes in ascending order. */
  *[Symbol.iterator](): IterableIterator<SkipNode> {
    for (let n = this.head.next[0]; n !== null; n = n.next[0]) yield n;
  }
}
