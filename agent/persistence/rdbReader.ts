/**
 * Streaming RDB reader: a pull parser over bytes that arrive in chunks.
 *
 * Use: push(chunk) as bytes arrive, call next() until it returns null ("need more bytes"), repeat; call end() when
 * the input is complete (then running out of bytes is RDB_TRUNCATED). next() yields events in file order: the header,
 * AUX fields, SELECTDB/RESIZEDB, one event per key, FUNCTION2 libraries (returned, not loaded), notices, and finally
 * `end` once the EOF opcode and the CRC64 footer are read and verified. Bytes after the footer (the next protocol
 * data on a replication link) stay available through takeRemaining().
 * parseRdb() and readRdbStream() wrap it for a whole Buffer and for an async iterable of chunks (a file stream).
 *
 * Design: units (see rdbInput.ts) make the parser restartable without a coroutine per read, so the hot path (one
 * opcode, a key and a value per entry) is plain synchronous code. A large collection is read element by element and
 * its progress survives "need more", so memory stays at one unit plus the value being built.
 * Errors are RdbError with the absolute byte offset; after an error the parser stays failed.
 * Checksum: verified when the footer is non-zero (a zero footer means the writer had rdbchecksum off, as Redis).
 */

import { constants as bufferConstants } from 'node:buffer';
import { RdbError } from './errors';
import type { RdbEntry } from './model';
import {
  RDB_CHECKSUM_MIN_VERSION,
  RDB_MAGIC,
  RDB_MAX_READ_VERSION,
  RDB_MIN_READ_VERSION,
  RDB_OPCODE,
} from './rdbFormat';
import { NEED_MORE, RdbInput } from './rdbInput';
import { readLength } from './rdbLength';
import { readString } from './rdbString';
import { EMPTY_VALUE, RdbValueReader, checkSupportedType } from './rdbValueReader';

export type RdbChecksumStatus = 'verified' | 'disabled' | 'not-checked' | 'absent';

export type RdbEvent =
  | { kind: 'header'; rdbVersion: number }
  | { kind: 'aux'; name: string; value: string }
  | { kind: 'selectDb'; db: number }
  | { kind: 'resizeDb'; db: number; keyCount: number; expiresCount: number }
  | { kind: 'entry'; entry: RdbEntry }
  /** A FUNCTION2 library (its Lua source); the codec does not load functions, the caller decides what to do. */
  | { kind: 'function'; code: string; offset: number }
  | { kind: 'notice'; code: RdbNoticeCode; message: string; offset: number }
  /** checksum: 'verified', 'disabled' (zero footer), 'not-checked' (verifyChecksum off), 'absent' (version < 5). */
  | { kind: 'end'; checksum: RdbChecksumStatus; bytes: number };

export type RdbNoticeCode = 'EMPTY_KEY_SKIPPED';

export interface RdbReaderOptions {
  /** Verify the CRC64 footer (default true). */
  verifyChecksum?: boolean;
  /** Largest string (or compressed blob) accepted; bounds the input window. Default: the largest JS string. */
  maxStringBytes?: number;
  /** Name of the input for error messages (a file path, "replication stream"). */
  source?: string;
  /**
   * Reuse one entry event, its entry and the wrapper of a string value for every key: each is valid only until
   * the next call of next(). For a consumer that applies every event at once (the loader); it saves three
   * objects per key, a third of the garbage of a load.
   */
  reuseEntries?: boolean;
}

/** The default string limit: Redis allows 512 MiB, V8 strings stop slightly below that. */
export const DEFAULT_MAX_STRING_BYTES = Math.min(512 * 1024 * 1024, bufferConstants.MAX_STRING_LENGTH);

const enum State {
  Header,
  Records,
  Value,
  Checksum,
  Done,
  Failed,
}

const HEADER_BYTES = 9;
const KEY_SHOWN_CHARS = 64;

export class RdbParser {
  private readonly input: RdbInput;
  private readonly values: RdbValueReader;
  private readonly verifyChecksum: boolean;
  private readonly source: string | null;
  private state = State.Header;
  /** The entry event handed out for every key with `reuseEntries`. */
  private readonly reused: { kind: 'entry'; entry: RdbEntry } | null;
  private failure: RdbError | null = null;
  private version = 0;
  private db = 0;
  // per-key attributes collected from the opcodes before the key
  private expireAtMs: number | null = null;
  private lruIdleSec = -1;
  private lfuFreq = -1;
  private key = '';
  private keyOffset = 0;

