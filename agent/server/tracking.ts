/**
 * Server-assisted client-side caching (CLIENT TRACKING), as Redis 7.0 does it.
 *
 * Default mode: after a tracking client runs a read-only command, the keys it read are remembered in the
 * tracking table (key -> client ids). When such a key changes (write, expiry, eviction), each remembered client
 * gets one `invalidate` message for it and the entry is dropped: the client must read again to be told again.
 * OPTIN/OPTOUT restrict remembering to commands right after CLIENT CACHING yes/no. BCAST mode remembers
 * nothing: clients get an invalidation for every changed key that starts with one of their prefixes.
 *
 * Delivery: RESP3 clients get a `>2 invalidate [keys]` push; with REDIRECT the message goes to another
 * connection, as a push if it speaks RESP3, else as a pub/sub message on `__redis__:invalidate` (which that
 * connection must subscribe to). Flushing a database invalidates everything with a null key list.
 *
 * The table is bounded by tracking-table-max-keys: past it, the oldest keys are invalidated and forgotten.
 */
import { Err, ReplyError } from '../errors';
import type { Client } from './client';
import type { Server } from './server';

const INVALIDATE_CHANNEL = '__redis__:invalidate';

export interface TrackingState {
  redirectId: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
  /** CLIENT CACHING yes|no given for the next command (undefined when not). */
  caching: boolean | undefined;
  /** The command after CLIENT CACHING has run: the flag applies to that one only. */
  cachingArmed: boolean;
  brokenRedirect: boolean;
}

export class Tracking {
  /** Key -> ids of clients that may have cached it. */
  private readonly table = new Map<string, Set<number>>();
  readonly clients = new Map<number, Client>();
  maxKeys = 1_000_000;

  constructor(private readonly server: Server) {
    server.keyModifiedHooks.push((_db, key) => {
      if (this.clients.size > 0) this.invalidateKey(key);
    });
    server.replaceAllHooks.push(() => {
      if (this.clients.size > 0) this.invalidateAll();
    });
    server.clientClosedHooks.push((c) => this.disable(c));
    server.clientResetHooks.push((c) => this.disable(c));
  }

  get trackedKeys(): number {
    return this.table.size;
  }

  get trackedItems(): number {
    let n = 0;
    for (const ids of this.table.values()) n += ids.size;
    return n;
  }

  get prefixCount(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.tracking!.prefixes.length;
    return n;
  }

  enable(c: Client, state: TrackingState): void {
    c.tracking = state;
    this.clients.set(c.id, c);
  }

  disable(c: Client): void {
    if (c.tracking === null) return;
    c.tracking = null;
    this.clients.delete(c.id);
  }

  redirectOf(c: Client): number {
    return c.tracking === null ? -1 : c.tracking.redirectId;
  }

