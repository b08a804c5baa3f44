/**
 * OpenSSH known_hosts handling: the host key a server offers must be one the user already trusts.
 *
 * Format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `[marker] hostpatterns keytype base64-key [comment]`, where host
 * patterns are comma-separated names, `[name]:port` for non-22 ports, globs with `*` and `?`, negations with `!`,
 * or a hashed entry `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. Markers: `@revoked` (that key is refused
 * everywhere) and `@cert-authority` (CA keys; we do not do certificates, so such lines are ignored).
 *
 * Policy, like OpenSSH's StrictHostKeyChecking: a key listed for the host is accepted; a host listed only with other
 * keys is a mismatch and always refused (possible man in the middle); an unlisted host is refused under `strict` and
 * recorded then accepted under `accept-new`.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationFailure, messageOf } from '../errors';
import type { HostKeyPolicy } from '../inventory/model';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  patterns: string;
  keyType: string;
  key: Buffer;
  /** 1-based line in the file. */
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const lineText = raw.trim();
    if (!lineText || lineText.startsWith('#')) return;
    const fields = lineText.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority')
      marker = fields.shift() as KnownHostEntry['marker'];
    if (fields.length < 3) return;
    const [patterns, keyType, b64] = fields;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) return;
    entries.push({ marker, patterns, keyType, key, line: i + 1 });
  });
  return entries;
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** Whether a comma-separated pattern list names this host (a matching negation excludes it). */
export function patternsMatch(patterns: string, name: string): boolean {
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('|')) {
      if (hashedMatches(p, name)) matched = true;
      continue;
    }
    const negated = p.startsWith('!');
    const body = negated ? p.slice(1) : p;
    if (globToRegExp(body).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Key type name inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Host key algorithms that produce a key of a known_hosts key type. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export interface HostKeyCheck {
  file: string;
  host: string;
  port: number;
  policy: HostKeyPolicy;
}

export class KnownHosts {
  private entries: KnownHostEntry[];

  constructor(readonly file: string) {
    this.entries = this.read();
  }

  private read(): KnownHostEntry[] {
    try {
      return parseKnownHosts(readFileSync(this.file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new OperationFailure('E_SSH_CONNECT', `cannot read known_hosts ${this.file}: ${messageOf(e)}`);
    }
  }

  entriesFor(host: string, port: number): KnownHostEntry[] {
    const name = knownHostsName(host, port);
    return this.entries.filter((e) => e.marker !== '@cert-authority' && patternsMatch(e.patterns, name));
  }

  /**
   * Algorithm preference for the handshake: key types already known for this host first, so a server that has
   * several host keys shows us the one we can check (as OpenSSH does).
   */
  preferredAlgorithms(host: string, port: number): string[] {
    const known = this.entriesFor(host, port)
      .filter((e) => !e.marker)
      .flatMap((e) => ALGORITHMS_BY_KEY_TYPE[e.keyType] ?? []);
    return [...new Set([...known, ...DEFAULT_HOST_KEY_ALGORITHMS])];
  }

  /**
   * Verifies an offered key. Returns normally when accepted (recording it first under accept-new); throws
   * E_HOST_KEY_MISMATCH or E_HOST_KEY_UNKNOWN otherwise.
   */
  verify(host: string, port: number, key: Buffer, policy: HostKeyPolicy): 'known' | 'added' {
    // Re-read: another connection of this run may have recorded the host meanwhile.
    this.entries = this.read();
    const name = knownHostsName(host, port);
    const type = keyTypeOf(key);
    const fp = fingerprint(key);
    if (this.entries.some((e) => e.marker === '@revoked' && e.key.equals(key))) {
      throw new OperationFailure(
        'E_HOST_KEY_MISMATCH',
        `host key of ${name} (${type} ${fp}) is marked @revoked in ${this.file}`,
      );
    }
    const listed = this.entriesFor(host, port).filter((e) => !e.marker);
    if (listed.some((e) => e.key.equals(key))) return 'known';
    if (listed.length > 0) {
      throw new OperationFailure(
        'E_HOST_KEY_MISMATCH',
        `host key of ${name} does not match known_hosts: possible man-in-the-middle attack, refusing to connect`,
        [
          `offered: ${type} ${fp}`,
          ...listed.map((e) => `known:   ${e.keyType} ${fingerprint(e.key)} (${this.file}:${e.line})`),
          `if the host was really reinstalled, remove the old key: ssh-keygen -f ${this.file} -R '${name}'`,
        ],
      );
    }
    if (policy !== 'accept-new') {
      throw new OperationFailure('E_HOST_KEY_UNKNOWN', `host key of ${name} is not in ${this.file}`, [
        `offered: ${type} ${fp}`,
        'check that fingerprint out of band, then add it (ssh-keyscan) or rerun with --accept-new-host-keys',
      ]);
    }
    const line = `${name} ${type} ${key.toString('base64')}\n`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      appendFileSync(this.file, line, { mode: 0o600 });
    } catch (e) {
      throw new OperationFailure('E_SSH_CONNECT', `cannot record host key in ${this.file}: ${messageOf(e)}`);
    }
    this.entries = this.read();
    return 'added';
  }
}
