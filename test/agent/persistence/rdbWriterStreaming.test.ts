/**
 * The writer as a stream: bounded chunks pulled lazily from the entry source (so a slow consumer slows the keyspace
 * walk instead of buffering the file), chunks that stay valid after later ones are produced (so one chunk can be
 * queued on several sockets), and the encoder's bookkeeping (SELECTDB/RESIZEDB, skipped empty values, call order).
 */

import { RdbEncodeError } from '../../../agent/persistence/errors';
import type { RdbEntry } from '../../../agent/persistence/model';
import { RdbParser, parseRdb } from '../../../agent/persistence/rdbReader';
import {
  RdbEncoder,
  encodeRdb,
  rdbChunks,
  rdbChunksAsync,
  redisAuxFields,
} from '../../../agent/persistence/rdbWriter';
import { canonical, generateDataset } from './support/dataset';
import { parseWhole } from './support/feed';

function stringEntries(count: number, db = 0): RdbEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    db,
    key: `key:${i}`,
    value: { type: 'string', value: `value-${i}-`.padEnd(100, String.fromCharCode(97 + (i % 26))) },
    expireAtMs: null,
  }));
}

describe('RDB writer streaming', () => {
  it('yields chunks no larger than chunkBytes that reassemble to the whole file', () => {
    const entries = generateDataset({ seed: 3, nowMs: 1_800_000_000_000 });
    const chunks = [...rdbChunks(entries, { chunkBytes: 4096 })];
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(4096);
    const whole = Buffer.concat(chunks);
    expect(whole.equals(encodeRdb(entries))).toBe(true);
    expect(canonical(parseRdb(whole).entries)).toEqual(canonical(entries));
  });

  it('pulls entries from the source only as chunks are pulled', () => {
    let pulled = 0;
    function* source(): Generator<RdbEntry> {
      for (const e of stringEntries(10_000)) {
        pulled++;
        yield e;
      }
    }
    const chunks = rdbChunks(source(), { chunkBytes: 16 * 1024, compress: false });
    chunks.next();
    // ~110 bytes per entry: the first 16 KiB chunk needs ~150 entries, not 10,000
    expect(pulled).toBeGreaterThan(100);
    expect(pulled).toBeLessThan(300);
    chunks.next();
    expect(pulled).toBeLessThan(450);
  });

  it('reads an async source and produces the same bytes', async () => {
    const entries = stringEntries(2000);
    async function* slowSource(): AsyncGenerator<RdbEntry> {
      for (const e of entries) {
        if (Number(e.key.slice(4)) % 100 === 0) await new Promise((r) => setImmediate(r));
        yield e;
      }
    }
    const chunks: Buffer[] = [];
    for await (const c of rdbChunksAsync(slowSource(), { chunkBytes: 8192 })) chunks.push(c);
    expect(Buffer.concat(chunks).equals(encodeRdb(entries))).toBe(true);
  });

  it('gives every consumer the same bytes from the same chunks (fan-out to several sockets)', () => {
    const entries = generateDataset({ seed: 4, nowMs: 1_800_000_000_000, largeCount: 50 });
    const consumers = [new RdbParser(), new RdbParser(), new RdbParser()];
    const results: RdbEntry[][] = consumers.map(() => []);
    for (const chunk of rdbChunks(entries, { chunkBytes: 1000 })) {
      consumers.forEach((p, i) => {
        p.push(chunk);
        for (let e = p.next(); e !== null; e = p.next()) if (e.kind === 'entry') results[i].push(e.entry);
      });
    }
    for (const r of results) expect(canonical(r)).toEqual(canonical(entries));
  });

  it('emits SELECTDB on every db change, RESIZEDB once per db, and skips empty collections', () => {
    const entries: RdbEntry[] = [
      ...stringEntries(2, 0),
      ...stringEntries(1, 2),
      { db: 2, key: 'empty', value: { type: 'set', members: [] }, expireAtMs: 1 },
      ...stringEntries(1, 0).map((e) => ({ ...e, key: 'back-in-0' })),
    ];
    const encoder = new RdbEncoder({
      dbSizes: new Map([
        [0, { keyCount: 3, expiresCount: 0 }],
        [2, { keyCount: 1, expiresCount: 0 }],
      ]),
      aux: redisAuxFields({ ctimeSec: 1_700_000_000, redisVersion: '7.0.15' }),
    });
    encoder.writeHeader();
    const written = entries.map((e) => encoder.writeEntry(e));
    encoder.writeFooter();
    expect(written).toEqual([true, true, true, false, true]);
    expect([encoder.entriesWritten, encoder.entriesSkipped]).toEqual([4, 1]);
    const events = parseWhole(Buffer.concat(encoder.take()));
    expect(events.filter((e) => e.kind !== 'entry' && e.kind !== 'aux')).toEqual([
      { kind: 'header', rdbVersion: 10 },
      { kind: 'selectDb', db: 0 },
      { kind: 'resizeDb', db: 0, keyCount: 3, expiresCount: 0 },
      { kind: 'selectDb', db: 2 },
      { kind: 'resizeDb', db: 2, keyCount: 1, expiresCount: 0 },
      { kind: 'selectDb', db: 0 },
      expect.objectContaining({ kind: 'end', checksum: 'verified' }),
    ]);
    expect(events.filter((e) => e.kind === 'aux')).toEqual([
      { kind: 'aux', name: 'redis-ver', value: '7.0.15' },
      { kind: 'aux', name: 'redis-bits', value: '64' },
      { kind: 'aux', name: 'ctime', value: '1700000000' },
      { kind: 'aux', name: 'used-mem', value: '0' },
      { kind: 'aux', name: 'aof-base', value: '0' },
    ]);
  });

  it('writes and reads back expiries, LRU idle time and LFU frequency', () => {
    const entries: RdbEntry[] = [
      { db: 0, key: 'a', value: { type: 'string', value: '1' }, expireAtMs: 1_234_567_890_123 },
      { db: 0, key: 'b', value: { type: 'string', value: '2' }, expireAtMs: null, lruIdleSec: 77 },
      { db: 0, key: 'c', value: { type: 'string', value: '3' }, expireAtMs: 5, lfuFreq: 200 },
    ];
    expect(parseRdb(encodeRdb(entries)).entries).toEqual(entries);
  });

  it('refuses calls out of order and values it cannot encode, as caller bugs', () => {
    const encoder = new RdbEncoder();
    expect(() => encoder.writeEntry(stringEntries(1)[0])).toThrow(RdbEncodeError);
    encoder.writeHeader();
    expect(() => encoder.writeHeader()).toThrow(/out of order/);
    expect(() => encoder.writeEntry({ ...stringEntries(1)[0], db: -1 })).toThrow(/database number -1/);
    expect(() =>
      encoder.writeEntry({
        db: 0,
        key: 'z',
        value: { type: 'zset', entries: [['m', NaN]] },
        expireAtMs: null,
      }),
    ).toThrow(/NaN score/);
    encoder.writeFooter();
    expect(() => encoder.writeFooter()).toThrow(/out of order/);
  });

  it('writes entries marked cheap without LZF, so a change during a snapshot does not pay for compression', () => {
    const encode = (cheap: boolean): Buffer => {
      const encoder = new RdbEncoder();
      encoder.writeHeader();
      for (const e of stringEntries(50)) encoder.writeEntry(e, cheap);
      encoder.writeFooter();
      return Buffer.concat(encoder.take());
    };
    const compressed = encode(false);
    const cheap = encode(true);
    // The 100-byte values repeat one letter: LZF shrinks them, the cheap form keeps them whole.
    expect(cheap.length).toBeGreaterThan(compressed.length + 50 * 50);
    expect(canonical(parseRdb(cheap).entries)).toEqual(canonical(stringEntries(50)));
    expect(canonical(parseRdb(compressed).entries)).toEqual(canonical(stringEntries(50)));
  });
});
