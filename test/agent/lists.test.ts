/**
 * List commands compared with real Redis 7.0, including the blocking pops: a client blocked on both servers is
 * woken by the same push and must receive the same reply; timeouts and MULTI/EXEC (no blocking) likewise.
 */
import type { RespConnection } from './support/respConnection';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

/** Waits until both servers (or only the given ones) report `n` blocked clients. */
describe('list commands match Redis', () => {
  it('pushes, pops with and without count, LLEN, LINDEX, LRANGE', async () => {
    await t.same(
      'LPUSH l a b c',
      'RPUSH l d e',
      'LPUSHX nokey a',
      'RPUSHX nokey a',
      'LPUSHX l z',
      'RPUSHX l y',
      'LRANGE l 0 -1',
      'LRANGE l -3 -1',
      'LRANGE l 5 2',
      'LRANGE l -100 100',
      'LRANGE l 100 200',
      'LRANGE l a 1',
      'LRANGE nokey 0 -1',
      'LLEN l',
      'LLEN nokey',
      'LINDEX l 0',
      'LINDEX l -1',
      'LINDEX l 100',
      'LINDEX l x',
      'LINDEX nokey x',
      'LPOP l',
      'RPOP l',
      'LPOP l 2',
      'RPOP l 2',
      'LPOP l 0',
      'LPOP nokey 0',
      'LPOP nokey',
      'RPOP nokey 3',
      'LPOP l -1',
      'LPOP l x',
      'LPOP l 1 2',
      'RPOP l 100',
      'EXISTS l',
      'SET s v',
      'LPUSH s a',
      'LPOP s',
      'LLEN s',
      'LRANGE s 0 1',
      'LPUSH',
      'LPUSH l',
    );
  });

  it('LSET, LREM, LTRIM, LINSERT, LPOS', async () => {
    await t.same(
      'RPUSH l a b c a b c a',
      'LSET l 0 x',
      'LSET l -1 y',
      'LSET l 100 z',
      'LSET nokey 0 z',
      'LSET l a z',
      'LREM l 0 nothing',
      'LREM l 1 b',
      'LREM l -1 c',
      'LRANGE l 0 -1',
      'LREM l 0 a',
      'LRANGE l 0 -1',
      'LREM nokey 0 a',
      'LREM l x a',
      'RPUSH t 1 2 3 4 5 6 7 8 9',
      'LTRIM t 1 -2',
      'LRANGE t 0 -1',
      'LTRIM t 0 100',
      'LTRIM t -3 -1',
      'LRANGE t 0 -1',
      'LTRIM t 5 1',
      'EXISTS t',
      'LTRIM nokey 0 1',
      'LTRIM t x 1',
      'RPUSH i a b c',
      'LINSERT i BEFORE b x',
      'LINSERT i AFTER c y',
      'LINSERT i AFTER nothing z',
      'LINSERT i MIDDLE b z',
      'LINSERT nokey BEFORE a b',
      'LRANGE i 0 -1',
      'RPUSH p a b c 1 2 3 c c',
      'LPOS p c',
      'LPOS p c RANK 2',
      'LPOS p c RANK -1',
      'LPOS p c RANK -2 COUNT 2',
      'LPOS p c COUNT 0',
      'LPOS p c COUNT 2 MAXLEN 3',
      'LPOS p nothing',
      'LPOS p nothing COUNT 1',
      'LPOS nokey a',
      'LPOS nokey a COUNT 1',
      'LPOS p c RANK 0',
      'LPOS p c COUNT -1',
      'LPOS p c MAXLEN -1',
      'LPOS p c FOO',
      'LPOS p c RANK',
      'SET s v',
      'LPOS s a',
      'LINSERT s BEFORE a b',
    );
  });

  it('LMOVE, RPOPLPUSH and LMPOP', async () => {
    await t.same(
      'RPUSH src a b c',
      'LMOVE src dst LEFT RIGHT',
      'LMOVE src dst RIGHT LEFT',
      'LMOVE src src LEFT RIGHT',
      'LRANGE src 0 -1',
      'LRANGE dst 0 -1',
      'LMOVE src dst UP DOWN',
      'LMOVE nokey dst LEFT LEFT',
      'RPOPLPUSH src dst',
      'EXISTS src',
      'RPOPLPUSH nokey dst',
      'SET s v',
      'RPOPLPUSH dst s',
      'RPOPLPUSH s dst',
      'LRANGE dst 0 -1',
      'RPUSH m1 1 2 3',
      'RPUSH m2 4 5',
      'LMPOP 2 nokey m1 LEFT',
      'LMPOP 2 m1 m2 RIGHT COUNT 5',
      'LMPOP 1 m2 LEFT COUNT 1',
      'LMPOP 1 nokey LEFT',
      'LMPOP 0 m1 LEFT',
      'LMPOP 3 m1 LEFT',
      'LMPOP 1 m2 MIDDLE',
      'LMPOP 1 m2 LEFT COUNT 0',
      'LMPOP 1 m2 LEFT COUNT 1 COUNT 2',
      'LMPOP 1 m2 LEFT FOO',
      'LMPOP x m2 LEFT',
      'LMPOP 2 s m2 LEFT',
    );
  });

  it('OBJECT ENCODING of lists is quicklist', async () => {
    await t.same('RPUSH l a', 'OBJECT ENCODING l');
  });
});

