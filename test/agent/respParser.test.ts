/**
 * The request parser on its own: every fixture fed whole and byte by byte must give the same commands (and the
 * same error), and a bounded fuzz run of random splits and random garbage must never throw anything but a
 * ProtocolError nor lose a command.
 */
import {
  DEFAULT_RESP_LIMITS,
  ProtocolError,
  RequestParser,
  splitInlineArgs,
  type RespLimits,
} from '../../agent/resp/parser';

interface Outcome {
  commands: string[][];
  error?: string;
}

function parseAll(chunks: Buffer[], limits: RespLimits = DEFAULT_RESP_LIMITS, authenticated = true): Outcome {
  const parser = new RequestParser(limits);
  parser.authenticated = authenticated;
  const commands: string[][] = [];
  try {
    for (const chunk of chunks) parser.feed(chunk, (argv) => void commands.push(argv));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { commands, error: err.reply };
  }
  return { commands };
}

function whole(input: Buffer | string, limits?: RespLimits, authenticated?: boolean): Outcome {
  return parseAll([Buffer.from(input as string, 'latin1')], limits, authenticated);
}

function byteByByte(input: Buffer | string, limits?: RespLimits, authenticated?: boolean): Outcome {
  const buf = Buffer.from(input as string, 'latin1');
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) chunks.push(buf.subarray(i, i + 1));
  return parseAll(chunks, limits, authenticated);
}

function mb(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('');
}

const big = 'x'.repeat(100_000);

/** [input, expected commands, expected error] */
const FIXTURES: Array<[string, string[][], string?]> = [
  [mb('PING'), [['PING']]],
  [
    mb('SET', 'k', 'v') + mb('GET', 'k'),
    [
      ['SET', 'k', 'v'],
      ['GET', 'k'],
    ],
  ],
  [mb('SET', 'bin', '\x00\r\n\xff'), [['SET', 'bin', '\x00\r\n\xff']]],
  [mb('SET', 'empty', ''), [['SET', 'empty', '']]],
  [mb('SET', 'big', big), [['SET', 'big', big]]],
  ['*0\r\n*-1\r\n' + mb('PING'), [['PING']]],
  ['PING\r\n', [['PING']]],
  ['PING\n', [['PING']]],
  ['\r\n\r\n  \r\nPING\r\n', [['PING']]],
  ['set "a b" \'c d\'\r\n', [['set', 'a b', 'c d']]],
  ['set "\\x41\\n\\"" x\r\n', [['set', 'A\n"', 'x']]],
  ["set 'it\\'s' x\r\n", [['set', "it's", 'x']]],
  ['PING\rPING\r\n', [['PING', 'PING']]],
  [mb('PING') + '*1\r\n$4\r\nPINGxx' + mb('PING'), [['PING'], ['PING'], ['PING']]],
  ['*1\r\n$4\r\nPING\r\n*1\rx$4\r\nPING\r\n', [['PING'], ['PING']]],
  ['*abc\r\n', [], 'ERR Protocol error: invalid multibulk length'],
  ['*+1\r\n', [], 'ERR Protocol error: invalid multibulk length'],
  ['*1 \r\n', [], 'ERR Protocol error: invalid multibulk length'],
  ['*-0\r\n', [], 'ERR Protocol error: invalid multibulk length'],
  ['*2147483648\r\n', [], 'ERR Protocol error: invalid multibulk length'],
  ['*1\r\nfoo\r\n', [], "ERR Protocol error: expected '$', got 'f'"],
  ['*1\r\n$abc\r\n', [], 'ERR Protocol error: invalid bulk length'],
  ['*1\r\n$-1\r\n', [], 'ERR Protocol error: invalid bulk length'],
  ['*1\r\n$04\r\nPING\r\n', [], 'ERR Protocol error: invalid bulk length'],
  ['*1\r\n$+3\r\nfoo\r\n', [], 'ERR Protocol error: invalid bulk length'],
  ['*1\r\n$600000000\r\n', [], 'ERR Protocol error: invalid bulk length'],
  [mb('PING') + 'set "a"b c\r\n', [['PING']], 'ERR Protocol error: unbalanced quotes in request'],
  ['set "abc\r\n', [], 'ERR Protocol error: unbalanced quotes in request'],
  ['*1\n$4\nPING\n', []],
  ['*1\r\n$4\r\nPIN', []],
];

