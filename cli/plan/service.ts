/**
 * How an agent is kept running on its host, chosen per node from the inventory and the host's facts:
 * - systemd: a unit in /etc/systemd/system running the agent in the foreground; `Restart=on-failure` and
 *   `WantedBy=multi-user.target` only with service.autoRestart.
 * - sysv: the agent's daemon mode (daemonize yes + pidfile) driven by an init script in /etc/init.d, registered
 *   for boot with the host's tool (update-rc.d, chkconfig, rc-update, or rc?.d links) only with autoRestart.
 * - daemon: the same control script, kept beside the agent; nothing registers it at boot (unprivileged hosts).
 * The control script is idempotent (start on a running agent and stop on a stopped one succeed), treats a pid file
 * whose process is gone or a zombie as stale, and is what the host runs at boot.
 * Every manager starts the agent with OPEN_FILES_LIMIT descriptors where the host allows it: each client is one,
 * and under a lower limit the agent lowers maxclients to fit (as Redis does, with a warning in its log).
 */
import type { NodeSpec } from '../inventory/model';
import { nodeLayout, type NodeLayout } from './agentConfig';

export type ServiceManager = 'systemd' | 'sysv' | 'daemon';

/** The open-file limit the agent is started with: its default maxclients (10000) and Redis's 32 spare, with room. */
export const OPEN_FILES_LIMIT = 65536;

export interface HostCapabilities {
  systemd: boolean;
  initd: boolean;
  /** Commands run as root (login as root, or become with sudo). */
  privileged: boolean;
}

export function chooseManager(
  node: NodeSpec,
  caps: HostCapabilities,
): { manager?: ServiceManager; problem?: string } {
  const choice = node.service.manager;
  if (choice === 'systemd') {
    if (!caps.systemd) return { problem: 'service.manager is systemd but the host does not run systemd' };
    if (!caps.privileged)
      return { problem: 'service.manager systemd needs root (log in as root or set ssh.become)' };
    return { manager: 'systemd' };
  }
  if (choice === 'sysv') {
    if (!caps.privileged)
      return { problem: 'service.manager sysv needs root (log in as root or set ssh.become)' };
    return { manager: 'sysv' };
  }
  if (choice === 'daemon') return { manager: 'daemon' };
  if (caps.systemd && caps.privileged) return { manager: 'systemd' };
  if (caps.initd && caps.privileged) return { manager: 'sysv' };
  return { manager: 'daemon' };
}

/** The file that defines the service: the unit, the init script, or the control script. */
export function serviceFilePath(manager: ServiceManager, layout: NodeLayout): string {
  if (manager === 'systemd') return `/etc/systemd/system/${layout.serviceName}.service`;
  if (manager === 'sysv') return `/etc/init.d/${layout.serviceName}`;
  return layout.controlScript;
}

export function renderSystemdUnit(node: NodeSpec, nodePath: string): string {
  const l = nodeLayout(node);
  return [
    '# Managed by orchestrate: the next apply overwrites changes.',
    '[Unit]',
    `Description=orchestrate agent ${node.name} (Redis-compatible server)`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${nodePath} ${l.agentPath} ${l.configPath}`,
    `Restart=${node.service.autoRestart ? 'on-failure' : 'no'}`,
    'RestartSec=2',
    'TimeoutStopSec=60',
    `LimitNOFILE=${OPEN_FILES_LIMIT}`,
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Seconds the control script waits for the agent to write its pid file, and to exit after SIGTERM. */
export const START_WAIT_SECONDS = 10;
export const STOP_WAIT_SECONDS = 60;

export function renderControlScript(node: NodeSpec, nodePath: string): string {
  const l = nodeLayout(node);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${l.serviceName}
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: orchestrate agent ${node.name}
### END INIT INFO
# Managed by orchestrate: the next apply overwrites changes.
NODE=${q(nodePath)}
AGENT=${q(l.agentPath)}
CONFIG=${q(l.configPath)}
PIDFILE=${q(l.pidFile)}
RUNDIR=${q(l.runDir)}
LOGFILE=${q(l.logFile)}

running() {
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed -n 's/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p' "/proc/$pid/status" 2>/dev/null)
  [ "$state" != Z ]
}

wait_for() { # condition tenths
  i=0
  while [ "$i" -lt "$2" ]; do
    if [ "$1" = up ]; then running && return 0; else running || return 0; fi
    i=$((i + 1))
    sleep 0.1
  done
  return 1
}

case "$1" in
  start)
    running && exit 0
    mkdir -p "$RUNDIR"
    rm -f "$PIDFILE"
    umask 077
    ulimit -n ${OPEN_FILES_LIMIT} 2>/dev/null
    "$NODE" "$AGENT" "$CONFIG" || exit 1
    wait_for up ${START_WAIT_SECONDS * 10} && exit 0
    echo "agent ${node.name} did not start; see $LOGFILE" >&2
    exit 1
    ;;
  stop)
    if running; then
      kill -TERM "$(cat "$PIDFILE")"
      if ! wait_for down ${STOP_WAIT_SECONDS * 10}; then
        kill -KILL "$(cat "$PIDFILE")" 2>/dev/null
      fi
    fi
    rm -f "$PIDFILE"
    exit 0
    ;;
  restart)
    "$0" stop && "$0" start
    ;;
  status)
    if running; then echo "running (pid $(cat "$PIDFILE"))"; exit 0; fi
    echo stopped
    exit 3
    ;;
  *)
    echo "usage: $0 start|stop|restart|status" >&2
    exit 2
    ;;
esac
`;
}

/** The expected content of the service file for a node. */
export function renderServiceFile(manager: ServiceManager, node: NodeSpec, nodePath: string): string {
  return manager === 'systemd' ? renderSystemdUnit(node, nodePath) : renderControlScript(node, nodePath);
}

/**
 * Shell (run as root) that registers or unregisters an init script for boot with whatever the host has.
 * Prints nothing on success; exits 4 when the host has no way to start services at boot.
 */
export function bootRegistrationScript(serviceName: string, enable: boolean): string {
  const svc = serviceName;
  if (enable) {
    return `set -e
if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ${svc} defaults >/dev/null
elif command -v chkconfig >/dev/null 2>&1; then chkconfig --add ${svc}
elif command -v rc-update >/dev/null 2>&1; then rc-update add ${svc} default >/dev/null
elif [ -d /etc/rc2.d ]; then for r in 2 3 4 5; do ln -sf ../init.d/${svc} /etc/rc$r.d/S20${svc}; done; for r in 0 1 6; do ln -sf ../init.d/${svc} /etc/rc$r.d/K20${svc}; done
else exit 4
fi`;
  }
  return `if command -v update-rc.d >/dev/null 2>&1; then update-rc.d -f ${svc} remove >/dev/null 2>&1
elif command -v chkconfig >/dev/null 2>&1; then chkconfig --del ${svc} >/dev/null 2>&1
elif command -v rc-update >/dev/null 2>&1; then rc-update del ${svc} default >/dev/null 2>&1
fi
rm -f /etc/rc?.d/[SK]??${svc}
exit 0`;
}
