/**
 * The canonical-integer scanner against a regular expression spelling out string2ll's accepted form, on fixed
 * edge cases and a bounded seeded fuzz run.
 */
import { isCanonicalInt } from '../../../agent/keyspace/intText';
import { prng } from '../../helpers/prng';

const REFERENCE = /^(0|-?[1-9][0-9]*)$/;

function reference(s: string, maxDigits: number): boolean {
  const digits = s.startsWith('-') ? s.length - 1 : s.length;
  return REFERENCE.test(s) && digits <= maxDigits;
}

describe('isCanonicalInt', () => {
  test('accepts zero and unpadded integers with an optional minus, nothing else', () => {
    expect(['0', '7', '-7', '10', '-1234567890'].every((s) => isCanonicalInt(s, 20))).toBe(true);
    for (const s of ['', '-', '-0', '00', '01', '-01', '+1', ' 1', '1 ', '1a', '1.0', '0x1', '--1', '٣']) {
      expect([s, isCanonicalInt(s, 20)]).toEqual([s, false]);
    }
  });

  test('limits the number of digits, not counting the sign', () => {
    expect(isCanonicalInt('123456789012345', 15)).toBe(true);
    expect(isCanonicalInt('-123456789012345', 15)).toBe(true);
    expect(isCanonicalInt('1234567890123456', 15)).toBe(false);
  });

  test('agrees with the reference form on random strings', () => {
    const random = prng(42);
    const alphabet = '0123456789-+ .e';
    for (let n = 0; n < 50_000; n++) {
      let s = random() < 0.3 ? '-' : '';
      const length = Math.floor(random() * 23);
      for (let i = 0; i < length; i++) {
        s += alphabet[Math.floor(random() * (random() < 0.85 ? 10 : alphabet.length))];
      }
      const maxDigits = random() < 0.5 ? 15 : 20;
      expect([s, maxDigits, isCanonicalInt(s, maxDigits)]).toEqual([s, maxDigits, reference(s, maxDigits)]);
    }
  });
});
