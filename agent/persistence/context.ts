/**
 * What the AOF and the commands need from the persistence core (persistence.ts), as an interface so that the
 * modules do not import each other in a circle.
 */
import path from 'node:path';
import type { Server } from '../server/server';
import type { AccessMode } from './keyspaceAdapter';
import type { StreamOptions } from './rdbSnapshot';
import type { RdbWriterOptions } from './rdbWriter';
import type { SnapshotRegistry } from './snapshot';
import type { SnapshotJob } from './snapshotPacing';

export interface PersistenceContext {
  readonly server: Server;
  readonly registry: SnapshotRegistry;
  /** A BGSAVE or an AOF rewrite is running (Redis: hasActiveChildProcess). */
  backgroundJobRunning(): boolean;
  /** The command running is inside MULTI/EXEC (background jobs are scheduled instead). */
  inExec(): boolean;
  /** Options for snapshot streams of `job` (pass size, key delay, access metadata, pacing). */
  streamOptions(job: SnapshotJob): StreamOptions;
  /** rdbcompression, rdbchecksum and the encoding thresholds from the configuration. */
  rdbWriterOptions(): Pick<RdbWriterOptions, 'compress' | 'checksum' | 'encodingLimits'>;
  /** The AUX fields of an RDB file written now (aof-base for an AOF base). */
  auxFields(aofBase: boolean): Array<[string, string]>;
  accessMode(): AccessMode;
}

/**
 * The directory of the dump and the AOF. main.ts applies `dir` with chdir (as Redis), so a relative `dir` has
 * already been entered: file names are then relative to the current directory.
 */
export function dataDir(server: Server): string {
  const dir = server.config.get('dir');
  return path.isAbsolute(dir) ? dir : process.cwd();
}