  constructor(options: RdbReaderOptions = {}) {
    this.input = new RdbInput(options.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES);
    this.values = new RdbValueReader(this.input, options.reuseEntries ?? false);
    this.reused = options.reuseEntries ? { kind: 'entry', entry: emptyEntry() } : null;
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.source = options.source ?? null;
  }

  push(chunk: Buffer): void {
    this.input.push(chunk);
  }

  /** No more input will come: running out of bytes is now truncation. */
  end(): void {
    this.input.end();
  }

  /** RDB version from the header (0 before it is read). */
  get rdbVersion(): number {
    return this.version;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.input.offset;
  }

  /** Input bytes held by the parser (the unit being read plus unread input): what a feeder may want to bound. */
  get bufferedBytes(): number {
    return this.input.bufferedBytes;
  }

  get finished(): boolean {
    return this.state === State.Done;
  }

  /** After `end`: the bytes received beyond the RDB payload. */
  takeRemaining(): Buffer {
    if (this.state !== State.Done) throw new Error('RdbParser.takeRemaining before the end event');
    return this.input.takeRemaining();
  }

  /** The next event, or null when more input is needed (or the file is finished). */
  next(): RdbEvent | null {
    if (this.state === State.Done) return null;
    if (this.failure !== null) throw this.failure;
    const input = this.input;
    if (!input.prepare()) return null;
    try {
      return this.step();
    } catch (err) {
      if (err === NEED_MORE) {
        input.rewind();
        if (!input.ended) return null;
        throw this.fail(
          new RdbError(
            'RDB_TRUNCATED',
            `input ends after ${input.receivedOffset} bytes, in the middle of ${this.context()}`,
            input.receivedOffset,
          ),
        );
      }
      if (err instanceof RdbError) throw this.fail(err);
      throw err;
    }
  }

  private fail(err: RdbError): RdbError {
    let detail = err.detail;
    if (this.state === State.Value && err.code !== 'RDB_TRUNCATED') detail += ` (key ${this.shownKey()})`;
    const failure = new RdbError(err.code, detail, err.offset, this.source ?? err.source);
    this.state = State.Failed;
    this.failure = failure;
    return failure;
  }

  private shownKey(): string {
    const k = this.key;
    return JSON.stringify(k.length > KEY_SHOWN_CHARS ? `${k.slice(0, KEY_SHOWN_CHARS)}...` : k);
  }

  private context(): string {
    switch (this.state) {
      case State.Header:
        return 'the header';
      case State.Value:
        return `the value of key ${this.shownKey()} (starting at byte ${this.keyOffset})`;
      case State.Checksum:
        return 'the checksum';
      default:
        return 'a record';
    }
  }

