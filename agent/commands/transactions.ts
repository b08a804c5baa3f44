/**
 * Transactions: MULTI queues commands (the dispatcher does the queueing and marks the transaction aborted when a
 * command is refused), EXEC runs them back to back, DISCARD drops them. WATCH makes EXEC fail (null reply) when a
 * watched key changed after it was watched: any write, an expiry or eviction, FLUSHDB/FLUSHALL/SWAPDB, or a key
 * that was live when watched and is logically expired by EXEC time (Redis 7.0's rule).
 *
 * Effects of EXEC are propagated as one batch, which the server wraps in MULTI/EXEC when it holds more than one
 * write, so replicas and the AOF apply the transaction atomically.
 */
import type { Database } from '../keyspace/database';
import type { Client } from '../server/client';
import type { Server } from '../server/server';
import { Err, ReplyError } from '../errors';
import { cmd, type CommandSpec } from './table';

/** Who watches which key: `dbId\0key` -> clients. */
class WatchRegistry {
  readonly byKey = new Map<string, Set<Client>>();

  watch(c: Client, db: Database, key: string): void {
    for (const w of c.watched) if (w.dbId === db.id && w.key === key) return;
    const expiredWhenWatched = db.dict.has(key) && db.isExpired(key);
    c.watched.push({ dbId: db.id, key, expiredWhenWatched });
    const id = watchId(db.id, key);
    const set = this.byKey.get(id);
    if (set) set.add(c);
    else this.byKey.set(id, new Set([c]));
  }

  unwatchAll(c: Client): void {
    for (const w of c.watched) {
      const id = watchId(w.dbId, w.key);
      const set = this.byKey.get(id);
      if (!set) continue;
      set.delete(c);
      if (set.size === 0) this.byKey.delete(id);
    }
    c.watched.length = 0;
    c.dirtyCas = false;
  }

  /** A key changed: every client watching it will fail its EXEC. */
  touched(db: Database, key: string): void {
    const set = this.byKey.get(watchId(db.id, key));
    if (set) for (const c of set) c.dirtyCas = true;
  }

  /** A whole database is being emptied or swapped: watchers of keys that exist there fail. */
  touchedAll(db: Database): void {
    for (const [id, set] of this.byKey) {
      const sep = id.indexOf('\0');
      if (Number(id.slice(0, sep)) !== db.id || !db.dict.has(id.slice(sep + 1))) continue;
      for (const c of set) c.dirtyCas = true;
    }
  }
}

function watchId(dbId: number, key: string): string {
  return `${dbId}\0${key}`;
}

const registries = new WeakMap<Server, WatchRegistry>();

function registryOf(server: Server): WatchRegistry {
  let r = registries.get(server);
  if (!r) {
    const registry = new WatchRegistry();
    r = registry;
    registries.set(server, registry);
    server.keyModifiedHooks.push((db, key) => {
      if (registry.byKey.size > 0) registry.touched(db, key);
    });
    server.replaceAllHooks.push((db) => {
      if (registry.byKey.size > 0) registry.touchedAll(db);
    });
    server.clientClosedHooks.push((c) => registry.unwatchAll(c));
    server.clientResetHooks.push((c) => registry.unwatchAll(c));
  }
  return r;
}

/** Installs WATCH bookkeeping on a server (hooks for key changes, flushes and departing clients). */
export function installTransactions(server: Server): void {
  registryOf(server);
}

function multi(c: Client): void {
  if (c.multi !== null) throw new ReplyError('ERR MULTI calls can not be nested');
  c.multi = { queue: [], aborted: false };
  c.reply.ok();
}

function discard(c: Client): void {
  if (c.multi === null) throw new ReplyError('ERR DISCARD without MULTI');
  c.multi = null;
  registryOf(c.server).unwatchAll(c);
  c.reply.ok();
}

/** True when a watched key is logically expired now but was not when watched. */
function watchedKeyExpired(c: Client): boolean {
  const dbs = c.server.keyspace.dbs;
  for (const w of c.watched) {
    if (!w.expiredWhenWatched && dbs[w.dbId].isExpired(w.key)) return true;
  }
  return false;
}

function exec(c: Client): void {
  const state = c.multi;
  if (state === null) throw new ReplyError('ERR EXEC without MULTI');
  const server = c.server;
  const registry = registryOf(server);
  c.multi = null;
  if (state.aborted) {
    registry.unwatchAll(c);
    throw new ReplyError(Err.execAbort);
  }
  if (c.dirtyCas || watchedKeyExpired(c)) {
    registry.unwatchAll(c);
    c.reply.nullArray();
    return;
  }
  // Keys touched by the transaction itself must not fail it: stop watching before running.
  registry.unwatchAll(c);
  c.reply.array(state.queue.length);
  c.inExec = true;
  try {
    for (const { cmd: queued, argv } of state.queue) {
      if (c.closed) break;
      server.execute(c, queued, argv);
    }
  } finally {
    c.inExec = false;
  }
}

function watch(c: Client, argv: string[]): void {
  if (c.multi !== null) throw new ReplyError('ERR WATCH inside MULTI is not allowed');
  const registry = registryOf(c.server);
  for (let i = 1; i < argv.length; i++) registry.watch(c, c.db, argv[i]);
  c.reply.ok();
}

function unwatch(c: Client): void {
  registryOf(c.server).unwatchAll(c);
  c.reply.ok();
}

const TX_FLAGS: CommandSpec['flags'] = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];

export const transactionCommands: CommandSpec[] = [
  cmd('multi', 1, TX_FLAGS, 0, 0, 0, multi, { categories: ['fast', 'transaction'] }),
  cmd('exec', 1, ['noscript', 'loading', 'stale', 'skip_slowlog'], 0, 0, 0, exec, {
    categories: ['slow', 'transaction'],
  }),
  cmd('discard', 1, TX_FLAGS, 0, 0, 0, discard, { categories: ['fast', 'transaction'] }),
  cmd('watch', -2, TX_FLAGS, 1, -1, 1, watch, { categories: ['fast', 'transaction'] }),
  cmd('unwatch', 1, TX_FLAGS, 0, 0, 0, unwatch, { categories: ['fast', 'transaction'] }),
];
