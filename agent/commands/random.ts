/**
 * The random-count commands (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER): a non-negative count asks for distinct
 * elements (the whole collection, in its order, when the count reaches its size), a negative count for that many
 * independent picks that may repeat. Randomness comes from Math.random unless a test injects its own.
 */
import { Err, ReplyError } from '../errors';
import { parseInt64 } from './args';

export type RandomCountMode = 'unique' | 'repeat';

const INT64_MIN = -9223372036854775808n;

export const randomSource = { next: Math.random as () => number };

/** Parses the count as getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX) does. */
export function randomCountArg(text: string): number {
  const n = parseInt64(text);
  if (n === null) throw new ReplyError(Err.notInteger);
  if (n === INT64_MIN) {
    throw new ReplyError(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  }
  return Number(n);
}

/**
 * Visits `count` independent uniform picks of `items` (non-empty), without building them into an array: a
 * negative count may be huge, and the reply is streamed as it is produced.
 */
export function forEachRepeatedPick<T>(items: readonly T[], count: number, visit: (item: T) => void): void {
  const rnd = randomSource.next;
  for (let i = 0; i < count; i++) visit(items[Math.floor(rnd() * items.length)]);
}

/** Picks `count` elements of `items` as the mode says; `items` may be reordered. */
export function randomSample<T>(items: T[], count: number, mode: RandomCountMode): T[] {
  const size = items.length;
  if (count === 0 || size === 0) return [];
  const rnd = randomSource.next;
  if (mode === 'repeat') {
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = items[Math.floor(rnd() * size)];
    return out;
  }
  if (count >= size) return items;
  // Partial Fisher-Yates: the first `count` slots end up a uniform random subset.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rnd() * (size - i));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items.slice(0, count);
}
