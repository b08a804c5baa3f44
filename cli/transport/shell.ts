/**
 * POSIX shell quoting for commands sent to hosts. Every remote command is built from an argv array and quoted here,
 * so a path or name can never be read as shell syntax. Secrets never go through here: they travel in files or on
 * stdin, because command lines are visible to every user of a host (ps, /proc/<pid>/cmdline).
 */

/** Quotes one word for sh: bare when it only has safe characters, otherwise in single quotes. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Runs argv through `sudo -n` (never prompts: without a TTY a password prompt would hang until the timeout). */
export function withSudo(argv: readonly string[]): string[] {
  return ['sudo', '-n', '--', ...argv];
}
