/**
 * The list value, chunked like Redis's quicklist: a deque of chunks in a ring buffer. A chunk is either
 * - open: a small array of element strings, where pushes land (at most the first and the last chunk are open);
 * - sealed: its elements joined into one latin1 string plus an offsets table (Uint32Array), with a live window
 *   [lo, hi) of element indexes, so that pops at either end just move the window.
 * An open chunk is sealed once it holds OPEN_MAX_ITEMS elements or CHUNK_BYTES bytes.
 *
 * Why: one JS string per element costs 16 bytes of header, alignment and an 8-byte array slot; a sealed chunk
 * costs 4 bytes of offset per element, so a million 100-byte elements take about 104 MB instead of 128 MB (the
 * issue's memory target is measured on exactly that). Reading an element is `substring`, which V8 serves as a
 * cheap slice of the chunk string without leaving JS, so LRANGE stays fast; pushes and pops at both ends are
 * O(1) amortized (sealing costs one join per OPEN_MAX_ITEMS pushes).
 *
 * Positional access walks chunk counts from the nearer end: O(n / elements per chunk), like quicklist.
 * Changes in the middle (LSET, LINSERT, removal at an index) re-seal one chunk; LREM rebuilds the list; O(n) as
 * in Redis. Redis 7.0 reports every list as "quicklist", whatever its size.
 */
import type { CollectionValue } from './database';

/** Bytes of element data per sealed chunk (a larger element gets a chunk of its own). */
export const CHUNK_BYTES = 8192;
/** Elements an open chunk collects before it is sealed. */
const OPEN_MAX_ITEMS = 128;
/** Smallest capacity of the ring of chunks. */
const MIN_RING_SLOTS = 4;
/** memoryBytes: the list object and its ring; per chunk (object, offsets table, string header); per element. */
const LIST_BASE_BYTES = 96;
const CHUNK_OVERHEAD_BYTES = 96;
const ELEMENT_OVERHEAD_BYTES = 6;

interface Chunk {
  /** Open chunk: the elements (null when sealed), in list order or reversed (`rev`, head chunks grow that way). */
  items: string[] | null;
  rev: boolean;
  /** Sum of the open elements' lengths. */
  itemBytes: number;
  /** Sealed chunk: the joined elements and their offsets (element i is str[off[i], off[i + 1])). */
  str: string;
  off: Uint32Array | null;
  lo: number;
  hi: number;
}

function openChunk(items: string[] = [], bytes = 0, rev = false): Chunk {
  return { items, rev, itemBytes: bytes, str: '', off: null, lo: 0, hi: 0 };
}

function sealedChunk(items: readonly string[], from: number, to: number): Chunk {
  const off = new Uint32Array(to - from + 1);
  let pos = 0;
  for (let i = from; i < to; i++) {
    off[i - from] = pos;
    pos += items[i].length;
  }
  off[to - from] = pos;
  const str = to - from === 1 ? items[from] : items.slice(from, to).join('');
  return { items: null, rev: false, itemBytes: 0, str, off, lo: 0, hi: to - from };
}

/** Seals an open chunk in place. */
function seal(c: Chunk): Chunk {
  const items = c.rev ? (c.items as string[]).slice().reverse() : (c.items as string[]);
  return sealedChunk(items, 0, items.length);
}

function count(c: Chunk): number {
  return c.items !== null ? c.items.length : c.hi - c.lo;
}

/** Element k (0-based within the chunk's live elements). */
function elementOf(c: Chunk, k: number): string {
  if (c.items !== null) return c.rev ? c.items[c.items.length - 1 - k] : c.items[k];
  const off = c.off as Uint32Array;
  return c.str.substring(off[c.lo + k], off[c.lo + k + 1]);
}

function elementsOf(c: Chunk): string[] {
  if (c.items !== null) return c.rev ? c.items.slice().reverse() : c.items.slice();
  const n = c.hi - c.lo;
  const out = new Array<string>(n);
  for (let k = 0; k < n; k++) out[k] = elementOf(c, k);
  return out;
}

/** Seals elements into chunks of about CHUNK_BYTES each. */
function sealAll(items: readonly string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let from = 0;
  while (from < items.length) {
    let bytes = items[from].length;
    let to = from + 1;
    while (to < items.length && bytes + items[to].length <= CHUNK_BYTES) bytes += items[to++].length;
    chunks.push(sealedChunk(items, from, to));
    from = to;
  }
  return chunks;
}

