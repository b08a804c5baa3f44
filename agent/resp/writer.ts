/**
 * Reply writer: encodes replies in RESP2 or RESP3 into a per-client output buffer that is written to the
 * socket once per read event (a socket write per reply is ten times slower).
 *
 * Protocol differences live here and nowhere else: commands say "map", "set", "double", "null", "push" and the
 * writer picks the RESP2 or RESP3 form. Strings are latin1 (one char per byte), so binary values pass unchanged.
 *
 * Memory: replies accumulate in fixed-size chunks; a large bulk is queued as its own piece instead of being
 * copied. `pendingBytes` is what the output-buffer limits check.
 */

/** Size of each output chunk; small replies are packed into it. */
const CHUNK_BYTES = 16 * 1024;
/** Strings up to this length are copied byte by byte instead of through Buffer.latin1Write. */
const SMALL_COPY_CHARS = 32;
/** Bulks at least this large are queued as separate pieces rather than copied into a chunk. */
const LARGE_BULK_BYTES = 8 * 1024;

export type RespVersion = 2 | 3;

export interface ReplySink {
  /** Writes pieces in order; returns the number of bytes the sink still buffers after this write. */
  write(pieces: Array<Buffer | string>): void;
}

const CRLF = '\r\n';
const DOLLAR = 36;
const COLON = 58;
const STAR = 42;
/** Room for a type byte, a sign, 16 digits and CRLF. */
export const HEADER_MAX_BYTES = 24;

/** Something that keeps strings as bytes and copies one, named by `ref`, into `target` at `at` (its length). */
export interface BytesSource {
  copyString(ref: number, target: Buffer, at: number): number;
}

/** Writes `<type><n>\r\n` at `pos` (n a safe integer); returns the position after it. */
export function writeHeader(buf: Buffer, pos: number, type: number, n: number): number {
  buf[pos++] = type;
  if (n < 0) {
    buf[pos++] = 45;
    n = -n;
  }
  if (n < 10) {
    buf[pos++] = 48 + n;
  } else {
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let at = pos + digits - 1;
    for (let x = n; at >= pos; at--) {
      buf[at] = 48 + (x % 10);
      x = Math.floor(x / 10);
    }
    pos += digits;
  }
  buf[pos++] = 13;
  buf[pos++] = 10;
  return pos;
}

/**
 * Writes the latin1 string `s` then CRLF at `pos` (a bulk's payload; the caller made room); returns the position
 * after it.
 */
export function writeLatin1Line(buf: Buffer, pos: number, s: string): number {
  const len = s.length;
  if (len <= SMALL_COPY_CHARS) {
    for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
  } else {
    pos += buf.latin1Write(s, pos, len);
  }
  buf[pos++] = 13;
  buf[pos++] = 10;
  return pos;
}

export class ReplyWriter {
  resp: RespVersion = 2;
  /** When false (CLIENT REPLY OFF/SKIP), replies are dropped. */
  enabled = true;
  /** Told about every error reply (errorstats counts them by their first word). */
  onError: ((msg: string) => void) | undefined;
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private start = 0;
  private pos = 0;
  private pieces: Array<Buffer | string> = [];
  private piecesBytes = 0;

  /** Bytes encoded but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.piecesBytes + this.pos - this.start;
  }

  get hasPending(): boolean {
    return this.pos > this.start || this.pieces.length > 0;
  }

  /** Hands everything encoded so far over, in order. The caller writes it to the socket. */
  take(): Array<Buffer | string> {
    this.sealChunk();
    const out = this.pieces;
    this.pieces = [];
    this.piecesBytes = 0;
    return out;
  }

  private sealChunk(): void {
    if (this.pos > this.start) {
      const piece = this.chunk.subarray(this.start, this.pos);
      this.pieces.push(piece);
      this.piecesBytes += piece.length;
      this.start = this.pos;
    }
    if (this.chunk.length - this.pos < 1024) {
      this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      this.start = this.pos = 0;
    }
  }

