/**
 * Reading the replication stream on a replica: RESP multibulk commands (`*<n>\r\n$<len>\r\n<bytes>\r\n...`), each
 * reported with its exact size in bytes, and the raw bytes of every completed command kept for forwarding.
 *
 * Why not the client request parser: a replica must count offsets in bytes of the stream (master_repl_offset,
 * REPLCONF ACK) and forward exactly the bytes it applied to its own backlog and sub-replicas (chained
 * replication keeps the same offsets on every node). Masters only send multibulk commands, so this reader
 * accepts nothing else; anything else is a protocol error that ends the link.
 *
 * Correct for any split of the input: the state survives between feeds and no byte is scanned twice; a large
 * bulk spanning many chunks is collected as a list of slices and joined once. A replica runs every write of its
 * master through here, so a feed allocates little beyond the arguments themselves: the bytes completed in a
 * chunk are kept as one slice, and a command name that repeats reuses the previous string.
 */

/** Limits of the stream reader; a violation is a protocol error (the link is dropped and resynchronized). */
export interface StreamReaderLimits {
  /** Longest `*`/`$` header line. */
  maxHeaderBytes: number;
  /** Largest argument count of one command. */
  maxArgs: number;
  /** Largest bulk argument (proto-max-bulk-len). */
  maxBulkBytes: number;
}

export const DEFAULT_STREAM_READER_LIMITS: StreamReaderLimits = {
  maxHeaderBytes: 64 * 1024,
  maxArgs: 1024 * 1024,
  maxBulkBytes: 512 * 1024 * 1024,
};

export class StreamProtocolError extends Error {
  readonly code = 'REPL_STREAM_PROTOCOL';
}

const enum Expect {
  MultibulkHeader,
  BulkHeader,
  BulkData,
}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;
/** The argv between commands (a command always gets a new array). */
const NO_ARGS: string[] = [];
/** Command names up to this length are remembered for reuse by the next command. */
const NAME_CACHE_MAX_CHARS = 32;

export class StreamReader {
  private expect = Expect.MultibulkHeader;
  /** Partial header line carried over from the previous chunk. */
  private line = '';
  private argsLeft = 0;
  private argv: string[] = NO_ARGS;
  private argIndex = 0;
  /** The previous command's name. */
  private lastName = '';
  /** Bytes of the current bulk still missing, including its CRLF. */
  private bulkLeft = 0;
  private bulkLen = 0;
  private bulkPieces: Buffer[] = [];
  /** Raw bytes of the command being read, from earlier chunks. */
  private commandPieces: Buffer[] = [];
  private commandBytes = 0;
  /** Raw bytes of the commands completed since the last takeCompleted(). */
  private completed: Buffer[] = [];

  constructor(private readonly limits: StreamReaderLimits = DEFAULT_STREAM_READER_LIMITS) {}

  /** Bytes received that belong to a command not yet complete. */
  get pendingBytes(): number {
    return this.commandBytes;
  }

