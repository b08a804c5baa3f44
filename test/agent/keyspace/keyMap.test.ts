/**
 * KeyMap, the sharded map behind the keyspace: it behaves as a Map for what the server uses (get/set/has/delete,
 * size), its iterations keep the live-iterator guarantee SCAN and the snapshot rely on, and its shard groups
 * split the keys exactly (the snapshot's passes).
 */
import { KEY_MAP_SHARDS, KeyMap, shardOf } from '../../../agent/keyspace/keyMap';
import { prng } from '../../helpers/prng';

describe('KeyMap', () => {
  it('agrees with a Map under random sets, deletes and lookups', () => {
    const random = prng(7);
    const km = new KeyMap<number>();
    const model = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = `k:${Math.floor(random() * 3000)}`;
      const op = random();
      if (op < 0.5) {
        km.set(key, i);
        model.set(key, i);
      } else if (op < 0.7) {
        expect(km.delete(key)).toBe(model.delete(key));
      } else {
        expect(km.get(key)).toBe(model.get(key));
        expect(km.has(key)).toBe(model.has(key));
      }
      expect(km.size).toBe(model.size);
    }
    expect(new Map(km)).toEqual(model);
    expect([...km.keys()].sort()).toEqual([...model.keys()].sort());
    expect([...km.values()].sort()).toEqual([...model.values()].sort());
    const visited = new Map<string, number>();
    km.forEach((v, k) => visited.set(k, v));
    expect(visited).toEqual(model);
  });

  it('handles the empty key and keys of every length alike', () => {
    const km = new KeyMap<string>();
    const keys = [
      '',
      'a',
      'ab',
      'x'.repeat(15),
      'x'.repeat(16),
      'x'.repeat(17) + 'y',
      'é',
      'x'.repeat(10_000),
    ];
    for (const k of keys) km.set(k, `v${k.length}`);
    for (const k of keys) expect(km.get(k)).toBe(`v${k.length}`);
    expect(km.size).toBe(keys.length);
  });

  it('visits every entry present throughout an iteration exactly once, while others come and go', () => {
    const random = prng(11);
    const km = new KeyMap<number>();
    for (let i = 0; i < 5000; i++) km.set(`stable:${i}`, i);
    const seen = new Map<string, number>();
    let churn = 0;
    for (const [key] of km) {
      seen.set(key, (seen.get(key) ?? 0) + 1);
      // Inserts and deletes of other keys in shards already visited, being visited and not yet visited.
      for (let j = 0; j < 3; j++) {
        const other = `churn:${Math.floor(random() * 2000)}`;
        if (random() < 0.5) km.set(other, churn++);
        else km.delete(other);
      }
    }
    for (let i = 0; i < 5000; i++) expect(seen.get(`stable:${i}`)).toBe(1);
    for (const n of seen.values()) expect(n).toBe(1);
  });

  it('splits the keys into groups of shards that are disjoint and complete', () => {
    const km = new KeyMap<number>();
    for (let i = 0; i < 10_000; i++) km.set(`user:${i}:profile`, i);
    for (const groups of [1, 3, 10, KEY_MAP_SHARDS]) {
      const all: string[] = [];
      for (let g = 0; g < groups; g++) {
        const keys = [...km.groupEntries(g, groups)].map(([k]) => k);
        for (const k of keys) expect(shardOf(k) % groups).toBe(g);
        all.push(...keys);
      }
      expect(all.length).toBe(km.size);
      expect(new Set(all).size).toBe(km.size);
    }
  });

  it('spreads keys evenly over the groups, each key always in the same one', () => {
    const km = new KeyMap<number>();
    for (let i = 0; i < 80_000; i++) km.set(`user:${i}:profile`, i);
    for (let g = 0; g < 8; g++)
      expect(Math.abs([...km.groupEntries(g, 8)].length - 10_000)).toBeLessThan(1000);
    expect(shardOf('x'.repeat(100) + 'a') % 5).toBe(shardOf('x'.repeat(100) + 'a') % 5);
  });

  it.each([
    ['at the end', (i: number) => `key:${i}`],
    ['in the middle', (i: number) => `user:${i}:profile:settings`],
    ['in the middle of a long key', (i: number) => `tenant:acme:users:${i}:preferences:notifications`],
    ['at the start', (i: number) => `${i}:session:attributes:v2`],
  ])('spreads keys that differ %s evenly over the shards', (_where, keyOf) => {
    const counts = new Array<number>(KEY_MAP_SHARDS).fill(0);
    for (let i = 0; i < 64_000; i++) counts[shardOf(keyOf(i))]++;
    const mean = 64_000 / KEY_MAP_SHARDS;
    for (const n of counts) {
      expect(n).toBeGreaterThan(mean * 0.8);
      expect(n).toBeLessThan(mean * 1.2);
    }
  });
});
