/**
 * Pacing of background snapshot work against client traffic: the server counts as busy only when enough
 * commands ran since the previous slice; a snapshot stream never walks longer than its slice between two yields
 * to the event loop, however its consumer pulls, and turns each yield into a pause of about three times the
 * slice's work (a 25% share) while clients are busy, never while they are idle; the image is complete either way.
 */
import { Keyspace } from '../../../agent/keyspace/database';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { RdbSnapshotStream } from '../../../agent/persistence/rdbSnapshot';
import { SnapshotRegistry } from '../../../agent/persistence/snapshot';
import {
  BUSY_COMMANDS_PER_SLICE,
  SNAPSHOT_SHARE_WHEN_BUSY,
  commandLoadPacing,
  type SnapshotPacing,
} from '../../../agent/persistence/snapshotPacing';

describe('commandLoadPacing', () => {
  it('is busy only when at least BUSY_COMMANDS_PER_SLICE commands ran since the previous check', () => {
    let commands = 1000;
    const pace = commandLoadPacing('save', () => commands);
    expect(pace.busy()).toBe(false);
    commands += BUSY_COMMANDS_PER_SLICE - 1;
    expect(pace.busy()).toBe(false);
    commands += BUSY_COMMANDS_PER_SLICE;
    expect(pace.busy()).toBe(true);
    expect(pace.busy()).toBe(false);
  });

  it('gives a full sync a larger share than a save, whose length costs only memory', () => {
    const save = commandLoadPacing('save', () => 0);
    const sync = commandLoadPacing('sync', () => 0);
    expect(save.shareWhenBusy).toBe(SNAPSHOT_SHARE_WHEN_BUSY.save);
    expect(sync.shareWhenBusy).toBe(SNAPSHOT_SHARE_WHEN_BUSY.sync);
    expect(save.shareWhenBusy).toBeLessThan(sync.shareWhenBusy);
  });
});

describe('a paced snapshot stream', () => {
  const KEYS = 20_000;

  function keyspace(): { ks: Keyspace; registry: SnapshotRegistry } {
    const registry = new SnapshotRegistry();
    const ks = new Keyspace(1, {
      nowMs: () => 1_800_000_000_000,
      expiryMode: () => 'delete',
      onExpired: () => undefined,
      beforeMutate: (db, key) => registry.beforeMutate(db, key),
      beforeReplaceAll: (db) => registry.beforeReplaceAll(db),
    });
    for (let i = 0; i < KEYS; i++) ks.dbs[0].set(`key:${i}`, `value:${i}:`.padEnd(100, 'v'));
    return { ks, registry };
  }

  /** Pulls the whole image as fast as possible; returns the pauses asked for and the image. */
  async function pullAll(busy: boolean): Promise<{ pauses: number[]; image: Buffer }> {
    const { ks, registry } = keyspace();
    const pauses: number[] = [];
    const pace: SnapshotPacing = {
      busy: () => busy,
      shareWhenBusy: 0.25,
      maxPauseMs: 50,
      sleep: async (ms) => {
        pauses.push(ms);
      },
    };
    const stream = new RdbSnapshotStream(ks, registry, { pace, sliceMs: 1, chunkBytes: 4096 });
    const chunks: Buffer[] = [];
    for (;;) {
      const r = await stream.next();
      if (r.done) break;
      chunks.push(r.value);
    }
    return { pauses, image: Buffer.concat(chunks) };
  }

  it('pauses about three times each slice of work while clients are busy', async () => {
    const { pauses, image } = await pullAll(true);
    // Each slice is 1 ms of walking, however many 4 KB chunks it produced.
    expect(pauses.length).toBeGreaterThan(1);
    for (const ms of pauses) {
      expect(ms).toBeGreaterThanOrEqual(3);
      expect(ms).toBeLessThanOrEqual(50);
    }
    expect(parseRdb(image).entries).toHaveLength(KEYS);
  });

  it('never pauses while clients are idle', async () => {
    const { pauses, image } = await pullAll(false);
    expect(pauses).toEqual([]);
    expect(parseRdb(image).entries).toHaveLength(KEYS);
  });
});
