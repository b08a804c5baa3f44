/**
 * Incremental parser for client requests: RESP multibulk (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and inline
 * commands (a line of space-separated words with Redis's quoting rules, as typed in telnet).
 *
 * It follows redis-server's reading rules byte for byte, because clients and tests observe them:
 * - A request starting with '*' is a multibulk; anything else is an inline line ending at '\n' (a preceding
 *   '\r' is dropped). Empty inline lines are ignored, `*0` and negative counts are skipped.
 * - `*` and `$` header lines end at the first '\r'; the byte after it is skipped unchecked, like Redis does.
 *   Their integers follow string2ll: no '+', no leading zeros, no spaces.
 * - A bulk's length is trusted: the two bytes after its payload are skipped whatever they are.
 *
 * Invariants:
 * - Correct for any split of the input: state survives between `feed` calls, and nothing is re-scanned from the
 *   start of a command when more bytes arrive (a large bulk is copied once into a buffer of its final size).
 * - Arguments come out as 'latin1' strings: one char per byte, so every byte sequence survives the round trip.
 * - Every length is bounded (see RespLimits); a violation yields a ProtocolError carrying Redis's exact text,
 *   after which the connection must be closed (Redis does the same: the stream can no longer be trusted).
 * - `pendingBytes` counts everything held for an unfinished command (unparsed bytes and arguments already
 *   split off), so the query-buffer limit bounds the memory one connection can make the server hold.
 */

export interface RespLimits {
  /** proto-max-bulk-len: the largest bulk argument accepted. */
  maxBulkBytes: number;
  /** The most arguments one multibulk request may announce (Redis: INT_MAX). */
  maxMultibulkArgs: number;
  /** The longest inline request, and the longest `*`/`$` header line (Redis's PROTO_INLINE_MAX_SIZE). */
  maxInlineBytes: number;
  /** Before authentication: at most this many arguments (Redis 7: 10)... */
  maxUnauthenticatedArgs: number;
  /** ...and bulks of at most this many bytes (Redis 7: 16384). */
  maxUnauthenticatedBulkBytes: number;
}

export const DEFAULT_RESP_LIMITS: RespLimits = {
  maxBulkBytes: 512 * 1024 * 1024,
  maxMultibulkArgs: 2147483647,
  maxInlineBytes: 64 * 1024,
  maxUnauthenticatedArgs: 10,
  maxUnauthenticatedBulkBytes: 16384,
};

/** Bulks at least this large are assembled in a buffer of their final size instead of re-concatenating chunks. */
const BIG_ARG_BYTES = 32 * 1024;
/** What an argument costs besides its bytes (string header, array slot), for query-buffer accounting. */
const ARG_OVERHEAD_BYTES = 32;
/** Header integers longer than this are not int64 (string2ll's limit). */
const MAX_INT_DIGITS = 20;

/** Receives each complete command; returning false stops parsing (the rest stays buffered for `feed`). */
export type OnCommand = (argv: string[]) => boolean | void;

export class ProtocolError extends Error {
  readonly code = 'RESP_PROTOCOL';
  constructor(readonly reply: string) {
    super(reply);
  }
}

/** The fast path takes multibulks of at most this many arguments (more go through the state machine). */
const FAST_MAX_ARGS = 4096;
/** Command names up to this length are remembered for reuse by the next request. */
const NAME_CACHE_MAX_CHARS = 24;
/** Multibulks announcing at most this many arguments get an array of the exact size up front. */
const PREALLOCATE_ARGS = 1024;
const EMPTY_ARGV: string[] = [];

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

/** The header line at the parse position is not complete yet (no integer can be this). */
const INCOMPLETE = -Infinity;

export class RequestParser {
  /** False until the connection authenticates: stricter limits apply then, as in Redis 7. */
  authenticated = true;
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Arguments still expected by the multibulk being read; 0 when between commands. */
  private argsLeft = 0;
  private argv: string[] = EMPTY_ARGV;
  /** Where the next argument of the multibulk goes in `argv`. */
  private argIndex = 0;
  /** The previous command's name, reused when the next request starts with the same bytes. */
  private lastName = '';
  /** Bytes held in `argv` for the unfinished command. */
  private argvBytes = 0;
  /** Length of the bulk whose `$` header was read, -1 when the next thing is a header. */
  private bulkLen = -1;
  /** For big bulks: the destination buffer and how much of it is filled. */
  private big: Buffer | null = null;
  private bigFilled = 0;
  /** Where the last header line ended (set by readHeaderInt). */
  private headerEnd = 0;
  /** The consumer asked to stop after the last command. */
  private stopped = false;

  constructor(private limits: RespLimits = DEFAULT_RESP_LIMITS) {}

  setLimits(limits: RespLimits): void {
    this.limits = limits;
  }

  /** In the middle of a big bulk argument (BIG_ARG_BYTES or more), filling its buffer. */
  get fillingBigArgument(): boolean {
    return this.big !== null;
  }

