/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE, computed exactly as Redis 7.0 does (debug.c), so that the agent's digest
 * equals real Redis's for the same data and two servers can prove they hold the same dataset.
 *
 * Building blocks over SHA1 (20-byte digests):
 *   xorDigest(d, bytes):  d ^= SHA1(bytes)                       (order-independent accumulation)
 *   mixDigest(d, bytes):  xorDigest(d, bytes); d = SHA1(d)       (order-dependent chaining)
 * Per key: d = 0; mix(key); mix(type as big-endian uint32: string 0, list 1, set 2, zset 3, hash 4); then
 *   string: mix(value);   list: mix(each element, head to tail);   set: xor(each member);
 *   zset: for each (member, score): e = 0; mix(e, member); mix(e, "%.17g" of score); xor(d, e);
 *   hash: for each (field, value): e = 0; mix(e, field); mix(e, value); xor(d, e);
 *   then xor(d, "!!expire!!") when the key has an expiry (its time is not part of the digest).
 * Dataset: for each non-empty database j: mix(final, uint32 j), then xor(final, d) for each key. An empty dataset
 * gives 40 zeros. Keys are taken as stored, logically expired ones included, as Redis does.
 */
import { createHash } from 'node:crypto';
import { formatDouble } from '../resp/writer';
import type { Database, Keyspace, Value } from './database';
import type { HashValue } from './hash';
import type { ListValue } from './list';
import type { SetValue } from './set';
import type { ZSetValue } from './zset';

const DIGEST_BYTES = 20;
const TYPE_CODES = { string: 0, list: 1, set: 2, zset: 3, hash: 4 } as const;
const EXPIRE_MARK = Buffer.from('!!expire!!', 'latin1');

function sha1(data: Buffer): Buffer {
  return createHash('sha1').update(data).digest();
}

function xorDigest(digest: Buffer, data: Buffer): void {
  const h = sha1(data);
  for (let i = 0; i < DIGEST_BYTES; i++) digest[i] ^= h[i];
}

function mixDigest(digest: Buffer, data: Buffer): void {
  xorDigest(digest, data);
  sha1(digest).copy(digest);
}

function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** The digest of one value into `digest` (Redis's xorObjectDigest), `hasExpire` adding the expiry mark. */
function objectDigest(digest: Buffer, v: Value, hasExpire: boolean): void {
  const type = typeof v === 'string' ? 'string' : v.type;
  mixDigest(digest, uint32(TYPE_CODES[type]));
  if (typeof v === 'string') {
    mixDigest(digest, bytes(v));
  } else if (v.type === 'list') {
    for (const e of v as ListValue) mixDigest(digest, bytes(e));
  } else if (v.type === 'set') {
    for (const m of v as SetValue) xorDigest(digest, bytes(m));
  } else if (v.type === 'zset') {
    for (const [m, s] of (v as ZSetValue).entries()) {
      const e = Buffer.alloc(DIGEST_BYTES);
      mixDigest(e, bytes(m));
      mixDigest(e, bytes(formatDouble(s)));
      xorDigest(digest, e);
    }
  } else {
    for (const [f, val] of (v as HashValue).entries()) {
      const e = Buffer.alloc(DIGEST_BYTES);
      mixDigest(e, bytes(f));
      mixDigest(e, bytes(val));
      xorDigest(digest, e);
    }
  }
  if (hasExpire) xorDigest(digest, EXPIRE_MARK);
}

/** DEBUG DIGEST-VALUE of one key of `db`: 40 hex characters, zeros when the key does not exist. */
export function keyDigest(db: Database, key: string): string {
  const digest = Buffer.alloc(DIGEST_BYTES);
  const v = db.dict.get(key);
  if (v !== undefined) objectDigest(digest, v, db.expires.has(key));
  return digest.toString('hex');
}

/** The digest of a value on its own (no key, no expiry), 40 hex characters. */
export function valueDigest(v: Value, hasExpire = false): string {
  const digest = Buffer.alloc(DIGEST_BYTES);
  objectDigest(digest, v, hasExpire);
  return digest.toString('hex');
}

/** DEBUG DIGEST: the digest of every key of every database; 40 zeros for an empty dataset. */
export function datasetDigest(keyspace: Keyspace): string {
  const final = Buffer.alloc(DIGEST_BYTES);
  for (const db of keyspace.dbs) {
    if (db.dict.size === 0) continue;
    mixDigest(final, uint32(db.id));
    const expires = db.expires;
    for (const [key, v] of db.dict) {
      const digest = Buffer.alloc(DIGEST_BYTES);
      mixDigest(digest, bytes(key));
      objectDigest(digest, v, expires.has(key));
      xorDigest(final, digest);
    }
  }
  return final.toString('hex');
}
