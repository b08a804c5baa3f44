/**
 * Short string values live in a slab outside the V8 heap (keyspace/stringSlab.ts, valueMap.ts): every string must
 * come back exactly as stored (any length a slab takes, any byte), a replaced or deleted value must give its slot
 * back, and what the slab does not take (long strings, collections) is kept as it is. Every key keeps its access
 * stamp (24 bits) wherever its value lives, through overwrites that move it in or out of the slab.
 */
import { ListValue } from '../../../agent/keyspace/values';
import {
  SLOT_BYTES,
  STORED_STRING_MAX_CHARS,
  STORED_STRING_MIN_CHARS,
  StringSlab,
} from '../../../agent/keyspace/stringSlab';
import { ValueMap } from '../../../agent/keyspace/valueMap';
import { prng } from '../../helpers/prng';

/** The largest access stamp (24 bits, keyspace/access.ts). */
const MAX_STAMP = 0xffffff;

/** A latin1 string of `n` chars drawn from all 256 byte values. */
function binary(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rand() * 256));
  return s;
}

describe('string slab', () => {
  it('gives back every length it stores, at and around each class boundary, with every byte value', () => {
    const rand = prng(7);
    const slab = new StringSlab();
    const lengths = new Set([STORED_STRING_MIN_CHARS, STORED_STRING_MAX_CHARS]);
    for (const bytes of SLOT_BYTES) for (const d of [-3, -2, -1, 0, 1]) lengths.add(bytes + d);
    const stored: Array<[number, string]> = [];
    for (const n of lengths) {
      if (n < STORED_STRING_MIN_CHARS || n > STORED_STRING_MAX_CHARS) continue;
      const s = binary(rand, n);
      const handle = slab.store(s, n === STORED_STRING_MAX_CHARS ? MAX_STAMP : n);
      expect(handle).toBeGreaterThanOrEqual(0);
      stored.push([handle, s]);
    }
    for (const [handle, s] of stored) {
      expect(slab.read(handle)).toBe(s);
      expect(slab.length(handle)).toBe(s.length);
      expect(slab.stamp(handle)).toBe(s.length === STORED_STRING_MAX_CHARS ? MAX_STAMP : s.length);
    }
  });

  it('keeps a 24-bit access stamp with each string, changed in place without touching the string', () => {
    const slab = new StringSlab();
    const a = slab.store('a'.repeat(40), 0);
    const b = slab.store('b'.repeat(40), MAX_STAMP);
    expect([slab.stamp(a), slab.stamp(b)]).toEqual([0, MAX_STAMP]);
    slab.setStamp(a, 0x123456);
    slab.setStamp(b, 1);
    expect([slab.stamp(a), slab.stamp(b)]).toEqual([0x123456, 1]);
    expect([slab.read(a), slab.read(b)]).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
  });

  it('leaves strings shorter than its minimum or longer than its largest slot to the caller', () => {
    const slab = new StringSlab();
    expect(slab.store('x'.repeat(STORED_STRING_MIN_CHARS - 1), 0)).toBe(-1);
    expect(slab.store('x'.repeat(STORED_STRING_MAX_CHARS + 1), 0)).toBe(-1);
  });

  it('reuses the slot freed last for the next string of its class, and spans pages as it grows', () => {
    const slab = new StringSlab();
    const handles = Array.from({ length: 20_000 }, (_, i) => slab.store(`value:${i}`.padEnd(100, '.'), i));
    expect(new Set(handles).size).toBe(handles.length);
    slab.release(handles[123]);
    slab.release(handles[456]);
    expect(slab.store('y'.repeat(100), 7)).toBe(handles[456]);
    expect(slab.store('z'.repeat(99), 8)).toBe(handles[123]);
    for (let i = 0; i < handles.length; i += 997) {
      if (i === 123 || i === 456) continue;
      expect(slab.read(handles[i])).toBe(`value:${i}`.padEnd(100, '.'));
      expect(slab.stamp(handles[i])).toBe(i);
    }
  });
});

