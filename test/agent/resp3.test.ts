/**
 * The keyspace commands' replies in RESP3 (HELLO 3) compared with real Redis 7.0: sets (~), maps (%), doubles
 * (,), nulls (_) and the nested [member, score] pairs that RESP3 uses where RESP2 is flat.
 */
import { startSideBySide, type SideBySide } from './support/sideBySide';

let t: SideBySide;

beforeAll(async () => {
  t = await startSideBySide();
  const [a, r] = await t.both('HELLO 3');
  expect(a.value).toEqual(expect.arrayContaining(['proto', 3]));
  expect(r.value).toEqual(expect.arrayContaining(['proto', 3]));
});
afterAll(async () => {
  await t.stop();
});
beforeEach(async () => {
  await t.same('FLUSHALL');
});

describe('RESP3 replies match Redis', () => {
  it('strings, keys and lists', async () => {
    await t.same(
      'GET nokey',
      'SET k v NX',
      'SET k v NX',
      'SET k w NX GET',
      'MGET k nokey',
      'INCRBYFLOAT f 1.5',
      'GETEX nokey',
      'OBJECT ENCODING nokey',
      'LPOP nokey',
      'LPOP nokey 2',
      'RPUSH l a b',
      'LPOS l zz',
      'LINDEX l 9',
      'LMPOP 1 l LEFT COUNT 1',
      'LMPOP 1 nokey LEFT',
      'BLPOP nokey 0.01',
      'BLMOVE nokey d LEFT LEFT 0.01',
      { args: 'SCAN 0', compare: 'sorted' },
      'SORT l ALPHA',
      'SORT l GET nokey_*',
    );
  });

  it('hashes and sets', async () => {
    await t.same(
      'HSET h a 1 b 2',
      'HGETALL h',
      'HGETALL nokey',
      'HMGET h a zz',
      'HGET h zz',
      'HRANDFIELD h 5 WITHVALUES',
      'HRANDFIELD nokey',
      'HINCRBYFLOAT h f 0.25',
      'SADD s 3 1 2',
      'SMEMBERS s',
      'SMEMBERS nokey',
      'SINTER s nokey',
      'SUNION s',
      'SDIFF s',
      'SPOP s 0',
      'SPOP nokey 2',
      'SPOP s 5',
      'SADD s 1 2',
      'SRANDMEMBER s 5',
      'SRANDMEMBER nokey',
      'SISMEMBER s 1',
      'SMISMEMBER s 1 9',
      'HSCAN h 0',
      'SSCAN nokey 0',
    );
  });

  it('sorted sets', async () => {
    await t.same(
      'ZADD z 1 a 2.5 b inf c',
      'ZSCORE z b',
      'ZSCORE z c',
      'ZSCORE z zz',
      'ZMSCORE z a zz',
      'ZINCRBY z 1 a',
      'ZADD z INCR 1 a',
      'ZADD z XX INCR 1 zz',
      'ZRANGE z 0 -1 WITHSCORES',
      'ZRANGE z 0 -1',
      'ZRANGEBYSCORE z -inf +inf WITHSCORES',
      'ZREVRANGE z 0 0 WITHSCORES',
      'ZRANK z zz',
      'ZUNION 1 z WITHSCORES',
      'ZINTER 1 z',
      'ZRANDMEMBER z 5 WITHSCORES',
      'ZRANDMEMBER nokey',
      'ZPOPMIN z',
      'ZPOPMIN z 1',
      'ZPOPMAX nokey 2',
      'ZMPOP 1 z MAX COUNT 1',
      'ZMPOP 1 nokey MIN',
      'ZADD y 1 m',
      'BZPOPMIN y 0',
      'ZADD y 1 m 2 n',
      'BZMPOP 0 1 y MIN COUNT 5',
      'BZPOPMIN nokey 0.01',
      'ZSCAN nokey 0',
    );
  });
});
