/**
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH compared with real redis-server: queueing, EXECABORT after a refused command,
 * runtime errors inside EXEC, WATCH invalidation by writes from other clients, by expiry, by FLUSHALL, and not by
 * the transaction's own writes.
 */
import { waitFor } from '../helpers/waitFor';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

describe('transactions match Redis', () => {
  it('queue commands and run them atomically with one array reply, runtime errors included', async () => {
    await t.same('MULTI', 'SET a 1', 'INCR a', 'LPUSH a x', 'GET a', 'EXEC', 'GET a');
  });

  it('abort with EXECABORT after an unknown command or wrong arity while queueing', async () => {
    await t.same('MULTI', 'SET a 1', 'NOSUCHCOMMAND x', 'GET', 'EXEC', 'GET a');
  });

  it('refuse nesting, WATCH inside MULTI, EXEC and DISCARD without MULTI', async () => {
    await t.same('EXEC', 'DISCARD', 'MULTI', 'MULTI', 'WATCH a', 'SET a 1', 'EXEC', 'GET a');
  });

  it('DISCARD drops the queue', async () => {
    await t.same('MULTI', 'SET a 1', 'DISCARD', 'GET a', 'EXEC');
  });

  it('an empty transaction and a transaction of reads', async () => {
    await t.same('MULTI', 'EXEC', 'SET k v', 'MULTI', 'GET k', 'STRLEN k', 'EXISTS k nope', 'EXEC');
  });

  it('commands not allowed in a transaction are refused and abort it', async () => {
    await t.same('MULTI', 'SHUTDOWN', 'SET a 1', 'EXEC', 'GET a');
  });

  it('WATCH fails EXEC when another client writes the key, and the watch is gone afterwards', async () => {
    const [a2, r2] = await t.connect();
    await t.same('SET w 1', 'WATCH w');
    await Promise.all([a2.call('SET', 'w', '2'), r2.call('SET', 'w', '2')]);
    await t.same('MULTI', 'SET w 3', 'EXEC', 'GET w', 'MULTI', 'SET w 4', 'EXEC', 'GET w');
  });

  it('a transaction writing its own watched key succeeds', async () => {
    await t.same('WATCH w', 'SET w mine', 'MULTI', 'SET w 5', 'EXEC', 'GET w');
  });

  it('UNWATCH forgets watched keys', async () => {
    const [a2, r2] = await t.connect();
    await t.same('WATCH w', 'UNWATCH');
    await Promise.all([a2.call('SET', 'w', '2'), r2.call('SET', 'w', '2')]);
    await t.same('MULTI', 'SET w 3', 'EXEC');
  });

  it('watching a missing key fails when another client creates it; deleting a missing key does not count', async () => {
    const [a2, r2] = await t.connect();
    await t.same('WATCH ghost');
    await Promise.all([a2.call('DEL', 'ghost'), r2.call('DEL', 'ghost')]);
    await t.same('MULTI', 'PING', 'EXEC', 'WATCH ghost');
    await Promise.all([a2.call('SET', 'ghost', '1'), r2.call('SET', 'ghost', '1')]);
    await t.same('MULTI', 'PING', 'EXEC');
  });

  it('a watched key that expires before EXEC fails the transaction', async () => {
    await t.same('SET e 1 PX 100', 'WATCH e');
    await waitFor(
      async () => (await t.agent.client.pttl('e')) === -2 && (await t.redis.client.pttl('e')) === -2,
    );
    await t.same('MULTI', 'PING', 'EXEC');
  });

  it('a key already expired when watched does not fail the transaction by its expiry', async () => {
    await t.same('DEBUG SET-ACTIVE-EXPIRE 0', 'SET e 1 PX 1');
    await new Promise((r) => setTimeout(r, 20));
    await t.same('WATCH e', 'MULTI', 'PING', 'EXEC', 'DEBUG SET-ACTIVE-EXPIRE 1');
  });

  it('FLUSHALL from another client fails a transaction watching an existing key', async () => {
    const [a2, r2] = await t.connect();
    await t.same('SET f 1', 'WATCH f');
    await Promise.all([a2.call('FLUSHALL'), r2.call('FLUSHALL')]);
    await t.same('MULTI', 'PING', 'EXEC');
  });

  it('RESP3 EXEC after a failed WATCH replies null', async () => {
    const [a2, r2] = await t.connect();
    await t.same('SET x 1');
    const [a3, r3] = await t.connect();
    for (const c of [a3, r3]) await c.call('HELLO', '3');
    await Promise.all([a3.call('WATCH', 'x'), r3.call('WATCH', 'x')]);
    await Promise.all([a2.call('SET', 'x', '2'), r2.call('SET', 'x', '2')]);
    const replies = [];
    for (const cmd of [['MULTI'], ['GET', 'x'], ['EXEC']])
      replies.push(await Promise.all([a3.send(cmd), r3.send(cmd)]));
    for (const [x, y] of replies) expect(x.raw).toBe(y.raw);
    expect(replies[2][0].raw).toBe('_\r\n');
  });
});
