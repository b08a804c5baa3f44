/**
 * Pacing of background snapshot work against client traffic: the server counts as busy only when enough
 * commands ran since the previous slice; a snapshot stream never walks longer than its slice between two yields
 * to the event loop, however its consumer pulls, and turns each yield into a pause of about three times the
 * slice's work (a 25% share) while clients are busy, never while they are idle; the image is complete either way.
 * An urgent job (a full sync whose replicas' buffered writes near their output-buffer limit) pauses less and walks
 * in longer slices, up to not pausing at all.
 */
import { Keyspace } from '../../../agent/keyspace/database';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import { RdbSnapshotStream } from '../../../agent/persistence/rdbSnapshot';
import { SnapshotRegistry } from '../../../agent/persistence/snapshot';
import {
  BUSY_COMMANDS_PER_SLICE,
  FULL_URGENCY_AT_LIMIT_SHARE,
  SNAPSHOT_SHARE_WHEN_BUSY,
  URGENCY_FROM_LIMIT_SHARE,
  URGENT_SLICE_MS,
  bufferUrgency,
  commandLoadPacing,
  sliceMsFor,
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

describe('urgency', () => {
  const MB = 1024 * 1024;

  it('is 0 until the buffered bytes reach URGENCY_FROM_LIMIT_SHARE of the limit, then rises to 1', () => {
    const limit = 256 * MB;
    expect(bufferUrgency(0, limit)).toBe(0);
    expect(bufferUrgency(URGENCY_FROM_LIMIT_SHARE * limit, limit)).toBe(0);
    const middle = (URGENCY_FROM_LIMIT_SHARE + FULL_URGENCY_AT_LIMIT_SHARE) / 2;
    expect(bufferUrgency(middle * limit, limit)).toBeCloseTo(0.5, 6);
    expect(bufferUrgency(FULL_URGENCY_AT_LIMIT_SHARE * limit, limit)).toBe(1);
    expect(bufferUrgency(2 * limit, limit)).toBe(1);
  });

  it('never arises without a limit', () => {
    expect(bufferUrgency(10_000 * MB, 0)).toBe(0);
  });

  it('lengthens the slices from the stream own length to URGENT_SLICE_MS', () => {
    let u = 0;
    const pace = {
      ...commandLoadPacing(
        'sync',
        () => 0,
        () => u,
      ),
    };
    expect(sliceMsFor(undefined, 2)).toBe(2);
    expect(sliceMsFor(pace, 2)).toBe(2);
    u = 0.5;
    expect(sliceMsFor(pace, 2)).toBeCloseTo((2 + URGENT_SLICE_MS) / 2, 6);
    u = 1;
    expect(sliceMsFor(pace, 2)).toBe(URGENT_SLICE_MS);
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
  async function pullAll(busy: boolean, urgency = 0): Promise<{ pauses: number[]; image: Buffer }> {
    const { ks, registry } = keyspace();
    const pauses: number[] = [];
    const pace: SnapshotPacing = {
      busy: () => busy,
      shareWhenBusy: 0.25,
      maxPauseMs: 50,
      urgency: () => urgency,
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

  it('pauses less when the job is urgent, and not at all when it is fully urgent', async () => {
    const calm = await pullAll(true, 0);
    const urgent = await pullAll(true, 0.5);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // Half urgent: a share of 0.625 instead of 0.25, so pauses of ~0.6x the work instead of ~3x, in slices of
    // ~5.5 ms instead of 1: fewer pauses, and less pause time in all for the same walk.
    expect(urgent.pauses.length).toBeLessThan(calm.pauses.length / 2);
    expect(sum(urgent.pauses)).toBeLessThan(sum(calm.pauses) / 2);
    expect(parseRdb(urgent.image).entries).toHaveLength(KEYS);
    const full = await pullAll(true, 1);
    expect(full.pauses).toEqual([]);
    expect(parseRdb(full.image).entries).toHaveLength(KEYS);
  });
});
