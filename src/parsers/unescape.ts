/**
 * Fluent Bit's three unescapers (flb_unescape.c), used by the `escaped`, `escaped_utf8` and
 * `mysql_quoted` decoders and by the logfmt parser's quoted values.
 */

/** flb_unescape_string: `\n \a \b \t \v \f \r \\` become their characters; any other `\x` is `x`. */
export function unescapeEscaped(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= s.length) break;
    const n = s[++i]!;
    switch (n) {
      case 'n':
        out += '\n';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'f':
        out += '\f';
        break;
      case 'r':
        out += '\r';
        break;
      default:
        out += n;
    }
  }
  return out;
}

function hexDigits(s: string, at: number, max: number): string {
  let end = at;
  while (end < s.length && end - at < max && /[0-9a-fA-F]/.test(s[end]!)) end++;
  return s.slice(at, end);
}

/**
 * flb_unescape_string_utf8: JSON-style escapes plus `\v \a`, octal `\NNN`, `\xHH`, `\uHHHH` (with
 * surrogate pairs; a lone surrogate becomes U+FFFD) and `\UHHHHHHHH`; any other `\x` is `x`. The text
 * stops at a NUL character, as the C string does.
 */
export function unescapeUtf8(s: string): string {
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  if (!s.includes('\\')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      i++;
      continue;
    }
    const n = s[i + 1]!;
    i += 2;
    switch (n) {
      case '"':
      case "'":
      case '\\':
      case '/':
        out += n;
        continue;
      case 'n':
        out += '\n';
        continue;
      case 'b':
        out += '\b';
        continue;
      case 't':
        out += '\t';
        continue;
      case 'f':
        out += '\f';
        continue;
      case 'r':
        out += '\r';
        continue;
      case 'v':
        out += '\v';
        continue;
      case 'a':
        out += '\x07';
        continue;
      case 'x': {
        const h = hexDigits(s, i, 2);
        i += h.length;
        out += h.length > 0 ? String.fromCharCode(Number.parseInt(h, 16)) : 'x';
        continue;
      }
      case 'U': {
        const h = hexDigits(s, i, 8);
        i += h.length;
        const cp = h.length > 0 ? Number.parseInt(h, 16) : 0x55;
        out += cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
        continue;
      }
      case 'u': {
        const h = hexDigits(s, i, 4);
        i += h.length;
        if (h.length > 0 && h.length < 4) {
          out += '\ufffd';
          continue;
        }
        const cp = h.length === 4 ? Number.parseInt(h, 16) : 0;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
          out += '\ufffd';
          continue;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (i + 2 < s.length && s[i] === '\\' && s[i + 1] === 'u') {
            const l = hexDigits(s, i + 2, 4);
            i += 2 + l.length;
            const low = l.length === 4 ? Number.parseInt(l, 16) : -1;
            out += low >= 0xdc00 && low <= 0xdfff ? String.fromCodePoint(0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)) : '\ufffd';
          } else out += '\ufffd';
          continue;
        }
        out += String.fromCharCode(cp);
        continue;
      }
      default:
        if (n >= '0' && n <= '7') {
          let j = i - 1;
          let digits = '';
          while (j < s.length && digits.length < 3 && s[j]! >= '0' && s[j]! <= '7') digits += s[j++];
          i = j;
          out += String.fromCharCode(Number.parseInt(digits, 8));
          continue;
        }
        out += n;
    }
  }
  const cut = out.indexOf('\0');
  return cut >= 0 ? out.slice(0, cut) : out;
}

/** flb_mysql_unquote_string on a value quoted with `'…'` or `"…"`; other values are kept. */
export function unquoteMysql(s: string): string {
  if (s.length < 2) return s;
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) return s;
  const body = s.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const n = body[++i]!;
    switch (n) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
      case "'":
      case '"':
        out += n;
        break;
      case '0':
        out += '\0';
        break;
      case 'Z':
        out += '\x1a';
        break;
      default:
        out += '\\' + n;
    }
  }
  return out;
}
