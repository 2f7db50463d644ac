/**
 * A value starting with `[` or `{`: JSON, possibly over several lines, read as Fluentd reads it
 * (literal_parser.rb `scan_json`). Fluentd appends one character at a time and stops at the first
 * text that parses; a newline is kept; a `#` is a comment (to the end of its line) when the text so far,
 * closed with `]` or `}` after dropping a trailing comma on the current line, parses, and otherwise
 * either starts embedded Ruby (`#{...}`, its result inserted as it is) or is a plain `#`. Ruby's JSON
 * parser also takes `//` and `/* *\/` comments (Fluentd sets allow_comments).
 *
 * Rather than parse after every character, floki follows the JSON's structure (strings, comments,
 * bracket depth) and parses when the outer bracket closes: text can only parse there, and text that
 * does not parse there never will, so the result and the errors are Fluentd's.
 */
import { readEmbedded, isUnset, type LiteralReader } from './literal-reader.js';

/** At most this many `#` comment checks (each parses the text so far) in one value. */
const MAX_COMMENT_CHECKS = 256;
/** Longest JSON value, in characters. */
export const MAX_JSON_LENGTH = 1 << 20;

type State = 'code' | 'slash' | 'string' | 'escape' | 'line-comment' | 'block-comment' | 'block-comment-star';

/** Where the JSON text stands: in a string or comment or not, and how many brackets are open. */
class JsonShape {
  state: State = 'code';
  depth = 1;

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) this.step(text[i]!);
  }

  step(c: string): void {
    switch (this.state) {
      case 'string':
        if (c === '\\') this.state = 'escape';
        else if (c === '"') this.state = 'code';
        return;
      case 'escape':
        this.state = 'string';
        return;
      case 'line-comment':
        if (c === '\n') this.state = 'code';
        return;
      case 'block-comment':
      case 'block-comment-star':
        if (c === '/' && this.state === 'block-comment-star') this.state = 'code';
        else this.state = c === '*' ? 'block-comment-star' : 'block-comment';
        return;
      case 'slash':
        if (c === '/') this.state = 'line-comment';
        else if (c === '*') this.state = 'block-comment';
        else {
          this.state = 'code';
          this.step(c);
        }
        return;
      case 'code':
        if (c === '"') this.state = 'string';
        else if (c === '/') this.state = 'slash';
        else if (c === '[' || c === '{') this.depth++;
        else if (c === ']' || c === '}') this.depth--;
        return;
    }
  }
}

const EMBEDDED_AHEAD = /\{[^}]+\}/y;

export function scanJsonLiteral(r: LiteralReader, isArray: boolean): string {
  const sc = r.sc;
  const start = sc.pos - 1;
  const closer = isArray ? ']' : '}';
  const what = isArray ? 'array' : 'hash';
  const shape = new JsonShape();
  let buffer = isArray ? '[' : '{';
  let line = '';
  let checks = 0;
  const append = (text: string): void => {
    shape.feed(text);
    line += text;
    if (buffer.length + line.length > MAX_JSON_LENGTH) r.fail(`JSON ${what} longer than ${MAX_JSON_LENGTH} characters`, start);
  };
  for (;;) {
    const c = sc.getch();
    if (c === undefined) break;
    if (c === '#') {
      if (shape.state === 'code' && shape.depth === 1) {
        if (++checks > MAX_COMMENT_CHECKS) r.fail(`JSON ${what} with more than ${MAX_COMMENT_CHECKS} comments`, start);
        if (parses(buffer + line.replace(/[\0\t\n\v\f\r ]+$/, '').replace(/,$/, '') + closer) !== undefined) {
          const nl = sc.text.indexOf('\n', sc.pos);
          sc.pos = nl < 0 ? sc.text.length : nl + 1;
          buffer += line + '\n';
          line = '';
          continue;
        }
      }
      if (sc.check(EMBEDDED_AHEAD) !== null) {
        const at = sc.pos - 1;
        sc.pos++;
        const v = readEmbedded(r, sc.pos);
        if (isUnset(v)) r.fail(`use_${v.unset} cannot stand inside a JSON value`, at);
        append(v);
      } else append('#');
      continue;
    }
    if (c === '\n') {
      shape.step(c);
      buffer += line + '\n';
      line = '';
      continue;
    }
    append(c);
    if (shape.depth === 0 && shape.state === 'code') {
      const value = parses(buffer + line);
      if (value === undefined) r.fail(`invalid JSON ${what} (a value starting with '${isArray ? '[' : '{'}' is read as JSON; quote it to give a plain string)`, start);
      return JSON.stringify(value);
    }
  }
  return r.fail(`the JSON ${what} is not closed before the end of the file (a value starting with '${isArray ? '[' : '{'}' is read as JSON)`, start);
}

/** The parsed value, or undefined if the text is not JSON (comments allowed, as Ruby's parser does). */
function parses(text: string): unknown {
  try {
    return JSON.parse(stripComments(text));
  } catch {
    return undefined;
  }
}

/** The text with `//` and `/* *\/` comments outside strings turned into spaces. */
function stripComments(text: string): string {
  if (!text.includes('/')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      out += ' ';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return text;
      i = end + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
