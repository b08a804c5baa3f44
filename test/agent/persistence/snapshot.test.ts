/**
 * The fork-less snapshot in-process, against a model: whatever the keyspace goes through while a snapshot is walked
 * in slices (writes, in-place changes of collections, deletions, re-creations, expiries, renames, FLUSHDB, SWAPDB),
 * the entries it produces are exactly the dataset at the cut, each key once. Bounded random runs over many seeds,
 * with tiny passes (many passes per database) and with one pass per database.
 */
import { Database, Keyspace, type Value } from '../../../agent/keyspace/database';
import { HashValue, ListValue, SetValue, ZSetValue } from '../../../agent/keyspace/values';
import { valueToRdb } from '../../../agent/persistence/keyspaceAdapter';
import { stringValue, type RdbEntry } from '../../../agent/persistence/model';
import { RdbSnapshotStream } from '../../../agent/persistence/rdbSnapshot';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { KeyspaceSnapshot, SnapshotRegistry } from '../../../agent/persistence/snapshot';
import { SNAPSHOT_BIT_COUNT } from '../../../agent/keyspace/valueMap';
import { canonical } from './support/dataset';
import { prng } from '../../helpers/prng';

const NOW_MS = 1_800_000_000_000;
const DB_COUNT = 4;

function makeKeyspace(registry: SnapshotRegistry, now = { ms: NOW_MS }): Keyspace {
  return new Keyspace(DB_COUNT, {
    nowMs: () => now.ms,
    expiryMode: () => 'delete',
    onExpired: () => undefined,
    beforeMutate: (db, key) => registry.beforeMutate(db, key),
    beforeReplaceAll: (db) => registry.beforeReplaceAll(db),
  });
}

/**
 * A sink that keeps the entries, reading a string given as bytes at once, as a sink must (the bytes are the key's
 * until it changes).
 */
function keepIn(list: RdbEntry[]): (e: RdbEntry) => void {
  return (e) => {
    const v = e.value;
    list.push(v.type === 'string' ? { ...e, value: { type: 'string', value: stringValue(v.value) } } : e);
  };
}

/** The dataset as model entries (deep copies): what a snapshot taken now must produce. */
function imageOf(ks: Keyspace): RdbEntry[] {
  const out: RdbEntry[] = [];
  for (const db of ks.dbs) {
    for (const [key, value] of db.dict) {
      out.push({ db: db.id, key, value: valueToRdb(value), expireAtMs: db.expires.get(key) ?? null });
    }
  }
  return canonical(out);
}

function randomValue(rand: () => number, tag: string): Value {
  const n = 1 + Math.floor(rand() * 6);
  const items = Array.from({ length: n }, (_, i) => `${tag}-${i}-${Math.floor(rand() * 1000)}`);
  switch (Math.floor(rand() * 5)) {
    case 0:
      return ListValue.from(items);
    case 1:
      return HashValue.from(items.map((x, i) => [`f${i}`, x] as [string, string]));
    case 2:
      return SetValue.from(items);
    case 3:
      return ZSetValue.from(items.map((x, i) => [x, i * 1.5 - 2] as [string, number]));
    default:
      return `${tag}:${'v'.repeat(Math.floor(rand() * 40))}`;
  }
}

function populate(ks: Keyspace, rand: () => number, keys: number): void {
  for (let i = 0; i < keys; i++) {
    const db = ks.dbs[Math.floor(rand() * DB_COUNT)];
    const key = `k${Math.floor(rand() * keys * 2)}`;
    db.set(key, randomValue(rand, `init${i}`));
    if (rand() < 0.2) db.setExpire(key, NOW_MS + 1000 + Math.floor(rand() * 100000));
  }
}

/** A keyspace of about `keys` random keys from `seed`, with its registry, clock and the generator to go on with. */
function populatedKeyspace(seed: number, keys: number) {
  const rand = prng(seed);
  const registry = new SnapshotRegistry();
  const now = { ms: NOW_MS };
  const ks = makeKeyspace(registry, now);
  populate(ks, rand, keys);
  return { rand, registry, now, ks };
}

function randomKey(db: Database, rand: () => number, keys: number): string {
  if (db.size > 0 && rand() < 0.7) {
    const at = Math.floor(rand() * db.size);
    let i = 0;
    for (const k of db.dict.keys()) if (i++ === at) return k;
  }
  return `k${Math.floor(rand() * keys * 2)}`;
}

