/**
 * The transport interface: everything the orchestrator does on a host goes through these calls, implemented over
 * SSH (`ssh.ts`) and on this machine (`local.ts`), so every step works the same on both.
 *
 * Invariants every implementation keeps:
 * - commands are argv arrays (quoted by `shell.ts`); data and secrets go on stdin or in uploaded files;
 * - every command has a timeout; a command that overruns is killed and reported as E_COMMAND_TIMEOUT;
 * - uploads are atomic (temporary file in the target directory, mode set, then rename), so a reader sees the old
 *   file or the new one, never half of one;
 * - `privileged` calls run as root (sudo -n when the login user is not root and `become` is set);
 * - output is bounded (`EXEC_OUTPUT_MAX_BYTES`).
 */
export interface ExecOptions {
  timeoutMs?: number;
  stdin?: string | Buffer;
  privileged?: boolean;
}

export interface ExecResult {
  /** Exit status, or null when the command died from a signal. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface UploadOptions {
  mode: number;
  privileged?: boolean;
}

export interface Forward {
  /** Where to connect locally to reach the target. */
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface Transport {
  /** For messages: user@host:port or "local". */
  readonly label: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  upload(source: Buffer | { localPath: string }, remotePath: string, opts: UploadOptions): Promise<void>;
  /** File contents, or null when the file does not exist. */
  readFile(remotePath: string, opts?: { privileged?: boolean }): Promise<Buffer | null>;
  /** sha256 (hex) of a file, or null when it does not exist. */
  checksum(remotePath: string, opts?: { privileged?: boolean }): Promise<string | null>;
  /** A local endpoint that reaches host:port as seen from the remote machine. */
  forward(host: string, port: number): Promise<Forward>;
  close(): Promise<void>;
}

/** Upper bound on captured stdout/stderr of one command; facts and file reads are far below it. */
export const EXEC_OUTPUT_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
