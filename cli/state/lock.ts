/**
 * The run lock: one changing run (apply, rollback, promote, restart) per inventory at a time.
 *
 * The lock is a file created with O_EXCL in the state directory, holding who took it (pid, host name, command,
 * time) as JSON. A lock whose process is gone is stale and taken over: on the same host we can ask the kernel
 * (signal 0); a lock from another host is only reported, with its owner, since we cannot see its processes. An
 * unreadable lock (its owner is between create and write) counts as held for LOCK_WRITE_GRACE_MS after its mtime.
 * Release happens on every exit path: the caller's finally, plus a process 'exit' hook and SIGINT/SIGTERM handlers
 * that remove the file before the process ends.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperationFailure } from '../errors';
import { ensureDir } from './stateDir';

export const LOCK_FILE = 'lock';
export const LOCK_WRITE_GRACE_MS = 10_000;

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export interface LockEnv {
  pid: number;
  host: string;
  now(): Date;
  /** True when a process with this pid exists on this host. */
  alive(pid: number): boolean;
}

export const processLockEnv: LockEnv = {
  pid: process.pid,
  host: os.hostname(),
  now: () => new Date(),
  alive: (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};

export interface HeldLock {
  file: string;
  owner: LockOwner;
  /** Stale lock that was taken over, if any. */
  tookOverFrom?: LockOwner;
  release(): void;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

export function acquireLock(stateDir: string, command: string, env: LockEnv = processLockEnv): HeldLock {
  ensureDir(stateDir);
  const file = path.join(stateDir, LOCK_FILE);
  const owner: LockOwner = { pid: env.pid, host: env.host, command, startedAt: env.now().toISOString() };
  let tookOverFrom: LockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = readOwner(file);
      if (!held) {
        let ageMs = 0;
        try {
          ageMs = env.now().getTime() - statSync(file).mtimeMs;
        } catch {
          continue; // removed meanwhile: try again
        }
        if (ageMs < LOCK_WRITE_GRACE_MS) {
          throw new OperationFailure('E_LOCKED', `another run is starting (lock ${file} is being written)`);
        }
      } else if (held.host !== env.host || env.alive(held.pid)) {
        throw new OperationFailure(
          'E_LOCKED',
          `another ${held.command} holds the lock: pid ${held.pid} on ${held.host} since ${held.startedAt}`,
          [
            held.host === env.host
              ? 'wait for it to finish'
              : `if no orchestrate runs on ${held.host} any more, remove ${file}`,
          ],
        );
      }
      tookOverFrom = held;
      try {
        unlinkSync(file);
      } catch {
        // someone else removed it first; the next attempt decides
      }
      continue;
    }
    writeSync(fd, `${JSON.stringify(owner)}\n`);
    closeSync(fd);
    return makeHeld(file, owner, tookOverFrom);
  }
  throw new OperationFailure('E_LOCKED', `cannot take the lock ${file}: it keeps changing hands`);
}

function makeHeld(file: string, owner: LockOwner, tookOverFrom: LockOwner | undefined): HeldLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const current = readOwner(file);
    // Never remove a lock someone else took over (ours was judged stale).
    if (current && (current.pid !== owner.pid || current.startedAt !== owner.startedAt)) return;
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
  const onExit = () => release();
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { file, owner, tookOverFrom, release };
}
