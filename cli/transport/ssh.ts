/**
 * SSH transport (ssh2): one connection per endpoint for the whole run, reused by every step and every node on that
 * machine; commands are exec channels, files go over SFTP, Redis traffic over direct-tcpip forwards.
 *
 * - Host keys are checked against known_hosts before authentication (`knownHosts.ts`), for the jump host too.
 * - Authentication offers, in order: the identity file (or, when none is set and no agent is used, the default
 *   ~/.ssh/id_ed25519, id_ecdsa, id_rsa), ssh-agent keys, then the password from its environment variable.
 * - `privileged` runs under `sudo -n` when `become` is set and the login user is not root: no TTY is requested, so a
 *   sudo that wants a password fails at once instead of hanging.
 * - Timeouts: the handshake (connectTimeoutMs) and every command (commandTimeoutMs or the call's own).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  Client,
  type AuthenticationType,
  type ClientChannel,
  type ConnectConfig,
  type SFTPWrapper,
} from 'ssh2';
import { OperationFailure, messageOf } from '../errors';
import type { HostKeyPolicy } from '../inventory/model';
import { KnownHosts } from './knownHosts';
import { shellCommand, withSudo } from './shell';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  EXEC_OUTPUT_MAX_BYTES,
  type ExecOptions,
  type ExecResult,
  type Forward,
  type Transport,
  type UploadOptions,
} from './transport';

export interface SshAuth {
  user: string;
  identityFile?: string;
  passphrase?: string;
  useAgent: boolean;
  password?: string;
}

export interface SshEndpoint extends SshAuth {
  host: string;
  port: number;
  jump?: SshEndpoint;
}

export interface SshTransportOptions {
  endpoint: SshEndpoint;
  knownHostsFile: string;
  hostKeyPolicy: HostKeyPolicy;
  become: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Environment for SSH_AUTH_SOCK lookups. */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * Concurrent exec channels per connection. OpenSSH's MaxSessions defaults to 10 and counts the SFTP session too;
 * staying below it keeps parallel steps on one machine from being refused.
 */
export const MAX_EXEC_CHANNELS = 8;

export function endpointLabel(e: SshEndpoint): string {
  return `${e.user}@${e.host}:${e.port}${e.jump ? ` via ${e.jump.user}@${e.jump.host}:${e.jump.port}` : ''}`;
}

export class SshTransport implements Transport {
  readonly label: string;
  private client?: Client;
  private jumpClient?: Client;
  private connecting?: Promise<Client>;
  private sftpSession?: Promise<SFTPWrapper>;
  private closed = false;
  private readonly forwards = new Set<net.Server>();
  private channelsInUse = 0;
  private readonly channelWaiters: Array<() => void> = [];

  constructor(private readonly opts: SshTransportOptions) {
    this.label = endpointLabel(opts.endpoint);
  }

  private get rootLogin(): boolean {
    return this.opts.endpoint.user === 'root';
  }

  private needsSudo(privileged: boolean | undefined): boolean {
    return Boolean(privileged && this.opts.become && !this.rootLogin);
  }