  /**
   * Consumes a chunk, calling `onCommand(argv, bytes)` for each complete command in order. Throws
   * StreamProtocolError on malformed input; commands completed before the error were already delivered.
   */
  feed(chunk: Buffer, onCommand: (argv: string[], bytes: number) => void): void {
    let pos = 0;
    /** Start of the current command's bytes within this chunk. */
    let commandStart = 0;
    /** Start of the first command completed in this chunk (-1: none yet); they end at commandStart. */
    let completedStart = -1;
    const len = chunk.length;
    try {
      while (pos < len) {
        if (this.expect === Expect.BulkData) {
          const take = Math.min(this.bulkLeft, len - pos);
          if (take === this.bulkLeft && this.bulkPieces.length === 0) {
            this.pushArg(chunk, pos, this.bulkLen);
          } else {
            this.bulkPieces.push(chunk.subarray(pos, pos + take));
            if (take === this.bulkLeft) {
              const joined = Buffer.concat(this.bulkPieces);
              this.pushArg(joined, 0, this.bulkLen);
              this.bulkPieces = [];
            }
          }
          pos += take;
          this.bulkLeft -= take;
          if (this.bulkLeft > 0) break;
          this.expect = Expect.BulkHeader;
          if (--this.argsLeft === 0) {
            if (completedStart < 0) completedStart = commandStart;
            this.finishCommand(pos - commandStart, onCommand);
            commandStart = pos;
          }
          continue;
        }
        // Header lines are a few bytes: find the LF by hand rather than with a native call per line.
        let nl = -1;
        for (let i = pos; i < len; i++) {
          if (chunk[i] === LF) {
            nl = i;
            break;
          }
        }
        if (nl < 0) {
          this.line += chunk.latin1Slice(pos, len);
          if (this.line.length > this.limits.maxHeaderBytes) {
            throw new StreamProtocolError('header line too long in the replication stream');
          }
          pos = len;
          break;
        }
        const multibulk = this.expect === Expect.MultibulkHeader;
        const prefix = multibulk ? STAR : DOLLAR;
        let n: number | null;
        if (this.line.length === 0) {
          const end = nl > pos && chunk[nl - 1] === CR ? nl - 1 : nl;
          if (multibulk && end === pos) {
            // A bare newline between commands (keepalive): its bytes count with the next command.
            pos = nl + 1;
            continue;
          }
          n = parseHeaderBytes(chunk, pos, end, prefix);
          if (n === null) this.badHeader(chunk.latin1Slice(pos, end), multibulk);
        } else {
          let text = this.line + chunk.latin1Slice(pos, nl);
          this.line = '';
          if (text.length > 0 && text.charCodeAt(text.length - 1) === CR) text = text.slice(0, -1);
          if (multibulk && text.length === 0) {
            pos = nl + 1;
            continue;
          }
          n = parseHeaderText(text, prefix);
          if (n === null) this.badHeader(text, multibulk);
        }
        pos = nl + 1;
        if (multibulk) {
          if (n! > this.limits.maxArgs) this.badHeader(`*${n}`, true);
          if (n! <= 0) continue;
          this.argsLeft = n!;
          this.argv = new Array<string>(n!);
          this.argIndex = 0;
          this.expect = Expect.BulkHeader;
        } else {
          if (n! < 0 || n! > this.limits.maxBulkBytes) this.badHeader(`$${n}`, false);
          this.bulkLen = n!;
          this.bulkLeft = n! + 2;
          this.expect = Expect.BulkData;
        }
      }
    } finally {
      // The commands completed in this chunk are adjacent: one slice for all of them.
      if (completedStart >= 0) this.pushCompleted(chunk.subarray(completedStart, commandStart));
    }
    if (commandStart < len) {
      const rest = chunk.subarray(commandStart, len);
      this.commandPieces.push(rest);
      this.commandBytes += rest.length;
    }
  }

  /** Adds the argument held in buf[start, start + length) to the command being read. */
  private pushArg(buf: Buffer, start: number, length: number): void {
    const i = this.argIndex++;
    const name = this.lastName;
    if (i === 0 && length === name.length && sameBytes(buf, start, name)) {
      this.argv[0] = name;
      return;
    }
    const arg = buf.latin1Slice(start, start + length);
    if (i === 0 && length <= NAME_CACHE_MAX_CHARS) this.lastName = arg;
    this.argv[i] = arg;
  }

  private badHeader(text: string, multibulk: boolean): never {
    const what = multibulk ? 'a multibulk header' : 'a bulk header';
    throw new StreamProtocolError(`expected ${what}, got ${JSON.stringify(text.slice(0, 32))}`);
  }

  /**
   * Delivers the command just read; `tailBytes` of it are in the current chunk (the caller keeps those), the rest
   * arrived in earlier chunks.
   */
  private finishCommand(tailBytes: number, onCommand: (argv: string[], bytes: number) => void): void {
    const bytes = this.commandBytes + tailBytes;
    for (const p of this.commandPieces) this.pushCompleted(p);
    this.commandPieces = [];
    this.commandBytes = 0;
    const argv = this.argv;
    this.argv = NO_ARGS;
    this.expect = Expect.MultibulkHeader;
    onCommand(argv, bytes);
  }

  /** Keeps completed bytes, merging a slice with the previous one when they are adjacent in the same chunk. */
  private pushCompleted(piece: Buffer): void {
    if (piece.length === 0) return;
    const done = this.completed;
    const last = done.length > 0 ? done[done.length - 1] : undefined;
    if (
      last !== undefined &&
      last.buffer === piece.buffer &&
      last.byteOffset + last.length === piece.byteOffset
    ) {
      done[done.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + piece.length);
      return;
    }
    done.push(piece);
  }

  /**
   * The raw bytes of every command completed since the last call (and of keepalive newlines between them),
   * in order: what a replica appends to its backlog and forwards to its own replicas.
   */
  takeCompleted(): Buffer[] {
    const out = this.completed;
    this.completed = [];
    return out;
  }
}

/** The integer of a `*`/`$` header held in buf[start, end) (CR excluded); null when malformed. */
function parseHeaderBytes(buf: Buffer, start: number, end: number, prefix: number): number | null {
  if (end - start < 2 || end - start > 21 || buf[start] !== prefix) return null;
  let i = start + 1;
  const negative = buf[i] === MINUS;
  if (negative && ++i === end) return null;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

function parseHeaderText(text: string, prefix: number): number | null {
  return parseHeaderBytes(Buffer.from(text, 'latin1'), 0, text.length, prefix);
}

/** Whether buf[start, start + s.length) holds the latin1 bytes of `s`. */
function sameBytes(buf: Buffer, start: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}
