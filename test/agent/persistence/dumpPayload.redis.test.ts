/**
 * DUMP/RESTORE payloads against a real redis-server 7.0: we decode what DUMP gives, Redis RESTOREs what we encode,
 * our compact encodings are byte-identical to Redis's, and a bad payload is refused with the reply Redis gives.
 */

import { Crc64 } from '../../../agent/persistence/crc64';
import { decodeDumpPayload, encodeDumpPayload } from '../../../agent/persistence/dumpPayload';
import { RdbEncodeError, RdbError, restoreErrorReply } from '../../../agent/persistence/errors';
import type { RdbEntry, RdbValue } from '../../../agent/persistence/model';
import { ListpackBuilder } from '../../../agent/persistence/listpack';
import { canonical, generateDataset, loadIntoRedis, readRedisDataset } from './support/dataset';
import { startServer, type TestServer } from '../../helpers/servers';

const dataset = generateDataset({ seed: 99, nowMs: Date.now() }).filter((e) => e.db === 0);
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function withFooter(body: Buffer, version: number): Buffer {
  const v = Buffer.alloc(2);
  v.writeUInt16LE(version);
  const withVersion = Buffer.concat([body, v]);
  return Buffer.concat([withVersion, new Crc64().update(withVersion).toBufferLE()]);
}

/** Values Redis 7.0 (default limits) keeps in a deterministic compact encoding, so DUMP bytes must match ours. */
function deterministicEncoding(v: RdbValue): boolean {
  switch (v.type) {
    case 'string':
      return true;
    case 'list':
      return v.items.reduce((n, s) => n + s.length + 11, 0) < 4096;
    case 'hash':
      return v.entries.length <= 128 && v.entries.every(([f, x]) => f.length <= 64 && x.length <= 64);
    case 'set':
      return v.members.length <= 512 && v.members.every((m) => /^(0|-?[1-9]\d{0,18})$/.test(m));
    case 'zset':
      return v.entries.length <= 128 && v.entries.every(([m]) => m.length <= 64);
  }
}

async function restoreError(redis: TestServer, payload: Buffer): Promise<string> {
  try {
    await redis.client.restore('restore-target', 0, payload, 'REPLACE');
  } catch (err) {
    return `ERR ${(err as Error).message.replace(/^ERR /, '')}`;
  }
  return 'accepted';
}

function ourError(payload: Buffer): unknown {
  try {
    decodeDumpPayload(payload, { maxRdbVersion: 10 });
  } catch (err) {
    return err;
  }
  return null;
}

