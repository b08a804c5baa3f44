/**
 * The value classes against simple reference models (arrays, sorted arrays), with seeded random operation
 * sequences, plus the encoding rules they report.
 */
import { encodingLimits } from '../../../agent/keyspace/encodingLimits';
import { HashValue, ListValue, SetValue, ZSetValue } from '../../../agent/keyspace/values';
import { prng } from '../../helpers/prng';

describe('ListValue', () => {
  it('behaves like an array under random pushes, pops, inserts, removals and trims', () => {
    const rand = prng(1);
    const list = new ListValue();
    const model: string[] = [];
    for (let step = 0; step < 8000; step++) {
      const op = Math.floor(rand() * 9);
      const v = String(Math.floor(rand() * 50));
      if (op <= 1) {
        list.pushHead(v);
        model.unshift(v);
      } else if (op <= 3) {
        list.pushTail(v);
        model.push(v);
      } else if (op === 4) {
        expect(list.popHead()).toBe(model.shift());
      } else if (op === 5) {
        expect(list.popTail()).toBe(model.pop());
      } else if (op === 6) {
        const at = Math.floor(rand() * (model.length + 1));
        list.insertAt(at, v);
        model.splice(at, 0, v);
      } else if (op === 7 && model.length > 0) {
        const at = Math.floor(rand() * model.length);
        list.removeAt(at);
        model.splice(at, 1);
      } else if (op === 8) {
        const count = Math.floor(rand() * 5) - 2;
        let removed = 0;
        const limit = count === 0 ? Infinity : Math.abs(count);
        if (count >= 0) {
          for (let i = 0; i < model.length && removed < limit;) {
            if (model[i] === v) {
              model.splice(i, 1);
              removed++;
            } else i++;
          }
        } else {
          for (let i = model.length - 1; i >= 0 && removed < limit; i--) {
            if (model[i] === v) {
              model.splice(i, 1);
              removed++;
            }
          }
        }
        expect(list.removeValue(v, count)).toBe(removed);
      }
      expect(list.size).toBe(model.length);
    }
    expect(list.toArray()).toEqual(model);
    list.keepRange(3, 10);
    expect(list.toArray()).toEqual(model.slice(3, 11));
    expect(ListValue.from(['a', 'b']).toArray()).toEqual(['a', 'b']);
    expect([...ListValue.from(['x', 'y', 'z'])]).toEqual(['x', 'y', 'z']);
    expect(list.encoding()).toBe('quicklist');
  });
});

describe('ZSetValue', () => {
  it('keeps ranks, ranges and scores consistent with a sorted reference under random updates', () => {
    const rand = prng(2);
    const z = new ZSetValue(false);
    const model = new Map<string, number>();
    const sorted = (): Array<[string, number]> =>
      [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let step = 0; step < 8000; step++) {
      const m = 'm' + Math.floor(rand() * 1500);
      if (rand() < 0.6) {
        const s = Math.floor(rand() * 40) - 20;
        z.add(m, s);
        model.set(m, s);
      } else {
        expect(z.delete(m)).toBe(model.delete(m));
      }
      if (step % 1600 === 0 || step === 7999) {
        const ref = sorted();
        expect(z.size).toBe(ref.length);
        expect([...z.entries()]).toEqual(ref);
        ref.forEach(([member], i) => {
          expect(z.rank(member)).toBe(i);
          expect(z.rank(member, true)).toBe(ref.length - 1 - i);
          expect(z.memberAt(i)).toBe(member);
        });
        const r = { min: -5, max: 5, minExclusive: true, maxExclusive: false };
        const inRange = ref.filter(([, s]) => s > -5 && s <= 5);
        const [first, last] = z.scoreRangeRanks(r);
        expect(last - first + 1).toBe(inRange.length);
        expect(z.slice(first, last - first + 1, false)).toEqual(inRange);
        if (inRange.length > 0) expect(z.slice(last, 3, true)).toEqual(inRange.slice(-3).reverse());
        if (ref.length > 0) {
          expect(z.first()).toEqual(ref[0]);
          expect(z.last()).toEqual(ref[ref.length - 1]);
        }
      }
    }
    // Drain completely: the tree must end empty and reusable.
    for (const m of [...model.keys()]) z.delete(m);
    expect(z.size).toBe(0);
    expect([...z.entries()]).toEqual([]);
    z.add('again', 1);
    expect([...z.entries()]).toEqual([['again', 1]]);
  });

  it('reports listpack until the entries or value limits are passed, and never goes back', () => {
    const z = ZSetValue.forFirstMember('a');
    for (let i = 0; i < encodingLimits.zsetMaxListpackEntries; i++) z.add('m' + i, i);
    expect(z.encoding()).toBe('listpack');
    z.add('one-more', 1);
    expect(z.encoding()).toBe('skiplist');
    z.delete('one-more');
    expect(z.encoding()).toBe('skiplist');
    expect(ZSetValue.from([...z.entries()]).encoding()).toBe('listpack');
    expect(ZSetValue.forFirstMember('x'.repeat(65)).encoding()).toBe('skiplist');
  });
});

