/**
 * Glob-style matching with Redis's rules (KEYS, SCAN MATCH, HSCAN/SSCAN/ZSCAN MATCH, and anyone else who needs
 * them): `*` any run, `?` one byte, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges accepted), `\x` a literal x.
 * An unterminated `[` class ends at the end of the pattern. Strings are latin1 (one char per byte); bytes above
 * 127 compare as signed chars in ranges, as C's `char` does on x86.
 *
 * Backtracking on `*` stops as soon as a deeper `*` failed to match the rest (Redis's skipLongerMatches), which
 * bounds the work for patterns like `a*a*a*a*b`.
 */

function signedByte(code: number): number {
  return code > 127 ? code - 256 : code;
}

function lower(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

interface MatchState {
  /** Set once a `*` exhausted the string without a match: longer matches cannot succeed either. */
  skipLonger: boolean;
}

function matchFrom(p: string, pi: number, s: string, si: number, nocase: boolean, st: MatchState): boolean {
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    if (pc === 42 /* * */) {
      while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
      if (pi + 1 === plen) return true;
      while (si < slen) {
        if (matchFrom(p, pi + 1, s, si, nocase, st)) return true;
        if (st.skipLonger) return false;
        si++;
      }
      st.skipLonger = true;
      return false;
    } else if (pc === 63 /* ? */) {
      si++;
    } else if (pc === 91 /* [ */) {
      pi++;
      const not = pi < plen && p.charCodeAt(pi) === 94; /* ^ */
      if (not) pi++;
      let match = false;
      const sc = s.charCodeAt(si);
      for (;;) {
        if (pi >= plen) {
          pi--;
          break;
        }
        const c0 = p.charCodeAt(pi);
        if (c0 === 92 /* \ */ && plen - pi >= 2) {
          pi++;
          if (p.charCodeAt(pi) === sc) match = true;
        } else if (c0 === 93 /* ] */) {
          break;
        } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === 45 /* - */) {
          let start = signedByte(c0);
          let end = signedByte(p.charCodeAt(pi + 2));
          let c = signedByte(sc);
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            c = lower(c);
          }
          pi += 2;
          if (c >= start && c <= end) match = true;
        } else if (nocase ? lower(c0) === lower(sc) : c0 === sc) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      let lit = pc;
      if (pc === 92 /* \ */ && plen - pi >= 2) {
        pi++;
        lit = p.charCodeAt(pi);
      }
      const sc = s.charCodeAt(si);
      if (nocase ? lower(lit) !== lower(sc) : lit !== sc) return false;
      si++;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}

/** True when `s` matches the glob `pattern`. */
export function globMatch(pattern: string, s: string, nocase = false): boolean {
  if (pattern === '*') return true;
  return matchFrom(pattern, 0, s, 0, nocase, { skipLonger: false });
}
