/**
 * Starting, stopping and registering an agent through the service manager chosen for its node (see
 * plan/service.ts), then waiting until the agent really answers: a start is done when the agent replies to PING
 * (LOADING counts as "not yet"), not when a command returned. When it does not come up, the error carries the end
 * of its log file, which is where the agent says why.
 */
import { OperationFailure, messageOf } from '../errors';
import type { NodeSpec } from '../inventory/model';
import { nodeLayout } from '../plan/agentConfig';
import { bootRegistrationScript, serviceFilePath, type ServiceManager } from '../plan/service';
import type { Transport } from '../transport/transport';
import { RedisUnavailable } from '../redis/connect';
import type { Session } from './session';

/** How long an agent may take from start to answering PING (loading a large dataset takes a while). */
export const AGENT_READY_TIMEOUT_MS = 60_000;
export const AGENT_READY_POLL_MS = 100;
/** Lines of the agent log quoted in errors. */
export const LOG_TAIL_LINES = 15;

export async function logTail(t: Transport, node: NodeSpec, lines = LOG_TAIL_LINES): Promise<string[]> {
  const r = await t
    .exec(['tail', '-n', String(lines), nodeLayout(node).logFile], { privileged: true, timeoutMs: 10_000 })
    .catch(() => undefined);
  if (!r || r.code !== 0) return [];
  return r.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

async function run(t: Transport, node: NodeSpec, argv: string[], what: string): Promise<void> {
  const r = await t.exec(argv, { privileged: true });
  if (r.code !== 0) {
    const tail = await logTail(t, node);
    throw new OperationFailure(
      'E_APPLY_STEP',
      `${node.name}: ${what} failed (exit ${r.code})${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`,
      tail.length > 0 ? [`last lines of ${nodeLayout(node).logFile}:`, ...tail.map((l) => `  ${l}`)] : [],
      node.name,
    );
  }
}

function controlArgv(manager: ServiceManager, node: NodeSpec, verb: 'start' | 'stop' | 'restart'): string[] {
  const l = nodeLayout(node);
  if (manager === 'systemd') return ['systemctl', verb, `${l.serviceName}.service`];
  // `sh script` works even where the script's file system is mounted noexec.
  return ['sh', serviceFilePath(manager, l), verb];
}

export async function startAgent(t: Transport, node: NodeSpec, manager: ServiceManager): Promise<void> {
  await run(t, node, controlArgv(manager, node, 'start'), 'start');
}

export async function stopAgent(t: Transport, node: NodeSpec, manager: ServiceManager): Promise<void> {
  await run(t, node, controlArgv(manager, node, 'stop'), 'stop');
}

/** Stops an agent whose service definition is unknown (no manifest): by its pid file. */
export async function stopByPidFile(t: Transport, node: NodeSpec): Promise<void> {
  const pidFile = nodeLayout(node).pidFile;
  const script = `pid=$(cat "$1" 2>/dev/null) || exit 0
[ -n "$pid" ] || exit 0
kill -TERM "$pid" 2>/dev/null || exit 0
i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done
kill -KILL "$pid" 2>/dev/null; rm -f "$1"; exit 0`;
  await run(t, node, ['sh', '-c', script, 'sh', pidFile], 'stop');
}

/** Registers (or unregisters) the service for boot. systemd: enable/disable; sysv: the host's rc tool. */
export async function registerBoot(
  t: Transport,
  node: NodeSpec,
  manager: ServiceManager,
  enable: boolean,
): Promise<void> {
  const l = nodeLayout(node);
  if (manager === 'daemon') return;
  if (manager === 'systemd') {
    await run(t, node, ['systemctl', 'daemon-reload'], 'systemctl daemon-reload');
    await run(
      t,
      node,
      ['systemctl', enable ? 'enable' : 'disable', '--quiet', `${l.serviceName}.service`],
      'systemctl enable',
    );
    return;
  }
  const r = await t.exec(['sh', '-c', bootRegistrationScript(l.serviceName, enable)], { privileged: true });
  if (r.code === 4) {
    throw new OperationFailure(
      'E_APPLY_STEP',
      `${node.name}: the host has no way to start services at boot (no update-rc.d, chkconfig, rc-update or /etc/rc2.d)`,
      [],
      node.name,
    );
  }
  if (r.code !== 0) {
    throw new OperationFailure(
      'E_APPLY_STEP',
      `${node.name}: boot registration failed: ${r.stderr.trim()}`,
      [],
      node.name,
    );
  }
}

/** Waits until the agent answers PING with the node's password. */
export async function waitUntilReady(
  session: Session,
  node: NodeSpec,
  opts: { timeoutMs?: number; extraPasswords?: Array<string | undefined> } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? AGENT_READY_TIMEOUT_MS);
  let last = '';
  while (Date.now() < deadline) {
    try {
      const c = await session.connect(node, opts.extraPasswords);
      try {
        await c.redis.ping();
        return;
      } finally {
        await c.close();
      }
    } catch (e) {
      last = messageOf(e);
      // Only "not up yet" is worth waiting for; a refused password or an unknown command will not go away.
      if (!(e instanceof RedisUnavailable) && !/LOADING/.test(last)) break;
    }
    await new Promise((r) => setTimeout(r, AGENT_READY_POLL_MS));
  }
  const tail = await logTail(session.transport(node), node);
  throw new OperationFailure(
    'E_APPLY_STEP',
    `${node.name}: agent on ${node.address}:${node.server.port} is not ready: ${last}`,
    tail.length > 0 ? [`last lines of ${nodeLayout(node).logFile}:`, ...tail.map((l) => `  ${l}`)] : [],
    node.name,
  );
}
