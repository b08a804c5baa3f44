/**
 * Where full syncs get their snapshot: an RDB image of the whole keyspace as a *pull stream* of chunks.
 *
 * The contract a snapshot source must keep (the persistence part's fork-less snapshot will implement it):
 * - The image is of the dataset at the instant `open` returns: `open` must take its cut synchronously. The
 *   master reads master_repl_offset in the same turn and announces it with +FULLRESYNC, so every write after
 *   that instant reaches the replica through the replication stream and none through the image.
 * - Chunks are produced only when pulled (`next()`), so a slow consumer slows the walk instead of making it
 *   buffer; each chunk is never modified afterwards, so one chunk can be queued on several sockets.
 * - `return()` abandons the snapshot (every replica went away) and releases what it holds.
 * - The image carries the AUX fields given (repl-stream-db, repl-id, repl-offset, as Redis writes them).
 *
 * Until persistence/snapshot.ts exists, `interimBlockingSnapshot` stands in: it encodes the whole keyspace
 * synchronously with the RDB writer when opened (a point in time by construction, but it stalls the event loop
 * for the time of the encoding and holds the encoded image in memory). Switching is the one line in
 * `defaultSnapshotSource`.
 */
import type { Server } from '../server/server';
import { RdbEncoder, DEFAULT_CHUNK_BYTES, forkLessSnapshot, type RdbDbSize } from '../persistence';
import { databaseEntries } from './keyspaceRdb';

export interface SnapshotRequest {
  /** AUX fields written after the header, in order. */
  aux: ReadonlyArray<readonly [string, string]>;
}

export type SnapshotStream = AsyncIterator<Buffer, void, undefined>;

export type SnapshotSource = (server: Server, request: SnapshotRequest) => SnapshotStream;

/**
 * INTERIM (until the fork-less snapshot stream of the persistence part exists): the whole keyspace encoded at
 * once, then handed out chunk by chunk.
 */
export function interimBlockingSnapshot(server: Server, request: SnapshotRequest): SnapshotStream {
  const dbSizes = new Map<number, RdbDbSize>();
  for (const db of server.keyspace.dbs) {
    if (db.size > 0) dbSizes.set(db.id, { keyCount: db.size, expiresCount: db.expires.size });
  }
  const encoder = new RdbEncoder({
    aux: request.aux,
    dbSizes,
    compress: server.config.getBool('rdbcompression'),
    checksum: server.config.getBool('rdbchecksum'),
  });
  encoder.writeHeader();
  const chunks: Buffer[] = [];
  for (const db of server.keyspace.dbs) {
    if (db.size === 0) continue;
    for (const entry of databaseEntries(db)) {
      encoder.writeEntry(entry);
      if (encoder.pendingBytes >= DEFAULT_CHUNK_BYTES) chunks.push(...encoder.take());
    }
  }
  encoder.writeFooter();
  chunks.push(...encoder.take());
  let index = 0;
  return {
    next: async () => {
      if (index < chunks.length) {
        const value = chunks[index];
        chunks[index++] = EMPTY;
        return { done: false, value };
      }
      return { done: true, value: undefined };
    },
    return: async () => {
      chunks.length = 0;
      index = 0;
      return { done: true, value: undefined };
    },
  };
}

const EMPTY = Buffer.alloc(0);

/** The snapshot source full syncs use. */
export const defaultSnapshotSource: SnapshotSource = forkLessSnapshot;
