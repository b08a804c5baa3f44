/**
 * Encoding the replication stream: propagated commands become client-protocol RESP (`*<n>\r\n$<len>\r\n...`),
 * exactly what a client would send, so replicas and the AOF apply them through the normal dispatch.
 *
 * The stream has a "current database" like a client connection: a SELECT is emitted whenever the next command
 * targets another database than the previous one. `StreamDbTracker.selectedDb` is -1 when the next command must
 * be preceded by a SELECT whatever its database (after a full-sync snapshot starts, or after a promotion), as
 * Redis does with `slaveseldb = -1`. Commands with dbId -1 (PING, REPLCONF GETACK) need no database.
 *
 * Arguments are latin1 strings (one char per byte); a batch is encoded into one string and converted once.
 */
import type { PropagatedCommand } from '../server/server';

/** Appends the RESP encoding of one command to `out`. */
export function encodeCommand(argv: readonly string[]): string {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${a.length}\r\n${a}\r\n`;
  return out;
}

export class StreamDbTracker {
  /** Database selected in the stream, -1 when unknown (the next command gets a SELECT). */
  selectedDb = -1;

  /** Encodes a batch of propagated commands, inserting SELECTs where the database changes. */
  encode(batch: readonly PropagatedCommand[]): Buffer {
    let text = '';
    for (const { dbId, argv } of batch) {
      if (dbId >= 0 && dbId !== this.selectedDb) {
        const id = String(dbId);
        text += `*2\r\n$6\r\nSELECT\r\n$${id.length}\r\n${id}\r\n`;
        this.selectedDb = dbId;
      }
      text += encodeCommand(argv);
    }
    return Buffer.from(text, 'latin1');
  }
}
