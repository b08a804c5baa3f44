/**
 * Incremental parser for client requests: RESP multibulk (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and inline
 * commands (a line of space-separated words with Redis's quoting rules, as typed in telnet).
 *
 * Invariants:
 * - Correct for any split of the input: state survives between `feed` calls, and nothing is re-scanned from the
 *   start of a command when more bytes arrive (a large bulk is copied once into a buffer of its final size).
 * - Arguments come out as 'latin1' strings: one char per byte, so every byte sequence survives the round trip.
 * - Every length is bounded (see RespLimits); a violation yields a ProtocolError carrying Redis's exact text,
 *   after which the connection must be closed (Redis does the same: the stream can no longer be trusted).
 */

export interface RespLimits {
  /** proto-max-bulk-len: the largest bulk argument accepted. */
  maxBulkBytes: number;
  /** The most arguments one multibulk request may announce. */
  maxMultibulkArgs: number;
  /** The longest inline request, and the longest `*`/`$` header line. */
  maxInlineBytes: number;
}

export const DEFAULT_RESP_LIMITS: RespLimits = {
  maxBulkBytes: 512 * 1024 * 1024,
  maxMultibulkArgs: 1024 * 1024,
  maxInlineBytes: 64 * 1024,
};

/** Bulks at least this large are assembled in a buffer of their final size instead of re-concatenating chunks. */
const BIG_ARG_BYTES = 32 * 1024;

export class ProtocolError extends Error {
  readonly code = 'RESP_PROTOCOL';
  constructor(readonly reply: string) {
    super(reply);
  }
}

const CR = 13;
const LF = 10;

export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Arguments still expected by the multibulk being read; 0 when between commands. */
  private argsLeft = 0;
  private argv: string[] = [];
  /** Length of the bulk whose `$` header was read, -1 when the next thing is a header. */
  private bulkLen = -1;
  /** For big bulks: the destination buffer and how much of it is filled. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(private limits: RespLimits = DEFAULT_RESP_LIMITS) {}

  setLimits(limits: RespLimits): void {
    this.limits = limits;
  }

  /** Bytes received but not yet consumed by a complete command (for query-buffer accounting). */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.bigFilled;
  }

  /**
   * Consumes `chunk` and calls `onCommand` for each complete command, in order.
   * Throws ProtocolError on malformed input; commands completed before the error were already delivered.
   */
  feed(chunk: Buffer, onCommand: (argv: string[]) => void): void {
    if (this.big !== null) {
      chunk = this.fillBig(chunk);
      if (this.big !== null) return;
      this.finishArg(onCommand);
    }
    if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    this.parse(onCommand);
  }

  private parse(onCommand: (argv: string[]) => void): void {
    const buf = this.buf;
    const len = buf.length;
    while (this.pos < len) {
      if (this.argsLeft === 0) {
        if (buf[this.pos] === 0x2a /* '*' */) {
          if (!this.readMultibulkHeader()) return;
          continue;
        }
        if (!this.readInline(onCommand)) return;
        continue;
      }
      if (this.bulkLen < 0) {
        if (!this.readBulkHeader()) return;
        if (this.bulkLen >= BIG_ARG_BYTES && len - this.pos < this.bulkLen + 2) {
          this.big = Buffer.allocUnsafe(this.bulkLen + 2);
          this.bigFilled = 0;
          const rest = this.fillBig(buf.subarray(this.pos));
          this.buf = rest;
          this.pos = 0;
          return;
        }
      }
      if (len - this.pos < this.bulkLen + 2) return;
      // Like Redis, trust the length and skip the two bytes that should be CRLF.
      const end = this.pos + this.bulkLen;
      this.argv.push(buf.latin1Slice(this.pos, end));
      this.pos = end + 2;
      this.bulkLen = -1;
      if (--this.argsLeft === 0) this.emit(onCommand);
    }
  }

  private emit(onCommand: (argv: string[]) => void): void {
    const argv = this.argv;
    this.argv = [];
    onCommand(argv);
  }

  /** Copies from `chunk` into the big-bulk buffer; returns what is left of `chunk` once the bulk is complete. */
  private fillBig(chunk: Buffer): Buffer {
    const big = this.big!;
    const take = Math.min(big.length - this.bigFilled, chunk.length);
    chunk.copy(big, this.bigFilled, 0, take);
    this.bigFilled += take;
    if (this.bigFilled < big.length) return Buffer.alloc(0);
    return chunk.subarray(take);
  }

  /** Completes a big bulk argument (and the command, when it was the last one). */
  private finishArg(onCommand: (argv: string[]) => void): void {
    const big = this.big!;
    this.big = null;
    this.bigFilled = 0;
    this.argv.push(big.latin1Slice(0, big.length - 2));
    this.bulkLen = -1;
    if (--this.argsLeft === 0) this.emit(onCommand);
  }

  /** Finds the CRLF-terminated line at pos; returns the index of CR, or -1 when incomplete. */
  private lineEnd(tooLong: string): number {
    const nl = this.buf.indexOf(LF, this.pos);
    if (nl < 0) {
      if (this.buf.length - this.pos > this.limits.maxInlineBytes) throw new ProtocolError(tooLong);
      return -1;
    }
    if (nl - this.pos > this.limits.maxInlineBytes) throw new ProtocolError(tooLong);
    return nl;
  }

  private readMultibulkHeader(): boolean {
    const nl = this.lineEnd('ERR Protocol error: too big mbulk count string');
    if (nl < 0) return false;
    const n = parseHeaderInt(this.buf, this.pos + 1, nl);
    if (n === null || n > this.limits.maxMultibulkArgs) {
      throw new ProtocolError('ERR Protocol error: invalid multibulk length');
    }
    this.pos = nl + 1;
    if (n > 0) {
      this.argsLeft = n;
      this.argv = [];
    }
    return true;
  }

  private readBulkHeader(): boolean {
    if (this.buf[this.pos] !== 0x24 /* '$' */) {
      const got = String.fromCharCode(this.buf[this.pos]);
      throw new ProtocolError(`ERR Protocol error: expected '$', got '${got}'`);
    }
    const nl = this.lineEnd('ERR Protocol error: too big bulk count string');
    if (nl < 0) return false;
    const n = parseHeaderInt(this.buf, this.pos + 1, nl);
    if (n === null || n < 0 || n > this.limits.maxBulkBytes) {
      throw new ProtocolError('ERR Protocol error: invalid bulk length');
    }
    this.pos = nl + 1;
    this.bulkLen = n;
    return true;
  }

  private readInline(onCommand: (argv: string[]) => void): boolean {
    const nl = this.lineEnd('ERR Protocol error: too big inline request');
    if (nl < 0) return false;
    let end = nl;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = this.buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    const argv = splitInlineArgs(line);
    if (argv === null) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    if (argv.length > 0) onCommand(argv);
    return true;
  }
}