  /** Appends raw protocol text (latin1). */
  raw(s: string): void {
    if (!this.enabled) return;
    const len = s.length;
    if (len >= LARGE_BULK_BYTES) {
      this.sealChunk();
      this.pieces.push(s);
      this.piecesBytes += len;
      return;
    }
    if (this.chunk.length - this.pos < len) {
      this.sealChunk();
      if (this.chunk.length - this.pos < len) {
        this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, len));
        this.start = this.pos = 0;
      }
    }
    if (len <= SMALL_COPY_CHARS) {
      // Short replies (+OK, :1, headers): a byte loop beats the native call and its argument checks.
      const chunk = this.chunk;
      let pos = this.pos;
      for (let i = 0; i < len; i++) chunk[pos++] = s.charCodeAt(i);
      this.pos = pos;
    } else {
      this.pos += this.chunk.latin1Write(s, this.pos, len);
    }
  }

  /** Appends raw protocol bytes. */
  rawBuffer(b: Buffer): void {
    if (!this.enabled) return;
    this.sealChunk();
    this.pieces.push(b);
    this.piecesBytes += b.length;
  }

  ok(): void {
    this.raw('+OK\r\n');
  }

  simple(s: string): void {
    this.raw('+' + s + CRLF);
  }

  /** `msg` includes the error code, e.g. "ERR syntax error" or "WRONGTYPE ...". */
  error(msg: string): void {
    // Like Redis, an error reply stays on one line whatever the message holds.
    if (msg.indexOf('\n') >= 0 || msg.indexOf('\r') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    if (this.onError !== undefined) this.onError(msg);
    this.raw('-' + msg + CRLF);
  }

  integer(n: number | bigint): void {
    if (typeof n === 'number' && Number.isSafeInteger(n)) this.header(COLON, n);
    else this.raw(':' + n + CRLF);
  }

  bulk(s: string): void {
    const len = s.length;
    if (len >= LARGE_BULK_BYTES) {
      this.header(DOLLAR, len);
      this.raw(s);
      this.raw(CRLF);
      return;
    }
    if (!this.enabled) return;
    // Header, payload and CRLF written straight into the chunk: no concatenated string to build and flatten.
    this.reserve(len + HEADER_MAX_BYTES);
    const chunk = this.chunk;
    this.pos = writeLatin1Line(chunk, writeHeader(chunk, this.pos, DOLLAR, len), s);
  }

  /** Makes room for `bytes` more bytes in the current chunk (starting a new one when needed). */
  private reserve(bytes: number): void {
    if (this.chunk.length - this.pos >= bytes) return;
    this.sealChunk();
    if (this.chunk.length - this.pos < bytes) {
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
      this.start = this.pos = 0;
    }
  }

  /** A `<type><n>\r\n` line (array, bulk length, integer...). */
  private header(type: number, n: number): void {
    if (!this.enabled) return;
    this.reserve(HEADER_MAX_BYTES);
    this.pos = writeHeader(this.chunk, this.pos, type, n);
  }

  /** A bulk of the `length` bytes that `source` copies for `ref` (a string kept as bytes: keyspace/valueMap.ts). */
  bulkCopied(length: number, source: BytesSource, ref: number): void {
    if (!this.enabled) return;
    this.reserve(length + HEADER_MAX_BYTES);
    const chunk = this.chunk;
    let pos = writeHeader(chunk, this.pos, DOLLAR, length);
    pos += source.copyString(ref, chunk, pos);
    chunk[pos] = 13;
    chunk[pos + 1] = 10;
    this.pos = pos + 2;
  }

  /** A bulk, or the null reply when `s` is null. */
  bulkOrNull(s: string | null | undefined): void {
    if (s == null) this.nullBulk();
    else this.bulk(s);
  }

  bulkBuffer(b: Buffer): void {
    this.raw('$' + b.length + CRLF);
    this.rawBuffer(b);
    this.raw(CRLF);
  }

  /** The null for a missing bulk: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.raw(this.resp === 3 ? '_\r\n' : '$-1\r\n');
  }

  /** The null for a missing array: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.raw(this.resp === 3 ? '_\r\n' : '*-1\r\n');
  }

  array(len: number): void {
    this.header(STAR, len);
  }

  /** An array of bulks; null elements become null bulks. */
  bulkArray(items: readonly (string | null)[]): void {
    this.array(items.length);
    for (const s of items) this.bulkOrNull(s);
  }

  /** A map header: `%n` in RESP3, an array of 2n elements in RESP2. */
  map(pairs: number): void {
    this.raw(this.resp === 3 ? '%' + pairs + CRLF : '*' + pairs * 2 + CRLF);
  }

  /** A set header: `~n` in RESP3, an array in RESP2. */
  set(len: number): void {
    this.raw(this.resp === 3 ? '~' + len + CRLF : '*' + len + CRLF);
  }

  /** An out-of-band push header: `>n` in RESP3, an array in RESP2 (pub/sub messages). */
  push(len: number): void {
    this.raw(this.resp === 3 ? '>' + len + CRLF : '*' + len + CRLF);
  }

  /** A double: `,d` in RESP3, a bulk string in RESP2; formatted like Redis 7.0 (%.17g, inf, -inf). */
  double(n: number): void {
    const s = formatDouble(n);
    if (this.resp === 3) this.raw(',' + s + CRLF);
    else this.bulk(s);
  }

  /** A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2. */
  bool(b: boolean): void {
    if (this.resp === 3) this.raw(b ? '#t\r\n' : '#f\r\n');
    else this.raw(b ? ':1\r\n' : ':0\r\n');
  }

  /** Verbatim text (INFO, CLIENT LIST...): `=len\r\ntxt:...` in RESP3, a bulk in RESP2. */
  verbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) this.raw('=' + (s.length + 4) + CRLF + format + ':' + s + CRLF);
    else this.bulk(s);
  }

  /** A big number: `(digits` in RESP3, a bulk string in RESP2. */
  bigNumber(digits: string): void {
    if (this.resp === 3) this.raw('(' + digits + CRLF);
    else this.bulk(digits);
  }

  /**
   * An attribute header (`|n` then n key/value pairs) in RESP3. RESP2 has no attributes: returns false and
   * the caller must skip the pairs.
   */
  attribute(pairs: number): boolean {
    if (this.resp !== 3) return false;
    this.raw('|' + pairs + CRLF);
    return true;
  }

  /** The RESP3 null (`_`); in RESP2 a null bulk. */
  null(): void {
    this.nullBulk();
  }
}

