/**
 * Doubles in RDB files: zset scores.
 *
 * - Binary (RDB_TYPE_ZSET_2, Redis >= 4): 8 bytes, IEEE 754, little-endian.
 * - Legacy string (RDB_TYPE_ZSET): one length byte, then that many ASCII chars ("%.17g"); the length bytes 253, 254
 *   and 255 stand for NaN, +inf and -inf with no text.
 * - Inside listpacks/ziplists a score is an element: integer entries or text as Redis's d2string() prints it
 *   ("inf", "-inf", "-0", integers without decimals, otherwise a round-trippable decimal).
 * Text is parsed like C strtod (decimal, exponent, inf/infinity/nan in any case) and written as Redis 7.0 writes it
 * ("%.17g"), so our listpacks are byte-identical to Redis's.
 */

import type { ByteSink } from './byteSink';
import { RdbError } from './errors';
import { RDB_DOUBLE_NAN, RDB_DOUBLE_NEG_INF, RDB_DOUBLE_POS_INF } from './rdbFormat';
import type { RdbInput } from './rdbInput';

export function readBinaryDouble(input: RdbInput): number {
  input.require(8);
  const v = input.buf.readDoubleLE(input.pos);
  input.pos += 8;
  return v;
}

export function writeBinaryDouble(out: ByteSink, v: number): void {
  out.f64LE(v);
}

export function readLegacyDouble(input: RdbInput, what: string): number {
  input.require(1);
  const at = input.offset;
  const len = input.buf[input.pos];
  if (len === RDB_DOUBLE_NAN) {
    input.pos++;
    return NaN;
  }
  if (len === RDB_DOUBLE_POS_INF) {
    input.pos++;
    return Infinity;
  }
  if (len === RDB_DOUBLE_NEG_INF) {
    input.pos++;
    return -Infinity;
  }
  input.require(1 + len);
  const text = input.buf.toString('latin1', input.pos + 1, input.pos + 1 + len);
  const v = parseDoubleText(text);
  if (v === null) throw new RdbError('RDB_CORRUPT', `${what}: "${text}" is not a number`, at);
  input.pos += 1 + len;
  return v;
}

export function writeLegacyDouble(out: ByteSink, v: number): void {
  if (Number.isNaN(v)) return out.u8(RDB_DOUBLE_NAN);
  if (v === Infinity) return out.u8(RDB_DOUBLE_POS_INF);
  if (v === -Infinity) return out.u8(RDB_DOUBLE_NEG_INF);
  const text = formatDoubleText(v);
  out.u8(text.length);
  out.latin1(text);
}

const SPECIAL_DOUBLES: ReadonlyMap<string, number> = new Map([
  ['inf', Infinity],
  ['+inf', Infinity],
  ['-inf', -Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-infinity', -Infinity],
  ['nan', NaN],
  ['+nan', NaN],
  ['-nan', NaN],
]);

const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses the whole string as a double like strtod; null if it is not one. */
export function parseDoubleText(s: string): number | null {
  if (DECIMAL_RE.test(s)) return Number(s);
  const special = SPECIAL_DOUBLES.get(s.toLowerCase());
  return special === undefined ? null : special;
}

/**
 * Text of a score as Redis 7.0's d2string() writes it into listpacks: "inf", "-inf", "nan", "0" / "-0", integers in
 * (-2^52, 2^52) as plain digits, anything else as printf("%.17g").
 */
export function formatDoubleText(v: number): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isNaN(v)) return 'nan';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 52) return String(v);
  return formatG17(v);
}

/** printf("%.17g", v) for a finite v: 17 significant digits, trailing zeros dropped, C's choice of notation. */
export function formatG17(v: number): string {
  const exp = v.toExponential(16); // d.dddddddddddddddde±x, exactly rounded
  const e = exp.indexOf('e');
  const exponent = Number(exp.slice(e + 1));
  if (exponent < -4 || exponent >= 17) {
    const mantissa = stripZeros(exp.slice(0, e));
    const absExp = Math.abs(exponent);
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${absExp < 10 ? '0' : ''}${absExp}`;
  }
  return stripZeros(v.toFixed(16 - exponent));
}

function stripZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (s.charCodeAt(end - 1) === 46 /* . */) end--;
  return s.slice(0, end);
}