describe('blocking list commands match Redis', () => {
  let ca: RespConnection;
  let cr: RespConnection;

  beforeAll(async () => {
    [ca, cr] = await t.connect();
  });

  async function blockThenPush(blocking: string[], push: string[]): Promise<void> {
    const pa = ca.send(blocking);
    const pr = cr.send(blocking);
    await t.blockedClients(1);
    await t.same(push);
    const [ra, rr] = await Promise.all([pa, pr]);
    expect({ blocking, reply: ra.raw }).toEqual({ blocking, reply: rr.raw });
  }

  it('serves immediately when data is there', async () => {
    await t.same(
      'RPUSH l a b',
      'BLPOP nokey l 0',
      'BRPOP l 0',
      'EXISTS l',
      'RPUSH l x',
      'BLMOVE l d LEFT LEFT 0',
      'RPUSH l y',
      'BRPOPLPUSH l d 0',
      'RPUSH l 1 2 3',
      'BLMPOP 0 1 l RIGHT COUNT 2',
      'SET s v',
      'BLPOP s 0',
      'BLPOP l -1',
      'BLPOP l abc',
      'BLPOP l 1e100',
      'BLMPOP 0 0 l LEFT',
      'BLMOVE l d FOO LEFT 0',
    );
  });

  it('times out with a null reply', async () => {
    await t.same(
      'BLPOP nokey 0.05',
      'BRPOP a b 0.02',
      'BLMOVE nokey d LEFT LEFT 0.02',
      'BRPOPLPUSH nokey d 0.02',
    );
    await t.same('BLMPOP 0.02 2 x y LEFT');
  });

  it('BLPOP wakes on a push to any of its keys', async () => {
    await blockThenPush(['BLPOP', 'k1', 'k2', '0'], ['RPUSH', 'k2', 'v1', 'v2']);
    await t.same('LRANGE k2 0 -1');
  });

  it('BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP wake with the element', async () => {
    await blockThenPush(['BRPOP', 'k', '5'], ['LPUSH', 'k', 'a', 'b']);
    await blockThenPush(['BLMOVE', 'src', 'dst', 'RIGHT', 'LEFT', '0'], ['RPUSH', 'src', 'x', 'y']);
    await t.same('LRANGE dst 0 -1', 'LRANGE src 0 -1');
    await blockThenPush(['BRPOPLPUSH', 'q', 'dst', '0'], ['RPUSH', 'q', 'z']);
    await t.same('LRANGE dst 0 -1');
    await blockThenPush(
      ['BLMPOP', '0', '2', 'm1', 'm2', 'LEFT', 'COUNT', '5'],
      ['RPUSH', 'm2', '1', '2', '3'],
    );
    await t.same('EXISTS m2');
  });

  it('serves blocked clients in arrival order, one element each', async () => {
    const [ca2, cr2] = await t.connect();
    const first = [ca.send(['BLPOP', 'fifo', '0']), cr.send(['BLPOP', 'fifo', '0'])];
    await t.blockedClients(1);
    const second = [ca2.send(['BLPOP', 'fifo', '0']), cr2.send(['BLPOP', 'fifo', '0'])];
    await t.blockedClients(2);
    await t.same('RPUSH fifo one two');
    const [fa, fr] = await Promise.all(first);
    const [sa, sr] = await Promise.all(second);
    expect(fa.raw).toBe(fr.raw);
    expect(sa.raw).toBe(sr.raw);
    expect(fa.value).toEqual(['fifo', 'one']);
    expect(sa.value).toEqual(['fifo', 'two']);
    ca2.close();
    cr2.close();
  });

  it('stays blocked when the key gets a value of another type, and wakes later', async () => {
    const pa = ca.send(['BLPOP', 'w', '0']);
    const pr = cr.send(['BLPOP', 'w', '0']);
    await t.blockedClients(1);
    await t.same('SET w str', 'DEL w');
    expect(ca.hasUnreadData).toBe(false);
    await t.same('RPUSH w v');
    const [ra, rr] = await Promise.all([pa, pr]);
    expect(ra.raw).toBe(rr.raw);
  });

  it('does not block inside MULTI/EXEC', async () => {
    await t.same(
      'MULTI',
      'BLPOP nokey 0',
      'BRPOP nokey 0',
      'BLMOVE nokey d LEFT LEFT 0',
      'BLMPOP 0 1 nokey LEFT',
      'EXEC',
    );
  });

  it('runs commands sent while blocked after the wakeup', async () => {
    const pa = ca.send(['BLPOP', 'later', '0']);
    const after = ca.send(['PING']);
    await t.blockedClients(1, [t.a]);
    await t.a.call('RPUSH', 'later', 'v');
    expect((await pa).value).toEqual(['later', 'v']);
    expect((await after).value).toBe('PONG');
    await t.r.call('RPUSH', 'later', 'v');
    await cr.send(['BLPOP', 'later', '0']);
  });
});
