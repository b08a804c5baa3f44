/**
 * The command encoder behind the replication stream and the AOF: client-protocol RESP, byte for byte what
 * encodeCommand (and a client) would send, SELECT only where the database changes, any argument length, batches
 * larger than its scratch buffer.
 */
import { CommandEncoder, encodeCommand, type DbCommand } from '../../agent/resp/commandEncoder';

/** Encodes `batch` and returns the bytes as a latin1 string. */
function encoded(encoder: CommandEncoder, batch: DbCommand[]): string {
  const n = encoder.encode(batch);
  return encoder.bytes.toString('latin1', 0, n);
}

describe('CommandEncoder', () => {
  it('emits SELECT before the first command and on every database change, never for dbId -1', () => {
    const t = new CommandEncoder();
    const out = encoded(t, [
      { dbId: 0, argv: ['SET', 'a', '1'] },
      { dbId: 0, argv: ['SET', 'b', '2'] },
      { dbId: 3, argv: ['DEL', 'c'] },
      { dbId: -1, argv: ['PING'] },
      { dbId: 3, argv: ['DEL', 'd'] },
    ]);
    expect(out).toBe(
      encodeCommand(['SELECT', '0']) +
        encodeCommand(['SET', 'a', '1']) +
        encodeCommand(['SET', 'b', '2']) +
        encodeCommand(['SELECT', '3']) +
        encodeCommand(['DEL', 'c']) +
        encodeCommand(['PING']) +
        encodeCommand(['DEL', 'd']),
    );
    t.selectedDb = -1;
    expect(encoded(t, [{ dbId: 3, argv: ['X'] }])).toBe(
      encodeCommand(['SELECT', '3']) + encodeCommand(['X']),
    );
  });

  it('keeps binary arguments byte for byte', () => {
    const bin = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const out = encoded(new CommandEncoder(), [{ dbId: -1, argv: ['SET', bin, '\r\n'] }]);
    expect(out).toBe(`*3\r\n$3\r\nSET\r\n$256\r\n${bin}\r\n$2\r\n\r\n\r\n`);
  });

  it('encodes batches larger than its scratch buffer, and the small ones after them', () => {
    const t = new CommandEncoder();
    const big = 'x'.repeat(200_000);
    const batch = [
      { dbId: 0, argv: ['SET', 'a', big] },
      { dbId: 0, argv: ['APPEND', 'a', big] },
    ];
    expect(encoded(t, batch)).toBe(
      encodeCommand(['SELECT', '0']) + batch.map((c) => encodeCommand(c.argv)).join(''),
    );
    expect(encoded(t, [{ dbId: 0, argv: ['DEL', 'a'] }])).toBe(encodeCommand(['DEL', 'a']));
  });

  it('writes every argument length, one digit or many', () => {
    const argv = [0, 1, 9, 10, 99, 100, 1000, 65536].map((n) => 'v'.repeat(n));
    expect(encoded(new CommandEncoder(), [{ dbId: -1, argv }])).toBe(encodeCommand(argv));
  });
});
