/**
 * Shared rules of the blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX):
 * - the timeout is in seconds, parsed like Redis's getTimeoutFromObjectOrReply (a long double; hex and
 *   exponents accepted; values that overflow a 64-bit millisecond count report "timeout is negative", as the
 *   C cast makes them negative in Redis 7.0.15);
 * - a client that may not block (inside MULTI/EXEC) gets the timeout reply at once;
 * - otherwise it waits through `server.block`, which retries the serve function whenever a key changes.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from '../server/client';
import { parseLongDouble } from './longDouble';

/** Node timers cannot wait longer (about 24.8 days); longer timeouts are capped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const TWO_63 = 2 ** 63;

/** Parses a blocking timeout in seconds; returns milliseconds, 0 meaning "forever". */
export function timeoutArgMs(text: string): number {
  const v = parseLongDouble(text);
  if (v === null) throw new ReplyError(Err.timeoutNotFloat);
  let seconds: number;
  if (v.inf) seconds = v.neg ? -Infinity : Infinity;
  else seconds = (v.neg ? -1 : 1) * Number(v.mant) * 2 ** v.exp;
  const ms = Math.ceil(seconds * 1000);
  if (!(ms < TWO_63) || ms < 0) throw new ReplyError(Err.timeoutNegative);
  return Math.min(ms, MAX_TIMER_MS);
}

/** True when the client must not block now (inside EXEC), so a blocking command answers as if timed out. */
export function mayNotBlock(c: Client): boolean {
  return c.inExec;
}
