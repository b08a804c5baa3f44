/**
 * Keyspace notifications fired by the data-type commands, in order, compared with real Redis 7.0: a subscriber
 * to every keyevent collects what each server publishes while the same commands run on both.
 */
import { waitFor } from '../helpers/waitFor';
import type { RespConnection, RespValue } from './support/respConnection';
import { startSideBySide, type SideBySide } from './support/sideBySide';

let t: SideBySide;
let subA: RespConnection;
let subR: RespConnection;
const seenA: string[] = [];
const seenR: string[] = [];

/** Reads published messages forever (each `send` of a no-op keeps the parser fed). */
function collect(conn: RespConnection, into: string[]): void {
  const pump = (): void => {
    conn
      .readPush()
      .then((v: RespValue) => {
        const msg = v as string[];
        if (msg[0] === 'pmessage') into.push(`${msg[2].replace(/^__keyevent@\d+__:/, '')} ${msg[3]}`);
        pump();
      })
      .catch(() => undefined);
  };
  pump();
}

beforeAll(async () => {
  t = await startSideBySide();
  await t.same('CONFIG SET notify-keyspace-events KEA');
  [subA, subR] = await t.connect();
  await subA.call('PSUBSCRIBE', '__keyevent@*__:*');
  await subR.call('PSUBSCRIBE', '__keyevent@*__:*');
  collect(subA, seenA);
  collect(subR, seenR);
});
afterAll(async () => {
  await t.stop();
});

async function eventsOf(commands: string[]): Promise<void> {
  seenA.length = 0;
  seenR.length = 0;
  for (const c of commands) await t.same(c);
  await t.same('SET __marker__ 1');
  await waitFor(() => seenA.includes('set __marker__') && seenR.includes('set __marker__'), {
    description: 'marker event on both servers',
  });
  expect(seenA).toEqual(seenR);
}

describe('keyspace events match Redis', () => {
  it('for strings and generic key commands', async () => {
    await eventsOf([
      'SET a 1',
      'SET a 2 EX 100',
      'INCR n',
      'INCRBYFLOAT n 1.5',
      'APPEND s x',
      'SETRANGE s 3 y',
      'GETDEL s',
      'GETEX a PERSIST',
      'EXPIRE a 100',
      'PERSIST a',
      'RENAME a b',
      'COPY b c',
      'MOVE c 1',
      'EXPIRE b -1',
      'MSET x 1 y 2',
      'DEL x y nokey',
    ]);
  });

  it('for lists, hashes and sets', async () => {
    await eventsOf([
      'RPUSH l a b c',
      'LPUSH l z',
      'LSET l 0 y',
      'LINSERT l AFTER a q',
      'LREM l 1 q',
      'LTRIM l 0 1',
      'LPOP l',
      'RPOP l',
      'RPUSH src 1 2',
      'LMOVE src dst LEFT RIGHT',
      'RPOPLPUSH src dst',
      'HSET h f v g w',
      'HINCRBY h n 1',
      'HINCRBYFLOAT h n 1.5',
      'HDEL h f g n',
      'SADD s a b c',
      'SREM s a',
      'SMOVE s t b',
      'SINTERSTORE u s t',
      'SUNIONSTORE u s t',
      'SDIFFSTORE u s nokey',
      'SPOP s',
    ]);
  });

  it('for sorted sets and SORT', async () => {
    await eventsOf([
      'ZADD z 1 a 2 b 3 c 4 d',
      'ZINCRBY z 1 a',
      'ZREM z a',
      'ZREMRANGEBYSCORE z 0 2',
      'ZADD z 5 e 6 f',
      'ZREMRANGEBYRANK z 0 0',
      'ZREMRANGEBYLEX z - +',
      'ZADD y 1 a 2 b',
      'ZUNIONSTORE u 1 y',
      'ZINTERSTORE u 1 y',
      'ZDIFFSTORE u 1 y',
      'ZRANGESTORE r y 0 -1',
      'ZPOPMIN y',
      'ZPOPMAX y',
      'RPUSH l 3 1 2',
      'SORT l STORE sorted',
    ]);
  });
});
