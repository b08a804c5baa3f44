/**
 * Test hosts: real OpenSSH sshd processes on loopback addresses (127.0.0.81, 127.0.0.82, ...), each a separate
 * "machine" as far as the orchestrator can tell.
 *
 * Each host runs in its own mount and pid namespace (`unshare --mount --pid --fork --kill-child --mount-proc`):
 * /etc, /opt and /var are overlays whose writes land in the host's own directory, /run is a fresh tmpfs, and so is
 * /root, holding only Debian's default dotfiles (as a new machine: none of this machine's shell setup). So an
 * apply that writes /etc/orchestrate, /opt/orchestrate, /var/lib/orchestrate or /run/orchestrate on one host is
 * invisible to the others and to the real machine, and killing the host's unshare process kills sshd (pid 1 of
 * the namespace) and with it every process the host started, daemons included.
 *
 * The harness generates an ed25519 host key per host, one client key pair and a known_hosts file listing every
 * host, and logs in as root with the client key (tests run as root). Needs root, /usr/sbin/sshd, ssh-keygen,
 * unshare and overlayfs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './waitFor';

export interface SshHostSpec {
  name: string;
  address: string;
  /** Sets root's password inside the host (its own /etc/shadow), enabling password authentication. */
  rootPassword?: string;
  /**
   * Extra login users created inside the host (its own /etc/passwd), accepting the client key; `sudo: true`
   * gives passwordless sudo (sudo must be installed).
   */
  users?: { name: string; sudo?: boolean }[];
}

export interface SshHost {
  name: string;
  address: string;
  port: number;
  /** `ssh-ed25519 AAAA...` */
  hostPublicKey: string;
  /** Directory holding this host's keys, config and overlay layers. */
  dir: string;
  /** Runs a shell command inside the host's namespaces (its /etc, /opt, /var, /run and processes). */
  sh(command: string, opts?: { timeoutMs?: number }): { code: number | null; stdout: string; stderr: string };
  /** sshd's output so far, for failure messages. */
  log(): string;
}

export interface SshHosts {
  dir: string;
  hosts: SshHost[];
  host(name: string): SshHost;
  clientKeyFile: string;
  clientPublicKey: string;
  knownHostsFile: string;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
/** Mount points given a private writable layer per host. */
const OVERLAID_DIRS = ['/etc', '/opt', '/var'];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

function portFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, address, () => srv.close(() => resolve(true)));
  });
}

/** SSH ports are drawn at random from this range, so that harnesses running at once rarely collide. */
const SSH_PORT_MIN = 2200;
const SSH_PORT_SPAN = 2000;
/** Attempts to start one host's sshd (a port taken between our check and sshd's bind means another try). */
const START_ATTEMPTS = 5;

async function pickPort(address: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = SSH_PORT_MIN + Math.floor(Math.random() * SSH_PORT_SPAN);
    if (await portFree(address, port)) return port;
  }
  throw new Error(`no free port for sshd on ${address}`);
}

