/**
 * Sorted-set commands compared with real Redis 7.0, including ranges by rank, score and lex in both
 * directions, set operations with weights and aggregates, pops and blocking pops, and encodings.
 */
import type { RespConnection } from './support/respConnection';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

describe('sorted set commands match Redis', () => {
  it('ZADD options, ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM', async () => {
    await t.same(
      'ZADD z 1 a 2 b 3 c',
      'ZADD z 1 a',
      'ZADD z CH 5 a 2 b',
      'ZADD z NX 10 a 4 d',
      'ZADD z XX 10 a 4 e',
      'ZADD z GT 1 a',
      'ZADD z GT CH 20 a',
      'ZADD z LT CH 30 a 0 b',
      'ZADD z XX GT 25 a',
      'ZADD z INCR 5 a',
      'ZADD z INCR NX 5 a',
      'ZADD z INCR GT -100 a',
      'ZADD z INCR 1 a 2 b',
      'ZADD z NX XX 1 a',
      'ZADD z NX GT 1 a',
      'ZADD z GT LT 1 a',
      'ZADD z 1',
      'ZADD z 1 a 2',
      'ZADD z abc a',
      'ZADD z nan a',
      'ZADD z 1e400 a',
      'ZADD z inf top -inf bottom',
      'ZADD z +inf top 0x10 hex',
      'ZADD z FOO 1 a',
      'ZADD nokey XX 1 a',
      'EXISTS nokey',
      'ZINCRBY z 2.5 b',
      'ZINCRBY z -inf top',
      'ZINCRBY z 1 new',
      'ZINCRBY z x new',
      'ZSCORE z a',
      'ZSCORE z nomember',
      'ZSCORE nokey a',
      'ZSCORE z top',
      'ZMSCORE z a nomember b',
      'ZMSCORE nokey a',
      'ZCARD z',
      'ZCARD nokey',
      'ZREM z a nomember',
      'ZREM nokey a',
      'ZRANGE z 0 -1 WITHSCORES',
      'ZADD f 0.1 a 1.5e-7 b 123456789012345678 c -0 d 3.0 e',
      'ZRANGE f 0 -1 WITHSCORES',
      'SET str v',
      'ZADD str 1 a',
      'ZSCORE str a',
      'ZINCRBY str 1 a',
    );
  });

  it('ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT', async () => {
    await t.same(
      'ZADD z 1 a 2 b 2 c 3 d',
      'ZRANK z a',
      'ZRANK z c',
      'ZREVRANK z c',
      'ZRANK z nomember',
      'ZRANK nokey a',
      'ZCOUNT z 2 3',
      'ZCOUNT z (2 3',
      'ZCOUNT z -inf +inf',
      'ZCOUNT z (1 (2',
      'ZCOUNT z 3 2',
      'ZCOUNT z x 2',
      'ZCOUNT z 2 (',
      'ZCOUNT nokey 0 1',
      'ZADD l 0 a 0 b 0 c 0 d 0 e',
      'ZLEXCOUNT l - +',
      'ZLEXCOUNT l [b (d',
      'ZLEXCOUNT l (a [c',
      'ZLEXCOUNT l + -',
      'ZLEXCOUNT l [c [b',
      'ZLEXCOUNT l a c',
      'ZLEXCOUNT l -a +',
      'ZLEXCOUNT nokey - +',
    );
  });

  it('ZRANGE by rank, score and lex, reversed, with LIMIT and WITHSCORES, and the legacy forms', async () => {
    await t.same(
      'ZADD z 1 a 2 b 3 c 4 d 5 e',
      'ZRANGE z 0 -1',
      'ZRANGE z 1 2 WITHSCORES',
      'ZRANGE z -2 -1 REV',
      'ZRANGE z 10 20',
      'ZRANGE z 2 (4 BYSCORE',
      'ZRANGE z (1 5 BYSCORE LIMIT 1 2 WITHSCORES',
      'ZRANGE z 5 1 BYSCORE REV',
      'ZRANGE z 5 1 BYSCORE REV LIMIT 1 1',
      'ZRANGE z -inf +inf BYSCORE LIMIT 2 -1',
      'ZRANGE z -inf +inf BYSCORE LIMIT -1 2',
      'ZRANGE z -inf +inf BYSCORE LIMIT 10 2',
      'ZRANGE z 0 -1 LIMIT 1 2',
      'ZRANGE z [a [c BYLEX',
      'ZRANGE z [c [a BYLEX REV',
      'ZRANGE z - + BYLEX WITHSCORES',
      'ZRANGE z - + BYLEX LIMIT 1 2',
      'ZRANGE z a b BYSCORE',
      'ZRANGE z a b BYLEX',
      'ZRANGE z 0 1 BYSCORE BYLEX',
      'ZRANGE z 0 1 REV REV',
      'ZRANGE z x 1',
      'ZRANGE nokey 0 -1',
      'ZREVRANGE z 0 1 WITHSCORES',
      'ZREVRANGE z 0 1 REV',
      'ZRANGEBYSCORE z 2 4',
      'ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 2',
      'ZRANGEBYSCORE z 2 4 REV',
      'ZREVRANGEBYSCORE z 4 2',
      'ZREVRANGEBYSCORE z +inf -inf LIMIT 0 1',
      'ZRANGEBYLEX z - [c',
      'ZREVRANGEBYLEX z [c -',
      'ZRANGEBYLEX z - + LIMIT 1 1',
      'ZRANGEBYLEX z - + WITHSCORES',
      ['ZRANGEBYSCORE', 'z', ' 2', '(3'],
      ['ZRANGEBYSCORE', 'z', '', '3'],
    );
  });

  it('ZRANGESTORE and ZREMRANGEBY*', async () => {
    await t.same(
      'ZADD z 1 a 2 b 3 c 4 d 5 e',
      'ZRANGESTORE d z 0 1',
      'ZRANGE d 0 -1 WITHSCORES',
      'ZRANGESTORE d z 2 4 BYSCORE REV',
      'ZRANGESTORE d z 5 2 BYSCORE REV',
      'ZRANGE d 0 -1 WITHSCORES',
      'ZRANGESTORE d z [b [c BYLEX',
      'ZRANGESTORE d z 10 20',
      'EXISTS d',
      'ZRANGESTORE d nokey 0 -1',
      'ZRANGESTORE d z 0 -1 WITHSCORES',
      'ZREMRANGEBYRANK z 0 0',
      'ZREMRANGEBYSCORE z (2 3',
      'ZREMRANGEBYLEX z [d [e',
      'ZRANGE z 0 -1',
      'ZREMRANGEBYRANK z 5 10',
      'ZREMRANGEBYSCORE z x 1',
      'ZREMRANGEBYLEX z x y',
      'ZREMRANGEBYRANK nokey 0 1',
      'ZREMRANGEBYRANK z 0 -1',
      'EXISTS z',
    );
  });

  it('ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD', async () => {
    await t.same(
      'ZADD a 1 x 2 y 3 z',
      'ZADD b 10 y 20 z 30 w',
      'SADD s y w',
      'ZUNION 2 a b WITHSCORES',
      'ZINTER 2 a b WITHSCORES',
      'ZDIFF 2 a b WITHSCORES',
      'ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES',
      'ZUNION 2 a b AGGREGATE MIN WITHSCORES',
      'ZINTER 2 a b AGGREGATE MAX WITHSCORES',
      'ZUNION 3 a b s WITHSCORES',
      'ZINTER 2 a s WITHSCORES',
      'ZUNION 2 a nokey',
      'ZINTER 2 a nokey',
      'ZDIFF 1 a WITHSCORES',
      'ZUNION 0 a',
      'ZUNION 3 a b',
      'ZUNION 2 a b WEIGHTS 1',
      'ZUNION 2 a b WEIGHTS 1 x',
      'ZUNION 2 a b AGGREGATE AVG',
      'ZDIFF 2 a b WEIGHTS 1 1',
      'ZUNIONSTORE d 2 a b',
      'ZRANGE d 0 -1 WITHSCORES',
      'OBJECT ENCODING d',
      'ZINTERSTORE d 2 a b WEIGHTS 1 -1',
      'ZRANGE d 0 -1 WITHSCORES',
      'ZDIFFSTORE d 2 a b',
      'ZRANGE d 0 -1 WITHSCORES',
      'ZINTERSTORE d 2 a nokey',
      'EXISTS d',
      'ZUNIONSTORE d 2 a b WITHSCORES',
      'ZINTERCARD 2 a b',
      'ZINTERCARD 2 a b LIMIT 1',
      'ZINTERCARD 2 a b LIMIT -1',
      'ZINTERCARD 2 a b WITHSCORES',
      'ZADD inf1 inf m',
      'ZADD inf2 -inf m',
      'ZUNION 2 inf1 inf2 WITHSCORES',
      'ZINTER 2 inf1 inf2 WEIGHTS 0 1 WITHSCORES',
      'SET str v',
      'ZUNION 2 a str',
      'ZUNIONSTORE d 1 str',
    );
  });

  it('ZPOPMIN, ZPOPMAX, ZMPOP and ZRANDMEMBER deterministic forms', async () => {
    await t.same(
      'ZADD z 1 a 2 b 3 c 4 d',
      'ZPOPMIN z',
      'ZPOPMAX z',
      'ZPOPMIN z 0',
      'ZPOPMIN z 10',
      'EXISTS z',
      'ZPOPMIN nokey',
      'ZPOPMAX nokey 2',
      'ZPOPMIN z -1',
      'ZPOPMIN z 1 2',
      'ZADD m 1 a 2 b 3 c',
      'ZMPOP 2 nokey m MIN',
      'ZMPOP 1 m MAX COUNT 5',
      'ZMPOP 1 m MIN',
      'ZMPOP 0 m MIN',
      'ZMPOP 1 m MIDDLE',
      'ZMPOP 1 m MIN COUNT 0',
      'ZADD r 1 a 2 b',
      'ZRANDMEMBER r 2',
      'ZRANDMEMBER r 5 WITHSCORES',
      'ZRANDMEMBER r 0',
      'ZRANDMEMBER nokey',
      'ZRANDMEMBER nokey 1',
      'ZRANDMEMBER r 1 FOO',
      'ZRANDMEMBER r x',
      'SET str v',
      'ZPOPMIN str',
      'ZRANDMEMBER str',
    );
  });

  it('encodings: listpack until limits, skiplist for good, stores re-evaluate', async () => {
    const many = ['ZADD', 'big'];
    for (let i = 0; i < 129; i++) many.push(String(i), `m${i}`);
    await t.same(
      'ZADD z 1 a',
      'OBJECT ENCODING z',
      `ZADD z 2 ${'x'.repeat(65)}`,
      'OBJECT ENCODING z',
      many,
      'OBJECT ENCODING big',
      'ZREMRANGEBYRANK big 0 100',
      'OBJECT ENCODING big',
      'ZUNIONSTORE u 1 big',
      'OBJECT ENCODING u',
      'ZRANGESTORE r big 0 -1',
      'OBJECT ENCODING r',
      'CONFIG SET zset-max-listpack-entries 0',
      'ZADD zero 1 a',
      'OBJECT ENCODING zero',
      'CONFIG SET zset-max-listpack-entries 128',
      'ZADD s 1 a',
      'SORT s',
      'OBJECT ENCODING s',
    );
  });

  it('ZSCAN returns a listpack whole and walks a skiplist completely', async () => {
    await t.same('ZADD z 1 a 2.5 b', 'ZSCAN z 0', 'ZSCAN z 0 MATCH b', 'ZSCAN nokey 0');
    const args = ['ZADD', 'big'];
    for (let i = 0; i < 300; i++) args.push(String(i / 10), `m${i}`);
    await t.a.send(args);
    const items = await t.a.scanAll((cursor) => ['ZSCAN', 'big', cursor, 'COUNT', '25']);
    const seen = new Map<string, string>();
    for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
    expect(seen.size).toBe(300);
    expect(seen.get('m1')).toBe('0.10000000000000001');
  });
});