  private step(): RdbEvent {
    const input = this.input;
    for (;;) {
      switch (this.state) {
        case State.Header:
          return this.readHeader();
        case State.Value: {
          const value = this.values.read();
          const expireAtMs = this.expireAtMs;
          const lruIdleSec = this.lruIdleSec;
          const lfuFreq = this.lfuFreq;
          this.expireAtMs = null;
          this.lruIdleSec = -1;
          this.lfuFreq = -1;
          this.state = State.Records;
          if (value === EMPTY_VALUE) {
            return {
              kind: 'notice',
              code: 'EMPTY_KEY_SKIPPED',
              message: `key ${this.shownKey()} holds an empty collection; skipped as Redis does`,
              offset: this.keyOffset,
            };
          }
          if (this.reused !== null) {
            const entry = this.reused.entry;
            entry.db = this.db;
            entry.key = this.key;
            entry.value = value;
            entry.expireAtMs = expireAtMs;
            entry.lruIdleSec = lruIdleSec >= 0 ? lruIdleSec : undefined;
            entry.lfuFreq = lfuFreq >= 0 ? lfuFreq : undefined;
            return this.reused;
          }
          const entry: RdbEntry = { db: this.db, key: this.key, value, expireAtMs };
          if (lruIdleSec >= 0) entry.lruIdleSec = lruIdleSec;
          if (lfuFreq >= 0) entry.lfuFreq = lfuFreq;
          return { kind: 'entry', entry };
        }
        case State.Checksum:
          return this.readChecksum();
        case State.Records:
          break;
        default:
          throw new Error(`RdbParser in state ${this.state}`);
      }
      const at = input.offset;
      const op = input.u8();
      switch (op) {
        case RDB_OPCODE.EXPIRETIME_MS: {
          input.require(8);
          const lo = input.buf.readUInt32LE(input.pos);
          const hi = input.buf.readInt32LE(input.pos + 4);
          input.pos += 8;
          this.expireAtMs = hi * 4294967296 + lo;
          input.commit();
          continue;
        }
        case RDB_OPCODE.EXPIRETIME: {
          input.require(4);
          this.expireAtMs = input.buf.readInt32LE(input.pos) * 1000;
          input.pos += 4;
          input.commit();
          continue;
        }
        case RDB_OPCODE.IDLE:
          this.lruIdleSec = readLength(input, 'LRU idle time');
          input.commit();
          continue;
        case RDB_OPCODE.FREQ:
          this.lfuFreq = input.u8();
          input.commit();
          continue;
        case RDB_OPCODE.SELECTDB: {
          const db = readLength(input, 'database number');
          input.commit();
          this.db = db;
          return { kind: 'selectDb', db };
        }
        case RDB_OPCODE.RESIZEDB: {
          const keyCount = readLength(input, 'RESIZEDB key count');
          const expiresCount = readLength(input, 'RESIZEDB expires count');
          input.commit();
          return { kind: 'resizeDb', db: this.db, keyCount, expiresCount };
        }
        case RDB_OPCODE.AUX: {
          const name = readString(input, 'AUX field name');
          const value = readString(input, 'AUX field value');
          input.commit();
          return { kind: 'aux', name, value };
        }
        case RDB_OPCODE.FUNCTION2: {
          const code = readString(input, 'function library');
          input.commit();
          return { kind: 'function', code, offset: at };
        }
        case RDB_OPCODE.FUNCTION_PRE_GA:
          throw new RdbError(
            'RDB_UNSUPPORTED_TYPE',
            'function data in the pre-release format of Redis 7.0 RC1/RC2 (opcode 246) is not supported',
            at,
          );
        case RDB_OPCODE.MODULE_AUX:
          throw new RdbError(
            'RDB_UNSUPPORTED_TYPE',
            'module auxiliary data (opcode 247) is not supported',
            at,
          );
        case RDB_OPCODE.EOF: {
          input.commit();
          input.freezeCrc();
          this.state = State.Checksum;
          continue;
        }
        default: {
          const key = readString(input, 'key');
          input.commit();
          this.key = key;
          this.keyOffset = at;
          this.state = State.Value;
          checkSupportedType(op, at);
          this.values.begin(op);
          continue;
        }
      }
    }
  }

  private readHeader(): RdbEvent {
    const input = this.input;
    input.require(HEADER_BYTES);
    const magic = input.buf.toString('latin1', input.pos, input.pos + 5);
    const digits = input.buf.toString('latin1', input.pos + 5, input.pos + HEADER_BYTES);
    if (magic !== RDB_MAGIC || !/^\d{4}$/.test(digits)) {
      throw new RdbError(
        'RDB_NOT_RDB',
        'not an RDB file (it does not start with "REDIS" and a 4-digit version)',
        0,
      );
    }
    const version = Number(digits);
    if (version < RDB_MIN_READ_VERSION || version > RDB_MAX_READ_VERSION) {
      throw new RdbError(
        'RDB_UNSUPPORTED_VERSION',
        `RDB version ${version} is not supported (${RDB_MIN_READ_VERSION} to ${RDB_MAX_READ_VERSION} are)`,
        5,
      );
    }
    input.pos += HEADER_BYTES;
    input.commit();
    this.version = version;
    this.state = State.Records;
    return { kind: 'header', rdbVersion: version };
  }

  private readChecksum(): RdbEvent {
    const input = this.input;
    let checksum: RdbChecksumStatus = 'absent';
    if (this.version >= RDB_CHECKSUM_MIN_VERSION) {
      input.require(8);
      const buf = input.buf;
      const p = input.pos;
      let zero = true;
      for (let i = 0; i < 8; i++) if (buf[p + i] !== 0) zero = false;
      if (zero) checksum = 'disabled';
      else if (!this.verifyChecksum) checksum = 'not-checked';
      else if (input.crc.matchesLE(buf, p)) checksum = 'verified';
      else {
        const expected = input.crc.toBigInt().toString(16).padStart(16, '0');
        const found = buf.readBigUInt64LE(p).toString(16).padStart(16, '0');
        throw new RdbError(
          'RDB_CHECKSUM_MISMATCH',
          `CRC64 is ${found}, content gives ${expected}`,
          input.offset,
        );
      }
      input.pos += 8;
      input.commit();
    }
    this.state = State.Done;
    return { kind: 'end', checksum, bytes: input.offset };
  }
}