/** One random change, made the way commands make them (hooks first, via the Database API). */
function mutate(ks: Keyspace, rand: () => number, keys: number, step: number, now: { ms: number }): void {
  const db = ks.dbs[Math.floor(rand() * DB_COUNT)];
  const key = randomKey(db, rand, keys);
  const r = rand();
  if (r < 0.25) {
    db.set(key, randomValue(rand, `w${step}`));
  } else if (r < 0.4) {
    db.delete(key);
  } else if (r < 0.65) {
    const v = db.lookupWrite(key);
    if (v === undefined || typeof v === 'string') return;
    switch (v.type) {
      case 'list':
        (v as ListValue).pushHead(`pushed${step}`);
        break;
      case 'hash':
        (v as HashValue).set(`f${step}`, `changed${step}`);
        break;
      case 'set':
        (v as SetValue).add(`added${step}`);
        break;
      case 'zset':
        (v as ZSetValue).add(`m${step}`, step);
        break;
    }
  } else if (r < 0.72) {
    if (db.dict.has(key)) db.setExpire(key, NOW_MS + 5000 + step);
  } else if (r < 0.76) {
    db.removeExpire(key);
  } else if (r < 0.82) {
    // RENAME: the same value object moves to another key, then changes in place.
    const v = db.lookupWrite(key);
    if (v === undefined) return;
    const dst = `renamed${step}`;
    db.delete(key);
    db.set(dst, v);
    if (typeof v !== 'string' && v.type === 'list') {
      db.lookupWrite(dst);
      (v as ListValue).pushTail(`after-rename${step}`);
    }
  } else if (r < 0.86) {
    // lazy expiry on access
    if (!db.dict.has(key)) return;
    db.setExpire(key, now.ms - 1);
    db.lookupRead(key);
  } else if (r < 0.88) {
    db.clear();
  } else if (r < 0.9) {
    ks.swap(Math.floor(rand() * DB_COUNT), Math.floor(rand() * DB_COUNT));
  } else {
    db.set(`fresh${step}`, randomValue(rand, `fresh${step}`));
  }
}

function keyOf(e: RdbEntry): string {
  return `${e.db}\0${e.key}`;
}

