/**
 * known_hosts parsing and matching as OpenSSH does it: plain, [host]:port, wildcard and negated patterns, hashed
 * entries (made by ssh-keygen -H itself), @revoked and @cert-authority markers, and the host key algorithm order
 * that makes a server show a key we can check. The parser never throws on arbitrary input (bounded fuzz).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperationFailure } from '../../cli/errors';
import { KnownHosts, knownHostsName, parseKnownHosts, patternsMatch } from '../../cli/transport/knownHosts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-kh-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keypair(name: string, type = 'ed25519'): { line: string; blob: Buffer } {
  const f = path.join(dir, name);
  spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', f]);
  const [t, b64] = readFileSync(`${f}.pub`, 'utf8').trim().split(' ');
  return { line: `${t} ${b64}`, blob: Buffer.from(b64, 'base64') };
}

test('names use [host]:port except on port 22', () => {
  expect(knownHostsName('10.0.0.1', 22)).toBe('10.0.0.1');
  expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
});

test('patterns: lists, wildcards, negation', () => {
  expect(patternsMatch('a.example,b.example', 'b.example')).toBe(true);
  expect(patternsMatch('*.example', 'db1.example')).toBe(true);
  expect(patternsMatch('db?.example', 'db12.example')).toBe(false);
  expect(patternsMatch('*.example,!secret.example', 'secret.example')).toBe(false);
  expect(patternsMatch('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
  expect(patternsMatch('10.0.0.1', '[10.0.0.1]:2222')).toBe(false);
});

test('hashed entries written by ssh-keygen -H match their host', () => {
  const k = keypair('hashed');
  const file = path.join(dir, 'known_hashed');
  writeFileSync(file, `[10.9.9.9]:2200 ${k.line}\n`);
  expect(spawnSync('ssh-keygen', ['-H', '-f', file]).status).toBe(0);
  expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
  const kh = new KnownHosts(file);
  expect(kh.verify('10.9.9.9', 2200, k.blob, 'strict')).toBe('known');
  expect(() => kh.verify('10.9.9.8', 2200, k.blob, 'strict')).toThrow(OperationFailure);
});

test('a @revoked key is refused even where it is listed; @cert-authority lines are ignored', () => {
  const k = keypair('revoked');
  const ca = keypair('ca');
  const file = path.join(dir, 'known_revoked');
  writeFileSync(file, `@revoked * ${k.line}\nhost1 ${k.line}\n@cert-authority * ${ca.line}\n`);
  const kh = new KnownHosts(file);
  expect(() => kh.verify('host1', 22, k.blob, 'accept-new')).toThrow(/marked @revoked/);
  expect(() => kh.verify('host2', 22, ca.blob, 'strict')).toThrow(/not in/);
});

test('a host known with another key type is a mismatch, and the known type is preferred in the handshake', () => {
  const ed = keypair('ed');
  const ecdsa = keypair('ec', 'ecdsa');
  const file = path.join(dir, 'known_types');
  writeFileSync(file, `# comment\n\nhost3 ${ecdsa.line} some comment\n`);
  const kh = new KnownHosts(file);
  expect(kh.preferredAlgorithms('host3', 22)[0]).toBe('ecdsa-sha2-nistp256');
  expect(kh.preferredAlgorithms('other', 22)[0]).toBe('ssh-ed25519');
  expect(() => kh.verify('host3', 22, ed.blob, 'accept-new')).toThrow(/does not match known_hosts/);
  expect(kh.verify('host3', 22, ecdsa.blob, 'strict')).toBe('known');
});

test('accept-new creates a missing known_hosts file with private modes', () => {
  const k = keypair('new');
  const file = path.join(dir, 'sub', 'known_new');
  expect(new KnownHosts(file).verify('10.1.1.1', 22, k.blob, 'accept-new')).toBe('added');
  expect(readFileSync(file, 'utf8')).toBe(`10.1.1.1 ${k.line}\n`);
});

test('the parser never throws on arbitrary text (bounded fuzz)', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pieces = [
    '@revoked',
    '@cert-authority',
    ' ',
    '\n',
    'host',
    '|1|',
    'ssh-ed25519',
    'AAAA',
    '=',
    ',',
    '#',
    '[',
    ']:22',
    '\t',
    '!*',
  ];
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = Math.floor(rand() * 20);
    for (let j = 0; j < n; j++) s += pieces[Math.floor(rand() * pieces.length)];
    const entries = parseKnownHosts(s);
    for (const e of entries) {
      expect(e.key.length).toBeGreaterThan(0);
      expect(patternsMatch(e.patterns, 'host')).toEqual(expect.any(Boolean));
    }
  }
});
