/**
 * Commands in the client protocol (`*<n>\r\n$<len>\r\n<arg>\r\n...`), exactly what a client would send: the form
 * in which writes travel in the replication stream and are appended to the AOF, so that replicas and the AOF
 * loader apply them through the normal dispatch.
 *
 * Both have a "current database" like a client connection: a SELECT is emitted whenever the next command targets
 * another database than the previous one. `CommandEncoder.selectedDb` is -1 when the next command must be
 * preceded by a SELECT whatever its database (after a full-sync snapshot starts, after a promotion, in a new AOF
 * file), as Redis does with `slaveseldb = -1`. Commands with dbId -1 (PING, REPLCONF GETACK) need no database.
 *
 * Arguments are latin1 strings (one char per byte). Every write is encoded here, so a batch is written straight
 * into one reused scratch buffer: every consumer (backlog, replicas, full-sync buffers, the AOF) copies the bytes
 * anyway, and building strings and a Buffer per command was most of the garbage a write made.
 */

import { HEADER_MAX_BYTES, writeHeader, writeLatin1Line } from './writer';

/** A command as propagated: its database (-1 for none) and its arguments. */
export interface DbCommand {
  dbId: number;
  argv: readonly string[];
}

/** The RESP encoding of one command, as a latin1 string (handshakes, fixed stream commands). */
export function encodeCommand(argv: readonly string[]): string {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${a.length}\r\n${a}\r\n`;
  return out;
}

/** Scratch size the encoder starts with and returns to after a batch that needed more. */
const SCRATCH_BYTES = 64 * 1024;
const STAR = 0x2a;
const DOLLAR = 0x24;

export class CommandEncoder {
  /** Database selected in the stream, -1 when unknown (the next command gets a SELECT). */
  selectedDb = -1;
  /** Holds the last batch encoded, from index 0. */
  private scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private pos = 0;

  /** The scratch buffer; the last `encode` wrote its first bytes. */
  get bytes(): Buffer {
    return this.scratch;
  }

  /**
   * Encodes a batch of propagated commands, inserting SELECTs where the database changes. Returns the length of
   * the encoding, held in `bytes` until the next call.
   */
  encode(batch: readonly DbCommand[]): number {
    if (this.scratch.length > SCRATCH_BYTES) this.scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
    this.pos = 0;
    for (const { dbId, argv } of batch) {
      if (dbId >= 0 && dbId !== this.selectedDb) {
        this.command(['SELECT', String(dbId)]);
        this.selectedDb = dbId;
      }
      this.command(argv);
    }
    return this.pos;
  }

  private command(argv: readonly string[]): void {
    this.ensure(HEADER_MAX_BYTES);
    this.pos = writeHeader(this.scratch, this.pos, STAR, argv.length);
    for (const a of argv) {
      this.ensure(HEADER_MAX_BYTES + a.length + 2);
      this.pos = writeLatin1Line(this.scratch, writeHeader(this.scratch, this.pos, DOLLAR, a.length), a);
    }
  }

  /** Makes room for `n` more bytes, keeping what the batch wrote so far. */
  private ensure(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.pos + n));
    this.scratch.copy(grown, 0, 0, this.pos);
    this.scratch = grown;
  }
}
