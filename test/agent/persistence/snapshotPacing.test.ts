/**
 * Pacing of background snapshot work against client traffic: the server counts as busy only when enough
 * commands ran since the previous slice, and a BGSAVE's file pump pauses between batches while it is busy (about
 * three times the batch's work for a 25% share) and never while it is idle; the file is complete either way.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AtomicFileWriter, pumpToFile } from '../../../agent/persistence/rdbFile';
import {
  BUSY_COMMANDS_PER_SLICE,
  commandLoadPacing,
  type SnapshotPacing,
} from '../../../agent/persistence/snapshotPacing';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pacing-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('commandLoadPacing', () => {
  it('is busy only when at least BUSY_COMMANDS_PER_SLICE commands ran since the previous check', () => {
    let commands = 1000;
    const pace = commandLoadPacing(() => commands);
    expect(pace.busy()).toBe(false);
    commands += BUSY_COMMANDS_PER_SLICE - 1;
    expect(pace.busy()).toBe(false);
    commands += BUSY_COMMANDS_PER_SLICE;
    expect(pace.busy()).toBe(true);
    expect(pace.busy()).toBe(false);
  });
});

describe('pumpToFile', () => {
  /** A stream of `chunks` chunks of `bytes` bytes, each costing at least `workMs` of synchronous work. */
  function stream(chunks: number, bytes: number, workMs: number): AsyncIterator<Buffer, void, undefined> {
    let i = 0;
    return {
      next: async () => {
        if (i === chunks) return { done: true, value: undefined };
        const until = performance.now() + workMs;
        while (performance.now() < until);
        return { done: false, value: Buffer.alloc(bytes, 97 + (i++ % 26)) };
      },
    };
  }

  async function pump(busy: boolean): Promise<{ pauses: number[]; file: Buffer }> {
    const pauses: number[] = [];
    const pace: SnapshotPacing = {
      busy: () => busy,
      shareWhenBusy: 0.25,
      maxPauseMs: 50,
      sleep: async (ms) => {
        pauses.push(ms);
      },
    };
    const target = path.join(dir, `dump-${busy}.rdb`);
    const writer = await AtomicFileWriter.create(target);
    const complete = await pumpToFile(
      stream(10, 1000, 4),
      writer,
      () => false,
      () => undefined,
      pace,
    );
    expect(complete).toBe(true);
    await writer.commit();
    return { pauses, file: readFileSync(target) };
  }

  it('pauses after each batch while clients are busy, about 3x the batch work for a 25% share', async () => {
    const { pauses, file } = await pump(true);
    // Each chunk takes 4 ms, past the pump's 3 ms slice, so every chunk is its own batch, followed by a pause.
    expect(pauses).toHaveLength(10);
    for (const ms of pauses) {
      expect(ms).toBeGreaterThanOrEqual(12);
      expect(ms).toBeLessThanOrEqual(50);
    }
    expect(file.length).toBe(10_000);
  });

  it('never pauses while the server is idle', async () => {
    const { pauses, file } = await pump(false);
    expect(pauses).toEqual([]);
    expect(file.length).toBe(10_000);
  });
});
