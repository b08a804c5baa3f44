/**
 * The confirmation question before apply and destroy change hosts. Asked on stderr, answered on stdin; only an
 * explicit "y" or "yes" proceeds. Without a terminal nobody can answer, so callers require --yes instead.
 */
import readline from 'node:readline';
import type { CliIO } from './io';

export async function confirm(io: CliIO, question: string): Promise<boolean> {
  const rl = readline.createInterface({
    input: io.stdin,
    output: io.stderr,
    terminal: Boolean(io.stdin.isTTY),
  });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} [y/N] `, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
