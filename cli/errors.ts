/**
 * Errors of the orchestrator CLI.
 *
 * Every failure the CLI can explain carries a stable `code` (scripts and tests match on it, never on the text).
 * Two families, kept apart because they map to different exit codes in `cli/main.ts` (the only place that turns
 * errors into exit codes):
 * - `UserError`: the input is wrong (arguments, inventory, a missing secret). Exit 2. Nothing was changed.
 * - `OperationFailure`: the input was fine but the world disagreed (host unreachable, host key refused, a step or
 *   the sync verification failed). Exit 1.
 * Anything else that escapes is a bug in the orchestrator: exit 1 with the stack, labelled as such.
 */

export type UserErrorCode =
  | 'E_USAGE'
  | 'E_INVENTORY_READ'
  | 'E_INVENTORY_INVALID'
  | 'E_SECRET_MISSING'
  | 'E_LIMIT_UNKNOWN'
  | 'E_AGENT_BUNDLE'
  | 'E_CONFIRMATION_REQUIRED'
  | 'E_HISTORY_ENTRY'
  | 'E_NODE_UNKNOWN';

export type FailureCode =
  | 'E_DECLINED'
  | 'E_SSH_CONNECT'
  | 'E_SSH_AUTH'
  | 'E_HOST_KEY_UNKNOWN'
  | 'E_HOST_KEY_MISMATCH'
  | 'E_COMMAND_FAILED'
  | 'E_COMMAND_TIMEOUT'
  | 'E_TRANSFER'
  | 'E_FACTS'
  | 'E_PRECONDITION'
  | 'E_APPLY_STEP'
  | 'E_VERIFY_FAILED'
  | 'E_REDIS'
  | 'E_LOCKED'
  | 'E_STATE'
  | 'E_SWITCHOVER'
  | 'E_ROLLBACK'
  | 'E_RESTART';

export type ErrorCode = UserErrorCode | FailureCode;

/** Base of every error the orchestrator raises on purpose. */
export abstract class OrchestrateError extends Error {
  abstract readonly exitCode: 1 | 2;
  /** Extra lines shown under the message (per-host details, hints). */
  readonly details: string[];
  /** With --json, the document printed for this failure (e.g. the plan and how far apply got). */
  data?: unknown;
  constructor(
    readonly code: ErrorCode,
    message: string,
    details: string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** Bad input: exit code 2. */
export class UserError extends OrchestrateError {
  readonly exitCode = 2 as const;
  constructor(code: UserErrorCode, message: string, details: string[] = []) {
    super(code, message, details);
  }
}

/** The operation could not be carried out: exit code 1. */
export class OperationFailure extends OrchestrateError {
  readonly exitCode = 1 as const;
  constructor(
    code: FailureCode,
    message: string,
    details: string[] = [],
    /** Inventory host the failure belongs to, when there is one. */
    readonly host?: string,
  ) {
    super(code, message, details);
  }
}

/** One problem found in an inventory, located in its file. Lines and columns are 1-based. */
export interface InventoryProblem {
  file: string;
  line: number;
  column: number;
  /** Path inside the inventory document, e.g. `hosts.replica.replicaof`. Empty for the document itself. */
  path: string;
  message: string;
  /** `schema` problems come from the JSON Schema, `semantic` ones from the topology and secret rules. */
  kind: 'syntax' | 'schema' | 'semantic' | 'secret';
}

export function formatProblem(p: InventoryProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** All problems of one inventory, reported at once. */
export class InventoryError extends UserError {
  constructor(readonly problems: InventoryProblem[]) {
    super(
      'E_INVENTORY_INVALID',
      `inventory is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      problems.map(formatProblem),
    );
  }
}

export function isOrchestrateError(e: unknown): e is OrchestrateError {
  return e instanceof OrchestrateError;
}

/** Message of any thrown value, for wrapping low-level errors into ours. */
export function messageOf(e: unknown): string {
  // Not `instanceof Error`: errors from another realm (vm contexts, test runners) fail that check.
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}
