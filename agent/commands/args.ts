/**
 * Argument parsing with Redis's exact rules and error texts. Integers follow string2ll: optional '-', no '+',
 * no leading zeros, no spaces, within int64. Floats follow strtod as Redis uses it: "inf", "-inf", "+inf"
 * accepted, NaN refused.
 */
import { Err, ReplyError } from '../errors';
import { isCanonicalInt } from '../keyspace/intText';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Parses an int64 as a bigint; null when the text is not one. */
export function parseInt64(s: string): bigint | null {
  if (s.length > 20 || !isCanonicalInt(s, 20)) return null;
  const n = BigInt(s);
  return n > INT64_MAX || n < INT64_MIN ? null : n;
}

/** Parses an integer that must fit a JS safe integer (counts, indexes, timeouts); throws Redis's error otherwise. */
export function intArg(s: string, error: string = Err.notInteger): number {
  if (s.length < 16 && isCanonicalInt(s, 15)) return Number(s);
  const n = parseInt64(s);
  if (n === null) throw new ReplyError(error);
  // Values beyond 2^53 lose precision but keep their sign and magnitude class, which is what range checks need.
  return Number(n);
}

/** Parses a float the way Redis's getDoubleFromObject does; throws "value is not a valid float". */
export function floatArg(s: string, error: string = Err.notFloat): number {
  const n = parseFloatStrict(s);
  if (n === null) throw new ReplyError(error);
  return n;
}

export function parseFloatStrict(s: string): number | null {
  if (s.length === 0 || s !== s.trim()) return null;
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null;
  const n = Number(s);
  return Number.isNaN(n) ? null : n;
}

/** Case-insensitive comparison of an argument with an upper-case keyword. */
export function is(arg: string, keyword: string): boolean {
  return arg.length === keyword.length && arg.toUpperCase() === keyword;
}