/** Everything in an RDB file, read at once. */
export interface RdbContents {
  rdbVersion: number;
  aux: Array<[string, string]>;
  entries: RdbEntry[];
  functions: string[];
  notices: Array<Extract<RdbEvent, { kind: 'notice' }>>;
  resizeHints: Array<Extract<RdbEvent, { kind: 'resizeDb' }>>;
  checksum: RdbChecksumStatus;
}

function collector(): { contents: RdbContents; add(event: RdbEvent): void } {
  const contents: RdbContents = {
    rdbVersion: 0,
    aux: [],
    entries: [],
    functions: [],
    notices: [],
    resizeHints: [],
    checksum: 'absent',
  };
  return {
    contents,
    add(event) {
      switch (event.kind) {
        case 'header':
          contents.rdbVersion = event.rdbVersion;
          break;
        case 'aux':
          contents.aux.push([event.name, event.value]);
          break;
        case 'entry':
          contents.entries.push(event.entry);
          break;
        case 'function':
          contents.functions.push(event.code);
          break;
        case 'notice':
          contents.notices.push(event);
          break;
        case 'resizeDb':
          contents.resizeHints.push(event);
          break;
        case 'end':
          contents.checksum = event.checksum;
          break;
        case 'selectDb':
          break;
      }
    },
  };
}

/** Events of a complete RDB image held in memory. Trailing bytes after the footer are refused as corrupt. */
export function* rdbEvents(
  image: Buffer,
  options: RdbReaderOptions = {},
): Generator<RdbEvent, void, undefined> {
  const parser = new RdbParser(options);
  parser.push(image);
  parser.end();
  for (;;) {
    const event = parser.next();
    if (event === null) break;
    yield event;
    if (event.kind === 'end') {
      const rest = parser.takeRemaining();
      if (rest.length > 0) {
        throw new RdbError(
          'RDB_CORRUPT',
          `${rest.length} bytes after the end of the RDB data`,
          event.bytes,
          options.source ?? null,
        );
      }
      return;
    }
  }
}

/** Parses a complete RDB image held in memory. */
export function parseRdb(image: Buffer, options: RdbReaderOptions = {}): RdbContents {
  const c = collector();
  for (const event of rdbEvents(image, options)) c.add(event);
  return c.contents;
}

/**
 * Events of an RDB image arriving as chunks (a file read stream, a socket turned async iterable). The iterable must end
 * where the RDB data ends; trailing bytes are refused as corrupt.
 */
export async function* readRdbStream(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  options: RdbReaderOptions = {},
): AsyncGenerator<RdbEvent, void, undefined> {
  const parser = new RdbParser(options);
  let endOffset = -1;
  for await (const chunk of chunks) {
    parser.push(chunk);
    for (let event = parser.next(); event !== null; event = parser.next()) {
      if (event.kind === 'end') endOffset = event.bytes;
      yield event;
    }
  }
  parser.end();
  for (let event = parser.next(); event !== null; event = parser.next()) {
    if (event.kind === 'end') endOffset = event.bytes;
    yield event;
  }
  const rest = parser.takeRemaining();
  if (rest.length > 0) {
    throw new RdbError(
      'RDB_CORRUPT',
      `${rest.length} bytes after the end of the RDB data`,
      endOffset,
      options.source ?? null,
    );
  }
}

/** Reads a whole RDB stream into memory. */
export async function readRdbContents(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  options: RdbReaderOptions = {},
): Promise<RdbContents> {
  const c = collector();
  for await (const event of readRdbStream(chunks, options)) c.add(event);
  return c.contents;
}

/** The entry reused with `reuseEntries`, with every field present from the start (one object shape). */
function emptyEntry(): RdbEntry {
  return {
    db: 0,
    key: '',
    value: { type: 'string', value: '' },
    expireAtMs: null,
    lruIdleSec: undefined,
    lfuFreq: undefined,
  };
}
