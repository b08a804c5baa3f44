/**
 * Publish/subscribe: who listens to which channel or pattern, message delivery, and keyspace notifications
 * (notify-keyspace-events), which are ordinary messages on `__keyspace@<db>__:<key>` and
 * `__keyevent@<db>__:<event>`.
 *
 * Messages are pushes: `>` frames in RESP3, plain arrays in RESP2 (where a subscribed connection may only
 * run (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET). Delivery writes into each subscriber's reply
 * buffer and asks the server to flush it after the current event; output-buffer limits of the pubsub class
 * apply there, so a subscriber that stops reading is dropped instead of growing without bound.
 *
 * Shard channels (SSUBSCRIBE/SPUBLISH) are a separate namespace, as in Redis 7; in standalone mode they behave
 * like ordinary channels.
 */
import type { Client } from './client';
import { globMatch } from '../keyspace/glob';

/** notify-keyspace-events letters and their bits, in the order CONFIG GET prints them. */
const CLASS_BITS: Array<[string, number]> = [
  ['g', 1 << 2],
  ['$', 1 << 3],
  ['l', 1 << 4],
  ['s', 1 << 5],
  ['h', 1 << 6],
  ['z', 1 << 7],
  ['x', 1 << 8],
  ['e', 1 << 9],
  ['t', 1 << 10],
  ['d', 1 << 13],
];
const KEYSPACE = 1 << 0;
const KEYEVENT = 1 << 1;
const KEY_MISS = 1 << 11;
const NEW_KEY = 1 << 12;
const ALL_CLASSES = CLASS_BITS.reduce((bits, [, bit]) => bits | bit, 0);
const BIT_OF = new Map<string, number>([
  ...CLASS_BITS,
  ['A', ALL_CLASSES],
  ['K', KEYSPACE],
  ['E', KEYEVENT],
  ['m', KEY_MISS],
  ['n', NEW_KEY],
]);

/** Parses notify-keyspace-events flags; null when a letter is unknown. */
export function parseNotifyFlags(text: string): number | null {
  let bits = 0;
  for (const ch of text) {
    const bit = BIT_OF.get(ch);
    if (bit === undefined) return null;
    bits |= bit;
  }
  return bits;
}

/** The canonical form CONFIG GET shows (Redis's keyspaceEventsFlagsToString). */
export function formatNotifyFlags(bits: number): string {
  let out = '';
  if ((bits & ALL_CLASSES) === ALL_CLASSES) {
    out += 'A';
  } else {
    for (const [ch, bit] of CLASS_BITS) if (bits & bit) out += ch;
    // Redis prints 'n' among the classes, and not at all after 'A'.
    if (bits & NEW_KEY) out += 'n';
  }
  if (bits & KEYSPACE) out += 'K';
  if (bits & KEYEVENT) out += 'E';
  if (bits & KEY_MISS) out += 'm';
  return out;
}

export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** The reply words of each kind: [subscribe, unsubscribe, message]. */
const WORDS: Record<SubscriptionKind, [string, string, string]> = {
  channel: ['subscribe', 'unsubscribe', 'message'],
  pattern: ['psubscribe', 'punsubscribe', 'pmessage'],
  shard: ['ssubscribe', 'sunsubscribe', 'smessage'],
};

export class PubSub {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  readonly shardChannels = new Map<string, Set<Client>>();
  private notifyBits = 0;

  /** `wake` asks the server to flush a client other than the one running the command. */
  constructor(private readonly wake: (c: Client) => void) {}

  setNotifyFlags(text: string): void {
    this.notifyBits = parseNotifyFlags(text) ?? 0;
  }

  /** True when some class of notification is enabled (lets callers skip building event names). */
  get notificationsEnabled(): boolean {
    return this.notifyBits !== 0;
  }

  private registry(kind: SubscriptionKind): Map<string, Set<Client>> {
    return kind === 'channel' ? this.channels : kind === 'pattern' ? this.patterns : this.shardChannels;
  }

  private clientSet(c: Client, kind: SubscriptionKind): Set<string> {
    return kind === 'channel' ? c.channels : kind === 'pattern' ? c.patterns : c.shardChannels;
  }

  /** Subscribes and replies with the confirmation push. */
  subscribe(c: Client, kind: SubscriptionKind, name: string): void {
    const mine = this.clientSet(c, kind);
    if (!mine.has(name)) {
      mine.add(name);
      const reg = this.registry(kind);
      const subs = reg.get(name);
      if (subs) subs.add(c);
      else reg.set(name, new Set([c]));
    }
    this.confirm(c, kind, 0, name);
  }

  /** Unsubscribes one name (replying even when it was not subscribed, like Redis). */
  unsubscribe(c: Client, kind: SubscriptionKind, name: string, notify = true): void {
    const mine = this.clientSet(c, kind);
    if (mine.delete(name)) {
      const reg = this.registry(kind);
      const subs = reg.get(name);
      if (subs) {
        subs.delete(c);
        if (subs.size === 0) reg.delete(name);
      }
    }
    if (notify) this.confirm(c, kind, 1, name);
  }

  /** Unsubscribes from every name of a kind; with none, still replies once with a null name. */
  unsubscribeAll(c: Client, kind: SubscriptionKind, notify = true): void {
    const mine = this.clientSet(c, kind);
    if (mine.size === 0) {
      if (notify) this.confirm(c, kind, 1, null);
      return;
    }
    for (const name of [...mine]) this.unsubscribe(c, kind, name, notify);
  }

  /** Forgets a client that went away (no replies). */
  dropClient(c: Client): void {
    this.unsubscribeAll(c, 'channel', false);
    this.unsubscribeAll(c, 'pattern', false);
    this.unsubscribeAll(c, 'shard', false);
  }

  private confirm(c: Client, kind: SubscriptionKind, which: 0 | 1, name: string | null): void {
    const r = c.reply;
    r.push(3);
    r.bulk(WORDS[kind][which]);
    r.bulkOrNull(name);
    r.integer(kind === 'shard' ? c.shardChannels.size : c.channels.size + c.patterns.size);
  }

  /** Delivers a message; returns how many clients received it. */
  publish(channel: string, message: string, kind: 'channel' | 'shard' = 'channel'): number {
    let receivers = 0;
    const subs = (kind === 'shard' ? this.shardChannels : this.channels).get(channel);
    if (subs) {
      const word = kind === 'shard' ? 'smessage' : 'message';
      for (const c of subs) {
        const r = c.reply;
        r.push(3);
        r.bulk(word);
        r.bulk(channel);
        r.bulk(message);
        this.wake(c);
        receivers++;
      }
    }
    if (kind === 'channel' && this.patterns.size > 0) {
      for (const [pattern, clients] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        for (const c of clients) {
          const r = c.reply;
          r.push(4);
          r.bulk('pmessage');
          r.bulk(pattern);
          r.bulk(channel);
          r.bulk(message);
          this.wake(c);
          receivers++;
        }
      }
    }
    return receivers;
  }

  /** Keyspace notification for an event of class `cls` on `key` (a no-op unless configured). */
  notify(cls: string, event: string, key: string, dbId: number): void {
    const bits = this.notifyBits;
    if (bits === 0) return;
    const bit = BIT_OF.get(cls);
    if (bit === undefined || !(bits & bit)) return;
    if (bits & KEYSPACE) this.publish(`__keyspace@${dbId}__:${key}`, event);
    if (bits & KEYEVENT) this.publish(`__keyevent@${dbId}__:${event}`, key);
  }
}
