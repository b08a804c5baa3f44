/**
 * Redis's sdscatrepr: a string in double quotes with C-style escapes for quotes, backslashes and control bytes
 * (\n \r \t \a \b, \xHH for the rest), so that any bytes survive a round trip through the inline/config parser.
 * MONITOR lines, CONFIG REWRITE values and config error messages use it.
 */
export function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (code >= 32 && code < 127) out += ch;
    else out += '\\x' + code.toString(16).padStart(2, '0');
  }
  return out + '"';
}