describe('fork-less snapshot', () => {
  const seeds = Array.from({ length: 40 }, (_, i) => i + 1);

  it.each(seeds)('writes exactly the dataset at the cut while the keyspace changes (seed %i)', (seed) => {
    const rand = prng(seed);
    const registry = new SnapshotRegistry();
    const now = { ms: NOW_MS };
    const ks = makeKeyspace(registry, now);
    const keys = 40 + Math.floor(rand() * 200);
    populate(ks, rand, keys);
    const expected = imageOf(ks);
    const written: RdbEntry[] = [];
    // One pass of many buckets, many passes of one bucket, and several passes of several buckets.
    const keysPerPass = [1_000_000, 1 + Math.floor(rand() * 12), 40 + Math.floor(rand() * 60)][seed % 3];
    const snap = new KeyspaceSnapshot(ks, registry, keepIn(written), { keysPerPass });
    let step = 0;
    while (!snap.done) {
      let budget = Math.floor(rand() * 4);
      snap.step(() => budget-- <= 0, 1);
      const changes = Math.floor(rand() * 4);
      for (let i = 0; i < changes; i++) mutate(ks, rand, keys, ++step, now);
      if (step > 100_000) throw new Error('snapshot does not finish');
    }
    const seen = new Set<string>();
    for (const e of written) {
      expect(seen.has(keyOf(e))).toBe(false);
      seen.add(keyOf(e));
    }
    expect(canonical(written)).toEqual(expected);
    expect(registry.activeCount).toBe(0);
    expect(snap.stats.extraBytes).toBe(0);
    expect(snap.stats.keysWritten).toBe(expected.length);
  });

  it('holds no extra memory beyond the keys of one pass when nothing changes', () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    for (let i = 0; i < 5000; i++) ks.dbs[0].set(`key:${i}`, `value:${i}`);
    const written: RdbEntry[] = [];
    const snap = new KeyspaceSnapshot(ks, registry, keepIn(written), { keysPerPass: 500 });
    while (!snap.step(() => false)) {
      // runs to the end in one go
    }
    expect(written).toHaveLength(5000);
    // 10 passes of about 500 keys each (groups of shards): never more than one pass is held, its keys at 24 bytes
    // each, and no pass is 20% bigger than the mean.
    expect(snap.stats.peakExtraBytes).toBeLessThan(24 * 600);
    expect(snap.stats.extraBytes).toBe(0);
    expect(snap.stats.keysChangedDuringSnapshot).toBe(0);
  });

  it('writes a key before its first change and holds nothing for it: the done bit is in the value', () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    const db = ks.dbs[0];
    for (let i = 0; i < 2000; i++) db.set(`key:${i}`, 'x'.repeat(100));
    const written: RdbEntry[] = [];
    const snap = new KeyspaceSnapshot(ks, registry, keepIn(written), { keysPerPass: 100 });
    for (let i = 0; i < 2000; i++) db.set(`key:${i}`, 'y'.repeat(100));
    expect(snap.stats.keysChangedDuringSnapshot).toBe(2000);
    expect(written).toHaveLength(2000);
    // No copies of values and no table of the changed keys.
    expect(snap.stats.extraBytes).toBe(0);
    while (!snap.step(() => false)) {
      // to the end
    }
    expect(written).toHaveLength(2000);
    expect(snap.stats.extraBytes).toBe(0);
    expect(written.every((e) => e.value.type === 'string' && e.value.value === 'x'.repeat(100))).toBe(true);
  });

  it('keeps the flushed database in the image, leaving its old Map as it was', () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    const old = ks.dbs[1].dict;
    for (let i = 0; i < 300; i++) ks.dbs[1].set(`k${i}`, `v${i}`);
    const written: RdbEntry[] = [];
    const snap = new KeyspaceSnapshot(ks, registry, keepIn(written), { keysPerPass: 50 });
    ks.dbs[1].clear();
    ks.dbs[1].set('after-flush', 'new');
    while (!snap.step(() => false)) {
      // to the end
    }
    expect(written.map((e) => e.key).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `k${i}`).sort());
    expect(written.every((e) => e.db === 1)).toBe(true);
    expect(old.size).toBe(300);
  });

  it('keeps the database numbers of the cut across SWAPDB', () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    ks.dbs[0].set('zero', 'a');
    ks.dbs[2].set('two', 'b');
    const written: RdbEntry[] = [];
    const snap = new KeyspaceSnapshot(ks, registry, keepIn(written));
    ks.swap(0, 2);
    ks.dbs[0].set('two', 'changed after swap');
    ks.dbs[2].delete('zero');
    while (!snap.step(() => false)) {
      // to the end
    }
    expect(canonical(written)).toEqual(
      canonical([
        { db: 0, key: 'zero', value: { type: 'string', value: 'a' }, expireAtMs: null },
        { db: 2, key: 'two', value: { type: 'string', value: 'b' }, expireAtMs: null },
      ]),
    );
  });

  it('runs several snapshots at once, each an image of its own cut', () => {
    const { rand, registry, now, ks } = populatedKeyspace(7, 300);
    const firstImage = imageOf(ks);
    const first: RdbEntry[] = [];
    const a = new KeyspaceSnapshot(ks, registry, keepIn(first), { keysPerPass: 16 });
    for (let i = 0; i < 200; i++) mutate(ks, rand, 300, i, now);
    let budget = 50;
    a.step(() => budget-- <= 0, 1);
    const secondImage = imageOf(ks);
    const second: RdbEntry[] = [];
    const b = new KeyspaceSnapshot(ks, registry, keepIn(second), { keysPerPass: 7 });
    expect(registry.activeCount).toBe(2);
    let step = 1000;
    while (!a.done || !b.done) {
      let ba = 3;
      let bb = 5;
      if (!a.done) a.step(() => ba-- <= 0, 1);
      if (!b.done) b.step(() => bb-- <= 0, 1);
      for (let i = 0; i < 3; i++) mutate(ks, rand, 300, ++step, now);
    }
    expect(canonical(first)).toEqual(firstImage);
    expect(canonical(second)).toEqual(secondImage);
    expect(registry.activeCount).toBe(0);
  });

  it('more snapshots in a row than a database has bits: ended ones are swept, every image is its cut', () => {
    const { rand, registry, now, ks } = populatedKeyspace(31, 200);
    let step = 0;
    for (let round = 0; round < SNAPSHOT_BIT_COUNT * 3; round++) {
      const expected = imageOf(ks);
      const written: RdbEntry[] = [];
      // Every third one is abandoned half way: its bit is released the same way.
      const snap = new KeyspaceSnapshot(ks, registry, keepIn(written), { keysPerPass: 1 + (round % 40) });
      while (!snap.done) {
        let budget = Math.floor(rand() * 4);
        snap.step(() => budget-- <= 0, 1);
        for (let i = Math.floor(rand() * 4); i > 0; i--) mutate(ks, rand, 200, ++step, now);
        if (round % 3 === 2 && written.length > expected.length / 2) snap.abort();
      }
      if (round % 3 !== 2) expect({ round, image: canonical(written) }).toEqual({ round, image: expected });
    }
    expect(registry.activeCount).toBe(0);
  });

  it(`runs up to ${SNAPSHOT_BIT_COUNT} snapshots at once; one more is refused and takes nothing`, () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    for (let i = 0; i < 50; i++) ks.dbs[i % 2].set(`k${i}`, 'v'.repeat(20 + (i % 3)));
    const snaps = Array.from(
      { length: SNAPSHOT_BIT_COUNT },
      () => new KeyspaceSnapshot(ks, registry, () => {}),
    );
    expect(() => new KeyspaceSnapshot(ks, registry, () => {})).toThrow(
      `more than ${SNAPSHOT_BIT_COUNT} snapshots`,
    );
    snaps[0].abort();
    const written: RdbEntry[] = [];
    const again = new KeyspaceSnapshot(ks, registry, keepIn(written));
    while (!again.step(() => false)) {
      // to the end
    }
    expect(written).toHaveLength(50);
    for (const s of snaps) s.abort();
  });
});

