/**
 * Recognising strings that Redis stores as integers.
 *
 * Why: Redis keeps a string as an integer (RDB int encodings, listpack/ziplist integer entries, intsets) only if the
 * text is the canonical decimal form of a signed 64-bit integer, i.e. string2ll() accepts it and ll2string() gives
 * back the same bytes: no '+', no leading zeros, no "-0", no spaces, at most 20 chars. Decoding prints the integer
 * back, so only canonical text round-trips; the writer must use exactly this test.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Up to 15 digits always fits in a double exactly (< 2^53). */
const SAFE_DIGITS = 15;

/**
 * The integer a canonical decimal string denotes: a number when it is a safe integer, a bigint for larger int64
 * values, or null when the string is not canonical int64 text.
 */
export function canonicalInt64(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  const negative = s.charCodeAt(0) === 45; /* - */
  if (negative) {
    i = 1;
    if (n === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first < 48 || first > 57) return null;
  if (first === 48) return n === 1 ? 0 : null; /* "0" only; rejects "-0" and "01" */
  const digits = n - i;
  if (digits <= SAFE_DIGITS) {
    let v = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      v = v * 10 + c;
    }
    return negative ? -v : v;
  }
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return null;
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** Decimal text of a signed 64-bit integer stored as two little-endian 32-bit halves (hi signed, lo unsigned). */
export function int64Text(hi: number, lo: number): string {
  // |value| < 2^53 when hi is within 21 bits: the double arithmetic is exact
  if (hi >= -0x200000 && hi < 0x200000) return String(hi * 4294967296 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}
