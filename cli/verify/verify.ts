/**
 * Sync verification: poll every replica and its master until all checks of checks.ts pass and a probe write is
 * proven on each replica, twice in a row, or the timeout expires.
 *
 * Probe: on the root master of each tree, SET a random key (expiring, deleted afterwards), WAIT for its direct
 * replicas to acknowledge it, then read it back from every replica of the tree (replicas of replicas included).
 * Two consecutive passing polls rule out a link that flaps. On timeout each failing replica gets its last problems
 * plus a diagnosis from the caller (log lines, reachability of the master from the replica's host, auth).
 * Clock and sleep are injectable.
 */
import { randomBytes } from 'node:crypto';
import { messageOf } from '../errors';
import type { AgentConnection } from '../redis/connect';
import type { Info } from '../redis/info';
import { evaluateLink, type ExpectedLink } from './checks';

export interface VerifyNode {
  name: string;
  address: string;
  port: number;
  /** Name of the node it replicates from. */
  master?: string;
}

export interface VerifyOptions {
  nodes: VerifyNode[];
  /** Replicas to prove in sync. Their masters (up to the tree root) must be in `nodes`. */
  replicas: string[];
  connect(name: string): Promise<AgentConnection>;
  timeoutMs: number;
  intervalMs?: number;
  passesRequired?: number;
  /** WAIT timeout for the probe write. */
  waitTimeoutMs?: number;
  onPoll?(poll: number, consecutivePasses: number, problems: Map<string, string[]>): void;
  diagnose?(replica: string, problems: string[]): Promise<string[]>;
  now?(): number;
  sleep?(ms: number): Promise<void>;
}

export interface ReplicaVerdict {
  name: string;
  ok: boolean;
  problems: string[];
  diagnosis: string[];
}

export interface VerifyResult {
  ok: boolean;
  polls: number;
  elapsedMs: number;
  replicas: ReplicaVerdict[];
}

export const PROBE_KEY_PREFIX = 'orchestrate:probe:';
export const PROBE_TTL_MS = 60_000;

