/**
 * Local transport: the same contract as SSH on this machine (argv commands with stdin and timeouts, atomic
 * uploads with modes, reads and checksums of missing and present files, forwards that are the target itself).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperationFailure } from '../../cli/errors';
import { LocalTransport } from '../../cli/transport/local';
import { shellCommand, shellQuote } from '../../cli/transport/shell';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orchestrate-local-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('exec passes argv untouched by any shell, with stdin, exit code and both outputs', async () => {
  const t = new LocalTransport();
  const r = await t.exec(['sh', '-c', 'cat; echo "$1" >&2; exit 3', 'sh', '$(touch /tmp/never) ; "quoted"'], {
    stdin: 'in',
  });
  expect(r).toEqual({ code: 3, stdout: Buffer.from('in'), stderr: '$(touch /tmp/never) ; "quoted"\n' });
});

test('a command past its timeout is killed and reported as E_COMMAND_TIMEOUT', async () => {
  const t = new LocalTransport();
  await expect(t.exec(['sleep', '10'], { timeoutMs: 100 })).rejects.toMatchObject({
    code: 'E_COMMAND_TIMEOUT',
  });
});

test('a command that does not exist is a failure, not a crash', async () => {
  await expect(new LocalTransport().exec(['/nonexistent/binary'])).rejects.toBeInstanceOf(OperationFailure);
});

test('upload replaces atomically with the given mode and leaves no temporary file', async () => {
  const t = new LocalTransport();
  const target = path.join(dir, 'node.conf');
  writeFileSync(target, 'old');
  await t.upload(Buffer.from('new content'), target, { mode: 0o600 });
  expect(statSync(target).mode & 0o777).toBe(0o600);
  expect((await t.readFile(target))!.toString()).toBe('new content');
  const src = path.join(dir, 'bundle.js');
  writeFileSync(src, 'x'.repeat(100000));
  await t.upload({ localPath: src }, path.join(dir, 'agent.js'), { mode: 0o755 });
  expect(statSync(path.join(dir, 'agent.js')).mode & 0o777).toBe(0o755);
  expect(await t.checksum(path.join(dir, 'agent.js'))).toBe(
    createHash('sha256').update('x'.repeat(100000)).digest('hex'),
  );
  expect(readdirSync(dir).sort()).toEqual(['agent.js', 'bundle.js', 'node.conf']);
});

test('missing files read as null', async () => {
  const t = new LocalTransport();
  expect(await t.readFile(path.join(dir, 'nope'))).toBeNull();
  expect(await t.checksum(path.join(dir, 'nope'))).toBeNull();
});

test('a failed upload reports E_TRANSFER and leaves the old file', async () => {
  const t = new LocalTransport();
  await expect(
    t.upload(Buffer.from('x'), path.join(dir, 'missing-dir', 'f'), { mode: 0o600 }),
  ).rejects.toMatchObject({
    code: 'E_TRANSFER',
  });
});

test('forward on this machine is the target itself', async () => {
  const f = await new LocalTransport().forward('127.0.0.1', 7101);
  expect([f.host, f.port]).toEqual(['127.0.0.1', 7101]);
  await f.close();
});

test('shell quoting keeps every word one word', () => {
  expect(shellQuote('plain/path-1.conf')).toBe('plain/path-1.conf');
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  expect(shellQuote('')).toBe("''");
  expect(shellCommand(['echo', 'a b', '$HOME'])).toBe("echo 'a b' '$HOME'");
});