  /** Bytes held for commands not yet complete (for query-buffer accounting). */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.bigFilled + this.argvBytes;
  }

  /**
   * Consumes `chunk` and calls `onCommand` for each complete command, in order.
   * Throws ProtocolError on malformed input; commands completed before the error were already delivered.
   * `onCommand` may change `authenticated`; the next header is checked against the new state. When it returns
   * false, parsing stops there; a later `feed` (possibly of an empty chunk) continues with the buffered bytes.
   */
  feed(chunk: Buffer, onCommand: OnCommand): void {
    this.stopped = false;
    if (this.big !== null) {
      chunk = this.fillBig(chunk);
      if (this.bigFilled < this.big.length) return;
      this.finishBig(onCommand);
    }
    if (chunk.length > 0) {
      if (this.pos < this.buf.length) {
        this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      } else {
        this.buf = chunk;
      }
      this.pos = 0;
    }
    this.parse(onCommand);
    if (this.pos >= this.buf.length) {
      // Drop the reference so a large consumed chunk can be collected.
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  private parse(onCommand: OnCommand): void {
    while (this.pos < this.buf.length && !this.stopped) {
      const buf = this.buf;
      if (this.argsLeft === 0) {
        if (buf[this.pos] === 0x2a /* '*' */) {
          if (this.parseWholeCommand(buf, onCommand)) continue;
          if (!this.readMultibulkHeader()) return;
        } else if (!this.readInline(onCommand)) {
          return;
        }
        continue;
      }
      if (this.bulkLen < 0) {
        if (!this.readBulkHeader()) return;
        if (this.bulkLen >= BIG_ARG_BYTES && buf.length - this.pos < this.bulkLen + 2) {
          this.big = Buffer.allocUnsafe(this.bulkLen + 2);
          this.bigFilled = 0;
          const rest = this.fillBig(buf.subarray(this.pos));
          this.buf = rest;
          this.pos = 0;
          return;
        }
      }
      const end = this.pos + this.bulkLen;
      if (end + 2 > buf.length) return;
      let arg: string;
      if (this.argIndex === 0 && sameBytes(buf, this.pos, this.bulkLen, this.lastName)) {
        // The command name repeats from one request to the next: reuse the string.
        arg = this.lastName;
      } else {
        arg = buf.latin1Slice(this.pos, end);
        if (this.argIndex === 0 && this.bulkLen <= NAME_CACHE_MAX_CHARS) this.lastName = arg;
      }
      this.pushArg(arg, onCommand);
      this.pos = end + 2;
    }
  }

  /**
   * Fast path for the common case: a multibulk request complete in the buffer, with small well-formed lengths
   * within every limit. Parses it in one pass with local variables and delivers it. Returns false, having
   * consumed nothing, for anything else (incomplete, large, malformed, over a limit): the general state machine
   * then handles it, with its exact errors.
   */
  private parseWholeCommand(buf: Buffer, onCommand: OnCommand): boolean {
    const len = buf.length;
    let p = this.pos + 1;
    let c = buf[p];
    if (c < 49 || c > 57) return false;
    let n = c - 48;
    for (p++; p < len && (c = buf[p]) !== CR; p++) {
      if (c < 48 || c > 57 || n > FAST_MAX_ARGS) return false;
      n = n * 10 + c - 48;
    }
    if (p + 1 >= len || n > FAST_MAX_ARGS) return false;
    const limits = this.limits;
    if (!this.authenticated && n > limits.maxUnauthenticatedArgs) return false;
    const maxBulk = this.authenticated ? limits.maxBulkBytes : limits.maxUnauthenticatedBulkBytes;
    p += 2;
    const argv = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      if (p + 3 >= len || buf[p] !== 0x24 /* '$' */) return false;
      c = buf[++p];
      if (c < 48 || c > 57) return false;
      let l = c - 48;
      if (l === 0 && buf[p + 1] !== CR) return false;
      for (p++; p < len && (c = buf[p]) !== CR; p++) {
        if (c < 48 || c > 57 || l >= BIG_ARG_BYTES) return false;
        l = l * 10 + c - 48;
      }
      if (l >= BIG_ARG_BYTES || l > maxBulk) return false;
      p += 2;
      if (p + l + 2 > len) return false;
      const name = this.lastName;
      if (i === 0 && sameBytes(buf, p, l, name)) {
        argv[0] = name;
      } else {
        const arg = buf.latin1Slice(p, p + l);
        if (i === 0 && l <= NAME_CACHE_MAX_CHARS) this.lastName = arg;
        argv[i] = arg;
      }
      p += l + 2;
    }
    this.pos = p;
    if (onCommand(argv) === false) this.stopped = true;
    return true;
  }

  private pushArg(arg: string, onCommand: OnCommand): void {
    this.bulkLen = -1;
    const argv = this.argv;
    argv[this.argIndex++] = arg;
    if (--this.argsLeft === 0) {
      this.argv = EMPTY_ARGV;
      this.argvBytes = 0;
      if (onCommand(argv) === false) this.stopped = true;
    } else {
      this.argvBytes += arg.length + ARG_OVERHEAD_BYTES;
    }
  }

  /** Copies from `chunk` into the big-bulk buffer; returns what is left of `chunk` once the bulk is complete. */
  private fillBig(chunk: Buffer): Buffer {
    const big = this.big!;
    const take = Math.min(big.length - this.bigFilled, chunk.length);
    chunk.copy(big, this.bigFilled, 0, take);
    this.bigFilled += take;
    if (this.bigFilled < big.length) return EMPTY;
    return chunk.subarray(take);
  }

  /** Completes a big bulk argument (and the command, when it was the last one). */
  private finishBig(onCommand: OnCommand): void {
    const big = this.big!;
    this.big = null;
    this.bigFilled = 0;
    this.pushArg(big.latin1Slice(0, big.length - 2), onCommand);
  }

  /**
   * Reads the integer of the `*`/`$` header at pos: up to the first '\r', which must be followed by one more
   * byte. Returns the value, INCOMPLETE, or NaN when the integer is not valid; sets headerEnd past the line.
   */
  private readHeaderInt(tooLong: string): number {
    const buf = this.buf;
    const len = buf.length;
    const start = this.pos + 1;
    let i = start;
    let n = 0;
    let valid = true;
    let negative = false;
    for (; i < len; i++) {
      const c = buf[i];
      if (c === CR) break;
      const d = c - 48;
      if (d >= 0 && d <= 9) {
        // string2ll: no leading zeros (a lone "0" is fine).
        if (d === 0 && i === start + (negative ? 1 : 0) && i + 1 < len && buf[i + 1] !== CR) valid = false;
        n = n * 10 + d;
      } else if (c === 0x2d /* '-' */ && i === start) {
        negative = true;
      } else {
        valid = false;
      }
    }
    if (i >= len - 1) {
      if (len - this.pos > this.limits.maxInlineBytes) throw new ProtocolError(tooLong);
      return INCOMPLETE;
    }
    this.headerEnd = i + 2;
    const digits = i - start - (negative ? 1 : 0);
    if (!valid || digits === 0 || digits > MAX_INT_DIGITS) return NaN;
    if (negative && n === 0) return NaN;
    return negative ? -n : n;
  }

  private readMultibulkHeader(): boolean {
    const n = this.readHeaderInt('ERR Protocol error: too big mbulk count string');
    if (n === INCOMPLETE) return false;
    if (Number.isNaN(n) || n > this.limits.maxMultibulkArgs) {
      throw new ProtocolError('ERR Protocol error: invalid multibulk length');
    }
    if (!this.authenticated && n > this.limits.maxUnauthenticatedArgs) {
      throw new ProtocolError('ERR Protocol error: unauthenticated multibulk length');
    }
    this.pos = this.headerEnd;
    if (n > 0) {
      this.argsLeft = n;
      this.argvBytes = 0;
      // Exact size for the usual small commands; huge announced counts grow as arguments really arrive.
      this.argv = n <= PREALLOCATE_ARGS ? new Array<string>(n) : [];
      this.argIndex = 0;
    }
    return true;
  }

  private readBulkHeader(): boolean {
    if (this.buf[this.pos] !== 0x24 /* '$' */) {
      const got = String.fromCharCode(this.buf[this.pos]);
      throw new ProtocolError(`ERR Protocol error: expected '$', got '${got}'`);
    }
    const n = this.readHeaderInt('ERR Protocol error: too big bulk count string');
    if (n === INCOMPLETE) return false;
    if (Number.isNaN(n) || n < 0 || n > this.limits.maxBulkBytes) {
      throw new ProtocolError('ERR Protocol error: invalid bulk length');
    }
    if (!this.authenticated && n > this.limits.maxUnauthenticatedBulkBytes) {
      throw new ProtocolError('ERR Protocol error: unauthenticated bulk length');
    }
    this.pos = this.headerEnd;
    this.bulkLen = n;
    return true;
  }

  private readInline(onCommand: OnCommand): boolean {
    const buf = this.buf;
    const nl = buf.indexOf(LF, this.pos);
    if (nl < 0) {
      if (buf.length - this.pos > this.limits.maxInlineBytes) {
        throw new ProtocolError('ERR Protocol error: too big inline request');
      }
      return false;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === CR) end--;
    const line = buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    const argv = splitInlineArgs(line);
    if (argv === null) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    if (argv.length > 0 && onCommand(argv) === false) this.stopped = true;
    return true;
  }
}

/**
 * Splits a line into arguments the way redis-cli and the inline protocol do (sdssplitargs): words separated by
 * whitespace, "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' with \' only.
 * Returns null on unbalanced quotes (or a closing quote not followed by whitespace).
 */
export function splitInlineArgs(line: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
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
          cur += DQ_ESCAPES[line[i]] ?? line[i];
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
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
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += c;
        }
      } else if (i >= n || isSpace(line.charCodeAt(i))) {
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

const DQ_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

/** Does buf[pos, pos+len) hold exactly the latin1 chars of `s`? */
function sameBytes(buf: Buffer, pos: number, len: number, s: string): boolean {
  if (len !== s.length) return false;
  for (let i = 0; i < len; i++) if (buf[pos + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** C's isspace in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