describe('RDB snapshot stream', () => {
  it('produces an RDB file of the cut whose chunks never change after being handed out', async () => {
    const rand = prng(99);
    const registry = new SnapshotRegistry();
    const now = { ms: NOW_MS };
    const ks = makeKeyspace(registry, now);
    populate(ks, rand, 3000);
    const expected = imageOf(ks);
    const stream = new RdbSnapshotStream(ks, registry, { keysPerPass: 200, chunkBytes: 4096, sliceMs: 0.05 });
    const chunks: Buffer[] = [];
    const copies: Buffer[] = [];
    let step = 0;
    for (;;) {
      const r = await stream.next();
      if (r.done) break;
      chunks.push(r.value);
      copies.push(Buffer.from(r.value));
      expect(r.value.length).toBeLessThanOrEqual(4096);
      for (let i = 0; i < 5; i++) mutate(ks, rand, 3000, ++step, now);
    }
    for (let i = 0; i < chunks.length; i++) expect(chunks[i].equals(copies[i])).toBe(true);
    const parsed = parseRdb(Buffer.concat(chunks));
    expect(parsed.checksum).toBe('verified');
    expect(canonical(parsed.entries)).toEqual(expected);
    expect(registry.activeCount).toBe(0);
  });

  it('is abandoned by return() and stops receiving hooks', async () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    for (let i = 0; i < 1000; i++) ks.dbs[0].set(`k${i}`, `v${i}`);
    const stream = new RdbSnapshotStream(ks, registry, { chunkBytes: 1024 });
    await stream.next();
    expect(registry.activeCount).toBe(1);
    await stream.return();
    expect(registry.activeCount).toBe(0);
    expect((await stream.next()).done).toBe(true);
  });

  it('writes an empty keyspace as a valid empty RDB file', async () => {
    const registry = new SnapshotRegistry();
    const ks = makeKeyspace(registry);
    const stream = new RdbSnapshotStream(ks, registry, { aux: [['redis-ver', '7.0.15']] });
    const chunks: Buffer[] = [];
    for (let r = await stream.next(); !r.done; r = await stream.next()) chunks.push(r.value);
    const parsed = parseRdb(Buffer.concat(chunks));
    expect(parsed.entries).toEqual([]);
    expect(parsed.aux).toEqual([['redis-ver', '7.0.15']]);
  });
});
