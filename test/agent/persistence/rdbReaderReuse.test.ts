/**
 * The parser's reuseEntries mode (the loader's): one entry event, entry and string wrapper handed out for every
 * key, each valid until the next call. Copied as they come, its entries are exactly those of the normal mode, with
 * the input whole or byte by byte, including expiries and access metadata, which must not leak from one key to
 * the next.
 */
import type { RdbEntry } from '../../../agent/persistence/model';
import { RdbParser } from '../../../agent/persistence/rdbReader';
import { encodeRdb } from '../../../agent/persistence/rdbWriter';
import { generateDataset } from './support/dataset';
import { parseWhole, entriesOf } from './support/feed';

/** Parses `image` fed in pieces of `pieceBytes` with reused entries, copying each entry as it comes. */
function reusedEntries(image: Buffer, pieceBytes: number): { entries: RdbEntry[]; events: number } {
  const parser = new RdbParser({ reuseEntries: true });
  const entries: RdbEntry[] = [];
  const events = new Set<unknown>();
  const take = (): void => {
    for (let e = parser.next(); e !== null; e = parser.next()) {
      if (e.kind !== 'entry') continue;
      events.add(e);
      const { lruIdleSec, lfuFreq, ...rest } = e.entry;
      const copy: RdbEntry = { ...rest, value: { ...e.entry.value } };
      if (lruIdleSec !== undefined) copy.lruIdleSec = lruIdleSec;
      if (lfuFreq !== undefined) copy.lfuFreq = lfuFreq;
      entries.push(copy);
    }
  };
  for (let p = 0; p < image.length; p += pieceBytes) {
    parser.push(image.subarray(p, p + pieceBytes));
    take();
  }
  parser.end();
  take();
  return { entries, events: events.size };
}

describe('RdbParser with reuseEntries', () => {
  const entries = generateDataset({ seed: 11, nowMs: 1_800_000_000_000 });
  // Access metadata on every third key, so that a key without it follows one with it.
  entries.forEach((e, i) => {
    if (i % 3 === 0) e.lruIdleSec = 1000 + i;
  });
  const image = encodeRdb(entries);
  const expected = entriesOf(parseWhole(image));

  it('hands out one event object for every key', () => {
    expect(reusedEntries(image, image.length).events).toBe(1);
  });

  it('yields the same entries as the normal mode, whole and byte by byte', () => {
    expect(expected.some((e) => e.expireAtMs !== null)).toBe(true);
    expect(expected.some((e) => e.lruIdleSec !== undefined)).toBe(true);
    expect(reusedEntries(image, image.length).entries).toEqual(expected);
    expect(reusedEntries(image, 1).entries).toEqual(expected);
  });
});
