/**
 * Health verdicts and their outputs, on samples as status builds them from INFO: down and link-down nodes,
 * drift from the inventory, lag beyond the thresholds, a resync loop seen as sync counters growing between two
 * polls, clients near or refused at maxclients, and the Prometheus text exposition (HELP/TYPE lines, escaped
 * labels, values).
 */
import { renderPrometheus } from '../../cli/health/render';
import type { NodeSample } from '../../cli/health/sample';
import { DEFAULT_THRESHOLDS, exitCodeOf, judge, worst } from '../../cli/health/verdict';

const master = (over: Partial<NodeSample> = {}): NodeSample => ({
  name: 'm',
  address: '127.0.0.1',
  port: 1,
  up: true,
  role: 'master',
  offset: 1000,
  connectedReplicas: 1,
  counters: { full: 1, partialOk: 0, partialErr: 0 },
  ...over,
});
const replica = (over: Partial<NodeSample> = {}): NodeSample => ({
  name: 'r',
  address: '127.0.0.1',
  port: 2,
  up: true,
  role: 'replica',
  expectedMaster: 'm',
  master: 'm',
  linkStatus: 'up',
  offset: 1000,
  lagBytes: 0,
  lagSeconds: 0,
  counters: { full: 0, partialOk: 0, partialErr: 0 },
  ...over,
});

test('a healthy master and replica are ok, and the status is the worst node', () => {
  expect(judge(master(), undefined, DEFAULT_THRESHOLDS).level).toBe('ok');
  expect(judge(replica(), undefined, DEFAULT_THRESHOLDS)).toMatchObject({ level: 'ok', problems: [] });
  expect(worst(['ok', 'degraded', 'ok'])).toBe('degraded');
  expect(exitCodeOf(worst(['degraded', 'down']))).toBe(2);
});

test('a node that does not answer and a replica whose link is down are down', () => {
  expect(
    judge({ ...replica(), up: false, error: 'ECONNREFUSED' }, undefined, DEFAULT_THRESHOLDS),
  ).toMatchObject({
    level: 'down',
    problems: ['does not answer: ECONNREFUSED'],
  });
  const v = judge(
    replica({ linkStatus: 'down', linkDownSeconds: 7, syncInProgress: true, syncPercent: 40 }),
    undefined,
    DEFAULT_THRESHOLDS,
  );
  expect(v).toMatchObject({ level: 'down', problems: ['link to m is down for 7 s (sync in progress 40%)'] });
});

test('drift of master or role and lag beyond the thresholds are degraded', () => {
  expect(judge(replica({ master: 'r2' }), undefined, DEFAULT_THRESHOLDS)).toMatchObject({
    level: 'degraded',
    drift: true,
    problems: ['drift: follows r2, the inventory says m'],
  });
  expect(judge(master({ expectedMaster: 'r' }), undefined, DEFAULT_THRESHOLDS).problems).toEqual([
    'drift: is a master, the inventory says replica of r',
  ]);
  const lag = judge(replica({ lagBytes: 5_000_000, lagSeconds: 30 }), undefined, DEFAULT_THRESHOLDS);
  expect(lag.level).toBe('degraded');
  expect(lag.problems).toEqual(['lag 5000000 bytes > 1048576', 'lag 30 s > 10']);
});

test('clients near maxclients, or refused at it since the previous poll, are degraded', () => {
  const clients = (connected: number, max: number, rejected: number) =>
    master({ clients: { connected, max, rejected } });
  expect(judge(clients(899, 1000, 5), undefined, DEFAULT_THRESHOLDS)).toMatchObject({
    level: 'ok',
    problems: [],
  });
  expect(judge(clients(900, 1000, 5), undefined, DEFAULT_THRESHOLDS)).toMatchObject({
    level: 'degraded',
    problems: ['900 clients of maxclients 1000'],
  });
  // Refusals count from one poll to the next: those of the agent's past do not make it degraded now.
  expect(judge(clients(10, 1000, 5), clients(10, 1000, 5), DEFAULT_THRESHOLDS).level).toBe('ok');
  expect(judge(clients(10, 1000, 7), clients(10, 1000, 5), DEFAULT_THRESHOLDS)).toMatchObject({
    level: 'degraded',
    problems: ['refused 2 connections at maxclients 1000 since the previous poll'],
  });
});

test('sync_full or sync_partial_err growing between polls is a resync loop; partial resyncs alone are not', () => {
  const before = master();
  const loop = judge(
    master({ counters: { full: 3, partialOk: 0, partialErr: 1 } }),
    before,
    DEFAULT_THRESHOLDS,
  );
  expect(loop).toMatchObject({
    level: 'degraded',
    resyncLoop: true,
    countersMoved: { full: 2, partialErr: 1 },
  });
  expect(loop.problems).toEqual(['resync loop: sync_full +2, sync_partial_err +1 since the previous poll']);
  const partial = judge(
    master({ counters: { full: 1, partialOk: 2, partialErr: 0 } }),
    before,
    DEFAULT_THRESHOLDS,
  );
  expect(partial).toMatchObject({ level: 'ok', resyncLoop: false, countersMoved: { partialOk: 2 } });
});

test('the Prometheus exposition has HELP and TYPE per metric, escaped labels, and skips unknown values', () => {
  const samples = [
    master({ name: 'm"1' }),
    replica({ lagSeconds: undefined }),
    { ...replica(), name: 'x', up: false },
  ];
  const verdicts = samples.map((s) => judge(s, undefined, DEFAULT_THRESHOLDS));
  const text = renderPrometheus(samples, verdicts, 'down');
  expect(text).toContain(
    '# HELP orchestrate_status Overall replication health: 0 healthy, 1 degraded, 2 down.\n',
  );
  expect(text).toContain('# TYPE orchestrate_status gauge\norchestrate_status{} 2\n');
  expect(text).toContain('orchestrate_node_up{node="m\\"1",address="127.0.0.1:1"} 1');
  expect(text).toContain('orchestrate_node_up{node="x",address="127.0.0.1:2"} 0');
  expect(text).toContain('# TYPE orchestrate_sync_full_total counter');
  expect(text).not.toMatch(/orchestrate_replication_lag_seconds\{node="r"/);
  expect(text.endsWith('\n')).toBe(true);
});
