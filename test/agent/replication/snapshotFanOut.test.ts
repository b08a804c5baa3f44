/**
 * The snapshot fan-out: every consumer gets every chunk in order; the next chunk is pulled only when every
 * consumer is under its high-water mark (a slow consumer slows the pulls instead of making the master buffer);
 * detaching every consumer abandons the snapshot (return() is called).
 */
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import { SnapshotFanOut, type FanOutOptions } from '../../../agent/replication/snapshotFanOut';
import type { SnapshotStream } from '../../../agent/replication/snapshotSource';

/** A source of `count` chunks of `size` bytes, counting pulls and whether it was abandoned. */
function source(
  count: number,
  size: number,
  workMs = 0,
): SnapshotStream & { pulls: number; returned: boolean } {
  let i = 0;
  const s = {
    pulls: 0,
    returned: false,
    next: async () => {
      s.pulls++;
      // Simulated encoding work, synchronous like a snapshot slice.
      const until = performance.now() + workMs;
      while (performance.now() < until);
      if (i >= count) return { done: true as const, value: undefined };
      const chunk = Buffer.alloc(size, i % 256);
      i++;
      return { done: false as const, value: chunk };
    },
    return: async () => {
      s.returned = true;
      return { done: true as const, value: undefined };
    },
  };
  return s;
}

/** A sink that collects what it receives; `paused` sinks accept writes but never drain. */
function collector(paused = false): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      if (!paused) cb();
    },
  });
  return { sink, bytes: () => Buffer.concat(parts) };
}

const OPTIONS: FanOutOptions = { highWaterBytes: 4096, yieldEveryBytes: 8192 };

describe('SnapshotFanOut', () => {
  it('writes every chunk, in order, to every consumer', async () => {
    const src = source(50, 1000);
    const fan = new SnapshotFanOut(src, OPTIONS);
    const a = collector();
    const b = new PassThrough();
    const bParts: Buffer[] = [];
    b.on('data', (d: Buffer) => bParts.push(d));
    fan.add(a.sink);
    fan.add(b);
    const result = await fan.run();
    expect(result).toEqual({ completed: true, bytes: 50_000 });
    const expected = Buffer.concat(Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000, i)));
    expect(a.bytes().equals(expected)).toBe(true);
    expect(Buffer.concat(bParts).equals(expected)).toBe(true);
  });

  it('stops pulling while a consumer is over its high-water mark, and abandons the snapshot when all leave', async () => {
    const src = source(1000, 1000);
    const fan = new SnapshotFanOut(src, OPTIONS);
    const slow = collector(true);
    fan.add(slow.sink);
    const running = fan.run();
    await new Promise((r) => setTimeout(r, 50));
    // About highWaterBytes / chunk size pulls, then nothing more: the master does not buffer the snapshot.
    expect(src.pulls).toBeLessThanOrEqual(6);
    fan.remove(slow.sink);
    expect(await running).toEqual({ completed: false, bytes: expect.any(Number) });
    expect(src.returned).toBe(true);
  });
});
