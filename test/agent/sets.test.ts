/**
 * Set commands compared with real Redis 7.0. Intsets reply in numeric order in both; hashtable sets in an
 * arbitrary order, compared as multisets.
 */
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

const sorted = (args: string) => ({ args, compare: 'sorted' as const });

describe('set commands match Redis', () => {
  it('SADD, SREM, SISMEMBER, SMISMEMBER, SCARD, SMEMBERS, SMOVE', async () => {
    await t.same(
      'SADD s 3 1 2 1',
      'SMEMBERS s',
      'OBJECT ENCODING s',
      'SADD s x',
      'OBJECT ENCODING s',
      sorted('SMEMBERS s'),
      'SREM s x 9',
      'OBJECT ENCODING s',
      'SISMEMBER s 1',
      'SISMEMBER s 9',
      'SISMEMBER nokey 1',
      'SMISMEMBER s 1 9 2',
      'SMISMEMBER nokey 1',
      'SCARD s',
      'SCARD nokey',
      'SMEMBERS nokey',
      'SMOVE s dst 1',
      'SMOVE s dst 1',
      'SMOVE s s 2',
      'SMOVE s s 9',
      'SMOVE nokey dst 1',
      'SMEMBERS dst',
      'OBJECT ENCODING dst',
      'SET str v',
      'SMOVE s str 2',
      'SMOVE str s 2',
      'SADD str a',
      'SREM s 2 3',
      'EXISTS s',
      'SREM nokey a',
      'SADD s',
    );
  });

  it('SINTER, SUNION, SDIFF and their STORE forms, SINTERCARD', async () => {
    await t.same(
      'SADD a 1 2 3 4',
      'SADD b 3 4 5',
      'SADD c x y 3',
      'SINTER a b',
      'SUNION a b',
      'SDIFF a b',
      'SDIFF b a',
      'SINTER a nokey',
      'SUNION a nokey',
      'SDIFF nokey a',
      'SDIFF a a',
      sorted('SINTER a c'),
      sorted('SUNION a c'),
      'SINTERSTORE d a b',
      'SMEMBERS d',
      'OBJECT ENCODING d',
      'SUNIONSTORE d a c',
      'OBJECT ENCODING d',
      sorted('SMEMBERS d'),
      'SDIFFSTORE d a b c',
      'SMEMBERS d',
      'SINTERSTORE d a nokey',
      'EXISTS d',
      'SADD d z',
      'SDIFFSTORE d a a',
      'EXISTS d',
      'SINTERCARD 2 a b',
      'SINTERCARD 2 a b LIMIT 1',
      'SINTERCARD 2 a b LIMIT 0',
      'SINTERCARD 1 nokey',
      'SINTERCARD 0 a',
      'SINTERCARD 3 a b',
      'SINTERCARD 1 a LIMIT -1',
      'SINTERCARD 1 a LIMIT',
      'SINTERCARD 1 a FOO',
      'SINTERCARD x a',
      'SET str v',
      'SINTER a str',
      'SUNION nokey str',
      'SINTERSTORE d str',
      'SINTER',
    );
  });

  it('SPOP and SRANDMEMBER forms that are deterministic, and their errors', async () => {
    await t.same(
      'SADD s 1 2 3',
      'SRANDMEMBER s 3',
      'SRANDMEMBER s 10',
      'SRANDMEMBER s 0',
      'SRANDMEMBER nokey',
      'SRANDMEMBER nokey 2',
      'SRANDMEMBER s x',
      'SRANDMEMBER s 1 2',
      'SPOP s 0',
      'SPOP s -1',
      'SPOP s x',
      'SPOP s 1 2',
      'SPOP nokey',
      'SPOP nokey 3',
      'SPOP s 10',
      'EXISTS s',
      'SET str v',
      'SPOP str',
      'SRANDMEMBER str',
    );
    await t.a.call('SADD', 'p', 'a', 'b', 'c', 'd');
    const one = (await t.a.call('SPOP', 'p')).value as string;
    expect(['a', 'b', 'c', 'd']).toContain(one);
    const two = (await t.a.call('SPOP', 'p', '2')).value as string[];
    expect(two).toHaveLength(2);
    expect((await t.a.call('SCARD', 'p')).value).toBe(1);
    const rep = (await t.a.call('SRANDMEMBER', 'p', '-4')).value as string[];
    expect(rep).toHaveLength(4);
    expect(new Set(rep).size).toBe(1);
  });

  it('converts an intset to hashtable past set-max-intset-entries', async () => {
    const args = ['SADD', 'big'];
    for (let i = 0; i < 513; i++) args.push(String(i));
    await t.same(
      'SADD s 1',
      'OBJECT ENCODING s',
      args,
      'OBJECT ENCODING big',
      'SADD n 9223372036854775808',
      'OBJECT ENCODING n',
      'SADD m -1 01',
      'OBJECT ENCODING m',
    );
  });

  it('SSCAN returns an intset whole and walks a hashtable set completely', async () => {
    await t.same('SADD s 5 3 1', 'SSCAN s 0', 'SSCAN s 0 MATCH 1*', 'SSCAN s 0 COUNT 1');
    const args = ['SADD', 'big'];
    for (let i = 0; i < 300; i++) args.push(`m${i}`);
    await t.a.send(args);
    const seen = new Set(await t.a.scanAll((cursor) => ['SSCAN', 'big', cursor]));
    expect(seen.size).toBe(300);
  });
});