describe('value map', () => {
  it('stores short strings in its slab and everything else as given, reading back the same values', () => {
    const map = new ValueMap();
    const list = ListValue.from(['a', 'b']);
    const long = 'L'.repeat(STORED_STRING_MAX_CHARS + 10);
    const mid = 'm'.repeat(STORED_STRING_MIN_CHARS + 4);
    map.set('mid', mid, 1).set('tiny', 'hi', 2).set('empty', '', 3).set('long', long, 4).set('list', list, 5);
    expect(map.get('mid')).toBe(mid);
    expect(map.get('tiny')).toBe('hi');
    expect(map.get('empty')).toBe('');
    expect(map.get('long')).toBe(long);
    expect(map.get('list')).toBe(list);
    expect(map.get('missing')).toBeUndefined();
    // The slab's string comes as its length; what the map keeps itself comes as is.
    expect(map.peek('mid')).toBe(mid.length);
    expect(map.peek('tiny')).toBe('hi');
    expect(map.peek('long')).toBe(long);
    expect(map.size).toBe(5);
    expect(['mid', 'tiny', 'empty', 'long', 'list', 'missing'].map((k) => map.stampOf(k))).toEqual([
      1,
      2,
      3,
      4,
      5,
      undefined,
    ]);
    expect(new Map(map.entries())).toEqual(
      new Map<string, unknown>([
        ['mid', mid],
        ['tiny', 'hi'],
        ['empty', ''],
        ['long', long],
        ['list', list],
      ]),
    );
  });

  it('adds new keys in one step as set does, and reports a key that was there already', () => {
    const map = new ValueMap();
    const mid = 'm'.repeat(STORED_STRING_MIN_CHARS + 4);
    const list = ListValue.from(['a']);
    expect(map.addNew('mid', mid, 7)).toBe(true);
    expect(map.addNew('tiny', 'hi', 8)).toBe(true);
    expect(map.addNew('list', list, 9)).toBe(true);
    expect([map.get('mid'), map.get('tiny'), map.get('list')]).toEqual([mid, 'hi', list]);
    expect(['mid', 'tiny', 'list'].map((k) => map.stampOf(k))).toEqual([7, 8, 9]);
    expect(map.size).toBe(3);
    expect(map.addNew('mid', mid, 1)).toBe(false);
    expect(map.addNew('tiny', 'ho', 1)).toBe(false);
    expect(map.size).toBe(3);
  });

  it('keeps its values and stamps right through random overwrites, type changes, deletions and touches', () => {
    const rand = prng(11);
    const map = new ValueMap();
    const model = new Map<string, string | ListValue>();
    const stamps = new Map<string, number>();
    const randomStamp = (): number => Math.floor(rand() * (MAX_STAMP + 1));
    for (let step = 0; step < 30_000; step++) {
      const key = `k${Math.floor(rand() * 500)}`;
      const r = rand();
      let value: string | ListValue | undefined;
      if (r < 0.5) {
        const n =
          rand() < 0.05 ? STORED_STRING_MAX_CHARS + Math.floor(rand() * 50) : Math.floor(rand() * 300);
        value = binary(rand, n);
      } else if (r < 0.6) {
        value = ListValue.from([`${step}`]);
      }
      if (value !== undefined && rand() < 0.3 && model.has(key)) {
        map.replace(key, value); // keeps the stamp
        model.set(key, value);
      } else if (value !== undefined) {
        const stamp = randomStamp();
        map.set(key, value, stamp);
        model.set(key, value);
        stamps.set(key, stamp);
      } else if (r < 0.75) {
        const stamp = randomStamp();
        map.setStamp(key, stamp);
        if (model.has(key)) stamps.set(key, stamp);
      } else {
        expect(map.delete(key)).toBe(model.delete(key));
        stamps.delete(key);
      }
    }
    expect(map.size).toBe(model.size);
    for (const [key, v] of model) {
      expect(map.get(key)).toBe(v);
      expect(map.stampOf(key)).toBe(stamps.get(key));
      expect(map.storedStamp(key, map.getStored(key)!)).toBe(stamps.get(key));
    }
    expect(map.stampOf('never-set')).toBeUndefined();
  });
});