describe('blocking sorted-set pops match Redis', () => {
  let ca: RespConnection;
  let cr: RespConnection;

  beforeAll(async () => {
    [ca, cr] = await t.connect();
  });

  it('serve at once, time out, and do not block in MULTI', async () => {
    await t.same(
      'ZADD z 1 a 2 b',
      'BZPOPMIN nokey z 0',
      'BZPOPMAX z 0',
      'BZPOPMIN nokey 0.02',
      'BZMPOP 0.02 1 nokey MIN',
      'ZADD y 1 a 2 b 3 c',
      'BZMPOP 0 1 y MAX COUNT 2',
      'BZPOPMIN y -1',
      'MULTI',
      'BZPOPMIN nokey 0',
      'EXEC',
    );
  });

  it('wake up on ZADD with the popped member', async () => {
    for (const blocking of [
      ['BZPOPMIN', 'k1', 'k2', '0'],
      ['BZPOPMAX', 'k2', '0'],
      ['BZMPOP', '0', '1', 'k2', 'MIN', 'COUNT', '3'],
    ]) {
      const pa = ca.send(blocking);
      const pr = cr.send(blocking);
      await t.blockedClients(1);
      await t.same('ZADD k2 1 a 2 b');
      const [ra, rr] = await Promise.all([pa, pr]);
      expect({ blocking, reply: ra.raw }).toEqual({ blocking, reply: rr.raw });
      await t.same('DEL k2');
    }
  });
});
