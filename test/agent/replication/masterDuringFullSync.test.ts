/**
 * The master keeps answering clients while it serves a full sync of a large dataset. The test measures the
 * worst latency a client saw during the sync and logs it (the bound belongs to the benchmark, not here); it
 * asserts correctness: every write acknowledged during the sync reaches the replica, digests end equal.
 */
import type { TestServer } from '../../helpers/servers';
import { waitFor } from '../../helpers/waitFor';
import { replInfo, startNode, startReplica, stopAll, waitConverged } from './support/replicationCluster';

jest.setTimeout(90_000);

describe('master during a full sync', () => {
  let master: TestServer | undefined;
  let replica: TestServer | undefined;
  afterEach(async () => stopAll([replica, master]));

  it('answers reads and writes throughout, and the replica ends with every acknowledged write', async () => {
    master = await startNode('agent');
    const KEYS = 100_000;
    for (let start = 0; start < KEYS; start += 10_000) {
      const args: string[] = [];
      for (let i = start; i < start + 10_000; i++) args.push(`bulk:${i}`, 'x'.repeat(100));
      await master.client.mset(...args);
    }
    replica = await startReplica('agent', master);
    const probe = master.connect();
    let worstMs = 0;
    let written = 0;
    let syncSeen = false;
    for (;;) {
      const started = process.hrtime.bigint();
      await probe.set(`during:${written}`, String(written));
      const value = await probe.get(`bulk:${written % KEYS}`);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expect(value).toBe('x'.repeat(100));
      written++;
      if (ms > worstMs) worstMs = ms;
      const r = await replInfo(replica);
      if (r.master_sync_in_progress === '1') syncSeen = true;
      if (r.master_link_status === 'up') break;
    }
    // Writes after the sync too, then everything must be on the replica.
    for (let i = 0; i < 100; i++) await probe.set(`after:${i}`, String(i));
    await waitConverged(master, [replica], 30_000);
    const missing = await replica.client.exists(...Array.from({ length: written }, (_, i) => `during:${i}`));
    expect(missing).toBe(written);
    expect(await replica.client.get('after:99')).toBe('99');
    await waitFor(async () => (await replica!.client.dbsize()) === KEYS + written + 100);
    console.log(
      `full sync of ${KEYS} keys: ${written} SET+GET round trips during the sync (sync progress observed: ` +
        `${syncSeen}), worst round trip ${worstMs.toFixed(1)} ms`,
    );
  });
});
