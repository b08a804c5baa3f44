/**
 * DUMP / RESTORE payloads: Redis's serialized form of one value.
 *
 * Layout: the value as in an RDB file without the key (type byte + encoded value), then the RDB version as 2 bytes
 * little-endian, then the CRC64 (crc64.ts) of everything before it, 8 bytes little-endian.
 * RESTORE in Redis 7.0 refuses a payload whose version is above its own or whose CRC is wrong with
 * "ERR DUMP payload version or checksum are wrong", and one whose body does not decode with "ERR Bad data format";
 * the errors here carry those codes (errors.ts: restoreErrorReply() gives the reply text).
 * Like RESTORE, bytes between the value and the footer are ignored. Payloads we write use version 10 by default so that Redis 7.0 accepts them; we read up to version 11 (7.2).
 */

import { ByteSink } from './byteSink';
import { Crc64 } from './crc64';
import { RdbEncodeError, RdbError } from './errors';
import type { RdbValue } from './model';
import { RDB_DEFAULT_WRITE_VERSION, RDB_MAX_READ_VERSION } from './rdbFormat';
import { NEED_MORE, RdbInput } from './rdbInput';
import { DEFAULT_MAX_STRING_BYTES } from './rdbReader';
import { EMPTY_VALUE, RdbValueReader, checkSupportedType } from './rdbValueReader';
import { REDIS_DEFAULT_ENCODING_LIMITS, writeValue } from './rdbValueWriter';
import type { RdbEncodingLimits } from './rdbValueWriter';

const FOOTER_BYTES = 10;
const BLOCK_BYTES = 4096;

export interface DumpEncodeOptions {
  /** Version stamped in the footer (default 10). */
  rdbVersion?: number;
  /** LZF compression of strings and blobs (default true, as Redis's rdbcompression). */
  compress?: boolean;
  encodingLimits?: Partial<RdbEncodingLimits>;
}

export function encodeDumpPayload(value: RdbValue, options: DumpEncodeOptions = {}): Buffer {
  const version = options.rdbVersion ?? RDB_DEFAULT_WRITE_VERSION;
  const out = new ByteSink(BLOCK_BYTES);
  const written = writeValue(
    out,
    value,
    {
      compress: options.compress ?? true,
      limits: { ...REDIS_DEFAULT_ENCODING_LIMITS, ...options.encodingLimits },
    },
    null,
  );
  if (!written) throw new RdbEncodeError('RDB_INVALID_VALUE', `an empty ${value.type} cannot be dumped`);
  out.ensure(FOOTER_BYTES);
  out.buf.writeUInt16LE(version, out.pos);
  out.pos += 2;
  const body = out.takeAll();
  const crc = new Crc64().update(body);
  return Buffer.concat([body, crc.toBufferLE()]);
}

export interface DumpDecodeOptions {
  /** Newest payload version accepted (default 11; Redis 7.0 itself accepts up to 10). */
  maxRdbVersion?: number;
  /** Skip the CRC check (Redis's skip-checksum-validation). */
  skipChecksum?: boolean;
  maxStringBytes?: number;
}

export interface DecodedDump {
  value: RdbValue;
  rdbVersion: number;
}

export function decodeDumpPayload(payload: Buffer, options: DumpDecodeOptions = {}): DecodedDump {
  const len = payload.length;
  if (len < FOOTER_BYTES) {
    throw new RdbError('DUMP_PAYLOAD_INVALID', `payload of ${len} bytes is shorter than its footer`, null);
  }
  const footer = len - FOOTER_BYTES;
  const rdbVersion = payload[footer] | (payload[footer + 1] << 8);
  const maxVersion = options.maxRdbVersion ?? RDB_MAX_READ_VERSION;
  if (rdbVersion > maxVersion) {
    throw new RdbError(
      'DUMP_PAYLOAD_INVALID',
      `payload RDB version ${rdbVersion} is newer than ${maxVersion}`,
      footer,
    );
  }
  if (!options.skipChecksum && !new Crc64().update(payload, 0, len - 8).matchesLE(payload, len - 8)) {
    throw new RdbError('DUMP_PAYLOAD_INVALID', 'payload CRC64 does not match its content', len - 8);
  }
  const input = new RdbInput(options.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES);
  input.push(payload.subarray(0, footer));
  input.end();
  input.prepare();
  try {
    const type = input.u8();
    checkSupportedType(type, 0);
    const reader = new RdbValueReader(input);
    reader.begin(type);
    const value = reader.read();
    if (value === EMPTY_VALUE) throw new RdbError('DUMP_BAD_FORMAT', 'payload holds an empty collection', 0);
    // bytes after the value are ignored, as RESTORE does
    return { value, rdbVersion };
  } catch (err) {
    if (err === NEED_MORE) {
      throw new RdbError('DUMP_BAD_FORMAT', 'payload ends in the middle of the value', footer);
    }
    if (err instanceof RdbError && err.code !== 'DUMP_BAD_FORMAT') {
      throw new RdbError('DUMP_BAD_FORMAT', `${err.code}: ${err.detail}`, err.offset);
    }
    throw err;
  }
}