export class ListValue implements CollectionValue {
  readonly type = 'list' as const;
  /** Ring of chunks: slot (head + i) & mask is the i-th chunk. */
  private ring: Array<Chunk | undefined>;
  private mask: number;
  private head = 0;
  private chunkCount = 0;
  private length = 0;
  /** Sum of the elements' lengths (for memoryBytes). */
  private dataBytes = 0;

  constructor() {
    this.ring = new Array<Chunk | undefined>(MIN_RING_SLOTS);
    this.mask = MIN_RING_SLOTS - 1;
  }

  /** Builds a list from its elements, head first (RDB loading, COPY, SORT STORE). */
  static from(items: Iterable<string>): ListValue {
    const arr = Array.isArray(items) ? (items as readonly string[]) : [...items];
    const list = new ListValue();
    list.setChunks(sealAll(arr), arr.length);
    for (const v of arr) list.dataBytes += v.length;
    return list;
  }

  get size(): number {
    return this.length;
  }

  encoding(): string {
    return 'quicklist';
  }

  /** Bytes of element data held (the sum of the lengths of every string in the value). */
  get contentBytes(): number {
    return this.dataBytes;
  }

  /** Estimated footprint in bytes (INFO used_memory, MEMORY USAGE, eviction): O(1). */
  memoryBytes(): number {
    return (
      LIST_BASE_BYTES +
      this.chunkCount * CHUNK_OVERHEAD_BYTES +
      this.length * ELEMENT_OVERHEAD_BYTES +
      this.dataBytes
    );
  }

  // ---------------------------------------------------------------- chunk ring

  private chunk(i: number): Chunk {
    return this.ring[(this.head + i) & this.mask] as Chunk;
  }

  private setChunks(chunks: Chunk[], length: number): void {
    let cap = MIN_RING_SLOTS;
    while (cap < chunks.length) cap *= 2;
    this.ring = new Array<Chunk | undefined>(cap);
    for (let i = 0; i < chunks.length; i++) this.ring[i] = chunks[i];
    this.mask = cap - 1;
    this.head = 0;
    this.chunkCount = chunks.length;
    this.length = length;
  }

  private resizeRing(cap: number): void {
    const ring = new Array<Chunk | undefined>(cap);
    for (let i = 0; i < this.chunkCount; i++) ring[i] = this.chunk(i);
    this.ring = ring;
    this.mask = cap - 1;
    this.head = 0;
  }

  private addChunkAtHead(c: Chunk): void {
    if (this.chunkCount === this.ring.length) this.resizeRing(this.ring.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.ring[this.head] = c;
    this.chunkCount++;
  }

  private addChunkAtTail(c: Chunk): void {
    if (this.chunkCount === this.ring.length) this.resizeRing(this.ring.length * 2);
    this.ring[(this.head + this.chunkCount) & this.mask] = c;
    this.chunkCount++;
  }

  private dropChunk(atHead: boolean): void {
    if (atHead) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
    } else {
      this.ring[(this.head + this.chunkCount - 1) & this.mask] = undefined;
    }
    this.chunkCount--;
    const cap = this.ring.length;
    if (cap > MIN_RING_SLOTS && this.chunkCount < cap >>> 2) this.resizeRing(cap >>> 1);
  }

  /** Replaces chunk number `ci` by `replacement` chunks (0, 1 or more). */
  private replaceChunk(ci: number, replacement: Chunk[]): void {
    const chunks: Chunk[] = [];
    for (let i = 0; i < this.chunkCount; i++) chunks.push(this.chunk(i));
    chunks.splice(ci, 1, ...replacement);
    this.setChunks(chunks, this.length);
  }

  /** Chunk index and index inside it of list position `index` (0 <= index < size). */
  private locate(index: number): [number, number] {
    if (index < this.length >>> 1) {
      for (let ci = 0; ; ci++) {
        const n = count(this.chunk(ci));
        if (index < n) return [ci, index];
        index -= n;
      }
    }
    let fromEnd = this.length - 1 - index;
    for (let ci = this.chunkCount - 1; ; ci--) {
      const n = count(this.chunk(ci));
      if (fromEnd < n) return [ci, n - 1 - fromEnd];
      fromEnd -= n;
    }
  }

  // ---------------------------------------------------------------- element API

  /** Element at position `index` (0 = head); the caller checks 0 <= index < size. */
  at(index: number): string {
    const [ci, k] = this.locate(index);
    return elementOf(this.chunk(ci), k);
  }

