/**
 * Bounded fuzzing of the RDB reader and the DUMP decoder: mutated and truncated inputs must end in an RdbError (or,
 * rarely, a successful parse), never another exception and never a hang; the incremental path must reach the same
 * outcome as the whole-buffer path; and with checksums on, no mutation of a file goes unnoticed.
 * Deterministic: fixed seeds, fixed iteration counts.
 */

import { decodeDumpPayload, encodeDumpPayload } from '../../../agent/persistence/dumpPayload';
import { RdbError } from '../../../agent/persistence/errors';
import { parseRdb } from '../../../agent/persistence/rdbReader';
import type { RdbEvent } from '../../../agent/persistence/rdbReader';
import { encodeRdb } from '../../../agent/persistence/rdbWriter';
import { generateDataset } from './support/dataset';
import { prng } from '../../helpers/prng';
import { parseInChunks } from './support/feed';
import { legacyRdbFixture } from './support/rdbFixtures';

const ITERATIONS = 1500;
const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x81, 0xc0, 0xc3, 0xfe, 0x3f, 0x40, 0xf4, 0xf0, 0x0a];

function mutate(input: Buffer, rand: () => number): Buffer {
  const pos = (): number => Math.floor(rand() * input.length);
  switch (Math.floor(rand() * 6)) {
    case 0: {
      const out = Buffer.from(input);
      const flips = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < flips; i++) out[pos()] ^= 1 + Math.floor(rand() * 255);
      return out;
    }
    case 1: {
      const out = Buffer.from(input);
      out[pos()] = INTERESTING_BYTES[Math.floor(rand() * INTERESTING_BYTES.length)];
      return out;
    }
    case 2:
      return input.subarray(0, pos());
    case 3: {
      const at = pos();
      return Buffer.concat([input.subarray(0, at), input.subarray(at + 1 + Math.floor(rand() * 16))]);
    }
    case 4: {
      const at = pos();
      const junk = Buffer.from(
        Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256)),
      );
      return Buffer.concat([input.subarray(0, at), junk, input.subarray(at)]);
    }
    default: {
      const at = pos();
      const len = 1 + Math.floor(rand() * 32);
      return Buffer.concat([input.subarray(0, at), input.subarray(at, at + len), input.subarray(at)]);
    }
  }
}

type Outcome = { ok: true; events?: RdbEvent[] } | { ok: false; code: string; offset: number | null };

function outcomeOf(run: () => unknown, context: () => string): Outcome {
  try {
    run();
    return { ok: true };
  } catch (err) {
    if (err instanceof RdbError) return { ok: false, code: err.code, offset: err.offset };
    throw new Error(`non-RdbError ${String(err)} for ${context()}`);
  }
}

const dataset = generateDataset({ seed: 5, nowMs: 1_800_000_000_000, largeCount: 30, bigStringBytes: 2000 });
const FIXTURES: Array<[string, Buffer]> = [
  ['writer, compact + LZF', encodeRdb(dataset)],
  [
    'writer, plain, uncompressed',
    encodeRdb(dataset, {
      compress: false,
      encodingLimits: { hashMaxListpackEntries: 0, zsetMaxListpackEntries: 0, setMaxIntsetEntries: 0 },
    }),
  ],
  ['legacy encodings', legacyRdbFixture(1_800_000_000)],
];

describe('fuzzing the RDB reader', () => {
  it.each(FIXTURES)(
    '%s: every mutation ends in a result or an RdbError, the same fed whole or in chunks',
    (_name, image) => {
      const rand = prng(image.length);
      let errors = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const mutated = mutate(image, rand);
        const context = (): string => `iteration ${i}, input ${mutated.toString('base64')}`;
        const whole = outcomeOf(() => parseRdb(mutated, { verifyChecksum: false }), context);
        if (!whole.ok) errors++;
        if (i % 10 === 0) {
          const chunkRand = prng(i);
          let chunked: Outcome;
          try {
            parseInChunks(mutated, () => 1 + Math.floor(chunkRand() * 64), { verifyChecksum: false });
            chunked = { ok: true };
          } catch (err) {
            if (!(err instanceof RdbError)) throw new Error(`non-RdbError ${String(err)} for ${context()}`);
            chunked = { ok: false, code: err.code, offset: err.offset };
          }
          // a whole image with trailing bytes fails; the chunked feeder (like a socket) leaves them unread
          if (!(whole.ok === false && whole.code === 'RDB_CORRUPT' && chunked.ok))
            expect(chunked).toEqual(whole);
        }
        if (!mutated.equals(image) && !mutated.subarray(-8).equals(Buffer.alloc(8))) {
          const checked = outcomeOf(() => parseRdb(mutated), context);
          expect({ i, ok: checked.ok }).toEqual({ i, ok: false });
        }
      }
      expect(errors).toBeGreaterThan(ITERATIONS / 2);
    },
  );
});

describe('fuzzing the DUMP payload decoder', () => {
  it('turns every mutated payload into a value or a DUMP_* error', () => {
    const rand = prng(1234);
    const payloads = dataset.filter((e) => e.db === 0).map((e) => encodeDumpPayload(e.value));
    for (let i = 0; i < ITERATIONS * 2; i++) {
      const payload = payloads[i % payloads.length];
      const mutated = mutate(payload, rand);
      const outcome = outcomeOf(
        () => decodeDumpPayload(mutated, { skipChecksum: true }),
        () => `iteration ${i}, payload ${mutated.toString('base64')}`,
      );
      if (!outcome.ok) expect(['DUMP_PAYLOAD_INVALID', 'DUMP_BAD_FORMAT']).toContain(outcome.code);
    }
  });
});
