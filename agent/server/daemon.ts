/**
 * Daemon mode without fork(): the foreground process re-executes itself detached (new session, no terminal,
 * stdio closed) and waits until the child reports that it listens, or that it failed; then it exits with the
 * child's verdict. That keeps `daemonize yes` useful to init scripts and to the orchestrator: a zero exit
 * means the server is up. The child writes the pidfile.
 */
import { spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';

/** The environment variable that marks the detached child. */
const DAEMON_CHILD_ENV = 'ORCHESTRATE_AGENT_DAEMON_CHILD';
/** How long the parent waits for the child to say it is ready. */
const DAEMON_READY_TIMEOUT_MS = 60_000;

export function isDaemonChild(): boolean {
  return process.env[DAEMON_CHILD_ENV] === '1';
}

/** Starts the detached child and exits this process with 0 once it is ready, 1 if it fails. */
export function detach(): Promise<never> {
  return new Promise(() => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...process.env, [DAEMON_CHILD_ENV]: '1' },
    });
    const timer = setTimeout(() => {
      process.stderr.write('orchestrate-agent: the daemon did not report readiness in time\n');
      process.exit(1);
    }, DAEMON_READY_TIMEOUT_MS);
    child.on('message', (msg: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      if (msg.ready) process.exit(0);
      process.stderr.write(`${msg.error ?? 'orchestrate-agent: the daemon failed to start'}\n`);
      process.exit(1);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.stderr.write(`orchestrate-agent: the daemon exited with code ${code} before it was ready\n`);
      process.exit(1);
    });
  });
}

/** Tells the waiting parent how startup went, then lets go of the IPC channel. */
export function reportToParent(result: { ready: true } | { ready: false; error: string }): void {
  if (!process.send) return;
  process.send(result, () => process.disconnect?.());
}

export function writePidFile(path: string): void {
  writeFileSync(path, `${process.pid}\n`);
}

export function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to do.
  }
}
