/**
 * Generic key commands compared with real Redis 7.0, plus behaviour that cannot be compared reply for reply:
 * lazy expiry, SCAN's guarantee under concurrent changes, OBJECT IDLETIME.
 */
import { waitFor } from '../helpers/waitFor';
import type { RespValue } from './support/respConnection';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

describe('key commands match Redis', () => {
  it('DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS, DBSIZE, RANDOMKEY', async () => {
    await t.same(
      'RANDOMKEY',
      'MSET a 1 b 2 c 3',
      'RPUSH l x',
      'HSET h f v',
      'SADD s m',
      'ZADD z 1 m',
      'TYPE a',
      'TYPE l',
      'TYPE h',
      'TYPE s',
      'TYPE z',
      'TYPE nokey',
      'EXISTS a b nokey a',
      'TOUCH a l nokey',
      'DBSIZE',
      { args: 'KEYS *', compare: 'sorted' },
      { args: 'KEYS ?', compare: 'sorted' },
      { args: 'KEYS [ab]', compare: 'sorted' },
      { args: 'KEYS [^ab]', compare: 'sorted' },
      { args: 'KEYS nomatch*', compare: 'sorted' },
      'DEL a b nokey',
      'UNLINK c l',
      'DEL',
      'DBSIZE',
      'DEL h s',
      'RANDOMKEY',
    );
  });

  it('KEYS glob patterns with ranges, escapes and classes', async () => {
    await t.same('MSET hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 h*llo 6 h[llo 7 a-b 8');
    for (const p of [
      'h?llo',
      'h*llo',
      'h[ae]llo',
      'h[^e]llo',
      'h[a-b]llo',
      'h[b-a]llo',
      'h\\*llo',
      'h[',
      'h[l',
      '*-*',
      'h[\\[]llo',
      'H*LLO',
    ]) {
      await t.same({ args: ['KEYS', p], compare: 'sorted' });
    }
  });

  it('RENAME, RENAMENX, COPY, MOVE, SWAPDB and SELECT', async () => {
    await t.same(
      'SET a 1 EX 100',
      'RENAME a b',
      'TTL b',
      'EXISTS a',
      'RENAME nokey x',
      'RENAME b b',
      'RENAMENX b b',
      'SET c 3',
      'RENAMENX b c',
      'RENAMENX b d',
      'RENAME d c',
      'GET c',
      'RPUSH l 1 2 3',
      'COPY l l2',
      'LRANGE l2 0 -1',
      'COPY l l2',
      'COPY l l2 REPLACE',
      'COPY l l DB 0',
      'COPY l l DB 1',
      'COPY l l DB 99',
      'COPY l l DB x',
      'COPY l x FOO',
      'COPY nokey x',
      'SELECT 1',
      'LRANGE l 0 -1',
      'SELECT 0',
      'MOVE c 1',
      'MOVE c 1',
      'MOVE l 0',
      'MOVE nokey 1',
      'MOVE l 16',
      'MOVE l abc',
      'SWAPDB 0 1',
      'GET c',
      'SWAPDB 0 16',
      'SWAPDB x 1',
      'SWAPDB 1 y',
      'SWAPDB 0 1',
      'SELECT 16',
      'SELECT x',
      'DBSIZE',
    );
  });

  it('EXPIRE family with NX, XX, GT, LT, past times, and the TTL family', async () => {
    await t.same(
      'SET k v',
      'TTL k',
      'PTTL k',
      'EXPIRETIME k',
      'PEXPIRETIME k',
      'TTL nokey',
      'PTTL nokey',
      'EXPIRETIME nokey',
      'EXPIRE nokey 10',
      'EXPIRE k 100 XX',
      'EXPIRE k 100 GT',
      'EXPIRE k 100 LT',
      'TTL k',
      'EXPIRE k 50 NX',
      'EXPIRE k 200 GT',
      'TTL k',
      'EXPIRE k 150 GT',
      'EXPIRE k 150 LT',
      'TTL k',
      'EXPIRE k 300 LT',
      'EXPIRE k 10 NX XX',
      'EXPIRE k 10 GT LT',
      'EXPIRE k 10 NX GT',
      'EXPIRE k 10 FOO',
      'EXPIRE k abc',
      'EXPIRE k 9223372036854775807',
      'PEXPIRE k 9223372036854775807',
      'EXPIREAT k 99999999999',
      'EXPIRETIME k',
      'PEXPIREAT k 99999999999000',
      'PEXPIRETIME k',
      'PERSIST k',
      'PERSIST k',
      'PERSIST nokey',
      'TTL k',
      'EXPIRE k -1',
      'EXISTS k',
      'SET k v',
      'EXPIREAT k 1',
      'EXISTS k',
      'SET k v',
      'PEXPIRE k 0',
      'EXISTS k',
    );
  });

  it('OBJECT subcommands and errors', async () => {
    await t.same(
      'SET a 1',
      'OBJECT ENCODING a',
      'OBJECT ENCODING nokey',
      'OBJECT REFCOUNT a',
      'OBJECT FREQ a',
      'OBJECT HELP',
      'OBJECT FOO a',
      'OBJECT',
      'OBJECT ENCODING',
    );
  });

  it('FLUSHDB and FLUSHALL with SYNC and ASYNC', async () => {
    await t.same(
      'SET a 1',
      'SELECT 2',
      'SET b 2',
      'FLUSHDB ASYNC',
      'DBSIZE',
      'SELECT 0',
      'DBSIZE',
      'FLUSHDB SYNC',
      'FLUSHDB FOO',
      'FLUSHDB SYNC ASYNC',
      'SET c 3',
      'FLUSHALL SYNC',
      'DBSIZE',
      'FLUSHALL BAR',
    );
  });

  it('wrong arity errors use the command name', async () => {
    await t.same('EXPIRE k', 'TTL', 'RENAME a', 'KEYS', 'DBSIZE x', 'SWAPDB 1', 'MOVE a', 'TYPE', 'PERSIST');
  });
});

