/**
 * The gate before a command changes hosts: --yes, or a person answering yes on a terminal. Without a terminal
 * nobody can answer, so the command refuses (bad input: the flag is missing) rather than assume.
 */
import { OperationFailure, UserError } from '../errors';
import type { CliIO } from '../ui/io';
import type { CommandContext } from './context';

export async function requireConfirmation(
  ctx: CommandContext,
  question: string,
  ask: (io: CliIO, question: string) => Promise<boolean>,
): Promise<void> {
  if (ctx.options.yes) return;
  if (!ctx.interactive) {
    throw new UserError(
      'E_CONFIRMATION_REQUIRED',
      'not changing hosts without confirmation: no terminal to ask on',
      ['review the plan above, then rerun with --yes'],
    );
  }
  if (!(await ask(ctx.io, question)))
    throw new OperationFailure('E_DECLINED', 'not confirmed; nothing was changed');
}