  /** Replaces the element at `index` (0 <= index < size). */
  setAt(index: number, value: string): void {
    const [ci, k] = this.locate(index);
    const c = this.chunk(ci);
    if (c.items !== null) {
      const at = c.rev ? c.items.length - 1 - k : k;
      c.itemBytes += value.length - c.items[at].length;
      this.dataBytes += value.length - c.items[at].length;
      c.items[at] = value;
      return;
    }
    const items = elementsOf(c);
    this.dataBytes += value.length - items[k].length;
    items[k] = value;
    this.replaceChunk(ci, sealAll(items));
  }

  pushHead(value: string): void {
    let c = this.chunkCount > 0 ? this.chunk(0) : undefined;
    if (
      c !== undefined &&
      c.items !== null &&
      (c.items.length >= OPEN_MAX_ITEMS || c.itemBytes >= CHUNK_BYTES)
    ) {
      this.ring[this.head] = seal(c);
      c = undefined;
    }
    if (c === undefined || c.items === null) {
      c = openChunk([], 0, true);
      this.addChunkAtHead(c);
    }
    if (c.rev) (c.items as string[]).push(value);
    else (c.items as string[]).unshift(value);
    c.itemBytes += value.length;
    this.dataBytes += value.length;
    this.length++;
  }

  pushTail(value: string): void {
    const last = (this.head + this.chunkCount - 1) & this.mask;
    let c = this.chunkCount > 0 ? (this.ring[last] as Chunk) : undefined;
    if (
      c !== undefined &&
      c.items !== null &&
      (c.items.length >= OPEN_MAX_ITEMS || c.itemBytes >= CHUNK_BYTES)
    ) {
      this.ring[last] = seal(c);
      c = undefined;
    }
    if (c === undefined || c.items === null) {
      c = openChunk();
      this.addChunkAtTail(c);
    }
    if (c.rev) (c.items as string[]).unshift(value);
    else (c.items as string[]).push(value);
    c.itemBytes += value.length;
    this.dataBytes += value.length;
    this.length++;
  }

  /** Removes and returns the head element; undefined when empty. */
  popHead(): string | undefined {
    if (this.length === 0) return undefined;
    const c = this.chunk(0);
    let v: string;
    if (c.items !== null) {
      v = (c.rev ? c.items.pop() : c.items.shift()) as string;
      c.itemBytes -= v.length;
    } else {
      v = elementOf(c, 0);
      c.lo++;
    }
    this.length--;
    this.dataBytes -= v.length;
    if (count(c) === 0) this.dropChunk(true);
    return v;
  }

