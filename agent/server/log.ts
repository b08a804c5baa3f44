/**
 * Logging in redis-server's format, so that existing log tooling reads it:
 *   `<pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level-char> <message>`
 * role is M (master), S (replica) or C (before the role is known); level chars are . - * # for
 * debug, verbose, notice, warning. Writes are synchronous: log lines are rare and must survive a crash.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

const LEVEL_RANK: Record<LogLevel | 'nothing', number> = {
  debug: 0,
  verbose: 1,
  notice: 2,
  warning: 3,
  nothing: 4,
};
const LEVEL_CHAR: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Logger {
  role: 'M' | 'S' | 'C' = 'C';
  private minRank = LEVEL_RANK.notice;
  private fd = 1;
  private ownsFd = false;

  constructor(private readonly nowMs: () => number = Date.now) {}

  setLevel(level: string): void {
    this.minRank = LEVEL_RANK[level as LogLevel] ?? LEVEL_RANK.notice;
  }

  /** '' logs to standard output; anything else is a file opened for appending. */
  setFile(path: string): void {
    const fd = path === '' ? 1 : openSync(path, 'a');
    if (this.ownsFd) closeSync(this.fd);
    this.fd = fd;
    this.ownsFd = path !== '';
  }

  /** Stops writing to standard output (a daemon without a logfile logs nowhere, like Redis). */
  silence(): void {
    if (!this.ownsFd) this.minRank = LEVEL_RANK.nothing;
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  verbose(msg: string): void {
    this.log('verbose', msg);
  }
  notice(msg: string): void {
    this.log('notice', msg);
  }
  warning(msg: string): void {
    this.log('warning', msg);
  }

  log(level: LogLevel, msg: string): void {
    if (LEVEL_RANK[level] < this.minRank) return;
    const line = `${process.pid}:${this.role} ${formatTime(this.nowMs())} ${LEVEL_CHAR[level]} ${msg}\n`;
    try {
      writeSync(this.fd, line);
    } catch {
      // A full disk or a closed stdout must not take the server down.
    }
  }
}

function formatTime(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return (
    `${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
  );
}
