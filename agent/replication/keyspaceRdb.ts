/**
 * Interim adapter between keyspace values (keyspace/values.ts) and the RDB codec's neutral model
 * (persistence/model.ts), used by full syncs until the persistence part ships its own keyspace<->RDB adapter.
 * Strings are the latin1 string itself on both sides; collections are copied element by element.
 */
import type { RdbEntry, RdbValue } from '../persistence';
import type { Database, Value } from '../keyspace/database';
import { HashValue, ListValue, SetValue, ZSetValue } from '../keyspace/values';

export function valueToRdb(v: Value): RdbValue {
  if (typeof v === 'string') return { type: 'string', value: v };
  switch (v.type) {
    case 'list':
      return { type: 'list', items: (v as ListValue).toArray() };
    case 'hash':
      return { type: 'hash', entries: [...(v as HashValue).entries()] };
    case 'set':
      return { type: 'set', members: (v as SetValue).toArray() };
    case 'zset':
      return { type: 'zset', entries: [...(v as ZSetValue).entries()] };
  }
}

export function rdbToValue(v: RdbValue): Value {
  switch (v.type) {
    case 'string':
      return v.value;
    case 'list':
      return ListValue.from(v.items);
    case 'hash':
      return HashValue.from(v.entries);
    case 'set':
      return SetValue.from(v.members);
    case 'zset':
      return ZSetValue.from(v.entries);
  }
}

/** Every key of `db` as RDB entries, in the database's iteration order. */
export function* databaseEntries(db: Database): Generator<RdbEntry, void, undefined> {
  const expires = db.expires;
  for (const [key, value] of db.dict) {
    const at = expires.size > 0 ? expires.get(key) : undefined;
    yield { db: db.id, key, value: valueToRdb(value), expireAtMs: at ?? null };
  }
}
