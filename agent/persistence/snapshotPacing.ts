/**
 * Pacing of background snapshot work (BGSAVE, the AOF rewrite, a full sync's snapshot) against client traffic.
 *
 * Redis runs that work in a forked child, which competes with the server for CPU only through the kernel's
 * scheduler. Here it shares the event loop with clients, so we decide the split: after each slice of snapshot
 * work, if clients were served since the previous slice ("busy"), the snapshot pauses long enough to take about
 * `shareWhenBusy` of the time, a share that depends on the job (SNAPSHOT_SHARE_WHEN_BUSY), in pauses no longer
 * than `maxPauseMs`. With no client traffic it runs back to back, so a BGSAVE or a full sync on an idle server
 * goes at full speed.
 */

export interface SnapshotPacing {
  /** Were clients served since the last call? */
  busy: () => boolean;
  /** Share of the time the snapshot may take while clients are busy (0..1]. */
  shareWhenBusy: number;
  /** Longest pause between two slices. */
  maxPauseMs: number;
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
/** Commands served since the previous slice that make the server count as busy. */
export const BUSY_COMMANDS_PER_SLICE = 50;

/** The server's pacing for `job`: busy when at least BUSY_COMMANDS_PER_SLICE commands ran since the last check. */
export function commandLoadPacing(job: SnapshotJob, commandsServed: () => number): SnapshotPacing {
  let seen = commandsServed();
  return {
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
 * After a slice of `spentMs` of snapshot work: pauses when clients are busy, so that the snapshot keeps to its
 * share. Returns whether it paused (otherwise the caller decides how to yield).
 */
export async function pauseForClients(pace: SnapshotPacing | undefined, spentMs: number): Promise<boolean> {
  if (pace === undefined || !pace.busy()) return false;
  const pauseMs = Math.min(pace.maxPauseMs, (spentMs * (1 - pace.shareWhenBusy)) / pace.shareWhenBusy);
  await (pace.sleep ?? sleepMs)(pauseMs);
  return true;
}

function sleepMs(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
