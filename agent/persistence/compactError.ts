/**
 * Errors inside compact encodings (listpack, ziplist, intset, zipmap).
 *
 * Why a helper: these structures arrive as one RDB string, possibly LZF-compressed, so a position inside them is not
 * a file position. The error carries the file offset of the string and names the position inside the decoded blob.
 */

import { RdbError } from './errors';

export function compactCorrupt(
  kind: string,
  problem: string,
  blobOffset: number,
  posInBlob: number,
): RdbError {
  return new RdbError(
    'RDB_CORRUPT',
    `corrupt ${kind}: ${problem} (byte ${posInBlob} of the ${kind})`,
    blobOffset,
  );
}
