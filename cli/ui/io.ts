/**
 * The process surroundings a command runs in, injected so that tests can run commands in-process with captured
 * output, a chosen environment and a fake TTY answer, and so that nothing below `cli/main.ts` reads `process.*`.
 */
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Interactive means a person can answer a question: both stdin and stderr (where we ask) are terminals. */
export function isInteractive(io: CliIO): boolean {
  return Boolean(io.stdin.isTTY && io.stderr.isTTY);
}

export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
