/**
 * Progress of work spread over hosts: a stage (for example "wave 1: masters") runs one job per host, at most
 * `concurrency` at a time; a job is a sequence of steps and stops at its first failing step, other hosts go on.
 * A stage resolves with one result per job and never throws for a job's failure: the caller decides whether the
 * next stage may run.
 *
 * Two renderings of the same model: listr2 on a terminal (a live tree per host and step) and plain timestamped
 * lines otherwise (CI logs, pipes, --json runs). Both write to stderr, so stdout carries only the command's result.
 */
import type { Writable } from 'node:stream';
import { DefaultRenderer, Listr, ProcessOutput } from 'listr2';
import { messageOf } from '../errors';
import type { Style } from './style';

export interface StepContext {
  /** A short progress note (e.g. "sync 40%"); shown live on a TTY, logged as a line otherwise. */
  note(message: string): void;
}

export interface Step {
  title: string;
  /** Resolves with an optional short outcome ("skipped: checksum matches"). */
  run(ctx: StepContext): Promise<string | void>;
}

export interface HostJob {
  host: string;
  steps: Step[];
}

export interface Stage {
  title: string;
  jobs: HostJob[];
  concurrency: number;
}

export interface JobResult {
  host: string;
  ok: boolean;
  error?: unknown;
  failedStep?: string;
  /** Outcome text of each step that finished. */
  outcomes: { step: string; outcome?: string; durationMs: number }[];
}

export interface Progress {
  runStage(stage: Stage): Promise<JobResult[]>;
  /** A free-form line between stages (plain mode) or above the next listr block (TTY). */
  info(line: string): void;
}

export interface ProgressOptions {
  stream: Writable & { isTTY?: boolean };
  style: Style;
  /** listr2 live rendering; otherwise plain lines. */
  live: boolean;
  /** Clock for plain-line timestamps, injectable for tests. */
  now?: () => Date;
}

export function createProgress(opts: ProgressOptions): Progress {
  return opts.live ? new ListrProgress(opts) : new LineProgress(opts);
}

async function runJob(
  job: HostJob,
  hooks: {
    start(step: Step): void;
    done(step: Step, outcome: string | void, ms: number): void;
    fail(step: Step, e: unknown): void;
  },
  note: (step: Step, message: string) => void,
): Promise<JobResult> {
  const result: JobResult = { host: job.host, ok: true, outcomes: [] };
  for (const step of job.steps) {
    const t0 = Date.now();
    hooks.start(step);
    try {
      const outcome = await step.run({ note: (m) => note(step, m) });
      const ms = Date.now() - t0;
      result.outcomes.push({ step: step.title, outcome: outcome || undefined, durationMs: ms });
      hooks.done(step, outcome, ms);
    } catch (e) {
      result.ok = false;
      result.error = e;
      result.failedStep = step.title;
      hooks.fail(step, e);
      break;
    }
  }
  return result;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

class LineProgress implements Progress {
  constructor(private readonly opts: ProgressOptions) {}

  private line(host: string, text: string): void {
    const ts = (this.opts.now ?? (() => new Date()))().toISOString().slice(11, 23);
    this.opts.stream.write(
      `${this.opts.style.dim(ts)} ${host ? `${this.opts.style.bold(host)}: ` : ''}${text}\n`,
    );
  }

  info(line: string): void {
    this.line('', line);
  }

  async runStage(stage: Stage): Promise<JobResult[]> {
    const s = this.opts.style;
    this.line('', s.cyan(`== ${stage.title}`));
    // A note repeated by a polling step is logged once, until it changes.
    const lastNote = new Map<string, string>();
    return mapLimit(stage.jobs, stage.concurrency, (job) =>
      runJob(
        job,
        {
          start: (step) => this.line(job.host, `${step.title} ...`),
          done: (step, outcome, ms) =>
            this.line(
              job.host,
              `${step.title}: ${s.green('ok')}${outcome ? ` (${outcome})` : ''} ${s.dim(`${ms} ms`)}`,
            ),
          fail: (step, e) => this.line(job.host, `${step.title}: ${s.red('FAILED')}: ${messageOf(e)}`),
        },
        (step, m) => {
          const key = `${job.host}\u0000${step.title}`;
          if (lastNote.get(key) === m) return;
          lastNote.set(key, m);
          this.line(job.host, `${step.title}: ${m}`);
        },
      ),
    );
  }
}

/**
 * listr2's default renderer, minus its own check of process.stdout: we render to stderr and have already decided
 * that it is a terminal someone watches.
 */
class StderrTerminalRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

class ListrProgress implements Progress {
  private readonly output: ProcessOutput;
  constructor(private readonly opts: ProgressOptions) {
    const stream = opts.stream as NodeJS.WriteStream;
    this.output = new ProcessOutput(stream, stream, { leaveEmptyLine: false });
  }

  info(line: string): void {
    this.opts.stream.write(`${line}\n`);
  }

  async runStage(stage: Stage): Promise<JobResult[]> {
    const results: JobResult[] = new Array(stage.jobs.length);
    const list = new Listr(
      [
        {
          title: stage.title,
          task: (_ctx, stageTask) =>
            stageTask.newListr(
              stage.jobs.map((job, i) => ({
                title: job.host,
                task: async (_c: unknown, hostTask) => {
                  const r = await runJob(
                    job,
                    {
                      start: (step) => (hostTask.output = `${step.title} ...`),
                      done: (step, outcome) =>
                        (hostTask.output = `${step.title}${outcome ? `: ${outcome}` : ''}`),
                      fail: () => undefined,
                    },
                    (step, m) => (hostTask.output = `${step.title}: ${m}`),
                  );
                  results[i] = r;
                  const last = r.outcomes[r.outcomes.length - 1];
                  if (!r.ok) throw new Error(`${r.failedStep}: ${messageOf(r.error)}`);
                  hostTask.title = `${job.host}${last ? this.opts.style.dim(` — ${summary(r)}`) : ''}`;
                },
              })),
              { concurrent: stage.concurrency, exitOnError: false },
            ),
        },
      ],
      {
        renderer: StderrTerminalRenderer,
        rendererOptions: { processOutput: this.output, collapseSubtasks: false, showErrorMessage: true },
        exitOnError: false,
        registerSignalListeners: false,
        fallbackRendererCondition: false,
        silentRendererCondition: false,
        forceColor: this.opts.style.enabled,
      } as never,
    );
    let renderFailure: unknown;
    try {
      await list.run();
    } catch (e) {
      // Job failures are reported through `results`; anything else is a rendering problem.
      renderFailure = e;
    }
    return Array.from(
      { length: stage.jobs.length },
      (_, i) =>
        results[i] ?? {
          host: stage.jobs[i].host,
          ok: false,
          error: renderFailure ?? new Error('not run'),
          outcomes: [],
        },
    );
  }
}

function summary(r: JobResult): string {
  const notes = r.outcomes.filter((o) => o.outcome).map((o) => o.outcome);
  return notes.length > 0
    ? notes.join('; ')
    : `${r.outcomes.length} step${r.outcomes.length === 1 ? '' : 's'} done`;
}
