/**
 * Feeding an RDB image to the pull parser in different ways: whole, byte by byte, in random chunk sizes. All must
 * produce the same events; differences point at the resumable-unit logic.
 */

import { RdbParser, type RdbEvent, type RdbReaderOptions } from '../../../../agent/persistence/rdbReader';
import { prng } from '../../../helpers/prng';

/** Feeds `image` in chunks whose sizes come from `nextSize`, draining events after every push. */
export function parseInChunks(
  image: Buffer,
  nextSize: () => number,
  options: RdbReaderOptions = {},
): RdbEvent[] {
  const parser = new RdbParser(options);
  const events: RdbEvent[] = [];
  let p = 0;
  while (p < image.length) {
    const n = Math.max(1, Math.min(nextSize(), image.length - p));
    parser.push(image.subarray(p, p + n));
    p += n;
    for (let e = parser.next(); e !== null; e = parser.next()) events.push(e);
  }
  parser.end();
  for (let e = parser.next(); e !== null; e = parser.next()) events.push(e);
  return events;
}

export function parseWhole(image: Buffer, options: RdbReaderOptions = {}): RdbEvent[] {
  return parseInChunks(image, () => image.length, options);
}

export function parseByteByByte(image: Buffer, options: RdbReaderOptions = {}): RdbEvent[] {
  return parseInChunks(image, () => 1, options);
}

export function parseRandomChunks(image: Buffer, seed: number, options: RdbReaderOptions = {}): RdbEvent[] {
  const rand = prng(seed);
  return parseInChunks(image, () => 1 + Math.floor(rand() ** 3 * 20_000), options);
}

export function entriesOf(events: readonly RdbEvent[]) {
  return events.flatMap((e) => (e.kind === 'entry' ? [e.entry] : []));
}
