/**
 * The replication stream's building blocks without a network: the backlog ring buffer against a plain byte
 * array, the full-sync buffer blocks, and the stream reader fed every fixture whole, byte by byte and
 * in random splits, plus a bounded fuzz run (it must report exact command sizes and forward exactly the bytes
 * of completed commands, and refuse garbage with StreamProtocolError, never anything else).
 */
import { ReplicationBacklog } from '../../../agent/replication/backlog';
import { BLOCK_BYTES, ByteBlocks } from '../../../agent/replication/byteBlocks';
import { encodeCommand } from '../../../agent/resp/commandEncoder';
import { StreamProtocolError, StreamReader } from '../../../agent/replication/streamReader';
import { prng } from '../../helpers/prng';

describe('ReplicationBacklog', () => {
  it('holds exactly the newest bytes of the stream under random appends, with Redis offsets', () => {
    const rand = prng(7);
    const capacity = 1000;
    const backlog = new ReplicationBacklog(capacity, 500);
    let all = Buffer.alloc(0);
    for (let step = 0; step < 2000; step++) {
      const n = Math.floor(rand() * (rand() < 0.05 ? 2500 : 120));
      const data = Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
      backlog.append(data);
      all = Buffer.concat([all, data]).subarray(-5000);
      const master = backlog.masterOffset;
      expect(backlog.historyBytes).toBe(Math.min(capacity, backlog.masterOffset - 500));
      expect(backlog.firstByteOffset).toBe(master - backlog.historyBytes + 1);
      // Any offset in the window returns the tail of the stream from there.
      const from = backlog.firstByteOffset + Math.floor(rand() * (backlog.historyBytes + 1));
      const got = Buffer.concat(backlog.readFrom(from));
      expect(got.equals(all.subarray(all.length - (master + 1 - from)))).toBe(true);
    }
  });

  it('serves the offset right after the last byte (nothing to send) but not one before the window', () => {
    const backlog = new ReplicationBacklog(10, 0);
    backlog.append(Buffer.from('0123456789abcdef'));
    expect(backlog.masterOffset).toBe(16);
    expect(backlog.firstByteOffset).toBe(7);
    expect(backlog.canServeFrom(17)).toBe(true);
    expect(backlog.readFrom(17)).toEqual([]);
    expect(backlog.canServeFrom(18)).toBe(false);
    expect(backlog.canServeFrom(6)).toBe(false);
    expect(Buffer.concat(backlog.readFrom(7)).toString()).toBe('6789abcdef');
  });

  it('keeps the newest history when resized smaller or larger', () => {
    const backlog = new ReplicationBacklog(10, 0);
    backlog.append(Buffer.from('abcdefghijkl'));
    backlog.resize(4);
    expect(Buffer.concat(backlog.readFrom(backlog.firstByteOffset)).toString()).toBe('ijkl');
    backlog.resize(8);
    backlog.append(Buffer.from('mn'));
    expect(Buffer.concat(backlog.readFrom(backlog.firstByteOffset)).toString()).toBe('ijklmn');
    expect(backlog.masterOffset).toBe(14);
  });
});

describe('ByteBlocks', () => {
  it('returns exactly the bytes appended, in order, and views taken earlier never change', () => {
    const rand = prng(3);
    const blocks = new ByteBlocks();
    const all: Buffer[] = [];
    let snapshot: { views: Buffer[]; copy: Buffer } | undefined;
    for (let i = 0; i < 3000; i++) {
      const n = rand() < 0.01 ? BLOCK_BYTES + 17 : Math.floor(rand() * 400);
      const data = Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
      blocks.append(data);
      all.push(data);
      if (i === 1500) {
        const views = blocks.views();
        snapshot = { views, copy: Buffer.from(Buffer.concat(views)) };
      }
    }
    const expected = Buffer.concat(all);
    expect(blocks.bytes).toBe(expected.length);
    expect(Buffer.concat(blocks.views()).equals(expected)).toBe(true);
    expect(Buffer.concat(snapshot!.views).equals(snapshot!.copy)).toBe(true);
    expect(blocks.views().length).toBeLessThan(all.length / 10);
  });
});

/** Feeds `input` in the given pieces; returns the commands, their sizes and the forwarded bytes. */
function readAll(pieces: Buffer[]): { commands: string[][]; sizes: number[]; forwarded: Buffer } {
  const reader = new StreamReader();
  const commands: string[][] = [];
  const sizes: number[] = [];
  const forwarded: Buffer[] = [];
  for (const p of pieces) {
    reader.feed(p, (argv, bytes) => {
      commands.push(argv);
      sizes.push(bytes);
    });
    forwarded.push(...reader.takeCompleted());
  }
  return { commands, sizes, forwarded: Buffer.concat(forwarded) };
}

