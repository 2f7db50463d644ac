/**
 * Values in a Fluentd config, read as Fluentd's v1 parser reads them (lib/fluent/config/literal_parser.rb):
 *
 * - non-quoted: up to the end of the line, without trailing blanks; ` #` starts a comment but a `#`
 *   right after a character is part of the value; backslashes are kept as they are;
 * - single-quoted: only `\'` and `\\` are escapes; must end on the same line;
 * - double-quoted: `\"`, `\\`, `\n`, `\t`, `\r`, `\f`, `\b`, `\0` and `\` before a symbol are escapes, `\`
 *   before another letter or digit is an error; a newline is kept, and `\` before one joins the lines;
 *   `#{...}` is embedded Ruby (ruby-subset.ts);
 * - `[` or `{` first: a JSON array or hash, which may span lines and carry `#` comments (json-literal.ts).
 */
import { LINE_END, type Scanner, SPACING_WITHOUT_COMMENT } from './scanner.js';
import { scanJsonLiteral } from './json-literal.js';
import { readEmbedded, type Literal, type LiteralReader, type Unset } from './literal-reader.js';

export { isUnset, type Literal, type LiteralReader, type Unset } from './literal-reader.js';

/** A parameter's value: JSON, quoted or plain up to `boundary`. */
export function parseLiteral(r: LiteralReader, boundary: RegExp = LINE_END): Literal | null {
  r.sc.skip(SPACING_WITHOUT_COMMENT);
  if (r.sc.skipString('[')) return scanJsonLiteral(r, true);
  if (r.sc.skipString('{')) return scanJsonLiteral(r, false);
  return scanString(r, boundary);
}

/** A quoted string, or a plain one up to `boundary` (null when empty). */
export function scanString(r: LiteralReader, boundary: RegExp = LINE_END): Literal | null {
  if (r.sc.skipString('"')) return scanDoubleQuoted(r);
  if (r.sc.skipString("'")) return scanSingleQuoted(r);
  return scanNonQuoted(r.sc, boundary);
}

const CHAR_BEFORE_LINE_END = /[^"](?:$|[\r\n])/y;
const NON_BACKSLASH_BEFORE_LINE_END = /[^\\](?:$|[\r\n])/y;
const ESCAPE = /\\[^\n]/y;
const ANY = /[^\n]/y;

function scanDoubleQuoted(r: LiteralReader): Literal {
  const sc = r.sc;
  const start = sc.pos - 1;
  let out = '';
  let unset: Unset['unset'] | undefined;
  for (;;) {
    if (sc.skipString('"')) return unset === undefined ? out : { unset };
    if (sc.check(CHAR_BEFORE_LINE_END) !== null) {
      // The character and the newline after it are kept, unless the character is a backslash:
      // then both go (the lines are joined).
      const kept = sc.check(NON_BACKSLASH_BEFORE_LINE_END);
      if (kept !== null) out += kept;
      sc.skip(CHAR_BEFORE_LINE_END);
    } else if (sc.check(ESCAPE) !== null) {
      const at = sc.pos;
      out += escapeChar(r, sc.scan(ESCAPE)![1]!, at);
    } else if (sc.skipString('#{')) {
      const v = readEmbedded(r, sc.pos);
      if (typeof v === 'string') out += v;
      else if (unset !== 'nil') unset = v.unset;
    } else {
      const c = sc.scan(ANY);
      if (c === null) r.fail('a double-quoted string is not closed (a blank line, a CR LF line end or the end of the file came first)', start);
      out += c;
    }
  }
}

function escapeChar(r: LiteralReader, c: string, at: number): string {
  switch (c) {
    case '"':
    case "'":
      return c;
    case 'r':
      return '\r';
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'f':
      return '\f';
    case 'b':
      return '\b';
    case '0':
      return '\0';
  }
  if (/[a-zA-Z0-9]/.test(c)) r.fail(`unknown escape '\\${c}' in a double-quoted string`, at);
  return c;
}

function scanSingleQuoted(r: LiteralReader): string {
  const sc = r.sc;
  const start = sc.pos - 1;
  let out = '';
  for (;;) {
    if (sc.skipString("'")) return out;
    if (sc.skipString("\\'")) out += "'";
    else if (sc.skipString('\\\\')) out += '\\';
    else {
      const c = sc.scan(ANY);
      if (c === null) r.fail('a single-quoted string is not closed on its line', start);
      out += c;
    }
  }
}

/**
 * A plain value: every character up to where `boundary` matches; a `#` is always part of it. Every
 * boundary Fluentd uses starts with blanks, so a run of blanks is tested once, not at each blank.
 */
function scanNonQuoted(sc: Scanner, boundary: RegExp): string | null {
  const start = sc.pos;
  const text = sc.text;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#') {
      i++;
      continue;
    }
    if (c === '\n') break;
    boundary.lastIndex = i;
    if (boundary.test(text)) break;
    if (c === ' ' || c === '\t') while (text[i + 1] === ' ' || text[i + 1] === '\t') i++;
    i++;
  }
  sc.pos = i;
  return i === start ? null : text.slice(start, i);
}
