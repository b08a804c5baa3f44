/**
 * INCRBYFLOAT and HINCRBYFLOAT arithmetic exactly as Redis does it on x86-64: operands parsed with strtold into
 * an 80-bit long double (64-bit significand, round-half-even), added with the same precision, and printed with
 * "%.17Lf" followed by removal of trailing zeros. JS doubles would answer differently (0.1 prints as
 * 0.10000000000000001 with %.17f), so the arithmetic is done on BigInt significands.
 *
 * A value is m * 2^e with 2^63 <= m < 2^64 (or zero / infinite). The long double exponent range is honoured for
 * overflow (the result becomes infinite); subnormal precision loss below 2^-16382 is not modelled.
 */

export interface LongDouble {
  neg: boolean;
  /** Significand, 0 or in [2^63, 2^64). */
  mant: bigint;
  exp: number;
  inf: boolean;
}

const SIG_BITS = 64;
const TWO_64 = 1n << 64n;
/** Largest binary exponent of the lowest significand bit for a finite value (2^16383 is the top bit's). */
const MAX_EXP = 16383 - 63;
/** Below this the value is treated as an underflow to zero. */
const MIN_EXP = -16445;

const ZERO: LongDouble = { neg: false, mant: 0n, exp: 0, inf: false };

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds n * 2^exp (n >= 0) to a 64-bit significand, half to even; `sticky` says bits below n were dropped. */
function normalize(neg: boolean, n: bigint, exp: number, sticky = false): LongDouble {
  if (n === 0n) return { ...ZERO, neg };
  let bits = bitLength(n);
  if (bits > SIG_BITS) {
    const shift = BigInt(bits - SIG_BITS);
    let q = n >> shift;
    const rem = n & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (sticky || (q & 1n) === 1n))) q += 1n;
    exp += Number(shift);
    if (q === TWO_64) {
      q >>= 1n;
      exp++;
    }
    n = q;
  } else if (bits < SIG_BITS) {
    n <<= BigInt(SIG_BITS - bits);
    exp -= SIG_BITS - bits;
  }
  bits = SIG_BITS;
  if (exp > MAX_EXP) return { neg, mant: 0n, exp: 0, inf: true };
  if (exp < MIN_EXP) return { ...ZERO, neg };
  return { neg, mant: n, exp, inf: false };
}

/** n / d * 2^exp rounded to a long double (n, d > 0). */
function fromRatio(neg: boolean, n: bigint, d: bigint, exp: number): LongDouble {
  const s = Math.max(0, SIG_BITS + 2 + bitLength(d) - bitLength(n));
  const scaled = n << BigInt(s);
  const q = scaled / d;
  const r = scaled % d;
  // Append a sticky bit so that normalize sees "a bit more than q" when the division was inexact.
  return normalize(neg, (q << 1n) | (r === 0n ? 0n : 1n), exp - s - 1);
}

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)(inf|infinity)$/i;

/**
 * Parses text as Redis's string2ld does (strtold over the whole string, no leading space, no NaN, no
 * overflow or underflow to zero); null when it refuses.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= 5 * 1024) return null;
  const inf = INF_RE.exec(s);
  if (inf) return { neg: inf[1] === '-', mant: 0n, exp: 0, inf: true };
  let neg: boolean;
  let result: LongDouble;
  let m = HEX_RE.exec(s);
  if (m) {
    const int = m[2];
    const frac = m[3] ?? '';
    if (int.length + frac.length === 0) return null;
    neg = m[1] === '-';
    const pexp = m[4] === undefined ? 0 : Number(m[4]);
    if (!Number.isFinite(pexp)) return null;
    const n = BigInt('0x' + (int + frac || '0'));
    result = normalize(neg, n, pexp - 4 * frac.length);
  } else {
    m = DEC_RE.exec(s);
    if (!m) return null;
    const int = m[2];
    const frac = m[3] ?? '';
    if (int.length + frac.length === 0) return null;
    neg = m[1] === '-';
    const e10 = (m[4] === undefined ? 0 : Number(m[4])) - frac.length;
    const n = BigInt((int + frac).replace(/^0+/, '') || '0');
    if (n === 0n) return { ...ZERO, neg };
    if (e10 > 5000) return null; // certainly beyond the long double range
    if (e10 < -5100) return null; // certainly an underflow to zero
    result = e10 >= 0 ? normalize(neg, n * 10n ** BigInt(e10), 0) : fromRatio(neg, n, 10n ** BigInt(-e10), 0);
  }
  if (result.inf) return null;
  if (result.mant === 0n) return null;
  return result;
}

/** a + b with one rounding, as x87 addition. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return { neg: false, mant: 0n, exp: 0, inf: true }; // NaN: caller rejects
    return a.inf ? a : b;
  }
  if (a.mant === 0n) return b.mant === 0n ? { ...ZERO, neg: a.neg && b.neg } : b;
  if (b.mant === 0n) return a;
  const e = Math.min(a.exp, b.exp);
  const va = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const vb = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = va + vb;
  if (sum === 0n) return { ...ZERO };
  return normalize(sum < 0n, sum < 0n ? -sum : sum, e);
}

export function isFiniteLongDouble(v: LongDouble): boolean {
  return !v.inf;
}

const FRACTION_DIGITS = 17;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);

/** "%.17Lf" with trailing zeros (and a trailing '.') removed, "-0" printed as "0": Redis's LD_STR_HUMAN. */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? '-inf' : 'inf';
  let text: string;
  if (v.exp >= 0) {
    text = (v.mant << BigInt(v.exp)).toString();
  } else {
    const shift = BigInt(-v.exp);
    const scaled = v.mant * SCALE;
    let q = scaled >> shift;
    const rem = scaled & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    const intPart = (q / SCALE).toString();
    const frac = (q % SCALE).toString().padStart(FRACTION_DIGITS, '0').replace(/0+$/, '');
    text = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  }
  if (text === '0') return '0';
  return v.neg ? '-' + text : text;
}
