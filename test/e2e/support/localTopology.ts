/**
 * Local topologies for the issue-6 end-to-end tests: an inventory of agents on 127.0.0.1 (connection: local, the
 * agent's daemon mode, every path under a temporary directory), the CLI run in-process through `main` with
 * captured output, ioredis clients for assertions, and cleanup that kills every agent a test left running (by its
 * pid file). The SSH layer adds nothing to what these tests prove, so they skip it to stay fast.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { runInProcess, type InProcessRun } from '../../helpers/cliInProcess';
import { jsonOutput } from './runCli';

export const REPO = path.resolve(__dirname, '../../..');
export const AGENT_BUNDLE = path.join(REPO, 'dist/orchestrate-agent.js');
export const PASSWORD = 'e2e-secret-pw';

export interface HostDef {
  port: number;
  replicaof?: string;
  /** Extra YAML inside the host's `server:` mapping, e.g. `masterauth: { env: WRONG }`. */
  server?: string;
}

/**
 * An inventory of agents on 127.0.0.1 over `connection: local`, run as daemons, every path under `root`.
 * `requirePassword` sets requirepass from $PW (and lets DEBUG in from local connections).
 */
export function localInventoryYaml(
  root: string,
  hosts: Record<string, HostDef>,
  options: { requirePassword?: boolean } = {},
): string {
  const lines = Object.entries(hosts).map(
    ([name, h]) =>
      `  ${name}: { address: 127.0.0.1, server: { port: ${h.port}${h.server ? `, ${h.server}` : ''} }${h.replicaof ? `, replicaof: ${h.replicaof}` : ''} }`,
  );
  const server = options.requirePassword
    ? '  server: { requirepass: { env: PW }, directives: { enable-debug-command: local } }\n'
    : '';
  return `version: 1
defaults:
  connection: local
${server}  service: { manager: daemon, autoRestart: false }
  paths: { install: ${root}/opt, config: ${root}/etc, data: ${root}/data, log: ${root}/log, run: ${root}/run }
hosts:
${lines.join('\n')}
`;
}

export class LocalTopology {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-topo-'));
  readonly root = path.join(this.dir, 'hosts');
  readonly inventory = path.join(this.dir, 'inventory.yaml');
  readonly env: NodeJS.ProcessEnv = { PW: PASSWORD, WRONG: 'not-the-password' };
  /** A private copy of the agent bundle: dist/ may be rebuilt by someone else while a test runs. */
  readonly agent = path.join(this.dir, 'orchestrate-agent.js');
  /** One client per node, replaced once its connection has ended (a node restarted, or killed). */
  private clients = new Map<string, Redis>();

  constructor(public hosts: Record<string, HostDef>) {
    copyFileSync(AGENT_BUNDLE, this.agent);
    this.write(hosts);
  }

  write(hosts: Record<string, HostDef>): void {
    this.hosts = hosts;
    writeFileSync(this.inventory, localInventoryYaml(this.root, hosts, { requirePassword: true }));
  }

  async cli(args: string[]): Promise<InProcessRun> {
    const run = await runInProcess([...args, '--agent', this.agent].filter(argsFor(args[0])), {
      env: { HOME: this.dir, NO_COLOR: '1', ...this.env },
    });
    run.json = jsonOutput(args, run.stdout);
    return run;
  }

  /**
   * The node's client. Kept for the test's whole run: a test that made a connection per command (a write loop at
   * full speed) ran the agents and itself out of file descriptors under CI's limit of 1024.
   */
  client(name: string): Redis {
    const key = `${name}:${this.hosts[name].port}`;
    const kept = this.clients.get(key);
    if (kept && kept.status !== 'end' && kept.status !== 'close') return kept;
    kept?.disconnect();
    const c = new Redis({
      host: '127.0.0.1',
      port: this.hosts[name].port,
      password: PASSWORD,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      disconnectTimeout: 100,
    });
    c.on('error', () => undefined);
    this.clients.set(key, c);
    return c;
  }

  pid(name: string): number | undefined {
    const f = path.join(this.root, 'run', `${name}.pid`);
    return existsSync(f) ? Number(readFileSync(f, 'utf8')) : undefined;
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.pid(name);
    if (pid) process.kill(pid, signal);
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients.values()) c.disconnect();
    const run = path.join(this.root, 'run');
    if (existsSync(run)) {
      for (const f of readdirSync(run).filter((x) => x.endsWith('.pid'))) {
        try {
          process.kill(Number(readFileSync(path.join(run, f), 'utf8')), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** --agent only for the commands that take it. */
function argsFor(command: string | undefined): (a: string, i: number, all: string[]) => boolean {
  const takesAgent = command === 'apply' || command === 'plan' || command === 'rollback';
  return (a, i, all) => takesAgent || (a !== '--agent' && all[i - 1] !== '--agent');
}

/** DEBUG DIGEST of every named node. */
export async function digests(t: LocalTopology, names: string[]): Promise<string[]> {
  return Promise.all(names.map(async (n) => String(await t.client(n).call('DEBUG', 'DIGEST'))));
}