/** Parses the integer between `start` and the LF at `nl` (a trailing CR is allowed); null when malformed. */
function parseHeaderInt(buf: Buffer, start: number, nl: number): number | null {
  let end = nl;
  if (end > start && buf[end - 1] === CR) end--;
  if (end === start || end - start > 19) return null;
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
    if (i === end) return null;
  }
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/**
 * Splits a line into arguments the way redis-cli and the inline protocol do: words separated by spaces,
 * "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' with \' only.
 * Returns null on unbalanced quotes (or a closing quote not followed by a space).
 */
export function splitInlineArgs(line: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) =>
    c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
  while (true) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return args;
    let cur = '';
    let inDq = false;
    let inSq = false;
    let done = false;
    while (!done) {
      const c = line[i];
      if (inDq) {
        if (i >= n) return null;
        if (c === '\\' && i + 3 < n && line[i + 1] === 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
          cur += String.fromCharCode(parseInt(line.substr(i + 2, 2), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur +=
            e === 'n'
              ? '\n'
              : e === 'r'
                ? '\r'
                : e === 't'
                  ? '\t'
                  : e === 'b'
                    ? '\b'
                    : e === 'a'
                      ? '\x07'
                      : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          cur += c;
        }
      } else if (inSq) {
        if (i >= n) return null;
        if (c === '\\' && i + 1 < n && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          cur += c;
        }
      } else if (i >= n || isSpace(c)) {
        done = true;
      } else if (c === '"') {
        inDq = true;
      } else if (c === "'") {
        inSq = true;
      } else {
        cur += c;
      }
      if (i < n) i++;
    }
    args.push(cur);
  }
}

function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
