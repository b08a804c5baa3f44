/**
 * String values kept outside the V8 heap: slabs of fixed-size slots in Buffers, each slot found by a small integer
 * handle, which the keyspace's map stores instead of the string (keyspace/valueMap.ts).
 *
 * Why: a value that a SET stores outlives V8's young generation, so the scavenger copies it twice (into the
 * survivor space, then into the old generation) and every major GC marks it again. Under SET -P 16 on 1M keys
 * that was 10-15% of the server's time, in pauses of 8-18 ms that every client and replica waited out (measured
 * with --trace-gc, 2026-11-26; a plain Map of handles against one of strings: scavenges 4x less time, pauses
 * 10.6 -> 2.6 ms). A handle is a V8 small integer, not a heap object: nothing to copy, nothing to mark. The string a
 * command reads is made from its slot when asked and dies young, which costs the scavenger next to nothing.
 *
 * Layout: size classes of slots (SLOT_BYTES); a slot holds the string's length (16 bits, little-endian), the key's
 * access stamp (24 bits, keyspace/access.ts: Redis keeps it in the object header, robj->lru, for the same reason: a
 * command that touches the value touches the stamp on the same cache line instead of probing a second table), the
 * snapshot bits (8 bits: which running snapshots wrote this value or must never write it, persistence/snapshot.ts; a
 * slot stored while snapshots run gets `newSlotBits`, and a freed slot keeps its bits until it is stored again), then
 * its latin1 bytes (the server keeps binary data in latin1 strings, one char per byte, so the round trip is exact). A
 * class grows by pages of a power-of-two number of slots (about SLAB_PAGE_BYTES each); a freed slot is reused first
 * (last freed, first reused: an overwrite of a same-size value lands in the slot it left). Pages are never given back,
 * as an allocator keeps its arenas: a whole slab goes when its map does (FLUSHDB, FLUSHALL, a replica's full sync).
 * Strings shorter than STORED_STRING_MIN_CHARS or longer than STORED_STRING_MAX_CHARS, and any string once its class
 * has SLOTS_PER_CLASS slots in use, are left to the caller to keep as JS strings.
 * Why a minimum: storing and reading a slot each cross into C++ (Buffer's latin1 write and slice), a fixed cost that
 * a short string does not earn back; measured on 1M keys under -P 16, 3-byte values: SET even, GET -15%; 32-byte
 * values: SET even, GET -4..-9%, RSS under the load 714 -> 390-490 MB; 100-byte values: SET +1..7%, GET -1%, RSS
 * 757 -> 512 MB; on one hot key (nothing survives a scavenge anyway) 3-byte SET/INCR/MSET lost 15-25%.
 * Handle: class << CLASS_SHIFT | slot number, below 2^30: a small integer on every V8 build.
 */

/** Bytes of a slot of each class, ascending; a slot holds HEADER_BYTES plus up to that many less characters. */
export const SLOT_BYTES: readonly number[] = [
  16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
];
/** A slot's header: the string's length (2 bytes), the key's access stamp (3 bytes), the snapshot bits (1 byte). */
const STAMP_AT = 2;
const SNAPSHOT_BITS_AT = 5;
const HEADER_BYTES = 6;
/** Shortest string a slab stores (see above). */
export const STORED_STRING_MIN_CHARS = 16;
/** Longest string a slab stores. */
export const STORED_STRING_MAX_CHARS = SLOT_BYTES[SLOT_BYTES.length - 1] - HEADER_BYTES;
/** Target size of one page of slots. */
const SLAB_PAGE_BYTES = 256 * 1024;
const CLASS_SHIFT = 25;
/** Slots one class can have (the handle's slot field). */
const SLOTS_PER_CLASS = 1 << CLASS_SHIFT;
const SLOT_MASK = SLOTS_PER_CLASS - 1;
/** Granularity of the length -> class table: 1 << CLASS_STEP_SHIFT bytes. */
const CLASS_STEP_SHIFT = 4;
const CLASS_STEP_BYTES = 1 << CLASS_STEP_SHIFT;

/** Class of a string of n chars, by ceil((n + HEADER_BYTES) / CLASS_STEP_BYTES). */
const CLASS_BY_STEPS = (() => {
  const steps = SLOT_BYTES[SLOT_BYTES.length - 1] / CLASS_STEP_BYTES;
  const table = new Uint8Array(steps + 1);
  let cls = 0;
  for (let step = 0; step <= steps; step++) {
    while (SLOT_BYTES[cls] < step * CLASS_STEP_BYTES) cls++;
    table[step] = cls;
  }
  return table;
})();

const EMPTY_PAGE = Buffer.alloc(0);

/** One size class: its pages, its free slots and the next slot never used. */
class SlotClass {
  readonly pages: Buffer[] = [];
  /** log2 of slots per page. */
  readonly pageShift: number;
  private free = new Int32Array(64);
  private freeCount = 0;
  private nextSlot = 0;

  constructor(readonly slotBytes: number) {
    this.pageShift = Math.max(0, 31 - Math.clz32(Math.floor(SLAB_PAGE_BYTES / slotBytes)));
  }