describe('DUMP payloads exchanged with redis-server 7.0', () => {
  let redis: TestServer;
  beforeAll(async () => {
    redis = await startServer({
      kind: 'redis',
      args: ['--rdbcompression', 'no', '--sanitize-dump-payload', 'yes'],
    });
    await loadIntoRedis(redis.client, dataset);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('decodes the DUMP of every value to what the server holds', async () => {
    for (const e of dataset) {
      const payload = (await redis.client.dumpBuffer(b(e.key))) as Buffer;
      const decoded = decodeDumpPayload(payload);
      expect(decoded.rdbVersion).toBe(10);
      const [got] = canonical([{ ...e, value: decoded.value }]);
      const [want] = canonical([e]);
      expect(got.value).toEqual(want.value);
    }
  });

  it('encodes compact values byte for byte as Redis does', async () => {
    let compared = 0;
    for (const e of dataset) {
      if (!deterministicEncoding(e.value)) continue;
      const theirs = (await redis.client.dumpBuffer(b(e.key))) as Buffer;
      expect({ key: e.key, hex: encodeDumpPayload(e.value, { compress: false }).toString('hex') }).toEqual({
        key: e.key,
        hex: theirs.toString('hex'),
      });
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('RESTOREs every encoded value (compressed and not) into the same dataset', async () => {
    for (const compress of [true, false]) {
      await redis.client.flushall();
      for (const e of dataset) {
        await redis.client.restore(
          b(e.key),
          e.expireAtMs ?? 0,
          encodeDumpPayload(e.value, { compress }),
          'ABSTTL',
        );
      }
      expect(canonical(await readRedisDataset(redis.client, [0]))).toEqual(canonical(dataset));
    }
    await redis.client.flushall();
    await loadIntoRedis(redis.client, dataset);
  });

  it('refuses bad payloads with the same reply as RESTORE, and accepts what RESTORE accepts', async () => {
    const good = encodeDumpPayload({ type: 'hash', entries: [['f', 'v']] });
    const body = good.subarray(0, good.length - 10);
    const flippedCrc = Buffer.from(good);
    flippedCrc[flippedCrc.length - 1] ^= 0xff;
    const corruptListpack = Buffer.from(body);
    corruptListpack[corruptListpack.length - 2] = 0x42; // the listpack's last backlen
    const emptyList = Buffer.from([18, 0]);
    const cases: Array<[string, Buffer]> = [
      ['wrong CRC', flippedCrc],
      ['version 11', withFooter(body, 11)],
      ['shorter than a footer', Buffer.from([0, 1, 2])],
      ['truncated body', withFooter(body.subarray(0, body.length - 1), 10)],
      ['unknown type', withFooter(Buffer.from([0x42, 0x01, 0x61]), 10)],
      ['corrupt listpack', withFooter(corruptListpack, 10)],
      ['empty collection', withFooter(emptyList, 10)],
      ['trailing bytes', withFooter(Buffer.concat([body, Buffer.from([0])]), 10)],
    ];
    for (const [name, payload] of cases) {
      const err = ourError(payload);
      if (err !== null)
        expect({ name, isRdbError: err instanceof RdbError }).toEqual({ name, isRdbError: true });
      const ours = err === null ? 'accepted' : restoreErrorReply(err);
      expect({ name, reply: ours }).toEqual({ name, reply: await restoreError(redis, payload) });
    }
  });

  it('decodes newer payloads (RDB 11 listpack sets) by default and refuses them when limited to version 10', () => {
    const lp = new ListpackBuilder();
    for (const m of ['a', 'b', '7']) lp.add(m);
    const blob = lp.finish();
    const body = Buffer.concat([Buffer.from([20, blob.length]), blob]);
    const payload = withFooter(body, 11);
    expect(decodeDumpPayload(payload)).toEqual({
      value: { type: 'set', members: ['a', 'b', '7'] },
      rdbVersion: 11,
    });
    expect(() => decodeDumpPayload(payload, { maxRdbVersion: 10 })).toThrow(
      expect.objectContaining({ code: 'DUMP_PAYLOAD_INVALID' }),
    );
  });

  it('refuses a stream payload from Redis naming the type', async () => {
    await redis.client.xadd('dump-stream', '*', 'f', 'v');
    const payload = (await redis.client.dumpBuffer('dump-stream')) as Buffer;
    await redis.client.del('dump-stream');
    expect(() => decodeDumpPayload(payload)).toThrow(
      expect.objectContaining({
        code: 'DUMP_BAD_FORMAT',
        message: expect.stringContaining('streams are not supported'),
      }),
    );
  });

  it('skips the checksum only when asked', () => {
    const payload = encodeDumpPayload({ type: 'string', value: 'hello' });
    payload[payload.length - 1] ^= 1;
    expect(() => decodeDumpPayload(payload)).toThrow(
      expect.objectContaining({ code: 'DUMP_PAYLOAD_INVALID' }),
    );
    expect(decodeDumpPayload(payload, { skipChecksum: true }).value).toEqual({
      type: 'string',
      value: 'hello',
    });
  });

  it('refuses to encode an empty collection or a NaN score (caller bugs)', () => {
    const empty: RdbEntry['value'] = { type: 'list', items: [] };
    expect(() => encodeDumpPayload(empty)).toThrow(RdbEncodeError);
    expect(() => encodeDumpPayload({ type: 'zset', entries: [['m', NaN]] })).toThrow(/NaN score/);
  });
});
