/**
 * The HELP subcommand reply shared by container commands (CLIENT HELP, CONFIG HELP...): a header line naming
 * the command, the given lines, and the HELP entry itself, each as a status reply, like Redis's addReplyHelp.
 */
import type { Client } from '../server/client';

export function helpReply(c: Client, command: string, lines: readonly string[]): void {
  c.reply.array(lines.length + 3);
  c.reply.simple(`${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const line of lines) c.reply.simple(line);
  c.reply.simple('HELP');
  c.reply.simple('    Prints this help.');
}