  /** After a read-only command: remember its keys for the client, unless its mode says otherwise. */
  afterReadCommand(c: Client, keys: string[]): void {
    const t = c.tracking!;
    if (t.bcast) return;
    if (t.optin && t.caching !== true) return;
    if (t.optout && t.caching === false) return;
    for (const key of keys) {
      let ids = this.table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.table.set(key, ids);
        if (this.table.size > this.maxKeys) this.evictOldest();
      }
      ids.add(c.id);
    }
  }

  /** Called after every command of a tracking client: CLIENT CACHING applies to one command only. */
  afterCommand(c: Client, isCachingCommand: boolean): void {
    const t = c.tracking!;
    if (isCachingCommand) {
      t.cachingArmed = true;
    } else if (t.cachingArmed) {
      t.cachingArmed = false;
      t.caching = undefined;
    }
  }

  private evictOldest(): void {
    for (const key of this.table.keys()) {
      if (this.table.size <= this.maxKeys) break;
      this.invalidateKey(key);
    }
  }

  invalidateKey(key: string): void {
    const ids = this.table.get(key);
    if (ids !== undefined) {
      this.table.delete(key);
      const current = this.server.currentClient;
      for (const id of ids) {
        const c = this.clients.get(id);
        if (c === undefined || c.tracking === null || c.tracking.bcast) continue;
        if (c.tracking.noloop && c === current) continue;
        this.send(c, [key]);
      }
    }
    for (const c of this.clients.values()) {
      const t = c.tracking!;
      if (!t.bcast) continue;
      if (t.noloop && c === this.server.currentClient) continue;
      if (t.prefixes.length === 0 || t.prefixes.some((p) => key.startsWith(p))) this.send(c, [key]);
    }
  }

  invalidateAll(): void {
    this.table.clear();
    for (const c of this.clients.values()) this.send(c, null);
  }

  /** Sends one invalidation message for `keys` (null: everything) to the client or its redirection. */
  private send(c: Client, keys: string[] | null): void {
    const t = c.tracking!;
    let target = c;
    if (t.redirectId > 0) {
      const r = this.server.clients.get(t.redirectId);
      if (r === undefined) {
        if (!t.brokenRedirect && c.reply.resp === 3) {
          c.reply.push(1);
          c.reply.bulk('tracking-redir-broken');
          this.server.wake(c);
        }
        t.brokenRedirect = true;
        return;
      }
      target = r;
    }
    const w = target.reply;
    if (w.resp === 3) {
      w.push(2);
      w.bulk('invalidate');
    } else if (target.subscriptionCount > 0) {
      // A RESP2 connection can only receive it as a pub/sub message, so it must be in pub/sub mode (Redis's rule).
      w.push(3);
      w.bulk('message');
      w.bulk(INVALIDATE_CHANNEL);
    } else {
      return;
    }
    if (keys === null) w.nullArray();
    else w.bulkArray(keys);
    this.server.wake(target);
  }
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP] */
export function trackingCommand(c: Client, argv: string[]): void {
  const server = c.server;
  const tracking = server.tracking;
  const on = argv[2].toUpperCase();
  if (on !== 'ON' && on !== 'OFF') throw new ReplyError(Err.syntax);
  const state: TrackingState = {
    redirectId: 0,
    bcast: false,
    optin: false,
    optout: false,
    noloop: false,
    prefixes: [],
    caching: undefined,
    cachingArmed: false,
    brokenRedirect: false,
  };
  for (let i = 3; i < argv.length; i++) {
    const opt = argv[i].toUpperCase();
    const more = i + 1 < argv.length;
    if (opt === 'REDIRECT' && more) {
      const id = Number(argv[++i]);
      if (!/^\d+$/.test(argv[i])) throw new ReplyError(Err.notInteger);
      if (id !== c.id && !server.clients.has(id)) {
        throw new ReplyError('ERR The client ID you want redirect to does not exist');
      }
      state.redirectId = id;
    } else if (opt === 'BCAST') state.bcast = true;
    else if (opt === 'OPTIN') state.optin = true;
    else if (opt === 'OPTOUT') state.optout = true;
    else if (opt === 'NOLOOP') state.noloop = true;
    else if (opt === 'PREFIX' && more) state.prefixes.push(argv[++i]);
    else throw new ReplyError(Err.syntax);
  }
  if (on === 'OFF') {
    tracking.disable(c);
    c.reply.ok();
    return;
  }
  const current = c.tracking;
  if (state.prefixes.length > 0 && !state.bcast) {
    throw new ReplyError('ERR PREFIX option requires BCAST mode to be enabled');
  }
  if (current !== null) {
    if (current.bcast !== state.bcast) {
      throw new ReplyError(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then " +
          're-enabling it with a different mode.',
      );
    }
  }
  if (state.optin && state.optout)
    throw new ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if (current !== null && ((state.optin && current.optout) || (state.optout && current.optin))) {
    throw new ReplyError(
      "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then " +
        're-enabling it with a different mode.',
    );
  }
  if (state.bcast && (state.optin || state.optout)) {
    throw new ReplyError('ERR OPTIN and OPTOUT are not compatible with BCAST');
  }
  checkPrefixOverlaps(current?.prefixes ?? [], state.prefixes);
  if (current !== null) {
    for (const p of current.prefixes) if (!state.prefixes.includes(p)) state.prefixes.unshift(p);
  }
  tracking.enable(c, state);
  c.reply.ok();
}

function overlaps(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Prefixes of one client must not overlap, neither with its existing ones nor among themselves. */
function checkPrefixOverlaps(existing: readonly string[], given: readonly string[]): void {
  const suffix = 'Prefixes for a single client must not overlap.';
  for (let i = 0; i < given.length; i++) {
    for (const e of existing) {
      if (e !== given[i] && overlaps(e, given[i])) {
        throw new ReplyError(`ERR Prefix '${given[i]}' overlaps with an existing prefix '${e}'. ${suffix}`);
      }
    }
    for (let j = i + 1; j < given.length; j++) {
      if (overlaps(given[i], given[j])) {
        throw new ReplyError(
          `ERR Prefix '${given[i]}' overlaps with another provided prefix '${given[j]}'. ${suffix}`,
        );
      }
    }
  }
}

/** CLIENT CACHING YES|NO: for the next command in OPTIN/OPTOUT mode. */
export function cachingCommand(c: Client, argv: string[]): void {
  const t = c.tracking;
  if (t === null || (!t.optin && !t.optout)) {
    throw new ReplyError(
      'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled',
    );
  }
  const v = argv[2].toUpperCase();
  if (v === 'YES') {
    if (!t.optin)
      throw new ReplyError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
    t.caching = true;
  } else if (v === 'NO') {
    if (!t.optout) {
      throw new ReplyError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
    }
    t.caching = false;
  } else {
    throw new ReplyError(Err.syntax);
  }
  c.reply.ok();
}

/** CLIENT TRACKINGINFO */
export function trackingInfo(c: Client): void {
  const t = c.tracking;
  const flags: string[] = [];
  if (t === null) flags.push('off');
  else {
    flags.push('on');
    if (t.bcast) flags.push('bcast');
    if (t.optin) flags.push('optin');
    if (t.optout) flags.push('optout');
    if (t.caching === true) flags.push('caching-yes');
    if (t.caching === false) flags.push('caching-no');
    if (t.noloop) flags.push('noloop');
    if (t.brokenRedirect) flags.push('broken_redirect');
  }
  const r = c.reply;
  r.map(3);
  r.bulk('flags');
  r.set(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk('redirect');
  r.integer(t === null ? -1 : t.redirectId);
  r.bulk('prefixes');
  r.bulkArray(t === null ? [] : t.prefixes);
}
