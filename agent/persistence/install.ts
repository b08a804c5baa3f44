/**
 * Persistence's entry point: `await installPersistence(server)` (agent/main.ts, right after the server listens)
 * attaches the subsystem through the server's hook lists (commands, DEBUG RELOAD, INFO persistence, cron,
 * propagation to the AOF, the -MISCONF admission filter, SHUTDOWN, FLUSHALL, appendonly at runtime), then loads
 * the dataset: meanwhile INFO says loading:1 and other commands get -LOADING, as with Redis, which also listens
 * before it loads. It resolves once the data is in; a file that cannot be loaded rejects with an AgentError
 * (main.ts exits 1).
 */
import { onFlushAll } from '../commands/keys';
import type { Server } from '../server/server';
import { persistenceCommands } from './commands';
import { Persistence, snapshotRegistryOf } from './persistence';
import { RdbSnapshotStream } from './rdbSnapshot';
import { commandLoadPacing } from './snapshotPacing';

const installed = new WeakMap<Server, Persistence>();

/** The persistence of a server, once installed. */
export function persistenceOf(server: Server): Persistence | undefined {
  return installed.get(server);
}

export async function installPersistence(
  server: Server,
  options: { load?: boolean } = {},
): Promise<Persistence> {
  const p = new Persistence(server);
  installed.set(server, p);
  server.commands.register(persistenceCommands(p));
  server.debugSubcommands.set('reload', (c, argv) => p.debugReload(c, argv));
  server.infoSections.set('persistence', () => p.infoFields());
  server.cronHooks.push(() => p.cron());
  server.propagationTargets.push(p.aof.feed);
  server.commandFilters.unshift(p.commandFilter);
  server.shutdownHooks.push(p.shutdownHook);
  server.memoryOverheads.set('mem_aof_buffer', () => p.aof.bufferedBytes);
  onFlushAll(server, () => p.afterFlushAll());
  // A dataset replaced outside any command (a replica's full sync) invalidates the AOF: rewrite it (Redis:
  // restartAOFAfterSYNC).
  server.replaceAllHooks.push(() => {
    if (
      server.currentClient === undefined &&
      p.aof.state === 'on' &&
      !p.aof.installingDataset &&
      !server.loading
    ) {
      p.aof.rewriteScheduled = true;
    }
  });
  const config = server.config;
  const setApplier = (
    config as { setApplier?: (name: string, apply: (v: string) => string | undefined) => void }
  ).setApplier;
  const applyAppendonly = (value: string): string | undefined => {
    if (server.loading) return undefined;
    if (value === 'yes') return p.aof.start();
    p.aof.stop();
    return undefined;
  };
  if (typeof setApplier === 'function') setApplier.call(config, 'appendonly', applyAppendonly);
  else config.onChange('appendonly', (v) => void applyAppendonly(v));
  if (options.load !== false) await p.loadAtStartup();
  return p;
}

/**
 * The fork-less snapshot as replication's snapshot source (replication/snapshotSource.ts): the RDB image of the
 * keyspace at the instant of the call, with the AUX fields given, as a pull stream of immutable chunks.
 */
export function forkLessSnapshot(
  server: Server,
  request: { aux: ReadonlyArray<readonly [string, string]>; urgency?: () => number },
): RdbSnapshotStream {
  const p = installed.get(server);
  const registry = p?.registry ?? snapshotRegistryOf(server);
  const config = server.config;
  const options = p
    ? { ...p.streamOptions('sync', request.urgency), ...p.rdbWriterOptions() }
    : {
        compress: config.getBool('rdbcompression'),
        checksum: config.getBool('rdbchecksum'),
        pace: commandLoadPacing('sync', () => server.stats.totalCommands, request.urgency),
      };
  return new RdbSnapshotStream(server.keyspace, registry, { ...options, aux: request.aux });
}
