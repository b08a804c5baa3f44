/**
 * Runs the built CLI (`dist/orchestrate.js`, what users run) as a child process, with a chosen environment and no
 * terminal, and returns its exit code and output. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';

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

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      resolve({ code, stdout, stderr, json });
    });
  });
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