  /** Removes and returns the tail element; undefined when empty. */
  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    const c = this.chunk(this.chunkCount - 1);
    let v: string;
    if (c.items !== null) {
      v = (c.rev ? c.items.shift() : c.items.pop()) as string;
      c.itemBytes -= v.length;
    } else {
      v = elementOf(c, c.hi - c.lo - 1);
      c.hi--;
    }
    this.length--;
    this.dataBytes -= v.length;
    if (count(c) === 0) this.dropChunk(false);
    return v;
  }

  /** Inserts `value` so that it ends up at position `index` (0 <= index <= size). */
  insertAt(index: number, value: string): void {
    if (index === 0) return this.pushHead(value);
    if (index === this.length) return this.pushTail(value);
    const [ci, k] = this.locate(index);
    const items = elementsOf(this.chunk(ci));
    items.splice(k, 0, value);
    this.length++;
    this.dataBytes += value.length;
    this.replaceChunk(ci, sealAll(items));
  }

  /** Removes the element at `index` (0 <= index < size). */
  removeAt(index: number): void {
    if (index === 0) {
      this.popHead();
      return;
    }
    if (index === this.length - 1) {
      this.popTail();
      return;
    }
    const [ci, k] = this.locate(index);
    const items = elementsOf(this.chunk(ci));
    this.dataBytes -= items.splice(k, 1)[0].length;
    this.length--;
    this.replaceChunk(ci, sealAll(items));
  }

  /**
   * Removes up to `count` elements equal to `value` (LREM semantics: count > 0 from the head, < 0 from the tail,
   * 0 all of them), in one pass; returns how many were removed.
   */
  removeValue(value: string, count: number): number {
    const limit = count === 0 ? Infinity : Math.abs(count);
    const all = this.toArray();
    const kept: string[] = [];
    let removed = 0;
    if (count >= 0) {
      for (const v of all) {
        if (removed < limit && v === value) removed++;
        else kept.push(v);
      }
    } else {
      for (let i = all.length - 1; i >= 0; i--) {
        if (removed < limit && all[i] === value) removed++;
        else kept.push(all[i]);
      }
      kept.reverse();
    }
    if (removed > 0) {
      this.setChunks(sealAll(kept), kept.length);
      this.dataBytes -= removed * value.length;
    }
    return removed;
  }

  /** Keeps only positions start..end inclusive (already clamped: 0 <= start <= end < size), LTRIM. */
  keepRange(start: number, end: number): void {
    this.dropElements(start, true);
    this.dropElements(this.length - (end - start + 1), false);
  }

  private dropElements(n: number, atHead: boolean): void {
    while (n > 0) {
      const c = this.chunk(atHead ? 0 : this.chunkCount - 1);
      const have = count(c);
      if (n >= have) {
        n -= have;
        this.length -= have;
        this.dataBytes -=
          c.items !== null ? c.itemBytes : (c.off as Uint32Array)[c.hi] - (c.off as Uint32Array)[c.lo];
        this.dropChunk(atHead);
        continue;
      }
      if (c.items !== null) {
        const fromFront = atHead !== c.rev;
        const gone = fromFront ? c.items.splice(0, n) : c.items.splice(have - n, n);
        for (const g of gone) {
          c.itemBytes -= g.length;
          this.dataBytes -= g.length;
        }
      } else {
        const off = c.off as Uint32Array;
        if (atHead) {
          this.dataBytes -= off[c.lo + n] - off[c.lo];
          c.lo += n;
        } else {
          this.dataBytes -= off[c.hi] - off[c.hi - n];
          c.hi -= n;
        }
      }
      this.length -= n;
      return;
    }
  }

  /** Removes every element. */
  clear(): void {
    this.setChunks([], 0);
    this.dataBytes = 0;
  }

  /**
   * Calls `visit` with the elements from position `start` (0 <= start < size) towards the tail, or towards the
   * head with `reverse`, until it returns false or the list ends. `visit` also gets the element's position.
   */
  forEachFrom(start: number, reverse: boolean, visit: (value: string, index: number) => boolean): void {
    if (start < 0 || start >= this.length) return;
    let [ci, k] = this.locate(start);
    let index = start;
    let c = this.chunk(ci);
    let n = count(c);
    for (;;) {
      if (!visit(elementOf(c, k), index)) return;
      if (reverse) {
        index--;
        if (--k < 0) {
          if (--ci < 0) return;
          c = this.chunk(ci);
          k = count(c) - 1;
        }
      } else {
        index++;
        if (++k >= n) {
          if (++ci >= this.chunkCount) return;
          c = this.chunk(ci);
          n = count(c);
          k = 0;
        }
      }
    }
  }

  /** Position of the first element equal to `value` at or after `from`, or -1. */
  indexOf(value: string, from = 0): number {
    let found = -1;
    this.forEachFrom(from, false, (v, i) => {
      if (v !== value) return true;
      found = i;
      return false;
    });
    return found;
  }

  /** Elements head to tail. */
  *[Symbol.iterator](): IterableIterator<string> {
    for (let ci = 0; ci < this.chunkCount; ci++) {
      const c = this.chunk(ci);
      const n = count(c);
      for (let k = 0; k < n; k++) yield elementOf(c, k);
    }
  }

  /** Elements start..end inclusive (clamped by the caller), as an array. */
  slice(start: number, end: number): string[] {
    const out: string[] = [];
    if (end < start) return out;
    this.forEachFrom(start, false, (v, i) => {
      out.push(v);
      return i < end;
    });
    return out;
  }

  toArray(): string[] {
    const out: string[] = [];
    for (let ci = 0; ci < this.chunkCount; ci++) {
      const c = this.chunk(ci);
      const n = count(c);
      for (let k = 0; k < n; k++) out.push(elementOf(c, k));
    }
    return out;
  }

  clone(): ListValue {
    const list = new ListValue();
    const chunks: Chunk[] = [];
    for (let ci = 0; ci < this.chunkCount; ci++) {
      const c = this.chunk(ci);
      // Sealed chunk strings are immutable and can be shared; only the window and offsets are per list.
      if (c.items !== null) chunks.push(openChunk(c.items.slice(), c.itemBytes, c.rev));
      else chunks.push({ items: null, rev: false, itemBytes: 0, str: c.str, off: c.off, lo: c.lo, hi: c.hi });
    }
    list.setChunks(chunks, this.length);
    list.dataBytes = this.dataBytes;
    return list;
  }
}