describe('request parser fixtures', () => {
  it.each(FIXTURES.map(([input, commands, error], i) => ({ i, input, commands, error })))(
    'fixture $i parses the same whole and byte by byte',
    ({ input, commands, error }) => {
      const a = whole(input);
      const b = byteByByte(input);
      expect(a).toEqual({ commands, ...(error ? { error } : {}) });
      expect(b).toEqual(a);
    },
  );

  it('rejects an over-long inline request, mbulk count line and bulk count line', () => {
    const longLine = 'x'.repeat(DEFAULT_RESP_LIMITS.maxInlineBytes + 10);
    expect(whole(longLine).error).toBe('ERR Protocol error: too big inline request');
    expect(whole('*' + '1'.repeat(DEFAULT_RESP_LIMITS.maxInlineBytes + 10)).error).toBe(
      'ERR Protocol error: too big mbulk count string',
    );
    expect(whole('*1\r\n$' + '1'.repeat(DEFAULT_RESP_LIMITS.maxInlineBytes + 10)).error).toBe(
      'ERR Protocol error: too big bulk count string',
    );
    expect(byteByByte(longLine).error).toBe('ERR Protocol error: too big inline request');
  });

  it('applies proto-max-bulk-len and the multibulk count limit', () => {
    const limits = { ...DEFAULT_RESP_LIMITS, maxBulkBytes: 10, maxMultibulkArgs: 3 };
    expect(whole(mb('SET', 'k', 'x'.repeat(10)), limits).commands).toEqual([['SET', 'k', 'x'.repeat(10)]]);
    expect(whole(mb('SET', 'k', 'x'.repeat(11)), limits).error).toBe(
      'ERR Protocol error: invalid bulk length',
    );
    expect(whole('*4\r\n', limits).error).toBe('ERR Protocol error: invalid multibulk length');
  });

  it('applies the stricter limits of Redis 7 before authentication, and lifts them once authenticated', () => {
    expect(whole('*11\r\n', undefined, false).error).toBe(
      'ERR Protocol error: unauthenticated multibulk length',
    );
    expect(whole('*1\r\n$16385\r\n', undefined, false).error).toBe(
      'ERR Protocol error: unauthenticated bulk length',
    );
    const parser = new RequestParser();
    parser.authenticated = false;
    const seen: string[][] = [];
    parser.feed(Buffer.from(mb('AUTH', 'pw') + '*11\r\n', 'latin1'), (argv) => {
      seen.push(argv);
      parser.authenticated = true;
    });
    expect(seen).toEqual([['AUTH', 'pw']]);
  });

  it('stops when the consumer says so and resumes with the buffered bytes', () => {
    const parser = new RequestParser();
    const seen: string[][] = [];
    const input = Buffer.from(mb('A') + mb('B') + 'C\r\n' + mb('D'), 'latin1');
    parser.feed(input, (argv) => {
      seen.push(argv);
      return false;
    });
    expect(seen).toEqual([['A']]);
    expect(parser.pendingBytes).toBeGreaterThan(0);
    parser.feed(Buffer.alloc(0), (argv) => void seen.push(argv));
    expect(seen).toEqual([['A'], ['B'], ['C'], ['D']]);
    expect(parser.pendingBytes).toBe(0);
  });

  it('counts arguments of an unfinished command in pendingBytes', () => {
    const parser = new RequestParser();
    parser.feed(Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n', 'latin1'), () => undefined);
    expect(parser.pendingBytes).toBeGreaterThanOrEqual(8);
  });
});

describe('inline argument splitting (sdssplitargs)', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ["\"a\\tb\" 'c\\'d'", ['a\tb', "c'd"]],
    ['"\\x4g"', ['\\x4g'.replace('\\', '')]],
    ['""', ['']],
    ['a\t\vb', ['a', 'b']],
  ])('splits %j', (line, expected) => {
    expect(splitInlineArgs(line)).toEqual(expected);
  });

  it.each(['"abc', "'abc", '"a"b', "'a'b"])('refuses %j', (line) => {
    expect(splitInlineArgs(line)).toBeNull();
  });
});

/** A deterministic pseudo-random generator so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('request parser fuzz (bounded)', () => {
  it('any split of a valid stream yields the same commands', () => {
    const rnd = prng(42);
    for (let round = 0; round < 200; round++) {
      const commands: string[][] = [];
      let text = '';
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) {
        const argc = 1 + Math.floor(rnd() * 4);
        const argv: string[] = [];
        for (let j = 0; j < argc; j++) {
          const len = Math.floor(rnd() * (rnd() < 0.05 ? 40_000 : 12));
          let a = '';
          for (let k = 0; k < len; k++) a += String.fromCharCode(Math.floor(rnd() * 256));
          argv.push(a);
        }
        commands.push(argv);
        text += mb(...argv);
      }
      const buf = Buffer.from(text, 'latin1');
      const chunks: Buffer[] = [];
      for (let at = 0; at < buf.length;) {
        const size = 1 + Math.floor(rnd() * 64);
        chunks.push(buf.subarray(at, at + size));
        at += size;
      }
      expect(parseAll(chunks)).toEqual({ commands });
    }
  });

  it('random bytes never break the parser: only protocol errors, and results independent of splitting', () => {
    const rnd = prng(7);
    const alphabet = ['*', '$', '\r', '\n', '1', '2', '0', '-', 'a', ' ', '"', "'", '\\', 'x', '\x00'];
    for (let round = 0; round < 2000; round++) {
      let text = '';
      const len = Math.floor(rnd() * 40);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      const a = whole(text);
      const b = byteByByte(text);
      expect(b).toEqual(a);
    }
  });
});
