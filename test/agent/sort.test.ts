/**
 * SORT and SORT_RO compared with real Redis 7.0: numeric and ALPHA order, BY patterns (keys and hash fields,
 * constant patterns meaning "no sort"), GET patterns including '#', LIMIT, DESC, STORE.
 */
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

describe('SORT matches Redis', () => {
  it('sorts lists, sets and sorted sets numerically and alphabetically', async () => {
    await t.same(
      'RPUSH l 3 10 2 1.5 -4',
      'SORT l',
      'SORT l DESC',
      'SORT l ALPHA',
      'SORT l ALPHA DESC',
      'SORT l LIMIT 1 2',
      'SORT l LIMIT -1 2',
      'SORT l LIMIT 2 -1',
      'SORT l LIMIT 10 2',
      'SORT l LIMIT 0 0',
      'SORT l LIMIT x 1',
      'SADD s 5 3 9',
      'SORT s',
      'SADD w b c a',
      'SORT w ALPHA',
      'SORT w',
      'ZADD z 3 a 1 b 2 c',
      'SORT z ALPHA',
      'SORT nokey',
      'RPUSH bad 1 x 2',
      'SORT bad',
      'SORT bad ALPHA',
      'RPUSH eq 2 2 1 ab aa',
      'SORT eq ALPHA',
      'SET str v',
      'SORT str',
      'HSET h f v',
      'SORT h',
      'SORT l FOO',
      'SORT l LIMIT 1',
    );
  });

  it('BY and GET patterns, BY without a star, hash fields and #', async () => {
    await t.same(
      'RPUSH ids 1 2 3',
      'MSET w_1 30 w_2 10 w_3 20',
      'MSET n_1 one n_2 two n_3 three',
      'HSET o_1 f c',
      'HSET o_2 f a',
      'HSET o_3 f b',
      'SORT ids BY w_*',
      'SORT ids BY w_* DESC',
      'SORT ids BY w_* GET n_*',
      'SORT ids BY w_* GET # GET n_* GET nothing_*',
      'SORT ids BY o_*->f ALPHA',
      'SORT ids BY o_*->f ALPHA GET o_*->f',
      'SORT ids BY nosort',
      'SORT ids BY nosort DESC',
      'SORT ids BY nosort LIMIT 1 1',
      'SORT ids BY missing_*',
      'SORT ids BY n_*',
      'SORT ids BY n_* ALPHA',
      'SORT ids GET n_* LIMIT 0 2',
      'SORT ids GET w_*->f',
      'ZADD z 3 a 1 b 2 c',
      'SORT z BY nosort',
      'SORT z BY nosort DESC LIMIT 1 5',
    );
  });

  it('STORE writes a list, deletes the destination on empty results, SORT_RO refuses STORE', async () => {
    await t.same(
      'RPUSH l 3 1 2',
      'SORT l STORE dst',
      'LRANGE dst 0 -1',
      'TYPE dst',
      'SADD s c a b',
      'SORT s BY nosort STORE dst',
      'LRANGE dst 0 -1',
      'MSET n_1 one',
      'SORT l GET n_* STORE dst',
      'LRANGE dst 0 -1',
      'SORT nokey STORE dst',
      'EXISTS dst',
      'SORT_RO l',
      'SORT_RO l STORE dst',
      'SORT_RO l BY nosort GET #',
    );
  });
});
