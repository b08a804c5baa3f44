/**
 * Parsing of the INFO reply (Redis 7 field names): `# Section` headers and `field:value` lines, CRLF separated.
 * Replica entries on a master look like `slave0:ip=10.0.0.2,port=6379,state=online,offset=123,lag=0`.
 */
export type Info = Record<string, string>;

export function parseInfo(text: string): Info {
  const out: Info = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface ReplicaEntry {
  ip: string;
  port: number;
  state: string;
  offset: number;
  lag: number;
}

export function replicaEntries(info: Info): ReplicaEntry[] {
  const out: ReplicaEntry[] = [];
  for (const [k, v] of Object.entries(info)) {
    if (!/^slave\d+$/.test(k)) continue;
    const f: Record<string, string> = {};
    for (const part of v.split(',')) {
      const j = part.indexOf('=');
      if (j > 0) f[part.slice(0, j)] = part.slice(j + 1);
    }
    out.push({
      ip: f.ip ?? '',
      port: Number(f.port ?? 0),
      state: f.state ?? '',
      offset: Number(f.offset ?? 0),
      lag: Number(f.lag ?? 0),
    });
  }
  return out;
}

export function num(info: Info, field: string): number | undefined {
  const v = info[field];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
