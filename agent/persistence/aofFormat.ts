/**
 * The command part of AOF files: commands in the client protocol (RESP multi-bulk, `*<n>\r\n` then `$<len>\r\n<bytes>\r\n`
 * per argument), as Redis writes them and reads them back.
 *
 * - Appending: propagated commands are encoded by the CommandEncoder (resp/commandEncoder.ts), which inserts
 *   `SELECT <db>` whenever the database changes.
 * - AofCommandReader: bytes -> argv lists, tracking the offset after the last complete command, so that a file whose
 *   last command was cut short (a crash mid-write) can be loaded up to there (aof-load-truncated) and a format error
 *   can be reported with its offset.
 * - rewriteCommands(): one snapshot entry -> the commands that recreate it, for a base file written without the RDB
 *   preamble (aof-use-rdb-preamble no): SET, RPUSH/SADD/HSET/ZADD in batches of AOF_REWRITE_ITEMS_PER_CMD elements
 *   (Redis's 64), then PEXPIREAT for a TTL.
 */
import { CommandEncoder } from '../resp/commandEncoder';
import { ByteSink } from './byteSink';
import { formatDoubleText } from './rdbDouble';
import { stringValue, type RdbEntry } from './model';

/** Elements per command when a collection is rewritten as commands (Redis: AOF_REWRITE_ITEMS_PER_CMD). */
export const AOF_REWRITE_ITEMS_PER_CMD = 64;
/** Longest argument count and bulk length the reader accepts (a corrupt header must not allocate gigabytes). */
export const AOF_MAX_ARGS = 1024 * 1024;
export const AOF_MAX_BULK_BYTES = 512 * 1024 * 1024;

export type AofReadErrorKind = 'truncated' | 'format';

export class AofReadError extends Error {
  readonly code = 'AOF_READ';
  constructor(
    readonly kind: AofReadErrorKind,
    message: string,
    /** Offset (in the bytes fed so far) where the problem is. */
    readonly offset: number,
  ) {
    super(message);
  }
}

const CR = 13;
const LF = 10;

/**
 * Incremental reader of RESP commands. push() bytes, then next() until it returns null (needs more); end() marks
 * the end of input, after which an incomplete command is a 'truncated' error. `validUpTo` is the offset just after
 * the last complete command.
 */
export class AofCommandReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Absolute offset of buf[0]. */
  private base = 0;
  private ended = false;
  validUpTo = 0;

  constructor(startOffset = 0) {
    this.base = startOffset;
    this.validUpTo = startOffset;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const rest = this.buf.length - this.pos;
    this.buf = rest === 0 ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.base += this.pos;
    this.pos = 0;
  }

  end(): void {
    this.ended = true;
  }

  /** The next command, or null when the input is exhausted (at a command boundary, or needing more bytes). */
  next(): string[] | null {
    const buf = this.buf;
    let p = this.pos;
    const start = p;
    if (p >= buf.length) return null;
    if (buf[p] !== 0x2a) {
      throw new AofReadError('format', `expected '*' at the start of a command`, this.base + p);
    }
    const count = this.readNumber(p + 1);
    if (count === null) return this.needMore(start);
    const [n, afterCount] = count;
    if (n < 1 || n > AOF_MAX_ARGS) {
      throw new AofReadError('format', `invalid argument count ${n}`, this.base + p);
    }
    p = afterCount;
    const argv = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      if (p >= buf.length) return this.needMore(start);
      if (buf[p] !== 0x24)
        throw new AofReadError('format', `expected '$' for argument ${i + 1}`, this.base + p);
      const len = this.readNumber(p + 1);
      if (len === null) return this.needMore(start);
      const [bytes, afterLen] = len;
      if (bytes < 0 || bytes > AOF_MAX_BULK_BYTES) {
        throw new AofReadError('format', `invalid bulk length ${bytes}`, this.base + p);
      }
      if (afterLen + bytes + 2 > buf.length) return this.needMore(start);
      if (buf[afterLen + bytes] !== CR || buf[afterLen + bytes + 1] !== LF) {
        throw new AofReadError(
          'format',
          `argument ${i + 1} is not followed by CRLF`,
          this.base + afterLen + bytes,
        );
      }
      argv[i] = buf.latin1Slice(afterLen, afterLen + bytes);
      p = afterLen + bytes + 2;
    }
    this.pos = p;
    this.validUpTo = this.base + p;
    return argv;
  }

  /** Bytes left unread (after the last complete command). */
  get remainingBytes(): number {
    return this.buf.length - this.pos;
  }

  /** `<digits>\r\n` at p: [value, offset after CRLF], or null when incomplete. */
  private readNumber(p: number): [number, number] | null {
    const buf = this.buf;
    let v = 0;
    let neg = false;
    let i = p;
    if (i < buf.length && buf[i] === 0x2d) {
      neg = true;
      i++;
    }
    const digitsFrom = i;
    while (i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39) {
      v = v * 10 + (buf[i] - 0x30);
      i++;
      if (i - digitsFrom > 12) throw new AofReadError('format', 'number too long', this.base + p);
    }
    if (i + 1 >= buf.length) return null;
    if (i === digitsFrom || buf[i] !== CR || buf[i + 1] !== LF) {
      throw new AofReadError('format', 'invalid number in a command header', this.base + p);
    }
    return [neg ? -v : v, i + 2];
  }

  private needMore(start: number): null {
    this.pos = start;
    if (this.ended) {
      throw new AofReadError('truncated', 'the file ends in the middle of a command', this.validUpTo);
    }
    return null;
  }
}

/** The commands that recreate one entry (a base file without the RDB preamble). */
export function rewriteCommands(e: RdbEntry): string[][] {
  const v = e.value;
  const key = e.key;
  const cmds: string[][] = [];
  const batched = (name: string, items: readonly string[], per: number): void => {
    for (let i = 0; i < items.length; i += per) cmds.push([name, key, ...items.slice(i, i + per)]);
  };
  switch (v.type) {
    case 'string':
      cmds.push(['SET', key, stringValue(v.value)]);
      break;
    case 'list':
      batched('RPUSH', v.items, AOF_REWRITE_ITEMS_PER_CMD);
      break;
    case 'set':
      batched('SADD', v.members, AOF_REWRITE_ITEMS_PER_CMD);
      break;
    case 'hash':
      batched(
        'HMSET',
        v.entries.flatMap(([f, x]) => [f, x]),
        AOF_REWRITE_ITEMS_PER_CMD * 2,
      );
      break;
    case 'zset':
      batched(
        'ZADD',
        v.entries.flatMap(([m, s]) => [formatDoubleText(s), m]),
        AOF_REWRITE_ITEMS_PER_CMD * 2,
      );
      break;
  }
  if (e.expireAtMs !== null) cmds.push(['PEXPIREAT', key, String(e.expireAtMs)]);
  return cmds;
}

/** Snapshot entries -> AOF commands (a base file without the RDB preamble), as a ChunkEncoder. */
export class AofRewriteEncoder {
  private readonly encoder = new CommandEncoder();
  private readonly out = new ByteSink();

  get pendingBytes(): number {
    return this.out.pendingBytes;
  }

  writeEntry(e: RdbEntry): void {
    const commands = rewriteCommands(e).map((argv) => ({ dbId: e.db, argv }));
    this.out.bytes(this.encoder.bytes, 0, this.encoder.encode(commands));
  }

  writeFooter(): void {}

  take(): Buffer[] {
    return this.out.take();
  }
}
