/**
 * Running a command to its end in a test: its exit code and output. The result is taken when the child *closes*
 * its streams, not when it exits: 'exit' can come before the last of its output has been read. A child still
 * running after `timeoutMs` is killed (SIGKILL); a command that cannot be started rejects.
 */
import { spawn } from 'node:child_process';

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
}

export interface ProcessOptions {
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function runProcess(cmd: string, args: string[], opts: ProcessOptions = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      output += d;
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, output });
    });
    if (child.stdin) {
      // A child that does not read its stdin may exit before it is written: EPIPE there is expected.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}
