/**
 * The set value: a dense array of members plus a Map from member to its array index. Membership is O(1), a
 * uniformly random member is O(1) (SPOP, SRANDMEMBER), removal swaps the last member into the hole.
 *
 * Reported encoding: "intset" while every member is a canonical 64-bit integer (as Redis's string2ll accepts)
 * and there are at most set-max-intset-entries of them; then "hashtable" for good. An intset is sorted in
 * Redis, so while the set is an intset it iterates in ascending numeric order (SMEMBERS, SSCAN, digests match);
 * a hashtable set iterates in array order (Redis's order is arbitrary there too).
 */
import type { CollectionValue } from './database';
import { encodingLimits } from './encodingLimits';
import { isCanonicalInt } from './intText';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** True when Redis would store `s` in an intset (string2ll succeeds). */
export function isInt64Text(s: string): boolean {
  if (s.length > 20 || !isCanonicalInt(s, 20)) return false;
  if (s.length < 19) return true;
  const n = BigInt(s);
  return n <= INT64_MAX && n >= INT64_MIN;
}

/** Numeric order of two canonical integer strings. */
function compareIntText(a: string, b: string): number {
  if (a.length < 16 && b.length < 16) return Number(a) - Number(b);
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The set object, its Map and its array. */
const SET_BASE_BYTES = 128;
/** Per member: the Map entry, the array slot and the string header. */
const SET_MEMBER_BYTES = 64;

export class SetValue implements CollectionValue {
  readonly type = 'set' as const;
  private readonly index = new Map<string, number>();
  private readonly items: string[] = [];
  /** Still what Redis would keep as an intset. */
  intset = true;
  /** The members sorted, while an intset; dropped on every change. */
  private sortedCache: string[] | null = null;
  /** Sum of the members' lengths (for memoryBytes). */
  private dataBytes = 0;

  /** Builds a set from members (RDB loading, COPY, stores); duplicates are ignored. */
  static from(members: Iterable<string>): SetValue {
    const s = new SetValue();
    for (const m of members) s.add(m);
    return s;
  }

  /** An empty set that reports "hashtable" from the start (Redis creates some result sets that way). */
  static hashtable(): SetValue {
    const s = new SetValue();
    s.intset = false;
    return s;
  }

  get size(): number {
    return this.items.length;
  }

  encoding(): string {
    return this.intset ? 'intset' : 'hashtable';
  }

  has(member: string): boolean {
    return this.index.has(member);
  }

  /** Adds a member; returns true when it was not there. */
  add(member: string): boolean {
    if (this.index.has(member)) return false;
    if (this.intset) {
      if (!isInt64Text(member)) this.intset = false;
      else this.sortedCache = null;
    }
    this.index.set(member, this.items.length);
    this.items.push(member);
    this.dataBytes += member.length;
    if (this.intset && this.items.length > encodingLimits.setMaxIntsetEntries) this.intset = false;
    return true;
  }

  /** Removes a member; returns true when it was there. */
  delete(member: string): boolean {
    const at = this.index.get(member);
    if (at === undefined) return false;
    this.index.delete(member);
    this.dataBytes -= member.length;
    const last = this.items.pop() as string;
    if (at < this.items.length) {
      this.items[at] = last;
      this.index.set(last, at);
    }
    this.sortedCache = null;
    return true;
  }

  /** Bytes of element data held (the sum of the lengths of every string in the value). */
  get contentBytes(): number {
    return this.dataBytes;
  }

  /** Estimated footprint in bytes (INFO used_memory, MEMORY USAGE, eviction): O(1). */
  memoryBytes(): number {
    return SET_BASE_BYTES + this.items.length * SET_MEMBER_BYTES + this.dataBytes;
  }

  /** A uniformly random member (the set must not be empty); `random` returns [0, 1). */
  randomMember(random: () => number = Math.random): string {
    return this.items[Math.floor(random() * this.items.length)];
  }

  /** Member at a position of the internal order (0 <= i < size), for sampling without replacement. */
  memberAt(i: number): string {
    return this.items[i];
  }

  /**
   * A live iterator over the members that stays valid while the set changes (SSCAN resumes it across calls):
   * members present throughout are visited once, members added meanwhile may or may not be.
   */
  liveMembers(): IterableIterator<string> {
    return this.index.keys();
  }

  /** Members in Redis's iteration order for this encoding. */
  [Symbol.iterator](): IterableIterator<string> {
    return this.ordered()[Symbol.iterator]();
  }

  members(): IterableIterator<string> {
    return this[Symbol.iterator]();
  }

  /** The members as an array in iteration order (a copy the caller may keep). */
  toArray(): string[] {
    return this.ordered().slice();
  }

  private ordered(): string[] {
    if (!this.intset) return this.items;
    if (this.sortedCache === null) this.sortedCache = this.items.slice().sort(compareIntText);
    return this.sortedCache;
  }

  clone(): SetValue {
    const s = new SetValue();
    for (const m of this.items) {
      s.index.set(m, s.items.length);
      s.items.push(m);
    }
    s.intset = this.intset;
    s.dataBytes = this.dataBytes;
    return s;
  }
}
