/**
 * Carrying out a plan. Waves run in order (masters, then their replicas, then replicas of replicas), nodes of a
 * wave in parallel up to --parallel; a wave with a failure stops the run before the next wave, so replicas are
 * never pointed at a master that did not come up. Per node the actions run in plan order; nodes without actions
 * are not contacted at all. After a node's actions its manifest records what was installed (destroy reads it).
 *
 * Files: the agent bundle is uploaded once per machine (nodes sharing a machine share it), config files are written
 * atomically with mode 0600, service files with 0644 (unit) or 0755 (scripts).
 */
import { OperationFailure, messageOf } from '../errors';
import { nodeLayout } from '../plan/agentConfig';
import type { NodeFacts } from '../plan/facts';
import type { Action, DesiredNode, NodePlan, Plan } from '../plan/plan';
import { bootRegistrationScript, serviceFilePath, type ServiceManager } from '../plan/service';
import { TransportPool } from '../transport/pool';
import type { Transport } from '../transport/transport';
import type { NodeSpec } from '../inventory/model';
import type { JobResult, Progress, Step } from '../ui/progress';
import { applyRuntimeChanges, ensureConfigFile, RuntimeChangeRefused } from './reconfigure';
import { registerBoot, startAgent, stopAgent, waitUntilReady } from './serviceControl';
import type { AgentBundle, Session } from './session';

export interface ExecuteInput {
  plan: Plan;
  desired: Map<string, DesiredNode>;
  facts: Map<string, NodeFacts>;
  session: Session;
  agent: AgentBundle;
  progress: Progress;
  parallel: number;
}

export interface StepFailure {
  node: string;
  step: string;
  message: string;
  details: string[];
}

export interface ExecuteReport {
  ok: boolean;
  results: JobResult[];
  failures: StepFailure[];
  /** Nodes with actions that were not started because an earlier wave failed. */
  notRun: string[];
}

function diskPassword(f: NodeFacts | undefined): string | undefined {
  return f?.config?.directives.filter((d) => d.name === 'requirepass').pop()?.args[0];
}

function waveTitle(index: number, total: number, depth: number, names: string[]): string {
  const what = depth === 0 ? 'masters' : depth === 1 ? 'replicas' : `replicas at depth ${depth}`;
  return `wave ${index + 1}/${total}: ${what} (${names.join(', ')})`;
}

export async function executePlan(input: ExecuteInput): Promise<ExecuteReport> {
  const { plan } = input;
  const uploads = new Map<string, Promise<string>>();
  const report: ExecuteReport = { ok: true, results: [], failures: [], notRun: [] };
  const waves = plan.waves
    .map((names) =>
      names.map((n) => plan.nodes.find((x) => x.name === n)!).filter((n) => n.actions.length > 0),
    )
    .map((nodes, i) => ({ nodes, depth: plan.nodes.find((x) => x.name === plan.waves[i][0])!.depth }))
    .filter((w) => w.nodes.length > 0);

  for (let i = 0; i < waves.length; i++) {
    const wave = waves[i];
    if (!report.ok) {
      report.notRun.push(...wave.nodes.map((n) => n.name));
      continue;
    }
    const results = await input.progress.runStage({
      title: waveTitle(
        i,
        waves.length,
        wave.depth,
        wave.nodes.map((n) => n.name),
      ),
      concurrency: input.parallel,
      jobs: wave.nodes.map((np) => ({ host: np.name, steps: nodeSteps(np, input, uploads) })),
    });
    report.results.push(...results);
    for (const r of results) {
      if (r.ok) continue;
      report.ok = false;
      const e = r.error;
      report.failures.push({
        node: r.host,
        step: r.failedStep ?? '?',
        message: messageOf(e),
        details: e instanceof OperationFailure ? e.details : [],
      });
    }
  }
  return report;
}

