/**
 * Errors of the persistence codec, with stable codes.
 *
 * Why two classes: a bad input (a corrupt, truncated or foreign RDB file or DUMP payload) is the environment's or the
 * user's problem and must be reported with where it was found, while a value the writer cannot encode (NaN score,
 * negative db) is a bug in the caller. Callers branch on `code`, never on message text.
 * `offset` is the byte offset in the input stream (file offset for RDB files, payload offset for DUMP payloads) where
 * the problem was detected; for a compact encoding nested in a string it is the offset of that string plus the
 * position inside the (decompressed) blob, spelled out in the message.
 */

export type RdbErrorCode =
  /** Input does not start with "REDIS" + 4 digits: not an RDB file. */
  | 'RDB_NOT_RDB'
  /** RDB version outside the range this reader understands. */
  | 'RDB_UNSUPPORTED_VERSION'
  /** Input ended in the middle of the file. */
  | 'RDB_TRUNCATED'
  /** Structurally invalid bytes: bad length, encoding, compact structure, LZF stream, duplicate member... */
  | 'RDB_CORRUPT'
  /** CRC64 footer does not match the content. */
  | 'RDB_CHECKSUM_MISMATCH'
  /** A valid but unsupported construct: module values/aux data, streams, pre-GA functions. */
  | 'RDB_UNSUPPORTED_TYPE'
  /** A length beyond a configured limit (e.g. a string larger than maxStringBytes). */
  | 'RDB_LIMIT_EXCEEDED'
  /** DUMP payload footer: RDB version too new or CRC64 wrong (Redis: "DUMP payload version or checksum are wrong"). */
  | 'DUMP_PAYLOAD_INVALID'
  /** DUMP payload body does not decode to one value (Redis: "Bad data format"). */
  | 'DUMP_BAD_FORMAT';

export class RdbError extends Error {
  override readonly name = 'RdbError';
  readonly code: RdbErrorCode;
  /** Byte offset in the input where the problem was found, or null when it concerns the input as a whole. */
  readonly offset: number | null;
  /** Name of the input (file path, "replication stream"...) when the caller gave one. */
  readonly source: string | null;
  /** The problem without source and offset, for callers composing their own message. */
  readonly detail: string;

  constructor(code: RdbErrorCode, detail: string, offset: number | null, source: string | null = null) {
    super(`${source !== null ? `${source}: ` : ''}${detail}${offset !== null ? ` (at byte ${offset})` : ''}`);
    this.code = code;
    this.detail = detail;
    this.offset = offset;
    this.source = source;
  }

  /** The same error attributed to a named input. */
  withSource(source: string): RdbError {
    return new RdbError(this.code, this.detail, this.offset, source);
  }
}

/** Error replies RESTORE gives for payloads it refuses, with Redis's exact text. */
export const DUMP_PAYLOAD_INVALID_REPLY = 'ERR DUMP payload version or checksum are wrong';
export const DUMP_BAD_FORMAT_REPLY = 'ERR Bad data format';

/** Redis's error reply text for a DUMP payload error (RESTORE), or null if the error is not about a payload. */
export function restoreErrorReply(err: unknown): string | null {
  if (!(err instanceof RdbError)) return null;
  if (err.code === 'DUMP_PAYLOAD_INVALID') return DUMP_PAYLOAD_INVALID_REPLY;
  if (err.code === 'DUMP_BAD_FORMAT') return DUMP_BAD_FORMAT_REPLY;
  return null;
}

export type RdbEncodeErrorCode = 'RDB_INVALID_VALUE' | 'RDB_WRITER_STATE';

/** The writer was given something it cannot encode, or was driven out of order: a bug in the caller. */
export class RdbEncodeError extends Error {
  override readonly name = 'RdbEncodeError';
  readonly code: RdbEncodeErrorCode;
  constructor(code: RdbEncodeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