function splitRandomly(buf: Buffer, rand: () => number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const n = 1 + Math.floor(rand() * Math.min(buf.length - at, rand() < 0.5 ? 7 : 300));
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

const FIXTURES: string[][][] = [
  [['PING']],
  [
    ['SELECT', '0'],
    ['SET', 'k', 'v'],
    ['REPLCONF', 'GETACK', '*'],
  ],
  [['SET', 'empty', '']],
  [['SET', 'crlf\r\n', 'a\r\nb'], ['MULTI'], ['INCR', 'x'], ['EXEC']],
  [
    ['SET', 'big', 'x'.repeat(200_000)],
    ['DEL', 'big'],
  ],
  [['HSET', 'h', ...Array.from({ length: 300 }, (_, i) => `f${i}`)]],
];

describe('StreamReader', () => {
  for (const [n, fixture] of FIXTURES.entries()) {
    const bytes = Buffer.from(fixture.map((argv) => encodeCommand(argv)).join(''), 'latin1');
    const sizes = fixture.map((argv) => Buffer.byteLength(encodeCommand(argv), 'latin1'));

    it(`reads fixture ${n} whole, byte by byte and in random splits with exact sizes`, () => {
      const whole = readAll([bytes]);
      expect(whole.commands).toEqual(fixture);
      expect(whole.sizes).toEqual(sizes);
      expect(whole.forwarded.equals(bytes)).toBe(true);
      if (bytes.length < 10_000) {
        const single = readAll([...bytes].map((b) => Buffer.from([b])));
        expect(single.commands).toEqual(fixture);
        expect(single.sizes).toEqual(sizes);
        expect(single.forwarded.equals(bytes)).toBe(true);
      }
      const rand = prng(n + 1);
      for (let round = 0; round < 20; round++) {
        const split = readAll(splitRandomly(bytes, rand));
        expect(split.commands).toEqual(fixture);
        expect(split.sizes).toEqual(sizes);
        expect(split.forwarded.equals(bytes)).toBe(true);
      }
    });
  }

  it('forwards nothing of a command until it is complete', () => {
    const reader = new StreamReader();
    const bytes = Buffer.from(encodeCommand(['SET', 'a', 'b']), 'latin1');
    reader.feed(bytes.subarray(0, 10), () => undefined);
    expect(reader.takeCompleted()).toEqual([]);
    expect(reader.pendingBytes).toBe(10);
    let size = 0;
    reader.feed(bytes.subarray(10), (_argv, n) => (size = n));
    expect(size).toBe(bytes.length);
    expect(Buffer.concat(reader.takeCompleted()).equals(bytes)).toBe(true);
    expect(reader.pendingBytes).toBe(0);
  });

  it('refuses non-multibulk input and bad lengths with a protocol error', () => {
    for (const bad of [
      'GET x\r\n',
      '*1\r\n:3\r\n',
      '*1\r\n$-5\r\n',
      '*x\r\n',
      '*1\r\n$3\r\nabc\r\n+OK\r\n',
    ]) {
      expect(() => readAll([Buffer.from(bad)])).toThrow(StreamProtocolError);
    }
  });

  it('survives a bounded fuzz run: only commands or StreamProtocolError, sizes summing to the bytes read', () => {
    const rand = prng(99);
    const alphabet = ['*', '$', '1', '2', '3', '\r', '\n', 'a', '-', '0'];
    for (let round = 0; round < 3000; round++) {
      let text = '';
      const len = Math.floor(rand() * 40);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      // Half of the inputs start with a valid command so that deeper states get exercised.
      if (rand() < 0.5) text = encodeCommand(['SET', 'k', 'v']) + text;
      const input = Buffer.from(text, 'latin1');
      const reader = new StreamReader();
      let total = 0;
      try {
        for (const piece of splitRandomly(input, rand)) {
          reader.feed(piece, (_argv, n) => (total += n));
        }
      } catch (err) {
        expect(err).toBeInstanceOf(StreamProtocolError);
        continue;
      }
      expect(total + reader.pendingBytes).toBe(input.length);
      expect(Buffer.concat(reader.takeCompleted()).length).toBe(total);
    }
  });
});