function nodeSteps(np: NodePlan, input: ExecuteInput, uploads: Map<string, Promise<string>>): Step[] {
  const { session } = input;
  const d = input.desired.get(np.name)!;
  const f = input.facts.get(np.name);
  const node = d.node;
  const t = session.transport(node);
  const layout = nodeLayout(node);
  const previousManager = f?.manifest?.manager;
  const previouslyManaged = f?.manifest?.directives ?? [];
  const steps: Step[] = [];
  const touchesFiles = np.actions.some(
    (a) => a.kind !== 'reconfigure' && a.kind !== 'restart' && a.kind !== 'write-manifest',
  );
  let managerSwitched = false;

  if (touchesFiles) {
    steps.push({
      title: 'prepare directories',
      run: async () => {
        const p = node.paths;
        const script = 'mkdir -p -m 0755 "$1" "$4" && mkdir -p -m 0700 "$2" "$3" && mkdir -p "$5"';
        const r = await t.exec(
          ['sh', '-c', script, 'sh', p.install, p.config, layout.dataDir, p.log, p.run],
          {
            privileged: true,
          },
        );
        if (r.code !== 0)
          throw new OperationFailure('E_APPLY_STEP', `mkdir failed: ${r.stderr.trim()}`, [], node.name);
      },
    });
  }

  for (const a of np.actions) {
    if (a.kind !== 'write-manifest') steps.push(actionStep(a));
  }
  steps.push({
    title: 'record manifest',
    run: async () => {
      const current = await t.readFile(layout.manifestPath, { privileged: true });
      if (current?.toString('utf8') === d.manifestText) return 'unchanged';
      await t.upload(Buffer.from(d.manifestText), layout.manifestPath, { mode: 0o600, privileged: true });
    },
  });
  return steps;

  function actionStep(a: Action): Step {
    switch (a.kind) {
      case 'upload-agent':
        return {
          title: 'upload agent',
          run: () => {
            const key = `${TransportPool.machineKey(node)}|${a.path}`;
            let p = uploads.get(key);
            if (!p) {
              p = (async () => {
                if ((await t.checksum(a.path, { privileged: true })) === input.agent.sha256)
                  return 'checksum matches, skipped';
                await t.upload({ localPath: input.agent.path }, a.path, { mode: 0o755, privileged: true });
                const sum = await t.checksum(a.path, { privileged: true });
                if (sum !== input.agent.sha256) {
                  throw new OperationFailure(
                    'E_TRANSFER',
                    `agent upload to ${a.path} arrived with checksum ${sum}`,
                    [],
                    node.name,
                  );
                }
                return `${input.agent.version} uploaded`;
              })();
              uploads.set(key, p);
            }
            return p;
          },
        };
      case 'write-config':
        return {
          title: a.created ? 'write config' : 'rewrite config',
          run: async () => {
            await t.upload(Buffer.from(d.configText), a.path, { mode: 0o600, privileged: true });
            return `${a.changes.length} directive change(s)`;
          },
        };
      case 'install-service':
        return {
          title: `install ${a.manager} service`,
          run: async () => {
            if (previousManager && previousManager !== a.manager && f?.manifest) {
              // Move from one manager to another: stop under the old one before its definition disappears.
              if (np.observed.running) await stopAgent(t, node, previousManager);
              await removeService(t, node, previousManager, f.manifest.serviceFile);
              managerSwitched = true;
            }
            await t.upload(Buffer.from(d.serviceFile.text), a.path, {
              mode: a.manager === 'systemd' ? 0o644 : 0o755,
              privileged: true,
            });
            await registerBoot(t, node, a.manager, a.bootEnabled);
            return a.bootEnabled ? 'starts at boot' : 'not started at boot';
          },
        };
      case 'reconfigure':
        return {
          title: a.drift ? 'correct runtime drift' : 'reconfigure at runtime',
          run: async (ctx) => {
            try {
              return await applyRuntimeChanges(session, d, a.changes, diskPassword(f), previouslyManaged);
            } catch (e) {
              if (!(e instanceof RuntimeChangeRefused)) throw e;
              ctx.note(`${e.message}; restarting instead`);
              await ensureConfigFile(t, d, previouslyManaged);
              await stopAgent(t, node, np.manager);
              await startAgent(t, node, np.manager);
              await waitUntilReady(session, node, { extraPasswords: [diskPassword(f)] });
              return `${e.message}: restarted instead`;
            }
          },
        };
      case 'start':
        return {
          title: 'start agent',
          run: async () => {
            await startAgent(t, node, np.manager);
            await waitUntilReady(session, node, { extraPasswords: [diskPassword(f)] });
          },
        };
      case 'write-manifest':
        throw new Error('write-manifest is the record step');
      case 'restart':
        return {
          title: 'restart agent',
          run: async () => {
            if (!managerSwitched) await stopAgent(t, node, previousManager ?? np.manager);
            await startAgent(t, node, np.manager);
            await waitUntilReady(session, node, { extraPasswords: [diskPassword(f)] });
            return a.reasons.join('; ');
          },
        };
    }
  }
}

/** Removes a service definition and its boot registration (used by destroy and by a change of manager). */
export async function removeService(
  t: Transport,
  node: NodeSpec,
  manager: ServiceManager,
  file: string,
): Promise<void> {
  const l = nodeLayout(node);
  if (manager === 'systemd') {
    await t.exec(['systemctl', 'disable', '--quiet', `${l.serviceName}.service`], { privileged: true });
  } else if (manager === 'sysv') {
    await t.exec(['sh', '-c', bootRegistrationScript(l.serviceName, false)], { privileged: true });
  }
  const expected = serviceFilePath(manager, l);
  const r = await t.exec(['rm', '-f', '--', file === expected ? file : expected], { privileged: true });
  if (r.code !== 0)
    throw new OperationFailure('E_APPLY_STEP', `cannot remove ${file}: ${r.stderr.trim()}`, [], node.name);
  if (manager === 'systemd') await t.exec(['systemctl', 'daemon-reload'], { privileged: true });
}
