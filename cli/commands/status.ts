/**
 * `orchestrate status` (alias `health`): a health table of every node in scope, from the nodes themselves.
 *
 * Each node is read with ioredis, directly at address:port when that answers, else through the node's transport
 * forward (an SSH tunnel for remote hosts: the server port need not be open to the operator). One run polls twice,
 * SAMPLE_INTERVAL_MS apart, so that sync counters that move between polls (a resync loop) show; --watch keeps
 * polling every N seconds, comparing each poll with the one before, until interrupted. Exit code: 0 healthy,
 * 1 degraded, 2 a node or a link down (with --watch: of the last poll).
 */
import { messageOf } from '../errors';
import type { Session } from '../deploy/session';
import { renderPrometheus, renderStatusTable } from '../health/render';
import { baseSample, fillLag, sampleFromInfo, type NodeSample } from '../health/sample';
import {
  DEFAULT_THRESHOLDS,
  exitCodeOf,
  judge,
  worst,
  type Level,
  type NodeVerdict,
} from '../health/verdict';
import type { NodeSpec } from '../inventory/model';
import { configGet, connectAgent, RedisUnavailable, type AgentConnection } from '../redis/connect';
import { parseInfo, type Info } from '../redis/info';
import { writeLine } from '../ui/io';
import { loadInventory, openSession, type CommandContext, type CommandOutcome } from './context';

export const SAMPLE_INTERVAL_MS = 1000;

export interface Poll {
  at: string;
  level: Level;
  samples: NodeSample[];
  verdicts: NodeVerdict[];
}

/** How the reader dials a node's server port directly (injected by tests to make that fail). */
export type DirectDial = typeof connectAgent;

/**
 * Reads nodes for status, keeping one connection per node across polls (reconnecting after a failure): directly
 * when the server port is reachable, else, for SSH hosts, through the node's SSH tunnel.
 */
export class NodeReader {
  private readonly conns = new Map<string, { conn: AgentConnection; via: 'direct' | 'tunnel' }>();
  constructor(
    private readonly session: Session,
    private readonly dialDirect: DirectDial = connectAgent,
  ) {}

  private async open(node: NodeSpec): Promise<{ conn: AgentConnection; via: 'direct' | 'tunnel' }> {
    const have = this.conns.get(node.name);
    if (have) return have;
    let got: { conn: AgentConnection; via: 'direct' | 'tunnel' };
    const password = this.session.secretsOf(node.name).requirepass;
    try {
      got = {
        conn: await this.dialDirect({ host: node.address, port: node.server.port }, [password]),
        via: 'direct',
      };
    } catch (e) {
      if (!(e instanceof RedisUnavailable) || node.connection !== 'ssh') throw e;
      got = { conn: await this.session.connect(node), via: 'tunnel' };
    }
    this.conns.set(node.name, got);
    return got;
  }

  async read(
    node: NodeSpec,
  ): Promise<{ info: Info; config: Record<string, string>; via: 'direct' | 'tunnel' }> {
    const { conn, via } = await this.open(node);
    try {
      const info = parseInfo(String(await conn.redis.info()));
      const config = await configGet(conn, ['save', 'appendonly']);
      return { info, config, via };
    } catch (e) {
      this.conns.delete(node.name);
      await conn.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.conns.values()].map((c) => c.conn.close()));
    this.conns.clear();
  }
}

export async function pollOnce(
  nodes: NodeSpec[],
  scope: NodeSpec[],
  reader: NodeReader,
  previous: Poll | undefined,
): Promise<Poll> {
  const infos = new Map<string, Info>();
  const samples = await Promise.all(
    scope.map(async (n) => {
      try {
        const r = await reader.read(n);
        infos.set(n.name, r.info);
        const s = sampleFromInfo(nodes, n, r.info, r.config);
        s.via = r.via;
        return s;
      } catch (e) {
        return { ...baseSample(n), error: messageOf(e) };
      }
    }),
  );
  fillLag(samples, infos);
  const prev = new Map((previous?.samples ?? []).map((s) => [s.name, s]));
  const verdicts = samples.map((s) => judge(s, prev.get(s.name), DEFAULT_THRESHOLDS));
  return { at: new Date().toISOString(), level: worst(verdicts.map((v) => v.level)), samples, verdicts };
}

function pollJson(p: Poll) {
  return {
    at: p.at,
    status: p.level,
    nodes: p.samples.map((s, i) => ({
      ...s,
      health: p.verdicts[i].level,
      problems: p.verdicts[i].problems,
      drift: p.verdicts[i].drift,
      countersMoved: p.verdicts[i].countersMoved ?? null,
      resyncLoop: p.verdicts[i].resyncLoop,
    })),
  };
}

export async function runStatus(ctx: CommandContext): Promise<CommandOutcome> {
  const loaded = loadInventory(ctx);
  const session = openSession(ctx, loaded);
  const reader = new NodeReader(session);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const show = (p: Poll, watching: boolean) => {
    if (ctx.options.prometheus) {
      ctx.io.stdout.write(renderPrometheus(p.samples, p.verdicts, p.level));
    } else if (ctx.options.json) {
      if (watching) writeLine(ctx.io.stdout, JSON.stringify(pollJson(p)));
    } else {
      if (watching) ctx.say(ctx.style.dim(`-- ${p.at}`));
      for (const l of renderStatusTable(p.samples, p.verdicts, ctx.style)) ctx.say(l);
      ctx.say(
        p.level === 'ok'
          ? ctx.style.green('healthy')
          : p.level === 'degraded'
            ? ctx.style.yellow('degraded')
            : ctx.style.red('down: a node or a link is down'),
      );
    }
  };
  try {
    let previous = await pollOnce(loaded.inventory.nodes, loaded.scope, reader, undefined);
    if (ctx.options.watchSeconds === undefined) {
      await sleep(SAMPLE_INTERVAL_MS);
      const p = await pollOnce(loaded.inventory.nodes, loaded.scope, reader, previous);
      show(p, false);
      return {
        exitCode: exitCodeOf(p.level),
        json: ctx.options.prometheus ? undefined : { ok: p.level === 'ok', ...pollJson(p) },
      };
    }
    let stop = false;
    const onSigint = () => {
      stop = true;
    };
    process.once('SIGINT', onSigint);
    try {
      show(previous, true);
      while (!stop) {
        await sleep(ctx.options.watchSeconds * 1000);
        if (stop) break;
        previous = await pollOnce(loaded.inventory.nodes, loaded.scope, reader, previous);
        show(previous, true);
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
    return { exitCode: exitCodeOf(previous.level), json: undefined };
  } finally {
    await reader.close();
    await session.close();
  }
}
