/**
 * Random sampling of keys (RANDOMKEY, eviction pools). A JS Map has no random access, so each map gets a
 * persistent live iterator that walks it round and round; a sample advances it by a random stride. Over time
 * every key is reachable and picks spread over the whole map, at O(stride) cost instead of O(n). Live Map
 * iterators stay valid across inserts and deletes, so the walk needs no maintenance.
 *
 * The pick is not exactly uniform (Redis's dictGetFairRandomKey is not either); the randomness is injectable.
 */

/** Largest number of entries one sample skips. */
const MAX_STRIDE = 64;

/** What sampling needs of a map: a Map or a KeyMap. */
export interface KeyedCollection {
  readonly size: number;
  keys(): Iterator<string>;
}

const walkers = new WeakMap<KeyedCollection, Iterator<string>>();

/** A pseudo-random key of `map`, undefined when it is empty. */
export function sampleKey(map: KeyedCollection, random: () => number = Math.random): string | undefined {
  if (map.size === 0) return undefined;
  const stride = 1 + Math.floor(random() * Math.min(MAX_STRIDE, map.size));
  let it = walkers.get(map);
  if (it === undefined) {
    it = map.keys();
    walkers.set(map, it);
  }
  let key: string | undefined;
  for (let i = 0; i < stride; i++) {
    let r = it.next();
    if (r.done) {
      it = map.keys();
      walkers.set(map, it);
      r = it.next();
      if (r.done) return undefined;
    }
    key = r.value;
  }
  return key;
}
