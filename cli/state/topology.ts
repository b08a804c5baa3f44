/**
 * Observed topology: who is master, who follows whom, as the nodes themselves report it (INFO replication). This
 * is what history records before and after every changing run and what rollback returns to. A node's master is
 * named by the inventory node that has its master_host:master_port; an address not in the inventory is kept as
 * `host:port` so that drift towards a foreign server is still visible.
 */
import { messageOf } from '../errors';
import type { NodeSpec } from '../inventory/model';
import type { AgentConnection } from '../redis/connect';
import { num, type Info } from '../redis/info';

export interface TopologyNode {
  name: string;
  address: string;
  port: number;
  reachable: boolean;
  role?: 'master' | 'replica';
  /** Inventory name of the node followed, or host:port when it is not in the inventory. */
  master?: string;
  linkStatus?: string;
  offset?: number;
  error?: string;
}

export type Topology = TopologyNode[];

export function nameOfAddress(nodes: NodeSpec[], host: string | undefined, port: number | undefined): string {
  const n = nodes.find((x) => x.address === host && x.server.port === port);
  return n ? n.name : `${host ?? '?'}:${port ?? '?'}`;
}

export function topologyNode(nodes: NodeSpec[], node: NodeSpec, info: Info | undefined, error?: string) {
  const t: TopologyNode = {
    name: node.name,
    address: node.address,
    port: node.server.port,
    reachable: info !== undefined,
  };
  if (!info) {
    if (error) t.error = error;
    return t;
  }
  t.role = info.role === 'slave' ? 'replica' : 'master';
  if (t.role === 'replica') {
    t.master = nameOfAddress(nodes, info.master_host, num(info, 'master_port'));
    t.linkStatus = info.master_link_status;
    t.offset = num(info, 'slave_repl_offset');
  } else {
    t.offset = num(info, 'master_repl_offset');
  }
  return t;
}

/** Asks every node for INFO replication, in parallel; a node that does not answer is recorded unreachable. */
export async function observeTopology(
  nodes: NodeSpec[],
  connect: (node: NodeSpec) => Promise<AgentConnection>,
): Promise<Topology> {
  return Promise.all(
    nodes.map(async (n) => {
      let c: AgentConnection | undefined;
      try {
        c = await connect(n);
        return topologyNode(nodes, n, await c.info('replication'));
      } catch (e) {
        return topologyNode(nodes, n, undefined, messageOf(e));
      } finally {
        await c?.close();
      }
    }),
  );
}

/** One line per node: `name master` or `name -> master (link)`. */
export function describeTopology(t: Topology): string[] {
  return t.map((n) =>
    !n.reachable
      ? `${n.name}: down`
      : n.role === 'master'
        ? `${n.name}: master`
        : `${n.name}: replica of ${n.master}${n.linkStatus && n.linkStatus !== 'up' ? ` (link ${n.linkStatus})` : ''}`,
  );
}

/** Master per node as the topology says (undefined for masters); unreachable nodes are left out. */
export function mastersOf(t: Topology): Map<string, string | undefined> {
  return new Map(
    t.filter((n) => n.reachable).map((n) => [n.name, n.role === 'replica' ? n.master : undefined]),
  );
}
