/**
 * Progress output as plain timestamped lines (CI logs, pipes): a failing step stops its host's job only, and every
 * job's outcome is returned. (The listr2 rendering needs a real terminal and dynamic imports that jest's module
 * system lacks; test/e2e/terminal.test.ts runs the built CLI under a pseudo-terminal for it.)
 */
import { PassThrough } from 'node:stream';
import { createProgress, mapLimit, type Stage } from '../../cli/ui/progress';
import { makeStyle } from '../../cli/ui/style';

function stage(): Stage {
  return {
    title: 'wave 1/1: masters (a, b)',
    concurrency: 2,
    jobs: [
      {
        host: 'a',
        steps: [
          { title: 'upload agent', run: async () => 'skipped: checksum matches' },
          { title: 'start agent', run: async (ctx) => ctx.note('waiting for PING') },
        ],
      },
      {
        host: 'b',
        steps: [
          {
            title: 'write config',
            run: async () => {
              throw new Error('disk full');
            },
          },
          { title: 'start agent', run: async () => 'never runs' },
        ],
      },
    ],
  };
}

test('plain lines name the host, the step and its outcome, with a fixed clock', async () => {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (b) => (out += b));
  const p = createProgress({
    stream,
    style: makeStyle(false),
    live: false,
    now: () => new Date('2024-01-01T10:00:00.000Z'),
  });
  const results = await p.runStage(stage());
  expect(results.map((r) => [r.host, r.ok, r.failedStep])).toEqual([
    ['a', true, undefined],
    ['b', false, 'write config'],
  ]);
  expect(results[0].outcomes.map((o) => [o.step, o.outcome])).toEqual([
    ['upload agent', 'skipped: checksum matches'],
    ['start agent', undefined],
  ]);
  const lines = out.split('\n').map((l) => l.replace(/ \d+ ms$/, ' N ms'));
  expect(lines).toEqual(
    expect.arrayContaining([
      '10:00:00.000 == wave 1/1: masters (a, b)',
      '10:00:00.000 a: upload agent: ok (skipped: checksum matches) N ms',
      '10:00:00.000 a: start agent: waiting for PING',
      '10:00:00.000 b: write config: FAILED: disk full',
    ]),
  );
  expect(out).not.toContain('never runs');
  expect(out).not.toContain('\u001b[');
});

test('mapLimit keeps order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, n * 5));
    running--;
    return n * 10;
  });
  expect(out).toEqual([50, 10, 40, 20, 30]);
  expect(peak).toBe(2);
});
