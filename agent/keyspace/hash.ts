/**
 * The hash value: a Map from field to value (insertion-ordered, which is also the order Redis's listpack
 * encoding keeps: new fields are appended, updated ones stay in place, deleted ones close the gap).
 *
 * Reported encoding: "listpack" until the hash holds more than hash-max-listpack-entries fields or a field or
 * value longer than hash-max-listpack-value bytes is written, then "hashtable" for good (Redis never converts
 * back).
 */
import type { CollectionValue } from './database';
import { encodingLimits } from './encodingLimits';

/** The hash object and its Map. */
const HASH_BASE_BYTES = 96;
/** Per field: the Map entry and two string headers. */
const HASH_ENTRY_BYTES = 72;

export class HashValue implements CollectionValue {
  readonly type = 'hash' as const;
  readonly map = new Map<string, string>();
  /** Still what Redis would keep as a listpack. */
  compact = true;
  /** Sum of the lengths of every field and value (for memoryBytes). */
  private dataBytes = 0;

  /** Builds a hash from field/value pairs (RDB loading, COPY, stores); later duplicates overwrite. */
  static from(entries: Iterable<readonly [string, string]>): HashValue {
    const h = new HashValue();
    for (const [f, v] of entries) h.set(f, v);
    return h;
  }

  get size(): number {
    return this.map.size;
  }

  encoding(): string {
    return this.compact ? 'listpack' : 'hashtable';
  }

  get(field: string): string | undefined {
    return this.map.get(field);
  }

  has(field: string): boolean {
    return this.map.has(field);
  }

  /** Sets a field; returns true when the field is new. */
  set(field: string, value: string): boolean {
    const map = this.map;
    const before = map.size;
    const old = map.get(field);
    this.dataBytes += value.length - (old === undefined ? -field.length : old.length);
    map.set(field, value);
    if (this.compact) {
      const max = encodingLimits.hashMaxListpackValue;
      if (field.length > max || value.length > max || map.size > encodingLimits.hashMaxListpackEntries) {
        this.compact = false;
      }
    }
    return map.size !== before;
  }

  delete(field: string): boolean {
    const old = this.map.get(field);
    if (old === undefined) return false;
    this.dataBytes -= field.length + old.length;
    return this.map.delete(field);
  }

  /** Bytes of element data held (the sum of the lengths of every string in the value). */
  get contentBytes(): number {
    return this.dataBytes;
  }

  /** Estimated footprint in bytes (INFO used_memory, MEMORY USAGE, eviction): O(1). */
  memoryBytes(): number {
    return HASH_BASE_BYTES + this.map.size * HASH_ENTRY_BYTES + this.dataBytes;
  }

  /** Field/value pairs in the order HGETALL returns them. */
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  values(): IterableIterator<string> {
    return this.map.values();
  }

  clone(): HashValue {
    const h = new HashValue();
    for (const [f, v] of this.map) h.map.set(f, v);
    h.compact = this.compact;
    h.dataBytes = this.dataBytes;
    return h;
  }
}
