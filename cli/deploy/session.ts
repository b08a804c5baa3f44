/**
 * A session holds what one command run shares across steps: the loaded inventory and secrets, one transport per
 * machine (connection reuse), one forward per node to its server port, and the agent bundle to push. Commands
 * open one session and close it on every exit path, which closes every SSH connection and local listener.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError, messageOf } from '../errors';
import type { Inventory, NodeSpec } from '../inventory/model';
import type { NodeSecrets } from '../inventory/secrets';
import { connectAgent, type AgentConnection } from '../redis/connect';
import { TransportPool } from '../transport/pool';
import type { Forward, Transport } from '../transport/transport';

export interface AgentBundle {
  path: string;
  sha256: string;
  version: string;
}

/**
 * Finds the agent bundle: an explicit path, else `orchestrate-agent.js` beside the CLI bundle (dist/), else the
 * repository's dist/ when running from sources.
 */
export function locateAgentBundle(explicit: string | undefined, cwd: string): AgentBundle {
  const candidates = explicit
    ? [path.resolve(cwd, explicit)]
    : [
        path.join(__dirname, 'orchestrate-agent.js'),
        path.resolve(__dirname, '../../dist/orchestrate-agent.js'),
      ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new UserError('E_AGENT_BUNDLE', `agent bundle not found (looked at ${candidates.join(', ')})`, [
      'build it with `npm run build`, or pass --agent <path>',
    ]);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(found);
  } catch (e) {
    throw new UserError('E_AGENT_BUNDLE', `cannot read agent bundle ${found}: ${messageOf(e)}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const r = spawnSync(process.execPath, [found, '--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /v=(\S+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    throw new UserError('E_AGENT_BUNDLE', `agent bundle ${found} does not report its version`, [
      `\`node ${found} --version\` exited ${r.status}: ${(r.stderr || r.stdout || '').trim().slice(0, 300)}`,
    ]);
  }
  return { path: found, sha256, version: m[1] };
}

export class Session {
  readonly pool: TransportPool;
  private readonly forwards = new Map<string, Promise<Forward>>();

  constructor(
    readonly inventory: Inventory,
    readonly secrets: Map<string, NodeSecrets>,
    opts: { acceptNewHostKeys: boolean; env: NodeJS.ProcessEnv },
  ) {
    this.pool = new TransportPool({ acceptNewHostKeys: opts.acceptNewHostKeys, env: opts.env });
  }

  node(name: string): NodeSpec {
    const n = this.inventory.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`unknown node ${name}`);
    return n;
  }

  secretsOf(name: string): NodeSecrets {
    return this.secrets.get(name) ?? {};
  }

  transport(node: NodeSpec): Transport {
    return this.pool.get(node, this.secretsOf(node.name));
  }

  /** A local endpoint reaching the node's server port, opened once per run. */
  endpoint(node: NodeSpec): Promise<Forward> {
    let f = this.forwards.get(node.name);
    if (!f) {
      f = this.transport(node).forward(node.address, node.server.port);
      f.catch(() => this.forwards.delete(node.name));
      this.forwards.set(node.name, f);
    }
    return f;
  }

  /** Connects to a node's agent with the inventory password, then the extra ones given (e.g. from its config file). */
  async connect(node: NodeSpec, extraPasswords: Array<string | undefined> = []): Promise<AgentConnection> {
    const ep = await this.endpoint(node);
    return connectAgent({ host: ep.host, port: ep.port }, [
      this.secretsOf(node.name).requirepass,
      ...extraPasswords,
    ]);
  }

  async close(): Promise<void> {
    const fwds = [...this.forwards.values()];
    this.forwards.clear();
    await Promise.all(fwds.map((f) => f.then((x) => x.close()).catch(() => undefined)));
    await this.pool.closeAll();
  }
}
