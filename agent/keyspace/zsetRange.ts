/**
 * Score and lexicographic ranges of sorted-set commands (ZRANGEBYSCORE, ZLEXCOUNT...), already parsed: bounds
 * with their exclusiveness, and for lex ranges the '-' / '+' infinities. The predicates say whether a score or
 * member lies on the inner side of one bound.
 */

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
