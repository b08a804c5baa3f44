/**
 * Pacing of background snapshot work (BGSAVE, the AOF rewrite, a full sync's snapshot) against client traffic.
 *
 * Redis runs that work in a forked child, which competes with the server for CPU only through the kernel's
 * scheduler. Here it shares the event loop with clients, so we decide the split: after each slice of snapshot
 * work, if clients were served since the previous slice ("busy"), the snapshot pauses long enough to take about
 * `shareWhenBusy` of the time, a share that depends on the job (SNAPSHOT_SHARE_WHEN_BUSY), in pauses no longer
 * than `maxPauseMs`. With no client traffic it runs back to back, so a BGSAVE or a full sync on an idle server
 * goes at full speed.
 *
 * Urgency: a job whose length has a hard cost can say how close it is to it (0..1). A full sync does: the writes
 * made meanwhile are buffered for its replicas, and a replica whose buffer passes its output-buffer limit is
 * dropped and must start over, so a sync that yields too much under a heavy write load never finishes. As the
 * urgency rises, the share goes from `shareWhenBusy` to all of the time and the slices grow from the stream's own
 * length to URGENT_SLICE_MS. Longer slices matter as much as shorter pauses: a timer fires only after the event
 * loop's turn over every busy client, a few ms under load, so 2 ms slices get at most ~30% however short the
 * pause (measured: a 1M-key full sync under SET -P 16 took ~13 s at a 25% share and ~9 s at 50% or 90%).
 */

export interface SnapshotPacing {
  /** Were clients served since the last call? */
  busy: () => boolean;
  /** Share of the time the snapshot may take while clients are busy (0..1]. */
  shareWhenBusy: number;
  /** Longest pause between two slices. */
  maxPauseMs: number;
  /** How close the job is to a limit on its length (0..1, see above); none means 0. */
  urgency?: () => number;
  /** How a pause is taken (a timer by default; tests observe the pauses). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Share of a busy server's time given to snapshot work, per kind of job. A BGSAVE or an AOF rewrite that takes
 * longer only holds a little more memory (marks of the keys changed meanwhile, a few % of the dataset), so it
 * yields more to clients. A full sync that takes longer keeps the replica offline longer and lets the writes
 * buffered for it grow toward its output-buffer limit, so it takes more.
 */
export const SNAPSHOT_SHARE_WHEN_BUSY = { save: 0.12, sync: 0.25 } as const;

export type SnapshotJob = keyof typeof SNAPSHOT_SHARE_WHEN_BUSY;
/** Longest pause between two slices of snapshot work. */
export const SNAPSHOT_MAX_PAUSE_MS = 20;
/** Length of a slice of snapshot work at full urgency: what a client may wait for it when a sync must finish. */
export const URGENT_SLICE_MS = 10;
/** A full sync becomes urgent once its replicas' buffered writes reach this share of their output-buffer limit. */
export const URGENCY_FROM_LIMIT_SHARE = 0.25;
/** ... and fully urgent at this share, leaving the rest of the limit for the time it takes to finish. */
export const FULL_URGENCY_AT_LIMIT_SHARE = 0.75;

/** Commands served since the previous slice that make the server count as busy. */
export const BUSY_COMMANDS_PER_SLICE = 50;

/**
 * The server's pacing for `job`: busy when at least BUSY_COMMANDS_PER_SLICE commands ran since the last check;
 * `urgency` as the job reports it (see above).
 */
export function commandLoadPacing(
  job: SnapshotJob,
  commandsServed: () => number,
  urgency?: () => number,
): SnapshotPacing {
  let seen = commandsServed();
  return {
    urgency,
    busy: () => {
      const now = commandsServed();
      const busy = now - seen >= BUSY_COMMANDS_PER_SLICE;
      seen = now;
      return busy;
    },
    shareWhenBusy: SNAPSHOT_SHARE_WHEN_BUSY[job],
    maxPauseMs: SNAPSHOT_MAX_PAUSE_MS,
  };
}

/**
 * The urgency of a job whose buffered bytes count against `limitBytes` (0: no limit, never urgent): 0 below
 * URGENCY_FROM_LIMIT_SHARE of the limit, rising linearly to 1 at FULL_URGENCY_AT_LIMIT_SHARE.
 */
export function bufferUrgency(bufferedBytes: number, limitBytes: number): number {
  if (limitBytes <= 0) return 0;
  const share = bufferedBytes / limitBytes;
  const u = (share - URGENCY_FROM_LIMIT_SHARE) / (FULL_URGENCY_AT_LIMIT_SHARE - URGENCY_FROM_LIMIT_SHARE);
  return Math.min(1, Math.max(0, u));
}

function urgencyOf(pace: SnapshotPacing): number {
  return pace.urgency === undefined ? 0 : Math.min(1, Math.max(0, pace.urgency()));
}

/** The length of the next slice of work: the stream's own, growing toward URGENT_SLICE_MS with the urgency. */
export function sliceMsFor(pace: SnapshotPacing | undefined, baseSliceMs: number): number {
  if (pace === undefined) return baseSliceMs;
  const u = urgencyOf(pace);
  return u === 0 ? baseSliceMs : baseSliceMs + (Math.max(baseSliceMs, URGENT_SLICE_MS) - baseSliceMs) * u;
}

/**
 * After a slice of `spentMs` of snapshot work: pauses when clients are busy, so that the snapshot keeps to its
 * share (raised by the urgency; at full urgency it does not pause). Returns whether it paused (otherwise the
 * caller decides how to yield).
 */
export async function pauseForClients(pace: SnapshotPacing | undefined, spentMs: number): Promise<boolean> {
  if (pace === undefined || !pace.busy()) return false;
  const share = pace.shareWhenBusy + (1 - pace.shareWhenBusy) * urgencyOf(pace);
  if (share >= 1) return false;
  const pauseMs = Math.min(pace.maxPauseMs, (spentMs * (1 - share)) / share);
  await (pace.sleep ?? sleepMs)(pauseMs);
  return true;
}

function sleepMs(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
