/**
 * A minimal RESP client for tests that compare the agent with real Redis byte for byte: it sends commands as
 * multibulk requests and reads whole replies, keeping both the raw reply text (exact comparison, including the
 * RESP type of nulls and doubles) and a parsed value (order-insensitive comparison where Redis's order is
 * arbitrary). Replies are latin1 strings.
 */
import net from 'node:net';

export type RespValue = string | number | null | RespError | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

export interface Reply {
  raw: string;
  value: RespValue;
}

/** Reads one reply from `buf` at `pos`; returns null when it is incomplete. */
function parseReply(buf: string, pos: number): { value: RespValue; end: number } | null {
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd < 0) return null;
  const type = buf[pos];
  const line = buf.slice(pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
    case ',':
    case '(':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '_':
      return { value: null, end: next };
    case '#':
      return { value: line === 't' ? 1 : 0, end: next };
    case '$':
    case '=':
    case '!': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.slice(next, next + len), end: next + len + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      let count = Number(line);
      if (count < 0) return { value: null, end: next };
      if (type === '%') count *= 2;
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(buf, at);
        if (r === null) return null;
        items.push(r.value);
        at = r.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(
        `unexpected reply byte ${JSON.stringify(type)} in ${JSON.stringify(buf.slice(pos, pos + 50))}`,
      );
  }
}

export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return out;
}

export class RespConnection {
  private buffer = '';
  private waiting: Array<(r: Reply) => void> = [];
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buffer += d.toString('latin1');
      this.drain();
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RespConnection(s)));
      s.once('error', reject);
    });
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const r = parseReply(this.buffer, 0);
      if (r === null) return;
      const raw = this.buffer.slice(0, r.end);
      this.buffer = this.buffer.slice(r.end);
      this.waiting.shift()!({ raw, value: r.value });
    }
  }

  /** Sends one command and resolves with its reply. */
  call(...args: string[]): Promise<Reply> {
    return this.send(args);
  }

  send(args: readonly string[]): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const p = new Promise<Reply>((resolve) => this.waiting.push(resolve));
    this.socket.write(encodeCommand(args), 'latin1');
    this.drain();
    return p;
  }

  /**
   * A whole SCAN-family iteration: sends `command(cursor)` from cursor 0 until the server returns 0, and resolves
   * with every item of every reply, in order (field/value or member/score pairs stay flat).
   */
  async scanAll(command: (cursor: string) => string[]): Promise<string[]> {
    const items: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = (await this.send(command(cursor))).value as [string, string[]];
      items.push(...page);
      cursor = next;
    } while (cursor !== '0');
    return items;
  }

  /** Resolves with the next reply that arrives without a request (pub/sub messages). */
  readPush(): Promise<RespValue> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const p = new Promise<Reply>((resolve) => this.waiting.push(resolve));
    this.drain();
    return p.then((r) => r.value);
  }

  /** True when a reply is waiting that nobody asked for yet (used to check that a client is still blocked). */
  get hasUnreadData(): boolean {
    return this.buffer.length > 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sorts arrays recursively (elements compared as JSON), for replies whose order Redis leaves undefined. */
export function sortedValue(v: RespValue): RespValue {
  if (!Array.isArray(v)) return v;
  return v.map(sortedValue).sort((a, b) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Groups a flat [k1, v1, k2, v2...] array into pairs and sorts them (HGETALL of a hashtable, ZSCAN...). */
export function sortedPairs(v: RespValue): RespValue {
  if (!Array.isArray(v)) return v;
  const pairs: RespValue[] = [];
  for (let i = 0; i < v.length; i += 2) pairs.push([v[i], v[i + 1]]);
  return sortedValue(pairs);
}
