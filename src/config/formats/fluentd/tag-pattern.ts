/**
 * Fluentd's tag patterns (`<match>`, `<filter>`; lib/fluent/match.rb and event_router.rb) as one
 * regular expression source, for floki's router (`TagMatcher.regex`):
 *
 * - `*` matches one tag part (no `.`), `**` zero or more parts (`a.**` matches `a` and `a.b.c`,
 *   `**.a` matches `a` and `b.a`), `{x,y}` any of its comma-separated patterns, `\` escapes;
 * - several patterns separated by blanks match a tag that any of them matches;
 * - `/regex/` is a regular expression that must match the whole tag (written in Ruby's syntax: `\A`,
 *   `\z`, `\Z`, `\h` and Ruby's line anchors are translated);
 * - an empty argument (`<match>`) matches every tag.
 *
 * Anchors and dots follow Ruby: the pattern ends with `\Z` (the end, or before a final newline), and
 * `.` in the translation never matches a newline. The expressions are built the way Fluentd builds
 * its own, so that odd patterns (an unclosed `{`, a trailing `.`) mean what they mean in Fluentd.
 */

export class TagPatternError extends Error {}

/** Ruby's `\Z` in JavaScript: the end of the text, or just before a newline that ends it. */
const END = '(?=\\n?$)';

/** A regular expression source matching exactly the tags a `<match ARG>` or `<filter ARG>` matches. */
export function fluentdTagPatternSource(arg: string): string {
  const patterns = splitPatterns(arg === '' ? '**' : arg);
  if (patterns.length === 1) return patternSource(patterns[0]!);
  if (patterns.length === 0) return '(?!)';
  return patterns.map((p) => `(?:${patternSource(p)})`).join('|');
}

/** Ruby's `split(/\s+/)`: a leading empty field is kept, trailing ones are dropped. */
function splitPatterns(arg: string): string[] {
  const fields = arg.split(/[ \t\r\n\f\v]+/);
  while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop();
  return fields;
}

function patternSource(pattern: string): string {
  if (pattern === '**') return '^[\\s\\S]*$';
  if (pattern.startsWith('/')) {
    // A lone '/' both starts and ends a (empty) expression, as Fluentd reads it.
    if (!pattern.endsWith('/')) throw new TagPatternError(`invalid match pattern '${pattern}': a regular expression must end with '/'`);
    const source = `^${rubyRegexToJs(pattern.slice(1, -1))}${END}`;
    try {
      new RegExp(source);
    } catch (err) {
      throw new TagPatternError(`invalid regular expression in match pattern '${pattern}': ${(err as Error).message}`);
    }
    return source;
  }
  return `^${globSource(pattern)}${END}`;
}

/**
 * Each piece of a glob's expression in two forms: the JavaScript source, and the Ruby source Fluentd
 * builds. The Ruby text matters in one case only: an unclosed `{` makes Fluentd match its branches'
 * Ruby source as literal text.
 */
interface Piece {
  js: string;
  rb: string;
}

/** The expression of one glob pattern, built piece by piece as Fluentd's GlobMatchPattern builds it. */
function globSource(pat: string): string {
  // `pieces` holds the expression being built at each open `{`; `alternatives` the finished branches.
  const alternatives: Piece[][] = [];
  const pieces: Piece[] = [{ js: '', rb: '' }];
  const add = (js: string, rb = js): void => {
    const top = pieces[pieces.length - 1]!;
    top.js += js;
    top.rb += rb;
  };
  let escape = false;
  let dot = false;
  let i = 0;
  while (i < pat.length) {
    const c = pat[i]!;
    if (escape) {
      add(escapeLiteral(c));
      escape = false;
      i++;
      continue;
    }
    if (pat.startsWith('**', i)) {
      if (dot) {
        // `a.**` also matches `a`: the dot is required only if more follows.
        add('(?![^\\.])');
        dot = false;
      }
      if (pat[i + 2] === '.') {
        add('(?:[^\\n]*\\.|^)', '(?:.*\\.|\\A)');
        i += 3;
      } else {
        add('[^\\n]*', '.*');
        i += 2;
      }
      continue;
    }
    if (dot) {
      add('\\.');
      dot = false;
    }
    if (c === '\\') escape = true;
    else if (c === '.') dot = true;
    else if (c === '*') add('[^\\.]*');
    else if (c === '{') {
      alternatives.push([]);
      pieces.push({ js: '', rb: '' });
    } else if (c === '}' && alternatives.length > 0) {
      const branches = alternatives.pop()!;
      branches.push(pieces.pop()!);
      // Regexp.union of Regexps; of a single one, that Regexp itself.
      const rb = branches.length === 1 ? `(?-mix:${branches[0]!.rb})` : `(?-mix:${branches.map((b) => `(?-mix:${b.rb})`).join('|')})`;
      add(`(?:${branches.map((b) => `(?:${b.js})`).join('|')})`, rb);
    } else if (c === ',' && alternatives.length > 0) {
      alternatives[alternatives.length - 1]!.push(pieces.pop()!);
      pieces.push({ js: '', rb: '' });
    } else if (/[a-zA-Z0-9_]/.test(c)) add(c);
    else add(`\\${c}`);
    i++;
  }
  // An unclosed `{`: Fluentd joins its branches as literal text (Regexp.union of strings).
  while (alternatives.length > 0) {
    const branches = alternatives.pop()!;
    branches.push(pieces.pop()!);
    const literals = branches.map((b) => escapeLiteral(b.rb));
    add(`(?:${literals.join('|')})`, `(?-mix:${literals.join('|')})`);
  }
  return pieces[0]!.js;
}

const CONTROL_ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\f': '\\f', '\v': '\\v', ' ': '\\ ' };

/** Ruby's Regexp.escape (JavaScript reads its escapes the same way, without the `u` flag). */
function escapeLiteral(s: string): string {
  return s.replace(/[[\]{}()|\-*.\\?+^$#\n\t\r\f\v ]/g, (c) => CONTROL_ESCAPES[c] ?? `\\${c}`);
}

/**
 * A Ruby regular expression in JavaScript's syntax, for what differs between them in the patterns
 * people write for tags: `\A`, `\z`, `\Z`, `\h`, `^` and `$` (line anchors in Ruby) and `.`.
 */
function rubyRegexToJs(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      const e = source[++i]!;
      if (e === 'h') out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else if (e === 'H' && !inClass) out += '[^0-9a-fA-F]';
      else if (!inClass && e === 'A') out += '^';
      else if (!inClass && e === 'z') out += '$';
      else if (!inClass && e === 'Z') out += END;
      else out += `\\${e}`;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (source[i + 1] === '^') out += source[++i];
      if (source[i + 1] === ']') out += `\\${source[++i]}`;
    } else if (c === '.') out += '[^\\n]';
    else if (c === '^') out += '(?:^|(?<=\\n))';
    else if (c === '$') out += '(?=\\n|$)';
    else out += c;
  }
  return out;
}
