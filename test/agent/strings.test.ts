/**
 * String commands: every reply and error compared with real Redis 7.0 on the same command sequence.
 */
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

describe('string commands match Redis', () => {
  it('reads back values around the bounds of the slab that keeps short strings off the V8 heap', async () => {
    // keyspace/stringSlab.ts keeps strings of 16..1019 chars in slots; GET copies them from there.
    const lengths = [15, 16, 17, 100, 1019, 1020, 2000];
    const commands: string[] = [];
    for (const n of lengths) {
      const v = `v${n}:`.padEnd(n, 'abcdefghij');
      commands.push(`SET s${n} ${v}`, `GET s${n}`, `STRLEN s${n}`, `APPEND s${n} tail`, `GET s${n}`);
      commands.push(
        `SET s${n} ${v.slice(0, n - 1)}`,
        `GET s${n}`,
        `GETRANGE s${n} 3 20`,
        `DEL s${n}`,
        `GET s${n}`,
      );
    }
    await t.same('RPUSH list a', 'GET list', ...commands);
  });

  it('GET and SET with every option, including conflicts and bad expiry times', async () => {
    await t.same(
      'GET missing',
      'SET k v',
      'GET k',
      'SET k v2 NX',
      'SET k v3 XX',
      'GET k',
      'SET k2 v XX',
      'SET k v4 GET',
      'SET nokey v GET',
      'SET k v NX XX',
      'SET k v XX NX',
      'SET k v EX 10 PX 100',
      'SET k v EX 10 EX 20',
      'SET k v KEEPTTL EX 10',
      'SET k v EX 10 KEEPTTL',
      'SET k v EX',
      'SET k v EX abc',
      'SET k v EX 0',
      'SET k v PX -5',
      'SET k v EXAT 0',
      'SET k v EX 9223372036854775807',
      'SET k v EX abc FOO',
      'SET k v FOO',
      'SET k v ex 100',
      'TTL k',
      'SET k v2 KEEPTTL',
      'TTL k',
      'SET k v3',
      'TTL k',
      'SET k v PXAT 99999999999999',
      'PEXPIRETIME k',
      'SET k v EXAT 99999999999',
      'EXPIRETIME k',
      'LPUSH list a',
      'SET list v GET',
      'SET list v NX GET',
      'GET list',
      'SET k',
      'GET',
    );
  });

  it('SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX', async () => {
    await t.same(
      'SETNX a 1',
      'SETNX a 2',
      'GET a',
      'SETEX b 100 v',
      'TTL b',
      'SETEX b 0 v',
      'SETEX b -1 v',
      'SETEX b x v',
      'PSETEX c 100000 v',
      'TTL c',
      'PSETEX c 0 v',
      'GETSET a 3',
      'GETSET nokey 1',
      'GETDEL a',
      'GETDEL a',
      'GETEX b',
      'GETEX nokey EX 10',
      'GETEX b PERSIST',
      'TTL b',
      'GETEX b EX 50',
      'TTL b',
      'GETEX b PX 50000',
      'TTL b',
      'GETEX b EXAT 1',
      'EXISTS b',
      'SET b v',
      'GETEX b EX 10 PERSIST',
      'GETEX b PERSIST EX 10',
      'GETEX b EX 0',
      'GETEX b FOO',
      'GETEX b EX',
      'RPUSH l a',
      'GETEX l',
      'GETDEL l',
      'GETSET l v',
    );
  });

  it('MGET, MSET, MSETNX, APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE', async () => {
    await t.same(
      'MSET a 1 b 2 c 3',
      'MSET a 1 b',
      'MGET a b c nokey',
      'MSETNX a 1 d 4',
      'MSETNX d 4 e 5',
      'MGET d e',
      'RPUSH l x',
      'MGET a l',
      'APPEND a 23',
      'APPEND new hello',
      'APPEND l x',
      'STRLEN a',
      'STRLEN nokey',
      'STRLEN l',
      'SET s Hello,World',
      'GETRANGE s 0 4',
      'GETRANGE s -5 -1',
      'GETRANGE s 5 2',
      'GETRANGE s -1 -5',
      'GETRANGE s 0 100',
      'GETRANGE s -100 2',
      'GETRANGE nokey 0 1',
      'GETRANGE s a 1',
      'SUBSTR s 1 3',
      'SETRANGE s 6 Redis',
      'GET s',
      'SETRANGE s 20 x',
      'GET s',
      'SETRANGE s -1 x',
      'SETRANGE fresh 3 ab',
      'GET fresh',
      ['SETRANGE', 'fresh2', '0', ''],
      ['SETRANGE', 'fresh2', '5', ''],
      'EXISTS fresh2',
      ['SETRANGE', 's', '2', ''],
      'SETRANGE l 0 x',
      'SETRANGE s 536870912 x',
    );
  });

  it('INCR family with overflow, non-integers and TTL kept', async () => {
    await t.same(
      'INCR n',
      'INCRBY n 10',
      'DECR n',
      'DECRBY n 5',
      'INCRBY n -3',
      'INCRBY n x',
      'INCRBY n 1.5',
      'SET big 9223372036854775806',
      'INCR big',
      'INCR big',
      'DECRBY big -1',
      'SET small -9223372036854775807',
      'DECR small',
      'DECR small',
      'DECRBY small -9223372036854775808',
      'DECRBY n -9223372036854775808',
      'INCRBY n 9223372036854775808',
      'SET s abc',
      'INCR s',
      ['SET', 'sp', ' 1'],
      'INCR sp',
      'SET lead 01',
      'INCR lead',
      'SET e 100 EX 100',
      'INCR e',
      'TTL e',
      'RPUSH l a',
      'INCR l',
      'DECRBY l 1',
      'SET huge 12345678901234567890',
      'INCR huge',
    );
  });

  it('INCRBYFLOAT prints long-double results like Redis', async () => {
    await t.same(
      'INCRBYFLOAT f 0.1',
      'INCRBYFLOAT f 0.2',
      'INCRBYFLOAT f 1e300',
      'INCRBYFLOAT g 5.0e3',
      'INCRBYFLOAT g 0x10',
      'INCRBYFLOAT g -5016',
      'INCRBYFLOAT g 3.14159265358979323846',
      'INCRBYFLOAT g 1e4000',
      'INCRBYFLOAT g 1e5000',
      'INCRBYFLOAT g inf',
      'INCRBYFLOAT g nan',
      'INCRBYFLOAT g abc',
      ['INCRBYFLOAT', 'g', ' 1'],
      'SET s abc',
      'INCRBYFLOAT s 1',
      'SET t 10.50',
      'INCRBYFLOAT t 0.5',
      'INCRBYFLOAT t -11',
      'INCRBYFLOAT t 1',
      'SET z 1 EX 100',
      'INCRBYFLOAT z 1',
      'TTL z',
      'RPUSH l a',
      'INCRBYFLOAT l 1',
    );
  });

  it('OBJECT ENCODING of strings follows Redis (int, embstr, raw, APPEND, INCRBYFLOAT)', async () => {
    const long = 'x'.repeat(45);
    await t.same(
      'SET a 123',
      'OBJECT ENCODING a',
      'SET a -9223372036854775808',
      'OBJECT ENCODING a',
      'SET a 9223372036854775808',
      'OBJECT ENCODING a',
      'SET a abc',
      'OBJECT ENCODING a',
      `SET a ${long}`,
      'OBJECT ENCODING a',
      'SET a x',
      'APPEND a y',
      'OBJECT ENCODING a',
      'SET a 1',
      'APPEND a 2',
      'OBJECT ENCODING a',
      'INCR a',
      'OBJECT ENCODING a',
      'SET f 1.5',
      'INCRBYFLOAT f 1.5',
      'OBJECT ENCODING f',
      'SETRANGE r 0 ab',
      'OBJECT ENCODING r',
      'SET r 5',
      'OBJECT REFCOUNT r',
      'SET r 50000',
      'OBJECT REFCOUNT r',
      'APPEND n 7',
      'OBJECT ENCODING n',
      'RENAME a a2',
      'OBJECT ENCODING a2',
    );
  });

  it('binary-safe keys and values', async () => {
    const bin = '\x00\xff\r\n\x80abc';
    await t.same(
      ['SET', bin, bin],
      ['GET', bin],
      ['STRLEN', bin],
      ['APPEND', bin, '\x00'],
      ['GETRANGE', bin, '0', '2'],
    );
  });

  it('LCS with LEN, IDX, MINMATCHLEN and WITHMATCHLEN', async () => {
    await t.same(
      'MSET a ohmytext b mynewtext',
      'LCS a b',
      'LCS a b LEN',
      'LCS a b IDX',
      'LCS a b IDX MINMATCHLEN 4',
      'LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN',
      'LCS a b IDX LEN',
      'LCS a nokey',
      'LCS a b FOO',
      'RPUSH l x',
      'LCS a l',
    );
  });
});
