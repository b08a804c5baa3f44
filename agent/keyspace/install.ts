/**
 * Wires the keyspace's server-wide parts into a Server: encoding thresholds and the LRU/LFU policy follow the
 * configuration, the active expiry cycle runs from the cron, and the keyspace's DEBUG subcommands (DIGEST,
 * DIGEST-VALUE, SET-ACTIVE-EXPIRE) are offered to the DEBUG command through `server.debugSubcommands` when the
 * server has that registry.
 */
import type { Client } from '../server/client';
import type { Server } from '../server/server';
import { bindAccessPolicy } from './access';
import { ActiveExpireCycle } from './activeExpire';
import { datasetDigest, keyDigest } from './digest';
import { bindEncodingLimits } from './encodingLimits';

const cycles = new WeakMap<Server, ActiveExpireCycle>();

/** The active expiry cycle of a server (DEBUG SET-ACTIVE-EXPIRE toggles `enabled`). */
export function activeExpireCycle(server: Server): ActiveExpireCycle | undefined {
  return cycles.get(server);
}

export function debugDigest(c: Client): void {
  c.reply.simple(datasetDigest(c.server.keyspace));
}

export function debugDigestValue(c: Client, argv: string[]): void {
  c.reply.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.reply.simple(keyDigest(c.db, argv[j]));
}

export function debugSetActiveExpire(c: Client, argv: string[]): void {
  const cycle = cycles.get(c.server);
  if (cycle) cycle.enabled = argv[2] !== '0';
  c.reply.ok();
}

export function installKeyspace(server: Server): ActiveExpireCycle {
  bindEncodingLimits(server.config);
  bindAccessPolicy(server.config);
  const cycle = new ActiveExpireCycle(server.keyspace, {
    effort: () => server.config.getInt('active-expire-effort'),
    hz: () => server.config.getInt('hz'),
  });
  cycles.set(server, cycle);
  server.cronHooks.push(() => cycle.run());
  const registry = (server as { debugSubcommands?: Map<string, (c: Client, argv: string[]) => void> })
    .debugSubcommands;
  if (registry !== undefined) {
    if (!registry.has('digest')) registry.set('digest', debugDigest);
    if (!registry.has('digest-value')) registry.set('digest-value', debugDigestValue);
    if (!registry.has('set-active-expire')) registry.set('set-active-expire', debugSetActiveExpire);
  }
  return cycle;
}
