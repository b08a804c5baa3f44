/**
 * Recognising canonical decimal integers, the form Redis's string2ll accepts: optional '-', no '+', no leading
 * zeros ("0" alone, never "-0"), no spaces. Scanned by char code rather than with a RegExp because it runs on
 * every INCR, SADD member and string encoding check; callers still check the int64 range themselves.
 */

const CODE_MINUS = 45;
const CODE_0 = 48;
const CODE_1 = 49;
const CODE_9 = 57;

/** True when `s` is a canonical decimal integer of at most `maxDigits` digits (the sign not counted). */
export function isCanonicalInt(s: string, maxDigits: number): boolean {
  const length = s.length;
  const start = length > 0 && s.charCodeAt(0) === CODE_MINUS ? 1 : 0;
  const digits = length - start;
  if (digits === 0 || digits > maxDigits) return false;
  const first = s.charCodeAt(start);
  if (first === CODE_0) return length === 1;
  if (first < CODE_1 || first > CODE_9) return false;
  for (let i = start + 1; i < length; i++) {
    const code = s.charCodeAt(i);
    if (code < CODE_0 || code > CODE_9) return false;
  }
  return true;
}