/** Formats a double as Redis 7.0 replies it: printf's %.17g, with inf/-inf/nan spelled out. */
export function formatDouble(n: number): string {
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isNaN(n)) return 'nan';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  if (Number.isInteger(n) && n < 1e16 && n > -1e16) return String(n);
  const [digits, exp] = significantDigits(n);
  const negative = n < 0;
  if (exp < -4 || exp >= 17) {
    const mantissa = stripZeros(digits[0] + '.' + digits.slice(1));
    return `${negative ? '-' : ''}${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  // Fixed notation: 17 significant digits, then the zeros printf would not print.
  let fixed: string;
  if (exp >= 0) {
    fixed = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  } else {
    fixed = '0.' + '0'.repeat(-exp - 1) + digits;
  }
  return (negative ? '-' : '') + stripZeros(fixed);
}

/**
 * The 17 significant decimal digits of |n| rounded as printf does (round half to even on the exact binary
 * value), and the decimal exponent of the first one. JS's toExponential rounds ties away from zero, so the rare
 * exact ties are redone with exact integer arithmetic.
 */
function significantDigits(n: number): [string, number] {
  const abs = Math.abs(n);
  const e = abs.toExponential(16);
  const at = e.indexOf('e');
  let digits = e[0] + e.slice(2, at);
  let exp = Number(e.slice(at + 1));
  const e18 = abs.toExponential(17);
  if (e18[e18.indexOf('e') - 1] === '5') [digits, exp] = exactDigits(abs);
  return [digits, exp];
}

/** Exact decimal expansion of a positive double, rounded half-even to 17 digits. */
function exactDigits(x: number): [string, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const rawExp = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  let e2: number;
  if (rawExp === 0) e2 = -1074;
  else {
    mantissa |= 1n << 52n;
    e2 = rawExp - 1075;
  }
  // x = mantissa * 2^e2 = text * 10^-scale
  let text: string;
  let scale: number;
  if (e2 >= 0) {
    text = (mantissa << BigInt(e2)).toString();
    scale = 0;
  } else {
    text = (mantissa * 5n ** BigInt(-e2)).toString();
    scale = -e2;
  }
  const exp = text.length - 1 - scale;
  if (text.length <= 17) return [text.padEnd(17, '0'), exp];
  let head = BigInt(text.slice(0, 17));
  const rest = text.slice(17);
  const half = '5' + '0'.repeat(rest.length - 1);
  if (rest > half || (rest === half && head % 2n === 1n)) head += 1n;
  let digits = head.toString();
  let outExp = exp;
  if (digits.length > 17) {
    digits = digits.slice(0, 17);
    outExp++;
  }
  return [digits, outExp];
}

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}
