/**
 * Typed key access shared by the data-type command families, with Redis's bookkeeping:
 * - reads count keyspace hits and misses (and fire the "keymiss" event), writes do not;
 * - a value of another type answers WRONGTYPE before anything changes;
 * - write lookups go through db.lookupWrite, which lets a running snapshot see the old value first;
 * - a key created by a command fires the "new" event (class n), as Redis 7.0's dbAdd does.
 */
import { Err, ReplyError } from '../errors';
import type { CollectionValue, Value, ValueType } from '../keyspace/database';
import type { Client } from '../server/client';

/** Looks a key up for reading; counts a hit or a miss. */
export function readKey(c: Client, key: string): Value | undefined {
  const v = c.db.lookupRead(key);
  countRead(c, key, v !== undefined);
  return v;
}

/** A read of `key` found it or not: keyspace_hits / keyspace_misses, and the keymiss event. */
export function countRead(c: Client, key: string, found: boolean): void {
  const server = c.server;
  if (found) {
    server.stats.keyspaceHits++;
  } else {
    server.stats.keyspaceMisses++;
    server.notify('m', 'keymiss', key, c.db.id);
  }
}

/** Reads a collection of one type; undefined when missing, WRONGTYPE when of another type. */
export function readTyped<T extends CollectionValue>(c: Client, key: string, type: ValueType): T | undefined {
  const v = readKey(c, key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== type) throw new ReplyError(Err.wrongType);
  return v as T;
}

/** Looks a collection up for changing it in place; undefined when missing, WRONGTYPE when of another type. */
export function writeTyped<T extends CollectionValue>(
  c: Client,
  key: string,
  type: ValueType,
): T | undefined {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== type) throw new ReplyError(Err.wrongType);
  return v as T;
}

/** Throws WRONGTYPE unless the value is missing or of `type` (no statistics, no snapshot hook). */
export function checkType(v: Value | undefined, type: ValueType): void {
  if (v === undefined) return;
  if ((typeof v === 'string' ? 'string' : v.type) !== type) throw new ReplyError(Err.wrongType);
}

/** Stores a new key (one that does not exist now) and fires "new". */
export function addKey(c: Client, key: string, value: Value): void {
  c.db.set(key, value);
  c.server.notify('n', 'new', key, c.db.id);
}

/** Removes a collection key that a command just emptied, firing "del" as Redis does after the command's event. */
export function deleteIfEmpty(c: Client, key: string, v: CollectionValue): boolean {
  if (v.size !== 0) return false;
  c.db.delete(key);
  c.server.notify('g', 'del', key, c.db.id);
  return true;
}

/**
 * The command's frozen time as whole milliseconds (Redis's mstime): deadlines that are stored, replied or
 * propagated must be integers even if the server clock has sub-millisecond resolution.
 */
export function commandTimeMs(c: Client): number {
  return Math.floor(c.server.nowMs);
}
