/**
 * Runs the built CLI (`dist/orchestrate.js`, what users run) as a child process, with a chosen environment and no
 * terminal, and returns its exit code and output. Needs `npm run build` first.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { runProcess } from '../../helpers/process';

export const REPO = path.resolve(__dirname, '../../..');
export const CLI_BUNDLE = path.join(REPO, 'dist/orchestrate.js');
export const AGENT_BUNDLE = path.join(REPO, 'dist/orchestrate-agent.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when --json was given. */
  json?: any;
}

export function requireBundles(): void {
  for (const f of [CLI_BUNDLE, AGENT_BUNDLE]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` before the e2e tests`);
  }
}

export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<CliRun> {
  const { code, stdout, stderr } = await runProcess(process.execPath, [CLI_BUNDLE, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env },
    timeoutMs,
  });
  return { code, stdout, stderr, json: jsonOutput(args, stdout) };
}

/** stdout parsed as JSON when the command was given --json (undefined when it is not JSON). */
export function jsonOutput(args: string[], stdout: string): unknown {
  if (!args.includes('--json')) return undefined;
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

/**
 * An ioredis client for assertions. ioredis keeps a timer for `disconnectTimeout` after disconnecting a socket
 * that already failed; a short one lets jest exit as soon as the tests are done.
 */
export function testClient(
  host: string,
  port: number,
  password?: string,
  opts: { reconnect?: boolean } = {},
): Redis {
  const c = new Redis({
    host,
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    // Reconnecting (the default) suits clients that outlive a restart of the server; disconnect() stops it.
    ...(opts.reconnect === false ? { retryStrategy: () => null } : {}),
    disconnectTimeout: 100,
  });
  c.on('error', () => undefined);
  return c;
}
