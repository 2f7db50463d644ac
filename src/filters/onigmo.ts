/**
 * Fluent Bit's regular expressions (Onigmo, Ruby syntax, UTF-8) as JavaScript ones, for the filters.
 * A small stand-in until the parsers' full translation lands; src/filters/regex.ts is its only user.
 *
 * What differs and is translated:
 * - `/pattern/imx` with options, and `/pattern/`, as Fluent Bit's flb_regex reads them;
 * - `^` and `$` match at every line break (Ruby), so JavaScript's `m` flag is always on;
 * - `.` is any character but `\n` (Ruby), and any character at all under Ruby's `m` option;
 * - a pattern with a named group captures with named groups only (Onigmo's rule for Ruby syntax);
 * - `\A`, `\z`, `\Z`, `\h`, `\H`, `(?'name'…)`, POSIX brackets such as `[[:alpha:]]`, a leading
 *   `(?i)`/`(?m)`/`(?x)`, `(?#comments)`, and the `x` option's spaces and comments.
 * Atomic groups, possessive quantifiers, `\G`, `\K`, `\R`, `\X`, `\p{…}`, `\x{…}` and class
 * intersections (`&&`) have no form here and are refused, as is an inline option anywhere but the start.
 */
import { RegexConfigError } from './regex-error.js';

export { RegexConfigError };

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9a-fA-F',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

interface Options {
  ignoreCase: boolean;
  dotAll: boolean;
  extended: boolean;
}

/** The pattern between slashes and its options, as flb_regex's check_option and str_to_regex read it. */
function slashForm(pattern: string): { body: string; options: Options } {
  const options: Options = { ignoreCase: false, dotAll: false, extended: false };
  if (pattern[0] !== '/') return { body: pattern, options };
  const last = pattern.lastIndexOf('/');
  if (last > 0) {
    const letters = pattern.slice(last + 1);
    // Only `o` (accepted, ignored) is no option at all: then the slashes are part of the pattern.
    if (/^[mixo]+$/.test(letters) && /[mix]/.test(letters)) {
      options.dotAll = letters.includes('m');
      options.ignoreCase = letters.includes('i');
      options.extended = letters.includes('x');
      return { body: pattern.slice(1, last), options };
    }
  }
  if (pattern.length > 1 && pattern.endsWith('/')) return { body: pattern.slice(1, -1), options };
  return { body: pattern, options };
}

export function onigmoToJavaScript(pattern: string): { source: string; flags: string } {
  const { body, options } = slashForm(pattern);
  let text = body;
  // Leading inline options apply to the whole pattern, as flags.
  for (let m = /^\(\?([imx]+)\)/.exec(text); m; m = /^\(\?([imx]+)\)/.exec(text)) {
    if (m[1]!.includes('i')) options.ignoreCase = true;
    if (m[1]!.includes('m')) options.dotAll = true;
    if (m[1]!.includes('x')) options.extended = true;
    text = text.slice(m[0].length);
  }
  // Onigmo (Ruby syntax) stops plain groups capturing once the pattern names one: so they are `(?:`.
  const named = /\(\?(<[A-Za-z_]|'[A-Za-z_])/.test(text);
  const refuse = (what: string): never => {
    throw new RegexConfigError(`regular expression '${pattern}' uses ${what}, which floki cannot run`);
  };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) return refuse('a trailing backslash');
      if (n === 'A') out += '(?<![\\s\\S])';
      else if (n === 'z') out += '(?![\\s\\S])';
      else if (n === 'Z') out += '(?=\\n?(?![\\s\\S]))';
      else if (n === 'h') out += '[0-9a-fA-F]';
      else if (n === 'H') out += '[^0-9a-fA-F]';
      else if (n === 'G') refuse('\\G');
      // Meaningful in Onigmo, a plain letter in a JavaScript pattern without the u flag: refused, not misread.
      else if ('pPKRX'.includes(n) || (n === 'x' && text[i + 2] === '{')) refuse(`\\${n}${n === 'x' ? '{…}' : ''}`);
      else out += c + n;
      i += 2;
      continue;
    }
    if (c === '[') {
      const end = classEnd(text, i);
      if (end === NESTED_CLASS) return refuse('a class inside a class or a class intersection (&&)');
      if (end < 0) return refuse('an unclosed character class');
      out += translateClass(text.slice(i, end + 1), refuse);
      i = end + 1;
      continue;
    }
    if (c === '(' && text[i + 1] === '?') {
      const rest = text.slice(i + 2);
      if (rest[0] === '>') refuse('an atomic group (?>…)');
      if (rest[0] === '#') {
        const close = text.indexOf(')', i);
        if (close < 0) return refuse('an unclosed comment');
        i = close + 1;
        continue;
      }
      const quoted = /^'([A-Za-z_][A-Za-z0-9_]*)'/.exec(rest);
      if (quoted) {
        out += `(?<${quoted[1]}>`;
        i += 2 + quoted[0].length;
        continue;
      }
      if (/^[imx-]+[:)]/.test(rest)) refuse('an inline option (?imx) inside the pattern');
      out += '(?';
      i += 2;
      continue;
    }
    if (c === '(' && named) {
      out += '(?:';
      i++;
      continue;
    }
    if ((c === '*' || c === '+' || c === '?' || c === '}') && text[i + 1] === '+') refuse('a possessive quantifier');
    if (options.extended && /\s/.test(c)) {
      i++;
      continue;
    }
    if (options.extended && c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    if (c === '.') out += options.dotAll ? '[\\s\\S]' : '[^\\n]';
    else out += c;
    i++;
  }
  return { source: out, flags: options.ignoreCase ? 'mi' : 'm' };
}

const NESTED_CLASS = -2;

/** Index of the `]` closing the class that opens at `start`, -1 if none, NESTED_CLASS for `[a[b]]`. A `]` first in the class is literal. */
function classEnd(text: string, start: number): number {
  let i = start + 1;
  if (text[i] === '^') i++;
  if (text[i] === ']') i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '[' && text[i + 1] === ':') {
      const close = text.indexOf(':]', i + 2);
      i = close < 0 ? i + 1 : close + 2;
    } else if (c === '[') return NESTED_CLASS;
    else if (c === ']') return i;
    else i++;
  }
  return -1;
}

function translateClass(cls: string, refuse: (what: string) => never): string {
  if (cls.includes('&&')) refuse('a class intersection (&&)');
  let out = '';
  for (let i = 0; i < cls.length; i++) {
    const c = cls[i]!;
    if (c === '\\') {
      const n = cls[i + 1]!;
      out += n === 'h' ? '0-9a-fA-F' : n === 'H' ? refuse('\\H inside a class') : c + n;
      i++;
    } else if (c === '[' && cls[i + 1] === ':') {
      const close = cls.indexOf(':]', i + 2);
      const name = cls.slice(i + 2, close);
      const negated = name.startsWith('^');
      const ascii = POSIX_CLASSES[negated ? name.slice(1) : name];
      if (ascii === undefined || negated) refuse(`the POSIX class [:${name}:]`);
      out += ascii;
      i = close + 1;
    } else out += c;
  }
  return out;
}
