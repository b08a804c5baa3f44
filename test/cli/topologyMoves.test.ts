/**
 * The pure parts of master moves and rollback: which observed topologies call for a switchover (and which must be
 * refused because the current master is outside --limit), and an inventory re-shaped to a recorded topology
 * (roles, masters, depths and order recomputed; nodes that were down keep what the inventory says).
 */
import { detectMasterMoves } from '../../cli/commands/converge';
import { withTopology } from '../../cli/commands/rollback';
import { parseInventory } from '../../cli/inventory/load';
import type { Topology, TopologyNode } from '../../cli/state/topology';

const inv = (body: string) =>
  parseInventory(
    `version: 1
defaults: { connection: local, paths: { install: /x/opt, config: /x/etc, data: /x/data, log: /x/log, run: /x/run } }
hosts:
${body}`,
    'inv.yaml',
    { dir: '/tmp' },
  );

const node = (
  name: string,
  port: number,
  master?: string,
  over: Partial<TopologyNode> = {},
): TopologyNode => ({
  name,
  address: '127.0.0.1',
  port,
  reachable: true,
  role: master ? 'replica' : 'master',
  ...(master ? { master, linkStatus: 'up' } : {}),
  ...over,
});

const ABC = `  a: { address: 127.0.0.1, server: { port: 1 } }
  b: { address: 127.0.0.1, server: { port: 2 }, replicaof: a }
  c: { address: 127.0.0.1, server: { port: 3 }, replicaof: a }
`;
const BAC = `  a: { address: 127.0.0.1, server: { port: 1 }, replicaof: b }
  b: { address: 127.0.0.1, server: { port: 2 } }
  c: { address: 127.0.0.1, server: { port: 3 }, replicaof: b }
`;
const observedABC: Topology = [node('a', 1), node('b', 2, 'a'), node('c', 3, 'a')];

test('an inventory that makes a replica the master asks for one switchover, with the other replicas as siblings', () => {
  const target = inv(BAC);
  const moves = detectMasterMoves(target.nodes, observedABC, target.nodes);
  expect(moves.map((m) => [m.from.name, m.to.name, m.siblings.map((s) => s.name)])).toEqual([
    ['a', 'b', ['c']],
  ]);
});

test('no switchover when the topology already matches, or when the old master is down', () => {
  const same = inv(ABC);
  expect(detectMasterMoves(same.nodes, observedABC, same.nodes)).toEqual([]);
  const target = inv(BAC);
  const down: Topology = [
    { ...node('a', 1), reachable: false, role: undefined },
    node('b', 2, 'a'),
    node('c', 3, 'a'),
  ];
  expect(detectMasterMoves(target.nodes, down, target.nodes)).toEqual([]);
});

test('a new master whose current master is outside --limit is refused before anything changes', () => {
  const target = inv(BAC);
  const scope = target.nodes.filter((n) => n.name === 'b');
  expect(() => detectMasterMoves(scope, observedABC, target.nodes)).toThrow(
    'b is to become a master but today follows a, which is not in scope; nothing was changed',
  );
});

test('an inventory laid over a recorded topology takes its roles, masters and depths; down nodes keep theirs', () => {
  const base = inv(ABC);
  const recorded: Topology = [node('a', 1, 'b'), node('b', 2), node('c', 3, 'a')];
  const moved = withTopology(base, recorded);
  expect(moved.nodes.map((n) => [n.name, n.role, n.replicaof ?? null, n.depth, n.tree])).toEqual([
    ['b', 'master', null, 0, 'b'],
    ['a', 'replica', 'b', 1, 'b'],
    ['c', 'replica', 'a', 2, 'b'],
  ]);
  expect(base.nodes.map((n) => n.replicaof ?? null)).toEqual([null, 'a', 'a']);
  const partly = withTopology(base, [node('a', 1, 'b'), node('b', 2), { ...node('c', 3), reachable: false }]);
  expect(partly.nodes.find((n) => n.name === 'c')).toMatchObject({ replicaof: 'a', depth: 2 });
});
