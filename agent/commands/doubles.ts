/**
 * Parsing doubles the way Redis does, which is C's strtod plus two different sets of checks:
 * - `strictDoubleArg` (getDoubleFromObject: scores, weights, increments): the whole text must be a number, no
 *   leading space, no NaN, no overflow to infinity, no underflow to zero. "inf", "-inf", "infinity" and hex
 *   floats are numbers.
 * - `rangeDouble` (zslParseRange: ZRANGEBYSCORE min/max...): strtod's leniency stays: leading spaces are
 *   skipped, the empty string is 0, overflow gives infinity; only trailing garbage and NaN are refused.
 */
import { Err, ReplyError } from '../errors';

const DEC_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const HEX_RE = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?/;
const SPECIAL_RE = /^([+-]?)(?:(inf(?:inity)?)|(nan(?:\([0-9A-Za-z_]*\))?))/i;

function isCSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

export interface StrtodResult {
  value: number;
  /** Index just after the parsed number (0 when nothing was parsed). */
  end: number;
  /** The number overflowed to infinity or underflowed to zero (C's ERANGE cases Redis checks). */
  rangeError: boolean;
}

/** C strtod on `s`: skips leading white space, parses the longest number prefix. */
export function strtod(s: string): StrtodResult {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  const rest = s.slice(i);
  let m = SPECIAL_RE.exec(rest);
  if (m) {
    if (m[3] !== undefined) return { value: NaN, end: i + m[0].length, rangeError: false };
    return { value: m[1] === '-' ? -Infinity : Infinity, end: i + m[0].length, rangeError: false };
  }
  m = HEX_RE.exec(rest);
  if (m) {
    const intDigits = m[2] ?? '';
    const fracDigits = m[3] ?? m[4] ?? '';
    const exp = m[5] === undefined ? 0 : Number(m[5]);
    const mant = BigInt('0x' + (intDigits + fracDigits || '0'));
    let value = Number(mant) * 2 ** (exp - 4 * fracDigits.length);
    if (!Number.isFinite(value) && mant !== 0n) value = Infinity;
    if (m[1] === '-') value = -value;
    const rangeError = !Number.isFinite(value) || (value === 0 && mant !== 0n);
    return { value, end: i + m[0].length, rangeError };
  }
  m = DEC_RE.exec(rest);
  if (m) {
    const value = Number(m[0]);
    const nonZeroDigits = /[1-9]/.test(m[0].replace(/[eE].*$/, ''));
    const rangeError = !Number.isFinite(value) || (value === 0 && nonZeroDigits);
    return { value, end: i + m[0].length, rangeError };
  }
  return { value: 0, end: 0, rangeError: false };
}

/** getDoubleFromObject: the strict form used for scores, weights and increments. */
export function strictDouble(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  const r = strtod(s);
  if (r.end !== s.length || r.rangeError || Number.isNaN(r.value)) return null;
  return r.value;
}

export function strictDoubleArg(s: string, error: string = Err.notFloat): number {
  const v = strictDouble(s);
  if (v === null) throw new ReplyError(error);
  return v;
}

/** zslParseRange's strtod: lenient prefix rules, whole text consumed, NaN refused. */
export function rangeDouble(s: string): number | null {
  const r = strtod(s);
  if (r.end === 0) return s.length === 0 ? 0 : null;
  if (r.end !== s.length || Number.isNaN(r.value)) return null;
  return r.value;
}