function canConnect(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Pid (in our namespace) of the first child of `pid`: sshd, pid 1 inside the host's namespace. */
function firstChild(pid: number): number | undefined {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (children) return Number(children.split(/\s+/)[0]);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function sshdConfig(h: { address: string; port: number; dir: string; passwordAuth: boolean }): string {
  return [
    `Port ${h.port}`,
    `ListenAddress ${h.address}`,
    `HostKey ${h.dir}/ssh_host_ed25519_key`,
    `AuthorizedKeysFile ${h.dir}/authorized_keys`,
    `PermitRootLogin ${h.passwordAuth ? 'yes' : 'prohibit-password'}`,
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${h.passwordAuth ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding yes',
    'Subsystem sftp internal-sftp',
    'PidFile none',
    'LogLevel ERROR',
    'MaxStartups 100:30:200',
    'MaxSessions 20',
    '',
  ].join('\n');
}

const launchedOutput = new WeakMap<ChildProcess, () => string>();

/**
 * Starts one host's sshd inside its namespaces and waits until it accepts connections. Resolves ok: false when
 * sshd exits first (typically: the port was taken meanwhile); the process is then gone.
 */
async function launch(
  spec: SshHostSpec,
  hostDir: string,
  port: number,
): Promise<{ ok: boolean; proc: ChildProcess; output: () => string }> {
  writeFileSync(
    `${hostDir}/sshd_config`,
    sshdConfig({
      address: spec.address,
      port,
      dir: hostDir,
      passwordAuth: spec.rootPassword !== undefined,
    }),
  );
  // A previous attempt may have written into the layers (useradd...): start from empty ones.
  rmSync(`${hostDir}/layers`, { recursive: true, force: true });
  const mounts = OVERLAID_DIRS.map((d) => {
    const upper = `${hostDir}/layers${d}/upper`;
    const work = `${hostDir}/layers${d}/work`;
    mkdirSync(upper, { recursive: true });
    mkdirSync(work, { recursive: true });
    return `mount -t overlay overlay -o lowerdir=${d},upperdir=${upper},workdir=${work} ${d}`;
  });
  const setup = [
    'set -e',
    ...mounts,
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    // Root's home as a fresh Debian install has it: this machine's own /root/.bashrc (pyenv init...) would run
    // on every SSH exec, since sshd starts commands through root's login shell, and cost ~100 ms of CPU each.
    'mount -t tmpfs -o mode=0700 tmpfs /root',
    'cp /usr/share/base-files/dot.bashrc /root/.bashrc && cp /usr/share/base-files/dot.profile /root/.profile',
    'mkdir -p /run/sshd && chmod 0755 /run/sshd',
    ...(spec.rootPassword !== undefined ? [`echo 'root:${spec.rootPassword}' | chpasswd`] : []),
    ...(spec.users ?? []).flatMap((u) => [
      // Home under /var, which is overlaid: nothing lands on the real machine.
      `useradd -m -d /var/lib/home-${u.name} -s /bin/sh ${u.name}`,
      // useradd leaves the account locked ("!"), which sshd without PAM refuses even for keys: '*' is unlocked
      // yet matches no password.
      `usermod -p '*' ${u.name}`,
      ...(u.sudo
        ? [
            `echo '${u.name} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/${u.name}`,
            `chmod 0440 /etc/sudoers.d/${u.name}`,
          ]
        : []),
    ]),
    `exec ${SSHD} -D -e -f ${hostDir}/sshd_config`,
  ].join('\n');
  const proc = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      'sh',
      '-c',
      setup,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const getOutput = () => output;
  launchedOutput.set(proc, getOutput);
  let up: string;
  try {
    up = await waitFor(
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return 'exited';
        // Connecting proves that something listens there; still being alive right after proves it is ours.
        if (!(await canConnect(spec.address, port))) return '';
        await new Promise((r) => setTimeout(r, 100));
        return proc.exitCode === null && proc.signalCode === null ? 'up' : 'exited';
      },
      { timeoutMs: 10_000, description: `sshd of ${spec.name} on ${spec.address}:${port}` },
    );
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  if (up !== 'up') {
    await new Promise<void>((resolve) =>
      proc.exitCode !== null ? resolve() : proc.once('close', () => resolve()),
    );
  }
  return { ok: up === 'up', proc, output: getOutput };
}

export async function startSshHosts(specs: SshHostSpec[]): Promise<SshHosts> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-sshhosts-'));
  // Non-root test users must be able to read their authorized_keys below it.
  chmodSync(dir, 0o755);
  const clientKeyFile = path.join(dir, 'client_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orchestrate-test-client', '-f', clientKeyFile]);
  const clientPublicKey = readFileSync(`${clientKeyFile}.pub`, 'utf8').trim();
  const knownHostsFile = path.join(dir, 'known_hosts');
  const procs: ChildProcess[] = [];
  const hosts: SshHost[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            // 'close': the process has exited and its output pipes (shared with everything the host ran) are shut.
            if ((p.exitCode !== null || p.signalCode !== null) && p.stdout!.closed && p.stderr!.closed)
              return resolve();
            p.once('close', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const spec of specs) {
      const hostDir = path.join(dir, spec.name);
      mkdirSync(hostDir, { mode: 0o755 });
      run('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        spec.name,
        '-f',
        `${hostDir}/ssh_host_ed25519_key`,
      ]);
      writeFileSync(`${hostDir}/authorized_keys`, `${clientPublicKey}\n`, { mode: 0o644 });
      let port = 0;
      let proc: ChildProcess | undefined;
      for (let attempt = 1; !proc; attempt++) {
        port = await pickPort(spec.address);
        const started = await launch(spec, hostDir, port);
        if (started.ok) {
          proc = started.proc;
          procs.push(proc);
          break;
        }
        if (attempt >= START_ATTEMPTS)
          throw new Error(`sshd for ${spec.name} did not start: ${started.output()}`);
      }
      const getOutput = launchedOutput.get(proc)!;
      const hostPublicKey = readFileSync(`${hostDir}/ssh_host_ed25519_key.pub`, 'utf8')
        .trim()
        .split(' ')
        .slice(0, 2)
        .join(' ');
      const host: SshHost = {
        name: spec.name,
        address: spec.address,
        port,
        hostPublicKey,
        dir: hostDir,
        log: () => getOutput(),
        sh(command, opts = {}) {
          const inner = firstChild(proc!.pid!);
          if (!inner) throw new Error(`host ${spec.name} is not running`);
          const r = spawnSync('nsenter', ['-t', String(inner), '-m', '-p', 'sh', '-c', command], {
            encoding: 'utf8',
            timeout: opts.timeoutMs ?? 10_000,
          });
          return { code: r.status, stdout: r.stdout, stderr: r.stderr };
        },
      };
      hosts.push(host);
    }
    writeFileSync(
      knownHostsFile,
      hosts.map((h) => `[${h.address}]:${h.port} ${h.hostPublicKey}\n`).join(''),
      {
        mode: 0o600,
      },
    );
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    dir,
    hosts,
    host(name) {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`no test host ${name}`);
      return h;
    },
    clientKeyFile,
    clientPublicKey,
    knownHostsFile,
    stop,
  };
}