  /** Opens (once) and returns the connection. */
  connection(): Promise<Client> {
    if (this.closed)
      return Promise.reject(new OperationFailure('E_SSH_CONNECT', `${this.label}: transport closed`));
    if (!this.connecting) {
      this.connecting = this.open().catch((e) => {
        this.connecting = undefined;
        throw e;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const { endpoint } = this.opts;
    let sock: ConnectConfig['sock'];
    if (endpoint.jump) {
      this.jumpClient = await this.connectOne(endpoint.jump);
      sock = await new Promise<ClientChannel>((resolve, reject) => {
        this.jumpClient!.forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, (err, stream) =>
          err
            ? reject(
                new OperationFailure(
                  'E_SSH_CONNECT',
                  `jump host ${endpoint.jump!.host} cannot reach ${endpoint.host}:${endpoint.port}: ${err.message}`,
                ),
              )
            : resolve(stream),
        );
      });
    }
    this.client = await this.connectOne(endpoint, sock);
    this.client.on('close', () => {
      this.client = undefined;
      this.connecting = undefined;
      this.sftpSession = undefined;
    });
    return this.client;
  }

  private connectOne(endpoint: SshEndpoint, sock?: ConnectConfig['sock']): Promise<Client> {
    const knownHosts = new KnownHosts(this.opts.knownHostsFile);
    const where = `${endpoint.host}:${endpoint.port}`;
    let hostKeyError: unknown;
    const client = new Client();
    // The first error before 'ready' fails the connection (onError below); any later one, from a connection
    // already reported or already up (whose failures show in the commands that use it), must not reach the
    // process as an unhandled 'error': a refused host key or login can be followed by the peer's reset.
    client.on('error', () => undefined);
    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      sock,
      readyTimeout: this.opts.connectTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      algorithms: { serverHostKey: knownHosts.preferredAlgorithms(endpoint.host, endpoint.port) as never },
      hostVerifier: (key: Buffer) => {
        try {
          knownHosts.verify(endpoint.host, endpoint.port, key, this.opts.hostKeyPolicy);
          return true;
        } catch (e) {
          hostKeyError = e;
          return false;
        }
      },
      authHandler: this.authMethods(endpoint) as never,
    };
    return new Promise((resolve, reject) => {
      const onError = (err: Error & { level?: string }) => {
        client.removeListener('ready', onReady);
        client.end();
        if (hostKeyError) return reject(hostKeyError);
        if (err.level === 'client-authentication') {
          return reject(
            new OperationFailure('E_SSH_AUTH', `ssh authentication as ${endpoint.user} to ${where} failed`, [
              `tried: ${this.describeAuth(endpoint)}`,
            ]),
          );
        }
        const timeout = /Timed out while waiting for handshake/.test(err.message);
        reject(
          new OperationFailure(
            'E_SSH_CONNECT',
            timeout
              ? `ssh connection to ${where} timed out after ${this.opts.connectTimeoutMs} ms`
              : `ssh connection to ${where} failed: ${err.message}`,
          ),
        );
      };
      const onReady = () => {
        client.removeListener('error', onError);
        resolve(client);
      };
      client.once('ready', onReady);
      client.once('error', onError);
      try {
        client.connect(config);
      } catch (e) {
        onError(e as Error);
      }
    });
  }

  private identityFiles(endpoint: SshAuth): string[] {
    if (endpoint.identityFile) return [endpoint.identityFile];
    if (endpoint.useAgent || endpoint.password) return [];
    return DEFAULT_IDENTITY_FILES.map((f) => path.join(os.homedir(), '.ssh', f)).filter((f) => existsSync(f));
  }

  private describeAuth(endpoint: SshAuth): string {
    const parts = this.identityFiles(endpoint).map((f) => `key ${f}`);
    if (endpoint.useAgent) parts.push('ssh-agent');
    if (endpoint.password !== undefined) parts.push('password');
    return parts.length > 0 ? parts.join(', ') : 'nothing (no identity file, agent or password configured)';
  }

  private authMethods(endpoint: SshAuth): Array<Record<string, unknown>> {
    const methods: Array<Record<string, unknown> & { type: AuthenticationType }> = [];
    for (const file of this.identityFiles(endpoint)) {
      let key: Buffer;
      try {
        key = readFileSync(file);
      } catch (e) {
        throw new OperationFailure('E_SSH_AUTH', `cannot read identity file ${file}: ${messageOf(e)}`);
      }
      methods.push({ type: 'publickey', username: endpoint.user, key, passphrase: endpoint.passphrase });
    }
    const agentSock = (this.opts.env ?? process.env).SSH_AUTH_SOCK;
    if (endpoint.useAgent && agentSock)
      methods.push({ type: 'agent', username: endpoint.user, agent: agentSock });
    if (endpoint.password !== undefined) {
      methods.push({ type: 'password', username: endpoint.user, password: endpoint.password });
    }
    return methods;
  }

  private async acquireChannel(): Promise<void> {
    if (this.channelsInUse < MAX_EXEC_CHANNELS) {
      this.channelsInUse++;
      return;
    }
    await new Promise<void>((resolve) => this.channelWaiters.push(resolve));
  }

  private releaseChannel(): void {
    const next = this.channelWaiters.shift();
    if (next) next();
    else this.channelsInUse--;
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    await this.acquireChannel();
    try {
      return await this.execOnChannel(argv, opts);
    } finally {
      this.releaseChannel();
    }
  }

  private async execOnChannel(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const client = await this.connection();
    const command = shellCommand(this.needsSudo(opts.privileged) ? withSudo(argv) : argv);
    const timeoutMs = opts.timeoutMs ?? this.opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) {
          reject(
            new OperationFailure('E_COMMAND_FAILED', `${this.label}: cannot start command: ${err.message}`),
          );
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let outBytes = 0;
        let errBytes = 0;
        let exitCode: number | null = null;
        let finished = false;
        const timer = setTimeout(() => {
          if (finished) return;
          finished = true;
          try {
            stream.signal('KILL');
          } catch {
            // Servers that do not implement signals still drop the process when the channel closes.
          }
          stream.close();
          reject(
            new OperationFailure(
              'E_COMMAND_TIMEOUT',
              `${this.label}: command timed out after ${timeoutMs} ms: ${argv[0]}`,
            ),
          );
        }, timeoutMs);
        stream.on('data', (b: Buffer) => {
          outBytes += b.length;
          if (outBytes <= EXEC_OUTPUT_MAX_BYTES) out.push(b);
        });
        stream.stderr.on('data', (b: Buffer) => {
          errBytes += b.length;
          if (errBytes <= EXEC_OUTPUT_MAX_BYTES) errOut.push(b);
        });
        stream.on('exit', (code: number | null) => {
          exitCode = code;
        });
        stream.on('close', () => {
          clearTimeout(timer);
          if (finished) return;
          finished = true;
          resolve({
            code: exitCode,
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(errOut).toString('utf8'),
          });
        });
        stream.end(opts.stdin ?? '');
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      this.sftpSession = this.connection().then(
        (client) =>
          new Promise<SFTPWrapper>((resolve, reject) =>
            client.sftp((err, sftp) =>
              err
                ? reject(
                    new OperationFailure('E_TRANSFER', `${this.label}: sftp unavailable: ${err.message}`),
                  )
                : resolve(sftp),
            ),
          ),
      );
      this.sftpSession.catch(() => (this.sftpSession = undefined));
    }
    return this.sftpSession;
  }