describe('SetValue', () => {
  it('iterates an intset in numeric order and converts to hashtable on a non-integer member', () => {
    const s = SetValue.from(['10', '-3', '2', '9223372036854775807', '-9223372036854775808']);
    expect(s.encoding()).toBe('intset');
    expect(s.toArray()).toEqual(['-9223372036854775808', '-3', '2', '10', '9223372036854775807']);
    s.add('x');
    expect(s.encoding()).toBe('hashtable');
    s.delete('x');
    expect(s.encoding()).toBe('hashtable');
    expect(SetValue.from(['9223372036854775808']).encoding()).toBe('hashtable');
    expect(SetValue.from(['01']).encoding()).toBe('hashtable');
  });

  it('removes members by swapping, keeping membership and random picks consistent', () => {
    const s = new SetValue();
    for (let i = 0; i < 100; i++) s.add('k' + i);
    for (let i = 0; i < 100; i += 2) expect(s.delete('k' + i)).toBe(true);
    expect(s.size).toBe(50);
    expect(new Set(s.toArray())).toEqual(new Set(Array.from({ length: 50 }, (_, i) => 'k' + (2 * i + 1))));
    expect(s.has(s.randomMember())).toBe(true);
  });
});

describe('HashValue', () => {
  it('keeps insertion order and converts to hashtable on long values or too many fields', () => {
    const h = HashValue.from([
      ['b', '1'],
      ['a', '2'],
    ]);
    h.set('b', '3');
    expect([...h.entries()]).toEqual([
      ['b', '3'],
      ['a', '2'],
    ]);
    expect(h.encoding()).toBe('listpack');
    h.set('c', 'v'.repeat(65));
    expect(h.encoding()).toBe('hashtable');
    const big = new HashValue();
    for (let i = 0; i <= encodingLimits.hashMaxListpackEntries; i++) big.set('f' + i, 'v');
    expect(big.encoding()).toBe('hashtable');
  });
});

describe('ListValue chunks', () => {
  it('keeps elements of every size intact across chunk growth, re-centring and splits', () => {
    const rand = prng(7);
    const list = new ListValue();
    const model: string[] = [];
    const sizes = [0, 1, 50, 127, 128, 300, 16383, 16384, 9000];
    for (let step = 0; step < 3000; step++) {
      const len = sizes[Math.floor(rand() * sizes.length)] * (rand() < 0.9 ? 0 : 1) + Math.floor(rand() * 40);
      const v = String.fromCharCode(Math.floor(rand() * 256)).repeat(len);
      const op = Math.floor(rand() * 6);
      if (op === 0) {
        list.pushHead(v);
        model.unshift(v);
      } else if (op === 1) {
        list.pushTail(v);
        model.push(v);
      } else if (op === 2) expect(list.popHead()).toBe(model.shift());
      else if (op === 3) expect(list.popTail()).toBe(model.pop());
      else if (op === 4 && model.length > 0) {
        const at = Math.floor(rand() * model.length);
        list.setAt(at, v);
        model[at] = v;
      } else if (model.length > 0) {
        const at = Math.floor(rand() * model.length);
        expect(list.at(at)).toBe(model[at]);
      }
    }
    expect(list.toArray()).toEqual(model);
    const fromEnd: string[] = [];
    list.forEachFrom(model.length - 1, true, (v) => {
      fromEnd.push(v);
      return true;
    });
    expect(fromEnd).toEqual([...model].reverse());
    expect(list.clone().toArray()).toEqual(model);
    expect(ListValue.from(model).toArray()).toEqual(model);
  });
});

describe('memory estimates', () => {
  it('track the bytes held through every kind of change', () => {
    const rand = prng(11);
    const list = new ListValue();
    const hash = new HashValue();
    const set = new SetValue();
    const zset = new ZSetValue(false);
    const word = (): string => 'w'.repeat(Math.floor(rand() * 30)) + Math.floor(rand() * 50);
    for (let step = 0; step < 4000; step++) {
      const v = word();
      const r = rand();
      if (r < 0.3) list.pushTail(v);
      else if (r < 0.45) list.pushHead(v);
      else if (r < 0.55) list.popHead();
      else if (r < 0.6 && list.size > 2) list.setAt(Math.floor(rand() * list.size), v);
      else if (r < 0.65 && list.size > 2) list.insertAt(1, v);
      else if (r < 0.7 && list.size > 2) list.removeAt(1);
      else if (r < 0.72) list.removeValue(v, 0);
      else if (r < 0.73 && list.size > 4) list.keepRange(1, list.size - 2);
      hash.set(word(), v);
      if (rand() < 0.4) hash.delete(word());
      set.add(v);
      if (rand() < 0.4) set.delete(word());
      zset.add(v, Math.floor(rand() * 10));
      if (rand() < 0.4) zset.delete(word());
    }
    const sum = (xs: Iterable<string>): number => [...xs].reduce((n, x) => n + x.length, 0);
    expect(list.contentBytes).toBe(sum(list));
    expect(hash.contentBytes).toBe(sum(hash.keys()) + sum(hash.values()));
    expect(set.contentBytes).toBe(sum(set));
    expect(zset.contentBytes).toBe(sum([...zset.entries()].map(([m]) => m)));
    expect(list.clone().contentBytes).toBe(list.contentBytes);
    for (const v of [list, hash, set, zset]) expect(v.memoryBytes()).toBeGreaterThan(v.contentBytes);
  });
});