export async function verifySync(opts: VerifyOptions): Promise<VerifyResult> {
  const now = opts.now ?? (() => Date.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const intervalMs = opts.intervalMs ?? 250;
  const passesRequired = opts.passesRequired ?? 2;
  const byName = new Map(opts.nodes.map((n) => [n.name, n]));
  const start = now();
  const deadline = start + opts.timeoutMs;
  const conns = new Map<string, AgentConnection>();
  const connErrors = new Map<string, string>();

  const links: ExpectedLink[] = opts.replicas.map((name) => {
    const r = byName.get(name)!;
    const m = byName.get(r.master!)!;
    return {
      replica: { name, address: r.address, port: r.port },
      master: { name: m.name, address: m.address, port: m.port },
    };
  });
  const rootOf = (name: string): string => {
    let cur = byName.get(name)!;
    while (cur.master) cur = byName.get(cur.master)!;
    return cur.name;
  };

  const conn = async (name: string): Promise<AgentConnection | undefined> => {
    const existing = conns.get(name);
    if (existing) return existing;
    try {
      const c = await opts.connect(name);
      conns.set(name, c);
      connErrors.delete(name);
      return c;
    } catch (e) {
      connErrors.set(name, messageOf(e));
      return undefined;
    }
  };
  const info = async (name: string): Promise<Info | undefined> => {
    const c = await conn(name);
    if (!c) return undefined;
    try {
      return await c.info('replication');
    } catch (e) {
      connErrors.set(name, `INFO failed: ${messageOf(e)}`);
      conns.delete(name);
      await c.close();
      return undefined;
    }
  };

  let polls = 0;
  let passes = 0;
  let last = new Map<string, string[]>();
  try {
    while (true) {
      polls++;
      const problems = new Map<string, string[]>(opts.replicas.map((r) => [r, []]));
      // Masters first, so that a replica sampled after its master has had the chance to reach its offset.
      const masters = [...new Set(links.map((l) => l.master.name))];
      const masterInfos = new Map<string, Info | undefined>();
      await Promise.all(masters.map(async (m) => masterInfos.set(m, await info(m))));
      const replicaInfos = new Map<string, Info | undefined>();
      await Promise.all(opts.replicas.map(async (r) => replicaInfos.set(r, await info(r))));
      for (const l of links) {
        const res = evaluateLink(l, replicaInfos.get(l.replica.name), masterInfos.get(l.master.name));
        const list = problems.get(l.replica.name)!;
        if (!replicaInfos.get(l.replica.name) && connErrors.has(l.replica.name)) {
          list.push(`${l.replica.name} does not answer: ${connErrors.get(l.replica.name)}`);
        } else {
          // The replica's own view first (link down and why); the master's silence adds the operator's view.
          const masterSilent = !masterInfos.get(l.master.name) && connErrors.has(l.master.name);
          const silence = `${l.master.name} (master of ${l.replica.name}) does not answer`;
          list.push(...res.problems.filter((p) => !(masterSilent && p.startsWith(silence))));
          if (masterSilent) list.push(`${silence}: ${connErrors.get(l.master.name)}`);
        }
      }

      // Probe write per tree.
      const trees = new Map<string, string[]>();
      for (const r of opts.replicas) {
        const root = rootOf(r);
        if (!trees.has(root)) trees.set(root, []);
        trees.get(root)!.push(r);
      }
      // Only replicas that pass the structural checks take part: a broken sibling must not fail the others' WAIT.
      await Promise.all(
        [...trees.entries()].map(async ([root, replicas]) => {
          const healthy = replicas.filter((r) => problems.get(r)!.length === 0);
          if (healthy.length > 0) await probeTree(root, healthy, opts, byName, conn, problems);
        }),
      );

      const allOk = [...problems.values()].every((p) => p.length === 0);
      passes = allOk ? passes + 1 : 0;
      last = problems;
      opts.onPoll?.(polls, passes, problems);
      if (passes >= passesRequired) break;
      if (now() + intervalMs > deadline) break;
      await sleep(intervalMs);
    }
  } finally {
    await Promise.all([...conns.values()].map((c) => c.close()));
  }

  const ok = passes >= passesRequired;
  const replicas: ReplicaVerdict[] = [];
  for (const name of opts.replicas) {
    const p = last.get(name) ?? [];
    let diagnosis: string[] = [];
    if (!ok && p.length > 0 && opts.diagnose) {
      try {
        diagnosis = await opts.diagnose(name, p);
      } catch (e) {
        diagnosis = [`diagnosis failed: ${messageOf(e)}`];
      }
    }
    replicas.push({ name, ok: p.length === 0, problems: p, diagnosis });
  }
  return { ok, polls, elapsedMs: now() - start, replicas };
}

async function probeTree(
  root: string,
  replicas: string[],
  opts: VerifyOptions,
  byName: Map<string, VerifyNode>,
  conn: (name: string) => Promise<AgentConnection | undefined>,
  problems: Map<string, string[]>,
): Promise<void> {
  const master = await conn(root);
  const fail = (r: string, msg: string) => problems.get(r)!.push(msg);
  if (!master) {
    replicas.forEach((r) => fail(r, `probe: cannot reach ${root}`));
    return;
  }
  const key = `${PROBE_KEY_PREFIX}${randomBytes(8).toString('hex')}`;
  const value = randomBytes(12).toString('hex');
  // WAIT counts acknowledgements from any replica of the root; ask for as many as there are healthy direct ones.
  const direct = replicas.filter((r) => byName.get(r)!.master === root);
  try {
    await master.redis.set(key, value, 'PX', PROBE_TTL_MS);
    if (direct.length > 0) {
      const acked = Number(
        await master.redis.call('WAIT', String(direct.length), String(opts.waitTimeoutMs ?? 1000)),
      );
      if (acked < direct.length) {
        direct.forEach((r) =>
          fail(
            r,
            `probe: write on ${root} acknowledged by ${acked} of its ${direct.length} replica(s) within the WAIT timeout`,
          ),
        );
        return;
      }
    }
    await Promise.all(
      replicas.map(async (r) => {
        const c = await conn(r);
        if (!c) return fail(r, `probe: cannot reach ${r}`);
        const got = await c.redis.get(key);
        if (got !== value) fail(r, `probe: write on ${root} not yet readable on ${r}`);
      }),
    );
  } catch (e) {
    replicas.forEach((r) => fail(r, `probe on ${root} failed: ${messageOf(e)}`));
  } finally {
    await master.redis.del(key).catch(() => undefined);
  }
}