  async upload(
    source: Buffer | { localPath: string },
    remotePath: string,
    opts: UploadOptions,
  ): Promise<void> {
    const sftp = await this.sftp();
    const sudo = this.needsSudo(opts.privileged);
    const suffix = randomBytes(6).toString('hex');
    let stagingDir: string | undefined;
    let tmp: string;
    if (sudo) {
      // The login user cannot write the target: stage in a private directory, then move into place as root.
      const r = await this.exec(['mktemp', '-d', '/tmp/orchestrate.XXXXXXXX']);
      if (r.code !== 0)
        throw new OperationFailure('E_TRANSFER', `${this.label}: mktemp failed: ${r.stderr.trim()}`);
      stagingDir = r.stdout.toString().trim();
      tmp = `${stagingDir}/${path.posix.basename(remotePath)}`;
    } else {
      tmp = `${path.posix.dirname(remotePath)}/.${path.posix.basename(remotePath)}.tmp-${suffix}`;
    }
    try {
      await sftpWrite(sftp, source, tmp, opts.mode);
      if (sudo) {
        const script = 'install -m "$1" -- "$2" "$3.tmp" && mv -f -- "$3.tmp" "$3"';
        const r = await this.exec(['sh', '-c', script, 'sh', opts.mode.toString(8), tmp, remotePath], {
          privileged: true,
        });
        if (r.code !== 0)
          throw new OperationFailure(
            'E_TRANSFER',
            `${this.label}: cannot install ${remotePath}: ${r.stderr.trim()}`,
          );
      } else {
        await new Promise<void>((resolve, reject) =>
          sftp.ext_openssh_rename(tmp, remotePath, (err) => (err ? reject(err) : resolve())),
        );
      }
    } catch (e) {
      await new Promise<void>((resolve) => sftp.unlink(tmp, () => resolve()));
      if (e instanceof OperationFailure) throw e;
      throw new OperationFailure('E_TRANSFER', `${this.label}: cannot upload ${remotePath}: ${messageOf(e)}`);
    } finally {
      if (stagingDir) await this.exec(['rm', '-rf', '--', stagingDir]).catch(() => undefined);
    }
  }

  async readFile(remotePath: string, opts: { privileged?: boolean } = {}): Promise<Buffer | null> {
    const r = await this.exec(['sh', '-c', 'test -e "$1" || exit 3; cat -- "$1"', 'sh', remotePath], opts);
    if (r.code === 3) return null;
    if (r.code !== 0)
      throw new OperationFailure(
        'E_TRANSFER',
        `${this.label}: cannot read ${remotePath}: ${r.stderr.trim()}`,
      );
    return r.stdout;
  }

  async checksum(remotePath: string, opts: { privileged?: boolean } = {}): Promise<string | null> {
    const r = await this.exec(
      ['sh', '-c', 'test -e "$1" || exit 3; sha256sum -- "$1"', 'sh', remotePath],
      opts,
    );
    if (r.code === 3) return null;
    const m = /^([0-9a-f]{64})\b/.exec(r.stdout.toString());
    if (r.code === 0 && m) return m[1];
    // No sha256sum on the host: hash it here.
    const data = await this.readFile(remotePath, opts);
    return data === null ? null : createHash('sha256').update(data).digest('hex');
  }

  async forward(host: string, port: number): Promise<Forward> {
    const client = await this.connection();
    const server = net.createServer((sock) => {
      sock.pause();
      // From the accept on: a local client may reset while the channel is still opening, and an unhandled
      // socket error would end the process. Closing the socket closes the channel (below).
      sock.on('error', () => sock.destroy());
      client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) {
          sock.destroy();
          return;
        }
        if (sock.destroyed) {
          stream.close();
          return;
        }
        sock.pipe(stream).pipe(sock);
        sock.resume();
        stream.on('error', () => sock.destroy());
        sock.on('close', () => stream.close());
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.forwards.add(server);
    const { port: localPort } = server.address() as net.AddressInfo;
    return {
      host: '127.0.0.1',
      port: localPort,
      close: () =>
        new Promise<void>((resolve) => {
          this.forwards.delete(server);
          server.close(() => resolve());
        }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.forwards) s.close();
    this.forwards.clear();
    this.client?.end();
    this.jumpClient?.end();
    this.client = undefined;
    this.jumpClient = undefined;
  }
}

function sftpWrite(
  sftp: SFTPWrapper,
  source: Buffer | { localPath: string },
  remote: string,
  mode: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => {
      if (err) return reject(err);
      // The server's umask applies at creation: set the mode explicitly.
      sftp.chmod(remote, mode, (e) => (e ? reject(e) : resolve()));
    };
    if (Buffer.isBuffer(source)) {
      sftp.writeFile(remote, source, { mode }, done);
    } else {
      sftp.fastPut(source.localPath, remote, { mode }, done);
    }
  });
}
