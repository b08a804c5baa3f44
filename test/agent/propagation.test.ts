/**
 * What the keyspace commands propagate to replicas and the AOF: effects made deterministic as Redis 7.0 does
 * (absolute expiries, concrete SREMs instead of SPOP, SET ... KEEPTTL instead of INCRBYFLOAT, plain pops
 * instead of blocking ones, DEL for expirations), nothing for commands that changed nothing.
 */
import { activeExpireCycle } from '../../agent/keyspace/install';
import { startInProcess, type InProcess } from './support/inProcess';

const T0 = 1_700_000_000_000;
let p: InProcess;

beforeEach(() => {
  p = startInProcess([], T0);
});

function after(cmds: string[]): string[][] {
  p.clearPropagated();
  for (const c of cmds) p.run(c);
  return p.propagated();
}

describe('propagation of keyspace commands', () => {
  it('turns relative expiries into absolute ones', () => {
    expect(after(['SET k v EX 100'])).toEqual([['SET', 'k', 'v', 'PXAT', String(T0 + 100_000)]]);
    expect(after(['SET k v PX 5 GET'])).toEqual([['SET', 'k', 'v', 'PXAT', String(T0 + 5)]]);
    expect(after(['SET k v PXAT 99999999999999'])).toEqual([['SET', 'k', 'v', 'PXAT', '99999999999999']]);
    expect(after(['SET k v2 GET'])).toEqual([['SET', 'k', 'v2']]);
    expect(after(['SETEX k 10 v'])).toEqual([['SET', 'k', 'v', 'PXAT', String(T0 + 10_000)]]);
    expect(after(['PSETEX k 10 v'])).toEqual([['SET', 'k', 'v', 'PXAT', String(T0 + 10)]]);
    expect(after(['EXPIRE k 100'])).toEqual([['PEXPIREAT', 'k', String(T0 + 100_000)]]);
    expect(after(['EXPIRE k 200 GT'])).toEqual([['PEXPIREAT', 'k', String(T0 + 200_000), 'GT']]);
    expect(after(['PEXPIRE k 300000'])).toEqual([['PEXPIREAT', 'k', String(T0 + 300_000)]]);
    expect(after(['EXPIREAT k 2000000000'])).toEqual([['PEXPIREAT', 'k', '2000000000000']]);
    expect(after(['PEXPIREAT k 2000000000001'])).toEqual([['PEXPIREAT', 'k', '2000000000001']]);
    expect(after(['GETEX k EX 10'])).toEqual([['PEXPIREAT', 'k', String(T0 + 10_000)]]);
    expect(after(['GETEX k PERSIST'])).toEqual([['PERSIST', 'k']]);
    expect(after(['GETEX k PERSIST'])).toEqual([]);
  });

  it('deletes instead of setting an expiry in the past', () => {
    p.run('SET a 1');
    p.run('SET b 1');
    p.run('SET c 1');
    expect(after(['EXPIRE a -1'])).toEqual([['DEL', 'a']]);
    expect(after(['PEXPIREAT b 1'])).toEqual([['DEL', 'b']]);
    expect(after(['GETEX c EXAT 1'])).toEqual([['DEL', 'c']]);
    expect(p.run('DBSIZE')).toBe(':0\r\n');
  });

  it('propagates expirations found on access and by the active cycle as DEL', () => {
    p.run('SET lazy v PX 10');
    p.run('SET active v PX 10');
    p.setTime(T0 + 20);
    expect(after(['GET lazy'])).toEqual([['DEL', 'lazy']]);
    p.clearPropagated();
    activeExpireCycle(p.server)!.run();
    expect(p.propagated()).toEqual([['DEL', 'active']]);
  });

  it('makes float increments and random pops deterministic', () => {
    expect(after(['INCRBYFLOAT f 0.1'])).toEqual([['SET', 'f', '0.1', 'KEEPTTL']]);
    expect(after(['HINCRBYFLOAT h x 1.5'])).toEqual([['HSET', 'h', 'x', '1.5']]);
    p.run('SADD s a b c d e');
    const one = after(['SPOP s']);
    expect(one).toHaveLength(1);
    expect(one[0].slice(0, 2)).toEqual(['SREM', 's']);
    const two = after(['SPOP s 2']);
    expect(two.map((c) => c.slice(0, 2))).toEqual([['SREM', 's']]);
    expect(two[0]).toHaveLength(4);
    expect(after(['SPOP s 10'])).toEqual([['DEL', 's']]);
    expect(after(['GETSET g 1'])).toEqual([['SET', 'g', '1']]);
    expect(after(['GETDEL g'])).toEqual([['DEL', 'g']]);
  });

  it('propagates blocking and multi-key pops as the plain pop that happened', () => {
    p.run('RPUSH l a b c d e');
    expect(after(['BLPOP nokey l 0'])).toEqual([['LPOP', 'l']]);
    expect(after(['BRPOP l 0'])).toEqual([['RPOP', 'l']]);
    expect(after(['LMPOP 1 l RIGHT COUNT 5'])).toEqual([['RPOP', 'l', '3']]);
    p.run('RPUSH l x y');
    expect(after(['BLMPOP 0 1 l LEFT'])).toEqual([['LPOP', 'l', '1']]);
    expect(after(['BLMOVE l d RIGHT LEFT 0'])).toEqual([['LMOVE', 'l', 'd', 'RIGHT', 'LEFT']]);
    expect(after(['BRPOPLPUSH d e 0'])).toEqual([['RPOPLPUSH', 'd', 'e']]);
    p.run('ZADD z 1 a 2 b 3 c');
    expect(after(['BZPOPMIN z 0'])).toEqual([['ZPOPMIN', 'z']]);
    expect(after(['ZMPOP 1 z MAX COUNT 9'])).toEqual([['ZPOPMAX', 'z', '2']]);
  });

  it('propagates a blocked pop when it is served, after the push that woke it', () => {
    const waiter = p.newClient();
    p.run('BLPOP q 0', waiter);
    expect(waiter.blocked).not.toBeNull();
    expect(after(['RPUSH q v'])).toEqual([
      ['RPUSH', 'q', 'v'],
      ['LPOP', 'q'],
    ]);
    expect(waiter.blocked).toBeNull();
    p.run('BZPOPMAX zq 0', waiter);
    expect(after(['ZADD zq 5 m'])).toEqual([
      ['ZADD', 'zq', '5', 'm'],
      ['ZPOPMAX', 'zq'],
    ]);
    p.run('BLMOVE src dst LEFT RIGHT 0', waiter);
    expect(after(['LPUSH src x'])).toEqual([
      ['LPUSH', 'src', 'x'],
      ['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'],
    ]);
  });

  it('propagates nothing for commands that changed nothing', () => {
    p.run('RPUSH l a b');
    expect(
      after(['LTRIM l 0 -1', 'LREM l 0 zz', 'SREM nokey a', 'ZADD z XX 1 a', 'PERSIST l', 'DEL nokey']),
    ).toEqual([]);
    expect(after(['SET k v NX', 'SET k v NX'])).toEqual([['SET', 'k', 'v', 'NX']]);
  });

  it('propagates FLUSHDB and FLUSHALL even on an empty dataset', () => {
    expect(after(['FLUSHDB'])).toEqual([['FLUSHDB']]);
    expect(after(['FLUSHALL ASYNC'])).toEqual([['FLUSHALL', 'ASYNC']]);
  });

  it('wraps the effects of one command in MULTI/EXEC when there are several', () => {
    p.run('SADD s a b c d e');
    p.clearPropagated();
    const big: string[] = ['SADD', 'big'];
    for (let i = 0; i < 2000; i++) big.push(`m${i}`);
    p.run(big);
    p.clearPropagated();
    p.run('SPOP big 1500');
    const batch = p.batches[0].map((c) => c.argv[0]);
    expect(batch[0]).toBe('MULTI');
    expect(batch[batch.length - 1]).toBe('EXEC');
    expect(batch.filter((n) => n === 'SREM')).toHaveLength(2);
  });
});

describe('blocked clients and database moves', () => {
  it('serves a client blocked in another database when SWAPDB brings it a list', () => {
    const waiter = p.newClient();
    p.run('SELECT 1', waiter);
    p.run('BLPOP q 0', waiter);
    p.run('RPUSH q v');
    expect(waiter.blocked).not.toBeNull();
    p.clearPropagated();
    p.run('SWAPDB 0 1');
    expect(waiter.blocked).toBeNull();
    expect(p.batches.flat().map((c) => [c.dbId, ...c.argv])).toEqual([
      [0, 'SWAPDB', '0', '1'],
      [1, 'LPOP', 'q'],
    ]);
  });

  it('serves a client blocked on a key that MOVE brings into its database', () => {
    const waiter = p.newClient();
    p.run('SELECT 2', waiter);
    p.run('BZPOPMIN z 0', waiter);
    p.run('ZADD z 1 m');
    p.run('MOVE z 2');
    expect(waiter.blocked).toBeNull();
    expect(p.run('EXISTS z')).toBe(':0\r\n');
  });
});
