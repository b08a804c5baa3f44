/**
 * Numbers of the RDB file format (Redis's rdb.h), shared by the reader, the writer and DUMP/RESTORE.
 *
 * Why these and no others: RDB versions 9 (Redis 5/6), 10 (Redis 7.0) and 11 (Redis 7.2) use the same opcodes; newer
 * versions only add value types. The writer emits version 10 by default because Redis 7.0 refuses any version above
 * its own, while 7.2 and later load 10 fine.
 *
 * File layout: "REDIS" + 4-digit version, then opcodes (AUX, SELECTDB, RESIZEDB, FUNCTION2, and per key optional
 * EXPIRETIME(_MS)/IDLE/FREQ followed by a value type byte, the key string and the value), then EOF (0xFF) and, from
 * version 5 on, the CRC64 of everything before it as 8 little-endian bytes (all zero when checksums are disabled).
 */

export const RDB_MAGIC = 'REDIS';
/** Oldest version whose layout matches what this reader parses (it checks the checksum from version 5 on). */
export const RDB_MIN_READ_VERSION = 1;
/** Newest version understood (Redis 7.2: listpack sets, stream v3). */
export const RDB_MAX_READ_VERSION = 11;
/** Version written by default: the newest one Redis 7.0 loads. */
export const RDB_DEFAULT_WRITE_VERSION = 10;
/** Versions from which the file ends with a CRC64 footer. */
export const RDB_CHECKSUM_MIN_VERSION = 5;

export const RDB_OPCODE = {
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
} as const;

/** Human names of value types, for error messages ("type 19 (stream listpacks v2)"). */
export const RDB_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'string',
  1: 'list',
  2: 'set',
  3: 'zset',
  4: 'hash',
  5: 'zset v2',
  6: 'module',
  7: 'module v2',
  9: 'hash zipmap',
  10: 'list ziplist',
  11: 'set intset',
  12: 'zset ziplist',
  13: 'hash ziplist',
  14: 'list quicklist',
  15: 'stream listpacks',
  16: 'hash listpack',
  17: 'zset listpack',
  18: 'list quicklist v2',
  19: 'stream listpacks v2',
  20: 'set listpack',
  21: 'stream listpacks v3',
};

/** Quicklist v2 node containers. */
export const QUICKLIST_NODE_PLAIN = 1;
export const QUICKLIST_NODE_PACKED = 2;

/** Special string encodings (length byte 11xxxxxx). */
export const RDB_ENC_INT8 = 0;
export const RDB_ENC_INT16 = 1;
export const RDB_ENC_INT32 = 2;
export const RDB_ENC_LZF = 3;

/** Legacy string-double markers (RDB_TYPE_ZSET scores). */
export const RDB_DOUBLE_NAN = 253;
export const RDB_DOUBLE_POS_INF = 254;
export const RDB_DOUBLE_NEG_INF = 255;
