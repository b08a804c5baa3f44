/**
 * The CLI's `main` run in-process with captured streams, as the command line tests and the local-topology tests
 * drive it: no child process, so a test can run many commands quickly and see exactly what was written.
 */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main';
import type { CliIO } from '../../cli/ui/io';

const REPO = path.resolve(__dirname, '../..');

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, filled in by callers that ran with --json. */
  json?: any;
}

export interface InProcessOptions {
  /** The environment besides PATH (which is always passed). */
  env?: NodeJS.ProcessEnv;
  /** Whether stdin, stdout and stderr claim to be a terminal (default false). */
  tty?: boolean;
  /** Written to stdin, which is then closed; otherwise stdin stays open and empty. */
  stdin?: string;
}

export async function runInProcess(args: string[], opts: InProcessOptions = {}): Promise<InProcessRun> {
  const tty = opts.tty ?? false;
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  const stdin = Object.assign(new PassThrough(), { isTTY: tty });
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  if (opts.stdin !== undefined) stdin.end(opts.stdin);
  const io: CliIO = { stdout, stderr, stdin, env: { PATH: process.env.PATH, ...opts.env }, cwd: REPO };
  const code = await main(args, io);
  return { code, stdout: out, stderr: err };
}
