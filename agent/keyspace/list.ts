/**
 * The list value: a ring buffer of element strings (power-of-two capacity, head index and length), so that
 * pushes and pops at both ends are O(1) amortized and LINDEX/LSET/LRANGE reach any position in O(1) per element.
 * Inserting or removing in the middle (LINSERT, LREM) shifts the shorter side, O(n) as in Redis.
 *
 * Memory: one array slot per element plus the element string; the buffer doubles when full and halves when
 * three quarters empty, so at most 4 slots per element are ever allocated and a drained list gives memory back.
 *
 * Redis 7.0 reports every list as "quicklist", whatever its size.
 */
import type { CollectionValue } from './database';

/** Smallest ring capacity; also the capacity a new list starts with. */
const MIN_CAPACITY_SLOTS = 8;

export class ListValue implements CollectionValue {
  readonly type = 'list' as const;
  private ring: Array<string | undefined>;
  private mask: number;
  private head = 0;
  private length = 0;

  constructor(capacityHint = MIN_CAPACITY_SLOTS) {
    let cap = MIN_CAPACITY_SLOTS;
    while (cap < capacityHint) cap *= 2;
    this.ring = new Array<string | undefined>(cap);
    this.mask = cap - 1;
  }

  /** Builds a list from its elements, head first (RDB loading, COPY, SORT STORE). */
  static from(items: Iterable<string>): ListValue {
    const arr = Array.isArray(items) ? (items as readonly string[]) : [...items];
    const list = new ListValue(arr.length);
    for (let i = 0; i < arr.length; i++) list.ring[i] = arr[i];
    list.length = arr.length;
    return list;
  }

  get size(): number {
    return this.length;
  }

  encoding(): string {
    return 'quicklist';
  }

  /** Element at position `index` (0 = head); the caller checks 0 <= index < size. */
  at(index: number): string {
    return this.ring[(this.head + index) & this.mask] as string;
  }

  /** Replaces the element at `index` (0 <= index < size). */
  setAt(index: number, value: string): void {
    this.ring[(this.head + index) & this.mask] = value;
  }

  pushHead(value: string): void {
    if (this.length === this.ring.length) this.resize(this.ring.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.ring[this.head] = value;
    this.length++;
  }

  pushTail(value: string): void {
    if (this.length === this.ring.length) this.resize(this.ring.length * 2);
    this.ring[(this.head + this.length) & this.mask] = value;
    this.length++;
  }

  /** Removes and returns the head element; undefined when empty. */
  popHead(): string | undefined {
    if (this.length === 0) return undefined;
    const v = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    this.maybeShrink();
    return v;
  }

  /** Removes and returns the tail element; undefined when empty. */
  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    const at = (this.head + this.length - 1) & this.mask;
    const v = this.ring[at];
    this.ring[at] = undefined;
    this.length--;
    this.maybeShrink();
    return v;
  }

  /** Inserts `value` so that it ends up at position `index` (0 <= index <= size). */
  insertAt(index: number, value: string): void {
    if (index === 0) return this.pushHead(value);
    if (index === this.length) return this.pushTail(value);
    if (this.length === this.ring.length) this.resize(this.ring.length * 2);
    const ring = this.ring;
    const mask = this.mask;
    if (index < this.length - index) {
      // Shift the first `index` elements one slot towards the front.
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < index; i++) ring[(this.head + i) & mask] = ring[(this.head + i + 1) & mask];
    } else {
      for (let i = this.length; i > index; i--)
        ring[(this.head + i) & mask] = ring[(this.head + i - 1) & mask];
    }
    ring[(this.head + index) & mask] = value;
    this.length++;
  }

  /** Removes the element at `index` (0 <= index < size). */
  removeAt(index: number): void {
    const ring = this.ring;
    const mask = this.mask;
    if (index < this.length - 1 - index) {
      for (let i = index; i > 0; i--) ring[(this.head + i) & mask] = ring[(this.head + i - 1) & mask];
      ring[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let i = index; i < this.length - 1; i++)
        ring[(this.head + i) & mask] = ring[(this.head + i + 1) & mask];
      ring[(this.head + this.length - 1) & mask] = undefined;
    }
    this.length--;
    this.maybeShrink();
  }

  /**
   * Removes up to `count` elements equal to `value` (LREM semantics: count > 0 from the head, < 0 from the tail,
   * 0 all of them), in one pass; returns how many were removed.
   */
  removeValue(value: string, count: number): number {
    const limit = count === 0 ? Infinity : Math.abs(count);
    const n = this.length;
    const kept: string[] = [];
    let removed = 0;
    if (count >= 0) {
      for (let i = 0; i < n; i++) {
        const v = this.at(i);
        if (removed < limit && v === value) removed++;
        else kept.push(v);
      }
    } else {
      for (let i = n - 1; i >= 0; i--) {
        const v = this.at(i);
        if (removed < limit && v === value) removed++;
        else kept.push(v);
      }
      kept.reverse();
    }
    if (removed > 0) this.replaceAll(kept);
    return removed;
  }

  /** Keeps only positions start..end inclusive (already clamped: 0 <= start <= end < size), LTRIM. */
  keepRange(start: number, end: number): void {
    for (let i = 0; i < start; i++) this.ring[(this.head + i) & this.mask] = undefined;
    for (let i = end + 1; i < this.length; i++) this.ring[(this.head + i) & this.mask] = undefined;
    this.head = (this.head + start) & this.mask;
    this.length = end - start + 1;
    this.maybeShrink();
  }

  /** Removes every element. */
  clear(): void {
    this.ring = new Array<string | undefined>(MIN_CAPACITY_SLOTS);
    this.mask = MIN_CAPACITY_SLOTS - 1;
    this.head = 0;
    this.length = 0;
  }

  /** Position of the first element equal to `value` at or after `from`, or -1. */
  indexOf(value: string, from = 0): number {
    for (let i = from; i < this.length; i++) if (this.at(i) === value) return i;
    return -1;
  }

  /** Elements head to tail. */
  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** Elements start..end inclusive (clamped by the caller), as an array. */
  slice(start: number, end: number): string[] {
    const out = new Array<string>(end - start + 1);
    for (let i = start; i <= end; i++) out[i - start] = this.at(i);
    return out;
  }

  toArray(): string[] {
    return this.length === 0 ? [] : this.slice(0, this.length - 1);
  }

  clone(): ListValue {
    return ListValue.from(this.toArray());
  }

  private replaceAll(items: string[]): void {
    let cap = MIN_CAPACITY_SLOTS;
    while (cap < items.length) cap *= 2;
    const ring = new Array<string | undefined>(cap);
    for (let i = 0; i < items.length; i++) ring[i] = items[i];
    this.ring = ring;
    this.mask = cap - 1;
    this.head = 0;
    this.length = items.length;
  }

  private maybeShrink(): void {
    const cap = this.ring.length;
    if (cap > MIN_CAPACITY_SLOTS && this.length < cap >>> 2) this.resize(cap >>> 1);
  }

  private resize(capacity: number): void {
    const ring = new Array<string | undefined>(capacity);
    for (let i = 0; i < this.length; i++) ring[i] = this.ring[(this.head + i) & this.mask];
    this.ring = ring;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
