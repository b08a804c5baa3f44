/**
 * A plain SET skips the lookup before its write when no key of the database has a TTL (Database.upsert): the
 * effects must be those of the lookup-then-write path, which is taken as soon as TTLs exist.
 */
import { startInProcess } from '../support/inProcess';

/** Runs `commands` and returns the keyspace events and the propagated commands they caused. */
function effects(setup: string[], commands: string[], startMs = 1_700_000_000_000) {
  const p = startInProcess([], startMs);
  for (const c of setup) p.run(c);
  const events: string[] = [];
  p.server.notifyHooks.push((_cls, event, key) => events.push(`${event} ${key}`));
  p.clearPropagated();
  const replies = commands.map((c) => p.run(c));
  return { p, events, replies, propagated: p.propagated().map((a) => a.join(' ')) };
}

describe('plain SET', () => {
  it('reports a new key once and an overwrite as a set, with or without volatile keys around', () => {
    for (const setup of [[], ['SET volatile 1 PX 100000']]) {
      const { events, replies, propagated } = effects(setup, ['SET k 1', 'SET k 2', 'GET k']);
      expect(events).toEqual(['new k', 'set k', 'set k']);
      expect(replies).toEqual(['+OK\r\n', '+OK\r\n', '$1\r\n2\r\n']);
      expect(propagated).toEqual(['SET k 1', 'SET k 2']);
    }
  });

  it('drops the TTL of the key it overwrites', () => {
    const { replies } = effects(['SET k 1 PX 100000'], ['SET k 2', 'TTL k']);
    expect(replies).toEqual(['+OK\r\n', ':-1\r\n']);
  });

  it('deletes an expired key first (expired event, DEL propagated), then creates it anew', () => {
    const { p } = effects(['SET k 1 PX 10'], []);
    p.setTime(1_700_000_000_000 + 1000);
    const events: string[] = [];
    p.server.notifyHooks.push((_cls, event, key) => events.push(`${event} ${key}`));
    p.clearPropagated();
    expect(p.run('SET k 2')).toBe('+OK\r\n');
    expect(events).toEqual(['expired k', 'new k', 'set k']);
    expect(p.propagated().map((a) => a.join(' '))).toEqual(['MULTI', 'DEL k', 'SET k 2', 'EXEC']);
  });

  it('stamps the key with the access clock, as a lookup would', () => {
    const { p } = effects([], ['SET k 1']);
    p.setTime(1_700_000_000_000 + 5000);
    expect(p.run('OBJECT IDLETIME k')).toBe(':5\r\n');
    p.run('SET k 2');
    expect(p.run('OBJECT IDLETIME k')).toBe(':0\r\n');
  });
});