  /** A slot number, or -1 when the class is full. */
  allocate(): number {
    if (this.freeCount > 0) return this.free[--this.freeCount];
    const slot = this.nextSlot;
    if (slot === SLOTS_PER_CLASS) return -1;
    if (slot >>> this.pageShift === this.pages.length) {
      this.pages.push(Buffer.allocUnsafeSlow(this.slotBytes << this.pageShift));
    }
    this.nextSlot++;
    return slot;
  }

  /** ANDs byte `offset` of every slot ever handed out (in use or free) with `keep`. */
  maskByte(offset: number, keep: number): void {
    const perPage = 1 << this.pageShift;
    for (let p = 0; p < this.pages.length; p++) {
      const page = this.pages[p];
      const slots = Math.min(perPage, this.nextSlot - p * perPage);
      for (let i = 0, at = offset; i < slots; i++, at += this.slotBytes) page[at] &= keep;
    }
  }

  release(slot: number): void {
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = slot;
  }
}

/** The string length in the header of the slot at `at`. */
function lengthAt(page: Buffer, at: number): number {
  return page[at] | (page[at + 1] << 8);
}

/** Writes a 24-bit access stamp into the header of the slot at `at`. */
function writeStamp(page: Buffer, at: number, stamp: number): void {
  page[at + STAMP_AT] = stamp & 0xff;
  page[at + STAMP_AT + 1] = (stamp >>> 8) & 0xff;
  page[at + STAMP_AT + 2] = (stamp >>> 16) & 0xff;
}

export class StringSlab {
  private readonly classes = SLOT_BYTES.map((bytes) => new SlotClass(bytes));
  /** The snapshot bits a string stored now gets: those of the snapshots running on the slab's map. */
  newSlotBits = 0;

  /** Copies `s` into a slot with access stamp `stamp`: its handle, or -1 when the caller must keep the string. */
  store(s: string, stamp: number): number {
    const n = s.length;
    if (n < STORED_STRING_MIN_CHARS || n > STORED_STRING_MAX_CHARS) return -1;
    const cls = CLASS_BY_STEPS[(n + HEADER_BYTES + CLASS_STEP_BYTES - 1) >> CLASS_STEP_SHIFT];
    const slot = this.classes[cls].allocate();
    if (slot === -1) return -1;
    const handle = (cls << CLASS_SHIFT) | slot;
    const at = this.locate(handle);
    const page = this.page;
    page[at] = n & 0xff;
    page[at + 1] = n >>> 8;
    writeStamp(page, at, stamp);
    page[at + SNAPSHOT_BITS_AT] = this.newSlotBits;
    page.latin1Write(s, at + HEADER_BYTES, n);
    return handle;
  }

  /** Whether slot `handle` has snapshot `bit`. */
  hasBit(handle: number, bit: number): boolean {
    const at = this.locate(handle) + SNAPSHOT_BITS_AT;
    return (this.page[at] & bit) !== 0;
  }

  /** Sets snapshot `bit` of slot `handle`; whether it was set already. */
  testAndSetBit(handle: number, bit: number): boolean {
    const at = this.locate(handle) + SNAPSHOT_BITS_AT;
    const page = this.page;
    const bits = page[at];
    page[at] = bits | bit;
    return (bits & bit) !== 0;
  }

  /** Clears snapshot `bits` in every slot, in use or free: a sweep over the whole slab. */
  clearBits(bits: number): void {
    for (const cls of this.classes) cls.maskByte(SNAPSHOT_BITS_AT, ~bits & 0xff);
  }

  /** The string in slot `handle` (a new JS string each time). */
  read(handle: number): string {
    const at = this.locate(handle);
    const page = this.page;
    return page.latin1Slice(at + HEADER_BYTES, at + HEADER_BYTES + lengthAt(page, at));
  }

  /** Copies the string in slot `handle` into `target` at `targetAt` (room is the caller's); its length. */
  copyTo(handle: number, target: Buffer, targetAt: number): number {
    const at = this.locate(handle);
    const page = this.page;
    const n = lengthAt(page, at);
    page.copy(target, targetAt, at + HEADER_BYTES, at + HEADER_BYTES + n);
    return n;
  }

  /** The access stamp kept with the string of `handle`. */
  stamp(handle: number): number {
    const at = this.locate(handle) + STAMP_AT;
    const page = this.page;
    return page[at] | (page[at + 1] << 8) | (page[at + 2] << 16);
  }

  setStamp(handle: number, stamp: number): void {
    const at = this.locate(handle); // sets this.page
    writeStamp(this.page, at, stamp);
  }

  /** Length in chars of the string in slot `handle`, without making the string. */
  length(handle: number): number {
    const at = this.locate(handle); // sets this.page
    return lengthAt(this.page, at);
  }

  /** The page of the last slot located (set by `locate`, which returns the slot's offset in it: no pair object). */
  private page: Buffer = EMPTY_PAGE;

  private locate(handle: number): number {
    const slots = this.classes[handle >>> CLASS_SHIFT];
    const slot = handle & SLOT_MASK;
    this.page = slots.pages[slot >>> slots.pageShift];
    return (slot & ((1 << slots.pageShift) - 1)) * slots.slotBytes;
  }

  /** Frees slot `handle`; the handle must not be used again. */
  release(handle: number): void {
    this.classes[handle >>> CLASS_SHIFT].release(handle & SLOT_MASK);
  }
}