describe('expiry', () => {
  it('hides and deletes a key whose TTL passed, on access', async () => {
    await t.a.call('SET', 'short', 'v', 'PX', '30');
    await waitFor(async () => (await t.a.call('GET', 'short')).value === null, {
      description: 'key expired',
    });
    expect((await t.a.call('EXISTS', 'short')).value).toBe(0);
    expect((await t.a.call('TTL', 'short')).value).toBe(-2);
  });

  it('reclaims expired keys nobody touches (active expiry cycle)', async () => {
    const args = ['MSET'];
    for (let i = 0; i < 500; i++) args.push(`vol:${i}`, 'v');
    await t.a.send(args);
    await t.a.call('SET', 'keep', 'v');
    for (let i = 0; i < 500; i++) await t.a.call('PEXPIRE', `vol:${i}`, '20');
    await waitFor(async () => (await t.a.call('DBSIZE')).value === 1, {
      timeoutMs: 5000,
      description: 'expired keys reclaimed without access',
    });
    expect((await t.a.call('GET', 'keep')).value).toBe('v');
  });
});

describe('DEBUG SET-ACTIVE-EXPIRE', () => {
  it('stops and restarts the active expiry cycle', async () => {
    const serverMs = async (): Promise<number> => {
      const [sec, usec] = (await t.a.call('TIME')).value as [string, string];
      return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    };
    expect((await t.a.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0')).value).toBe('OK');
    for (let i = 0; i < 50; i++) await t.a.call('SET', `idle:${i}`, 'v', 'PX', '10');
    const start = await serverMs();
    await waitFor(async () => (await serverMs()) - start > 300, {
      description: 'server time to pass 300 ms',
    });
    expect((await t.a.call('DBSIZE')).value).toBe(50);
    await t.a.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    await waitFor(async () => (await t.a.call('DBSIZE')).value === 0, { description: 'keys reclaimed' });
  });
});

describe('SCAN', () => {
  it('returns every key present throughout an iteration despite concurrent inserts and deletes', async () => {
    const stable: string[] = [];
    const args = ['MSET'];
    for (let i = 0; i < 2000; i++) {
      stable.push(`stable:${i}`);
      args.push(`stable:${i}`, 'v', `volatile:${i}`, 'v');
    }
    await t.a.send(args);
    const seen = new Set<string>();
    let cursor = '0';
    let round = 0;
    do {
      const reply = (await t.a.call('SCAN', cursor, 'COUNT', '50')).value as [string, string[]];
      cursor = reply[0];
      for (const k of reply[1]) seen.add(k);
      // Churn between calls: delete some volatile keys, add new ones.
      await t.a.call('DEL', `volatile:${round * 7}`, `volatile:${round * 7 + 1}`);
      await t.a.call('SET', `added:${round}`, 'v');
      round++;
    } while (cursor !== '0');
    for (const k of stable) expect(seen.has(k)).toBe(true);
    expect(round).toBeGreaterThan(10);
  });

  it('filters by MATCH and TYPE, and rejects bad cursors and options like Redis', async () => {
    await t.same('MSET a1 1 a2 2 b1 3', 'RPUSH la x', 'HSET ha f v');
    const full = async (extra: string[]): Promise<string[]> =>
      (await t.a.scanAll((cursor) => ['SCAN', cursor, ...extra])).sort();
    expect(await full(['MATCH', 'a*'])).toEqual(['a1', 'a2']);
    expect(await full(['TYPE', 'list'])).toEqual(['la']);
    expect(await full(['TYPE', 'STRING', 'COUNT', '1'])).toEqual(['a1', 'a2', 'b1']);
    expect(await full(['TYPE', 'nosuchtype'])).toEqual([]);
    await t.same(
      'SCAN x',
      'SCAN -x',
      'SCAN 0 COUNT 0',
      'SCAN 0 COUNT x',
      'SCAN 0 MATCH',
      'SCAN 0 FOO bar',
      'SCAN 18446744073709551616',
      'HSCAN ha 0 TYPE hash',
      'HSCAN nokey 0',
      'HSCAN la 0',
      'SSCAN ha 0',
      'ZSCAN ha 0',
    );
  });

  it('an unknown cursor restarts the iteration instead of skipping keys', async () => {
    await t.a.call('MSET', 'k1', '1', 'k2', '2', 'k3', '3');
    const keys: string[] = [];
    let cursor = '123456789';
    do {
      const r = (await t.a.send(['SCAN', cursor, 'COUNT', '1'])).value as [string, string[]];
      cursor = r[0];
      keys.push(...r[1]);
    } while (cursor !== '0');
    expect(keys.sort()).toEqual(['k1', 'k2', 'k3']);
  });
});

describe('OBJECT FREQ', () => {
  it('follows the LFU counter when an LFU policy is selected', async () => {
    await t.same(
      'CONFIG SET maxmemory-policy allkeys-lfu',
      'SET f v',
      'OBJECT FREQ f',
      'GET f',
      'OBJECT FREQ f',
      'OBJECT IDLETIME f',
      'CONFIG SET maxmemory-policy noeviction',
    );
  });
});

describe('OBJECT IDLETIME', () => {
  it('reports seconds since the last access', async () => {
    await t.a.call('SET', 'idle', 'v');
    const v: RespValue = (await t.a.call('OBJECT', 'IDLETIME', 'idle')).value;
    expect(v).toBe(0);
  });
});
