/**
 * Where the Ruby code of a `#{...}` in a double-quoted value ends. Fluentd asks Ruby's own parser for
 * the shortest code that makes `"#{code}"` valid Ruby; floki has no Ruby, so it skips over what can
 * hide a `}` (string literals, with nested `#{}` in double-quoted ones, balanced braces, comments) and
 * stops at the first `}` outside them. Code this finds differently is code the safe subset refuses
 * anyway (ruby-subset.ts), so the difference only changes which error is given.
 */

/** Nesting of `#{` inside string literals inside code beyond which floki gives up (-1). */
const MAX_NESTING = 32;

/** The index of the `}` closing code that starts at `start` (just after `#{`), or -1 if none. */
export function embeddedCodeEnd(text: string, start: number, nesting = 0): number {
  if (nesting > MAX_NESTING) return -1;
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '}') {
      if (depth === 0) return i;
      depth--;
      i++;
    } else if (c === '{') {
      depth++;
      i++;
    } else if (c === "'") {
      i = singleQuotedEnd(text, i + 1);
      if (i < 0) return -1;
    } else if (c === '"') {
      i = doubleQuotedEnd(text, i + 1, nesting);
      if (i < 0) return -1;
    } else if (c === '#') {
      // A comment runs to the end of the line, and may hide a `}`.
      const nl = text.indexOf('\n', i);
      if (nl < 0) return -1;
      i = nl + 1;
    } else i++;
  }
  return -1;
}

/** Index just past the closing `'` of a literal whose body starts at `i`, or -1. */
function singleQuotedEnd(text: string, i: number): number {
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') i += 2;
    else if (c === "'") return i + 1;
    else i++;
  }
  return -1;
}

/** Index just past the closing `"` of a literal whose body starts at `i`, or -1. */
function doubleQuotedEnd(text: string, i: number, nesting: number): number {
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else if (c === '#' && text[i + 1] === '{') {
      const end = embeddedCodeEnd(text, i + 2, nesting + 1);
      if (end < 0) return -1;
      i = end + 1;
    } else i++;
  }
  return -1;
}
