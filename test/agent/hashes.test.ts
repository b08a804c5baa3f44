/**
 * Hash commands compared with real Redis 7.0, including the listpack -> hashtable encoding switch and the
 * long-double formatting of HINCRBYFLOAT.
 */
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

describe('hash commands match Redis', () => {
  it('HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HLEN, HEXISTS, HSTRLEN, HGETALL, HKEYS, HVALS', async () => {
    await t.same(
      'HSET h a 1 b 2',
      'HSET h a 10 c 3',
      'HSET h a',
      'HSET h',
      'HMSET h d 4 e',
      'HMSET h d 4 e 5',
      'HSETNX h a x',
      'HSETNX h f 6',
      'HGET h a',
      'HGET h nofield',
      'HGET nokey a',
      'HMGET h a nofield f',
      'HMGET nokey a b',
      'HLEN h',
      'HLEN nokey',
      'HEXISTS h a',
      'HEXISTS h zz',
      'HSTRLEN h a',
      'HSTRLEN h zz',
      'HGETALL h',
      'HKEYS h',
      'HVALS h',
      'HGETALL nokey',
      'HKEYS nokey',
      'HDEL h a b nofield',
      'HDEL nokey a',
      'HDEL h c d e f',
      'EXISTS h',
      'SET s v',
      'HSET s a 1',
      'HGET s a',
      'HGETALL s',
      'HDEL s a',
      'HLEN s',
    );
  });

  it('HINCRBY and HINCRBYFLOAT with their errors', async () => {
    await t.same(
      'HINCRBY h n 5',
      'HINCRBY h n -10',
      'HINCRBY h n x',
      'HSET h s abc big 9223372036854775807',
      'HINCRBY h s 1',
      'HINCRBY h big 1',
      'HINCRBYFLOAT h f 0.1',
      'HINCRBYFLOAT h f 0.2',
      'HINCRBYFLOAT h n 1.5',
      'HINCRBYFLOAT h s 1',
      'HINCRBYFLOAT h f inf',
      'HINCRBYFLOAT h f abc',
      'HINCRBYFLOAT h f 1e308',
      'HINCRBYFLOAT h f 1e4000',
      'OBJECT ENCODING h',
      { args: 'HGETALL h', compare: 'pairs' },
      'SET str v',
      'HINCRBY str f 1',
      'HINCRBYFLOAT str f 1',
    );
  });

  it('HRANDFIELD whole-hash forms and errors', async () => {
    await t.same(
      'HSET h a 1 b 2 c 3',
      'HRANDFIELD h 3',
      'HRANDFIELD h 10',
      'HRANDFIELD h 10 WITHVALUES',
      'HRANDFIELD h 0',
      'HRANDFIELD nokey',
      'HRANDFIELD nokey 3',
      'HRANDFIELD h 1 FOO',
      'HRANDFIELD h 1 WITHVALUES x',
      'HRANDFIELD h x',
      'HRANDFIELD h -9223372036854775808',
      'HRANDFIELD h 9223372036854775807 WITHVALUES',
      'SET s v',
      'HRANDFIELD s',
    );
    const one = (await t.a.call('HRANDFIELD', 'h')).value;
    expect(['a', 'b', 'c']).toContain(one);
    const rep = (await t.a.call('HRANDFIELD', 'h', '-5')).value as string[];
    expect(rep).toHaveLength(5);
    for (const f of rep) expect(['a', 'b', 'c']).toContain(f);
    const two = (await t.a.call('HRANDFIELD', 'h', '2', 'WITHVALUES')).value as string[];
    expect(two).toHaveLength(4);
    expect(new Set([two[0], two[2]]).size).toBe(2);
  });

  it('reports listpack until the thresholds are crossed, then hashtable for good', async () => {
    const long = 'v'.repeat(65);
    const many = ['HSET', 'big'];
    for (let i = 0; i < 129; i++) many.push(`f${i}`, 'v');
    await t.same(
      'HSET h a 1',
      'OBJECT ENCODING h',
      `HSET h b ${long}`,
      'OBJECT ENCODING h',
      'HDEL h b',
      'OBJECT ENCODING h',
      'HSET k a 1',
      `HSETNX k a ${long}`,
      'OBJECT ENCODING k',
      `HINCRBY k ${'f'.repeat(70)} 1`,
      'OBJECT ENCODING k',
      many,
      'OBJECT ENCODING big',
      'CONFIG SET hash-max-listpack-entries 2',
      'HSET small a 1 b 2',
      'OBJECT ENCODING small',
      'HSET small c 3',
      'OBJECT ENCODING small',
      'CONFIG SET hash-max-listpack-entries 128',
    );
    await t.same({ args: 'HGETALL big', compare: 'pairs' });
  });

  it('HSCAN returns a small hash whole and walks a large one completely', async () => {
    await t.same(
      'HSET h a 1 b 2 c 3',
      'HSCAN h 0',
      'HSCAN h 0 MATCH a*',
      'HSCAN h 0 COUNT 1',
      'HSCAN h 0 COUNT 0',
    );
    const args = ['HSET', 'big'];
    for (let i = 0; i < 300; i++) args.push(`field:${i}`, `value:${i}`);
    await t.a.send(args);
    const items = await t.a.scanAll((cursor) => ['HSCAN', 'big', cursor, 'COUNT', '20']);
    const seen = new Map<string, string>();
    for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
    expect(seen.size).toBe(300);
    expect(seen.get('field:42')).toBe('value:42');
  });
});
