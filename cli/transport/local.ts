/**
 * Local transport: the `connection: local` hosts of an inventory are this machine, reached with child_process and fs.
 * Same contract as SSH (see transport.ts). `privileged` uses `sudo -n` only when `become` is set and we are not root;
 * the embedded local inventory needs neither.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { OperationFailure, messageOf } from '../errors';
import { withSudo } from './shell';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  EXEC_OUTPUT_MAX_BYTES,
  type ExecOptions,
  type ExecResult,
  type Forward,
  type Transport,
  type UploadOptions,
} from './transport';

export interface LocalTransportOptions {
  become?: boolean;
  commandTimeoutMs?: number;
}

export class LocalTransport implements Transport {
  readonly label = 'local';
  private readonly isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  constructor(private readonly opts: LocalTransportOptions = {}) {}

  private needsSudo(privileged: boolean | undefined): boolean {
    return Boolean(privileged && this.opts.become && !this.isRoot);
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const full = this.needsSudo(opts.privileged) ? withSudo(argv) : [...argv];
    const timeoutMs = opts.timeoutMs ?? this.opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const child = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (b: Buffer) => {
        outBytes += b.length;
        if (outBytes <= EXEC_OUTPUT_MAX_BYTES) out.push(b);
      });
      child.stderr.on('data', (b: Buffer) => {
        errBytes += b.length;
        if (errBytes <= EXEC_OUTPUT_MAX_BYTES) err.push(b);
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new OperationFailure('E_COMMAND_FAILED', `cannot run ${full[0]}: ${messageOf(e)}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(
            new OperationFailure('E_COMMAND_TIMEOUT', `command timed out after ${timeoutMs} ms: ${full[0]}`),
          );
          return;
        }
        resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin ?? '');
    });
  }

  async upload(
    source: Buffer | { localPath: string },
    remotePath: string,
    opts: UploadOptions,
  ): Promise<void> {
    if (this.needsSudo(opts.privileged)) {
      const data = Buffer.isBuffer(source) ? source : await fsp.readFile(source.localPath);
      const tmp = `${remotePath}.tmp-${randomBytes(6).toString('hex')}`;
      const script = 'umask 077 && cat > "$1" && chmod "$2" "$1" && mv -f "$1" "$3"';
      const r = await this.exec(['sh', '-c', script, 'sh', tmp, opts.mode.toString(8), remotePath], {
        privileged: true,
        stdin: data,
      });
      if (r.code !== 0)
        throw new OperationFailure('E_TRANSFER', `cannot write ${remotePath}: ${r.stderr.trim()}`);
      return;
    }
    const tmp = path.join(
      path.dirname(remotePath),
      `.${path.basename(remotePath)}.tmp-${randomBytes(6).toString('hex')}`,
    );
    try {
      if (Buffer.isBuffer(source)) {
        await fsp.writeFile(tmp, source, { mode: opts.mode, flag: 'wx' });
      } else {
        await fsp.copyFile(source.localPath, tmp);
      }
      await fsp.chmod(tmp, opts.mode);
      await fsp.rename(tmp, remotePath);
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw new OperationFailure('E_TRANSFER', `cannot write ${remotePath}: ${messageOf(e)}`);
    }
  }

  async readFile(remotePath: string, opts: { privileged?: boolean } = {}): Promise<Buffer | null> {
    if (this.needsSudo(opts.privileged)) {
      const r = await this.exec(['sh', '-c', 'test -e "$1" || exit 3; cat -- "$1"', 'sh', remotePath], {
        privileged: true,
      });
      if (r.code === 3) return null;
      if (r.code !== 0)
        throw new OperationFailure('E_TRANSFER', `cannot read ${remotePath}: ${r.stderr.trim()}`);
      return r.stdout;
    }
    try {
      return await fsp.readFile(remotePath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new OperationFailure('E_TRANSFER', `cannot read ${remotePath}: ${messageOf(e)}`);
    }
  }

  async checksum(remotePath: string, opts: { privileged?: boolean } = {}): Promise<string | null> {
    const data = await this.readFile(remotePath, opts);
    return data === null ? null : createHash('sha256').update(data).digest('hex');
  }

  async forward(host: string, port: number): Promise<Forward> {
    return { host, port, close: async () => undefined };
  }

  async close(): Promise<void> {}
}
