/**
 * A cursor over one config file's text, in the manner of Ruby's StringScanner that Fluentd's config
 * parser is written on: patterns are tried at the cursor only (sticky regular expressions), and a
 * position is turned into a line number for messages.
 *
 * Patterns here are JavaScript translations of Fluentd's Ruby ones: Ruby's `.` matches any character
 * but `\n` (it does match `\r`), so it is written `[^\n]`; Ruby's `\z` is `$` without the `m` flag.
 */

/** One line's end: trailing blanks, an optional comment, then a newline or the end; repeated. */
export const LINE_END = /(?:[ \t]*(?:#[^\n]*)?(?:$|[\r\n]))+/y;
/** Blanks, newlines and comments (a comment runs to the end of its line). */
export const SPACING = /(?:[ \t\r\n]|$|#[^\n]*?(?:$|[\r\n]))+/y;
export const ZERO_OR_MORE_SPACING = /(?:[ \t\r\n]|$|#[^\n]*?(?:$|[\r\n]))*/y;
export const SPACING_WITHOUT_COMMENT = /(?:[ \t\r\n]|$)+/y;

export class Scanner {
  pos = 0;
  /** What the last successful skip or scan matched; null after a failed one (Ruby's `ss[0]`). */
  lastMatch: string | null = null;
  private lineStarts: number[] | undefined;

  constructor(readonly text: string) {}

  get eof(): boolean {
    return this.pos >= this.text.length;
  }

  get rest(): string {
    return this.text.slice(this.pos);
  }

  /** Matches `re` (sticky) at the cursor and moves past it; the match, or null. */
  scan(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null) {
      this.lastMatch = null;
      return null;
    }
    this.pos += m[0].length;
    this.lastMatch = m[0];
    return m[0];
  }

  /** Like scan, but says only whether it matched. */
  skip(re: RegExp): boolean {
    return this.scan(re) !== null;
  }

  /** Matches `re` at the cursor without moving; the match, or null. */
  check(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    return m === null ? null : m[0];
  }

  /** Skips a fixed string at the cursor. */
  skipString(s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    this.lastMatch = s;
    return true;
  }

  /** The character at the cursor and moves past it (a UTF-16 unit), or undefined at the end. */
  getch(): string | undefined {
    if (this.eof) return undefined;
    return this.text[this.pos++];
  }

  peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  /** 1-based line number of a position (the cursor's by default). */
  lineAt(pos = this.pos): number {
    if (this.lineStarts === undefined) {
      this.lineStarts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}
