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
 * The source is the persistence part's fork-less snapshot (persistence/snapshot.ts, rdbSnapshot.ts), the same
 * stream BGSAVE writes to a file; tests may inject another through ReplicationOptions.snapshotSource.
 */
import type { Server } from '../server/server';
import { forkLessSnapshot } from '../persistence';

export interface SnapshotRequest {
  /** AUX fields written after the header, in order. */
  aux: ReadonlyArray<readonly [string, string]>;
  /**
   * How close the sync is to dropping its replicas (0..1): their buffered writes against their output-buffer
   * limit. The snapshot takes more of the server's time as it rises (persistence/snapshotPacing.ts).
   */
  urgency?: () => number;
}

export type SnapshotStream = AsyncIterator<Buffer, void, undefined>;

export type SnapshotSource = (server: Server, request: SnapshotRequest) => SnapshotStream;

/** The snapshot source full syncs use. */
export const defaultSnapshotSource: SnapshotSource = forkLessSnapshot;
