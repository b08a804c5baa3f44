/**
 * Replication IDs (PSYNC2). A dataset's history is named by a 40-hex-character replication id plus an offset
 * in bytes of the stream. Two ids are kept: `replid`, the current history, and `replid2`, the history this node
 * followed before it was promoted, valid up to `secondOffset` (exclusive of later bytes). After a promotion the
 * former siblings still ask for the old id and can continue from the new master's backlog.
 */
import { randomBytes } from 'node:crypto';

export const REPLID_CHARS = 40;
export const NO_REPLID = '0'.repeat(REPLID_CHARS);

/** Source of random bytes, injectable for deterministic tests. */
export type RandomBytes = (n: number) => Buffer;

export function newReplicationId(random: RandomBytes = randomBytes): string {
  return random(REPLID_CHARS / 2).toString('hex');
}

export class ReplicationIds {
  replid: string;
  replid2 = NO_REPLID;
  /** The first offset that is *not* part of replid2's history; -1 when there is no replid2. */
  secondOffset = -1;

  constructor(private readonly random: RandomBytes = randomBytes) {
    this.replid = newReplicationId(random);
  }

  /** A fresh history (a new backlog on a master, or `FLUSHALL`-like resets). */
  change(): void {
    this.replid = newReplicationId(this.random);
  }

  clearSecond(): void {
    this.replid2 = NO_REPLID;
    this.secondOffset = -1;
  }

  /**
   * Promotion or a master's new id: the current id becomes replid2, valid for every byte up to `offset`
   * (so a replica at `offset` asks for offset + 1 and gets it).
   */
  shift(offset: number, newReplid: string = newReplicationId(this.random)): void {
    this.replid2 = this.replid;
    this.secondOffset = offset + 1;
    this.replid = newReplid;
  }

  /** Adopts a master's history after a full sync. */
  adopt(replid: string): void {
    this.replid = replid;
    this.clearSecond();
  }

  /** Can a PSYNC for (replid, nextOffset) continue from our history, ignoring the backlog's extent? */
  matches(replid: string, nextOffset: number): boolean {
    if (replid === this.replid) return true;
    return replid === this.replid2 && replid !== NO_REPLID && nextOffset <= this.secondOffset;
  }
}
