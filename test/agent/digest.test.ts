/**
 * DEBUG DIGEST and DIGEST-VALUE equal real Redis's for the same dataset (every type, both encodings, expiries,
 * several databases), and differ when the data differs.
 */
import { datasetDigest, keyDigest } from '../../agent/keyspace/digest';
import { startInProcess } from './support/inProcess';
import { sideBySideSuite } from './support/sideBySide';

const t = sideBySideSuite();

/** A dataset touching every type and encoding. */
function datasetCommands(): string[][] {
  const cmds: string[][] = [
    ['SET', 'str', 'hello'],
    ['SET', 'int', '12345'],
    ['SET', 'vol', 'v', 'EX', '1000'],
    ['SET', 'bin', '\x00\xff\x80'],
    ['RPUSH', 'list', 'a', 'b', '3', 'a'],
    ['HSET', 'hash', 'f1', 'v1', 'f2', '2'],
    ['SADD', 'intset', '3', '1', '2'],
    ['SADD', 'set', 'x', 'y', 'z'],
    ['ZADD', 'zset', '1', 'a', '0.1', 'b', '-2.5', 'c', 'inf', 'd'],
    ['SELECT', '3'],
    ['SET', 'str', 'in db 3'],
    ['SELECT', '0'],
  ];
  const bigHash = ['HSET', 'bighash'];
  const bigSet = ['SADD', 'bigset'];
  const bigZset = ['ZADD', 'bigzset'];
  for (let i = 0; i < 200; i++) {
    bigHash.push(`field${i}`, `value${i}`);
    bigSet.push(`member${i}`);
    bigZset.push(String(i / 3), `m${i}`);
  }
  cmds.push(bigHash, bigSet, bigZset);
  return cmds;
}

describe('DEBUG DIGEST', () => {
  it('is 40 zeros for an empty dataset on both', async () => {
    await t.same('DEBUG DIGEST');
    expect((await t.a.call('DEBUG', 'DIGEST')).value).toBe('0'.repeat(40));
  });

  it('the keyspace digest equals Redis for a dataset of every type and encoding', async () => {
    const p = startInProcess();
    for (const c of datasetCommands()) {
      await t.r.send(c);
      p.run(c);
    }
    const redisDigest = (await t.r.call('DEBUG', 'DIGEST')).value;
    expect(datasetDigest(p.server.keyspace)).toBe(redisDigest);
    for (const key of [
      'str',
      'vol',
      'list',
      'hash',
      'intset',
      'set',
      'zset',
      'bighash',
      'bigset',
      'bigzset',
      'none',
    ]) {
      const [v] = (await t.r.call('DEBUG', 'DIGEST-VALUE', key)).value as string[];
      expect({ key, digest: keyDigest(p.server.keyspace.dbs[0], key) }).toEqual({ key, digest: v });
    }
  });

  it('the agent answers DEBUG DIGEST and DIGEST-VALUE like Redis', async () => {
    for (const c of datasetCommands()) await t.same(c);
    await t.same('DEBUG DIGEST', 'DEBUG DIGEST-VALUE list zset bigset nokey', 'DEBUG DIGEST-VALUE');
  });

  it('changes when a value, an order, a database or an expiry changes', () => {
    const p = startInProcess();
    p.run('RPUSH l a b');
    const base = datasetDigest(p.server.keyspace);
    p.run('RPUSH m x');
    const more = datasetDigest(p.server.keyspace);
    expect(more).not.toBe(base);
    p.run('DEL m');
    expect(datasetDigest(p.server.keyspace)).toBe(base);
    p.run('LSET l 0 b');
    p.run('LSET l 1 a');
    expect(datasetDigest(p.server.keyspace)).not.toBe(base);
    p.run('LSET l 0 a');
    p.run('LSET l 1 b');
    p.run('EXPIRE l 100');
    expect(datasetDigest(p.server.keyspace)).not.toBe(base);
    p.run('PERSIST l');
    p.run('MOVE l 1');
    expect(datasetDigest(p.server.keyspace)).not.toBe(base);
  });
});
