/**
 * Each key's access stamp (LRU clock or LFU data, keyspace/access.ts) lives with its value: in the slot's header for
 * a string in the slab, in the dict's second map for anything else (keyspace/valueMap.ts). Whatever the value and
 * wherever it moves (a string growing out of the slab, a type change), OBJECT IDLETIME and OBJECT FREQ must answer
 * as Redis does: reads and writes refresh the LRU clock, an overwrite keeps the LFU counter, a key loaded from an
 * RDB file without IDLE/FREQ starts its period at the load.
 */
import { accessPolicy, lruClock } from '../../../agent/keyspace/access';
import { RdbLoader } from '../../../agent/persistence/rdbFile';
import { encodeRdb } from '../../../agent/persistence/rdbWriter';
import { startInProcess } from '../support/inProcess';

const START_MS = 1_700_000_000_000;

/** Values of each place a value can live: a short JS string, a slab string, a string too long for the slab, a list. */
const SHORT = 'tiny';
const SLAB = 'v'.repeat(100);
const LONG = 'w'.repeat(3000);

describe('access stamps kept with the values', () => {
  // The policy is module-level state, bound by the last server made: each test starts from LRU, and the LFU
  // increment's dice roll high (only a certain increment happens: from the initial counter).
  const random = accessPolicy.random;
  beforeEach(() => {
    accessPolicy.lfu = false;
    accessPolicy.random = () => 0.99;
  });
  afterAll(() => {
    accessPolicy.random = random;
  });

  it('reports the idle time since the last read or write, wherever the value lives and as it moves', () => {
    const p = startInProcess([], START_MS);
    const at = (seconds: number): void => p.setTime(START_MS + seconds * 1000);
    p.run(['SET', 'short', SHORT]);
    p.run(['SET', 'slab', SLAB]);
    p.run(['SET', 'long', LONG]);
    p.run('RPUSH list a b');
    at(10);
    expect(['short', 'slab', 'long', 'list'].map((k) => p.run(`OBJECT IDLETIME ${k}`))).toEqual(
      Array(4).fill(':10\r\n'),
    );
    // Reads refresh the clock (OBJECT itself does not).
    p.run('GET slab');
    p.run('GET short');
    p.run('LRANGE list 0 -1');
    at(13);
    expect(['short', 'slab', 'long', 'list'].map((k) => p.run(`OBJECT IDLETIME ${k}`))).toEqual([
      ':3\r\n',
      ':3\r\n',
      ':13\r\n',
      ':3\r\n',
    ]);
    // Moves between the slab and the second map: APPEND grows a slab string past the slab, SET brings it back,
    // a type change puts a list where a slab string was.
    p.run(['APPEND', 'slab', LONG]);
    at(20);
    expect(p.run('OBJECT IDLETIME slab')).toBe(':7\r\n');
    p.run(['SET', 'slab', SLAB]);
    p.run(['SET', 'long', SLAB]);
    p.run('DEL list');
    p.run('RPUSH list x');
    at(24);
    expect(['slab', 'long', 'list'].map((k) => p.run(`OBJECT IDLETIME ${k}`))).toEqual(
      Array(3).fill(':4\r\n'),
    );
    p.run('DEL slab');
    expect(p.run('OBJECT IDLETIME slab')).toBe('$-1\r\n');
  });

  it('keeps the LFU counter of a key whose value is overwritten, in and out of the slab', () => {
    const p = startInProcess([['maxmemory-policy', 'allkeys-lfu']], START_MS);
    for (const [key, first, second] of [
      ['a', SLAB, SLAB + 'x'],
      ['b', SHORT, SLAB],
      ['c', SLAB, LONG],
    ]) {
      p.run(['SET', key, first]);
      expect(p.run(`OBJECT FREQ ${key}`)).toBe(':5\r\n');
      p.run(`GET ${key}`); // from the initial counter, the first increment is certain
      expect(p.run(`OBJECT FREQ ${key}`)).toBe(':6\r\n');
      p.run(['SET', key, second]);
      expect(p.run(`OBJECT FREQ ${key}`)).toBe(':6\r\n');
    }
  });

  it('starts the idle time of a key loaded without IDLE at the load, keeps the one a file gives', () => {
    const image = encodeRdb([
      { db: 0, key: 'plain', value: { type: 'string', value: SLAB }, expireAtMs: null },
      { db: 0, key: 'short', value: { type: 'string', value: SHORT }, expireAtMs: null },
      { db: 0, key: 'idle', value: { type: 'string', value: SLAB }, expireAtMs: null, lruIdleSec: 30 },
    ]);
    const nowMs = START_MS + 86_400_000;
    const loader = new RdbLoader({ dbCount: 1, nowMs: () => nowMs, dropExpired: true });
    loader.push(image);
    loader.end();
    expect(loader.drain()).toBe(true);
    const dict = loader.dbs[0].dict;
    expect(dict.stampOf('plain')).toBe(lruClock(nowMs));
    expect(dict.stampOf('short')).toBe(lruClock(nowMs));
    expect(dict.stampOf('idle')).toBe(lruClock(nowMs - 30_000));
  });
});
