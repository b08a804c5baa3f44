/**
 * Files the agent must refuse at startup: a truncated dump (cut anywhere), a corrupt one (a flipped byte), a
 * foreign file, a newer RDB version, a dump using more databases than configured, a broken AOF. The agent exits
 * with status 1 and a message naming the file and the byte offset, never starts serving half a dataset, and leaves
 * the file exactly as it was.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeRdb } from '../../../agent/persistence/rdbWriter';
import { runProcess } from '../../helpers/process';
import { AGENT_BUNDLE, HOST, freePort } from '../../helpers/servers';
import { generateDataset } from './support/dataset';

jest.setTimeout(60_000);

/** Runs the agent on `dir` until it exits (it must refuse to start): exit code and output. */
async function runUntilExit(
  dir: string,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const { code, output } = await runProcess(
    process.execPath,
    [AGENT_BUNDLE, '--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', ...args],
    { timeoutMs: 20_000 },
  );
  return { code, output };
}

const NOW_MS = Date.now();
const VALID = encodeRdb(generateDataset({ seed: 5, nowMs: NOW_MS + 3_600_000, bigStringBytes: 5000 }), {
  aux: [['redis-ver', '7.0.15']],
});

describe('refusing bad files at startup', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'test-badfiles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function expectRefused(content: Buffer, message: RegExp, args: string[] = []): Promise<string> {
    const file = path.join(dir, 'dump.rdb');
    writeFileSync(file, content);
    const { code, output } = await runUntilExit(dir, args);
    expect(code).toBe(1);
    expect(output).toMatch(message);
    expect(output).not.toContain('Ready to accept connections');
    expect(readFileSync(file).equals(content)).toBe(true);
    return output;
  }

  it.each([9, 50, 0.25, 0.5, 0.9, -9, -1])(
    'refuses a dump truncated at %p, naming the file and offset',
    async (cut) => {
      const at = cut < 0 ? VALID.length + cut : cut < 1 ? Math.floor(VALID.length * cut) : cut;
      const output = await expectRefused(
        VALID.subarray(0, at),
        /Fatal error loading the DB: .*dump\.rdb: input ends after \d+ bytes/,
      );
      expect(output).toContain(`(at byte ${at})`);
      expect(output).toContain(path.join(dir, 'dump.rdb'));
    },
  );

  it('refuses a dump with a flipped byte (checksum or structure)', async () => {
    const bad = Buffer.from(VALID);
    bad[Math.floor(bad.length / 2)] ^= 0x5a;
    await expectRefused(bad, /Fatal error loading the DB: .*dump\.rdb: .*\(at byte \d+\)/);
    const badCrc = Buffer.from(VALID);
    badCrc[badCrc.length - 1] ^= 1;
    await expectRefused(badCrc, /CRC64 is [0-9a-f]{16}, content gives [0-9a-f]{16} \(at byte \d+\)/);
  });

  it('refuses foreign files and newer RDB versions', async () => {
    await expectRefused(Buffer.from('hello, this is not a dump\n'), /not an RDB file .*\(at byte 0\)/);
    await expectRefused(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      /not an RDB file/,
    );
    const newer = Buffer.from(VALID);
    newer.write('0012', 5, 'latin1');
    await expectRefused(newer, /RDB version 12 is not supported .*\(at byte 5\)/);
  });

  it('refuses a dump that uses more databases than configured', async () => {
    await expectRefused(
      VALID,
      /uses database 5, but this server is configured with 4 databases .*\(at byte \d+\)/,
      ['--databases', '4'],
    );
  });

  it.each([
    ['a string kept in the slab', 'x'.repeat(100)],
    ['a short string', 'v'],
  ])('refuses a dump that holds a key twice (%s), naming the key', async (_what, value) => {
    const entry = (v: string) => ({
      db: 0,
      key: 'twice',
      value: { type: 'string' as const, value: v },
      expireAtMs: null,
    });
    const entries = [entry(value), { ...entry('other'), key: 'once' }, entry(value)];
    await expectRefused(encodeRdb(entries), /duplicate key "twice" in database 0 \(at byte \d+\)/);
  });

  it('refuses a broken AOF, one cut short when aof-load-truncated is no, and a bad manifest', async () => {
    const aofDir = path.join(dir, 'appendonlydir');
    mkdirSync(aofDir);
    writeFileSync(
      path.join(aofDir, 'appendonly.aof.manifest'),
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    writeFileSync(
      path.join(aofDir, 'appendonly.aof.1.base.aof'),
      '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n',
    );
    const incr = path.join(aofDir, 'appendonly.aof.1.incr.aof');
    const garbage = Buffer.from('*2\r\n$3\r\nDEL\r\n$1\r\na\r\nxyz\r\n');
    writeFileSync(incr, garbage);
    let r = await runUntilExit(dir, ['--appendonly', 'yes']);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof \(at byte 20/,
    );
    expect(readFileSync(incr).equals(garbage)).toBe(true);
    const cut = Buffer.from('*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nhel');
    writeFileSync(incr, cut);
    r = await runUntilExit(dir, ['--appendonly', 'yes', '--aof-load-truncated', 'no']);
    expect(r.code).toBe(1);
    expect(r.output).toContain(
      'Unexpected end of file reading the append only file appendonly.aof.1.incr.aof',
    );
    expect(readFileSync(incr).equals(cut)).toBe(true);
    writeFileSync(
      path.join(aofDir, 'appendonly.aof.manifest'),
      'file appendonly.aof.1.base.aof seq 1 type x\n',
    );
    r = await runUntilExit(dir, ['--appendonly', 'yes']);
    expect(r.code).toBe(1);
    expect(r.output).toContain("unknown file type 'x' in AOF manifest line 1");
  });
});
