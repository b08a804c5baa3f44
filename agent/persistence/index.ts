/**
 * Public surface of persistence: the codec (RDB reader and writer, DUMP/RESTORE payloads, the value model, the
 * errors) and the keyspace side (fork-less snapshots, dump and AOF files, installPersistence). Everything else in
 * this folder is an implementation detail of these.
 */

export type { RdbEntry, RdbValue, RdbValueType } from './model';
export {
  RdbError,
  RdbEncodeError,
  restoreErrorReply,
  DUMP_BAD_FORMAT_REPLY,
  DUMP_PAYLOAD_INVALID_REPLY,
} from './errors';
export type { RdbErrorCode, RdbEncodeErrorCode } from './errors';
export { RDB_DEFAULT_WRITE_VERSION, RDB_MAX_READ_VERSION, RDB_MIN_READ_VERSION } from './rdbFormat';
export {
  RdbParser,
  parseRdb,
  rdbEvents,
  readRdbStream,
  readRdbContents,
  DEFAULT_MAX_STRING_BYTES,
} from './rdbReader';
export type { RdbEvent, RdbContents, RdbReaderOptions, RdbChecksumStatus, RdbNoticeCode } from './rdbReader';
export {
  RdbEncoder,
  rdbChunks,
  rdbChunksAsync,
  encodeRdb,
  redisAuxFields,
  DEFAULT_CHUNK_BYTES,
} from './rdbWriter';
export type { RdbWriterOptions, RdbDbSize, RedisAuxInfo } from './rdbWriter';
export { REDIS_DEFAULT_ENCODING_LIMITS } from './rdbValueWriter';
export type { RdbEncodingLimits } from './rdbValueWriter';
export { encodeDumpPayload, decodeDumpPayload } from './dumpPayload';
export type { DumpEncodeOptions, DumpDecodeOptions, DecodedDump } from './dumpPayload';
export { Crc64, crc64 } from './crc64';

// The keyspace side: snapshots, files, the AOF and the server integration.
export { valueToRdb, rdbToValue } from './keyspaceAdapter';
export { KeyspaceSnapshot, SnapshotRegistry } from './snapshot';
export type { SnapshotStats, SnapshotOptions } from './snapshot';
export { RdbSnapshotStream, SnapshotChunkStream } from './rdbSnapshot';
export type { RdbSnapshotOptions } from './rdbSnapshot';
export { Persistence, snapshotRegistryOf, MISCONF_RDB } from './persistence';
export type { ReplicationSaveInfo } from './persistence';
export { installPersistence, persistenceOf, forkLessSnapshot } from './install';
export { bufferUrgency } from './snapshotPacing';
