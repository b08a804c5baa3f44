/**
 * Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB introspection. The registry
 * and delivery live in server/pubsub.ts; these handlers only parse arguments and reply.
 *
 * Each (un)subscription is confirmed by its own push reply carrying the client's subscription count; an
 * UNSUBSCRIBE without arguments drops every subscription of that kind (and still replies once when there was
 * none, with a null channel).
 */
import type { Client } from '../server/client';
import type { SubscriptionKind } from '../server/pubsub';
import { globMatch } from '../keyspace/glob';
import { helpReply } from './help';
import { cmd, container, type CommandSpec } from './table';

function subscriber(kind: SubscriptionKind) {
  return (c: Client, argv: string[]): void => {
    for (let i = 1; i < argv.length; i++) c.server.pubsub.subscribe(c, kind, argv[i]);
  };
}

function unsubscriber(kind: SubscriptionKind) {
  return (c: Client, argv: string[]): void => {
    const pubsub = c.server.pubsub;
    if (argv.length === 1) pubsub.unsubscribeAll(c, kind);
    else for (let i = 1; i < argv.length; i++) pubsub.unsubscribe(c, kind, argv[i]);
  };
}

function publish(c: Client, argv: string[]): void {
  c.reply.integer(c.server.pubsub.publish(argv[1], argv[2]));
}

function spublish(c: Client, argv: string[]): void {
  c.reply.integer(c.server.pubsub.publish(argv[1], argv[2], 'shard'));
}

function channelsMatching(c: Client, registry: Map<string, Set<Client>>, argv: string[]): void {
  const pattern = argv[2];
  const names: string[] = [];
  for (const name of registry.keys()) if (pattern === undefined || globMatch(pattern, name)) names.push(name);
  c.reply.bulkArray(names);
}

function numsub(c: Client, registry: Map<string, Set<Client>>, argv: string[]): void {
  c.reply.array((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    c.reply.bulk(argv[i]);
    c.reply.integer(registry.get(argv[i])?.size ?? 0);
  }
}

const PUBSUB_HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

const sub = (
  name: string,
  arity: number,
  handler: (c: Client, argv: string[]) => void,
  flags: CommandSpec['flags'] = ['pubsub', 'loading', 'stale'],
  categories = ['pubsub', 'slow'],
): CommandSpec => cmd(name, arity, flags, 0, 0, 0, handler, { categories });

const SUBSCRIBE_FLAGS: CommandSpec['flags'] = ['pubsub', 'noscript', 'loading', 'stale'];

export const pubsubCommands: CommandSpec[] = [
  cmd('subscribe', -2, SUBSCRIBE_FLAGS, 0, 0, 0, subscriber('channel'), { categories: ['pubsub', 'slow'] }),
  cmd('unsubscribe', -1, SUBSCRIBE_FLAGS, 0, 0, 0, unsubscriber('channel'), {
    categories: ['pubsub', 'slow'],
  }),
  cmd('psubscribe', -2, SUBSCRIBE_FLAGS, 0, 0, 0, subscriber('pattern'), { categories: ['pubsub', 'slow'] }),
  cmd('punsubscribe', -1, SUBSCRIBE_FLAGS, 0, 0, 0, unsubscriber('pattern'), {
    categories: ['pubsub', 'slow'],
  }),
  cmd('ssubscribe', -2, SUBSCRIBE_FLAGS, 1, -1, 1, subscriber('shard'), { categories: ['pubsub', 'slow'] }),
  cmd('sunsubscribe', -1, SUBSCRIBE_FLAGS, 1, -1, 1, unsubscriber('shard'), {
    categories: ['pubsub', 'slow'],
  }),
  cmd('publish', 3, ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'], 0, 0, 0, publish, {
    categories: ['pubsub', 'fast'],
  }),
  cmd('spublish', 3, ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'], 1, 1, 1, spublish, {
    categories: ['pubsub', 'fast'],
  }),
  container('pubsub', [
    sub('channels', -2, (c, argv) => channelsMatching(c, c.server.pubsub.channels, argv)),
    sub('numsub', -2, (c, argv) => numsub(c, c.server.pubsub.channels, argv)),
    sub('numpat', 2, (c) => c.reply.integer(c.server.pubsub.patterns.size)),
    sub('shardchannels', -2, (c, argv) => channelsMatching(c, c.server.pubsub.shardChannels, argv)),
    sub('shardnumsub', -2, (c, argv) => numsub(c, c.server.pubsub.shardChannels, argv)),
    sub('help', 2, (c) => helpReply(c, 'PUBSUB', PUBSUB_HELP), ['loading', 'stale'], ['slow']),
  ]),
];
