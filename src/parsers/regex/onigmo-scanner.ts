/**
 * Reading Onigmo pattern text: the cursor, one-character escapes, character classes (with POSIX
 * brackets and case folding), and how a character is written in JavaScript source. The Translator
 * (onigmo-translate.ts) builds on it.
 */

export class RegexTranslateError extends Error {}

/** Onigmo's options: `i` ignore case, `m` dot matches newline (Ruby's meaning), `x` extended. */
export interface Options {
  i: boolean;
  m: boolean;
  x: boolean;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  ascii: '\\x00-\\x7f',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\v\\f\\r',
  upper: 'A-Z',
  word: 'a-zA-Z0-9_',
  xdigit: '0-9a-fA-F',
};

export const SPACE_CLASS = '\\t\\n\\v\\f\\r ';
export const HEX_CLASS = '0-9a-fA-F';

export class OnigmoScanner {
  protected pos = 0;
  protected opts: Options;
  /** Some case folding could not be written out: the regex needs the `i` flag. */
  protected needsIFlag = false;

  constructor(
    protected readonly src: string,
    options: Options,
  ) {
    this.opts = { ...options };
  }

  protected fail(what: string): never {
    throw new RegexTranslateError(`${what} at offset ${this.pos} is not supported`);
  }

  /**
   * An escape standing for one character (`\n`, `\x41`, `\x{263a}`, `\101`, `\.`): returns it as
   * JavaScript source, spelled in both cases under `i` when `caseFold`.
   */
  protected charEscape(caseFold: boolean): string {
    const code = this.readCharEscape();
    const ch = String.fromCodePoint(code);
    if (caseFold && this.opts.i) return caseless(ch);
    return escapeCodePoint(code);
  }

  /** Reads `\X` at pos (the backslash included) and returns the code point it stands for. */
  protected readCharEscape(): number {
    const e = this.src[this.pos + 1];
    if (e === undefined) this.fail('a trailing backslash');
    this.pos += 2;
    switch (e) {
      case 'n':
        return 0x0a;
      case 't':
        return 0x09;
      case 'r':
        return 0x0d;
      case 'f':
        return 0x0c;
      case 'v':
        return 0x0b;
      case 'a':
        return 0x07;
      case 'e':
        return 0x1b;
      case 'x': {
        if (this.src[this.pos] === '{') {
          const end = this.src.indexOf('}', this.pos);
          const hex = end > 0 ? this.src.slice(this.pos + 1, end) : '';
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) this.fail('a \\x{…} escape');
          this.pos = end + 1;
          return Number.parseInt(hex, 16);
        }
        const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos, this.pos + 2));
        if (!m) this.fail('a \\x escape without hex digits');
        this.pos += m[0].length;
        return Number.parseInt(m[0], 16);
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos, this.pos + 4));
        if (!m) this.fail('a \\u escape without four hex digits');
        this.pos += 4;
        return Number.parseInt(m[0], 16);
      }
      case 'c': {
        const ch = this.src[this.pos];
        if (ch === undefined) this.fail('a \\c escape without a letter');
        this.pos++;
        return ch.charCodeAt(0) & 0x1f;
      }
      case '0': {
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos, this.pos + 2))!;
        this.pos += m[0].length;
        return Number.parseInt('0' + m[0], 8);
      }
      default: {
        const code = e.codePointAt(0)!;
        if (code > 0xffff) this.pos++;
        return code;
      }
    }
  }

  protected readDigits(): string {
    const start = this.pos;
    while (this.pos < this.src.length && this.src[this.pos]! >= '0' && this.src[this.pos]! <= '9') this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** A `[…]` class (nested classes are merged, POSIX brackets expanded); returns JavaScript source. */
  protected charClass(): string {
    this.pos++;
    let negate = false;
    if (this.src[this.pos] === '^') {
      negate = true;
      this.pos++;
    }
    const items: string[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('an unterminated [ class');
      const c = this.src[this.pos]!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 16));
        if (posix) {
          const body = POSIX_CLASSES[posix[2]!];
          if (body === undefined) this.fail(`an unknown POSIX class [:${posix[2]}:]`);
          if (posix[1]) this.fail(`a negated POSIX class [:^${posix[2]}:] inside a class`);
          items.push(body);
          this.pos += posix[0].length;
          continue;
        }
        const inner = this.charClass();
        if (inner.startsWith('[^')) this.fail('a negated class inside a class');
        items.push(inner.slice(1, -1));
        continue;
      }
      if (c === '&' && this.src[this.pos + 1] === '&') this.fail('a class intersection &&');
      const lo = this.classChar();
      if (typeof lo === 'string') {
        items.push(lo);
        continue;
      }
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined && this.src[this.pos + 1] !== '[') {
        this.pos++;
        const hi = this.classChar();
        if (typeof hi === 'string') this.fail('a range ending in a class escape');
        if (hi < lo) this.fail('a range out of order');
        items.push(this.classRange(lo, hi));
      } else items.push(this.classRange(lo, lo));
    }
    if (items.length === 0) return negate ? '[^]' : '[]';
    return `[${negate ? '^' : ''}${items.join('')}]`;
  }

  /** One class member: a code point, or JavaScript source for a class escape (`\d`, `\h`…). */
  protected classChar(): number | string {
    const c = this.src[this.pos]!;
    if (c !== '\\') {
      const code = this.src.codePointAt(this.pos)!;
      this.pos += code > 0xffff ? 2 : 1;
      return code;
    }
    const e = this.src[this.pos + 1];
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.pos += 2;
        return '\\' + e;
      case 's':
        this.pos += 2;
        return SPACE_CLASS;
      case 'h':
        this.pos += 2;
        return HEX_CLASS;
      case 'S':
      case 'H':
        this.fail(`\\${e} inside a class`);
        break;
      case 'p':
      case 'P':
        this.fail(`a Unicode property \\${e}{…}`);
        break;
      case 'b':
        this.pos += 2;
        return 0x08;
    }
    return this.readCharEscape();
  }

  protected classRange(lo: number, hi: number): string {
    const out = lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`;
    if (!this.opts.i) return out;
    let extra = '';
    const add = (a: number, b: number): void => {
      extra += a === b ? escapeClassChar(a) : `${escapeClassChar(a)}-${escapeClassChar(b)}`;
    };
    const aLo = Math.max(lo, 0x61);
    const aHi = Math.min(hi, 0x7a);
    if (aLo <= aHi) add(aLo - 32, aHi - 32);
    const bLo = Math.max(lo, 0x41);
    const bHi = Math.min(hi, 0x5a);
    if (bLo <= bHi) add(bLo + 32, bHi + 32);
    if (hi > 0x7f) {
      if (hi - Math.max(lo, 0x80) > 512) {
        this.needsIFlag = true;
        return out;
      }
      for (let cp = Math.max(lo, 0x80); cp <= hi; cp++) {
        for (const v of caseVariants(String.fromCodePoint(cp))) if (v.length === 1 && v.codePointAt(0) !== cp) extra += escapeClassChar(v.codePointAt(0)!);
      }
    }
    return out + extra;
  }
}

const SYNTAX = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '/']);

export function escapeLiteral(c: string): string {
  return SYNTAX.has(c) ? '\\' + c : escapeCodePoint(c.codePointAt(0)!);
}

export function escapeCodePoint(code: number): string {
  if (code < 0x20 || code === 0x7f) return '\\x' + code.toString(16).padStart(2, '0');
  const c = String.fromCodePoint(code);
  if (SYNTAX.has(c) || c === '-') return '\\' + c;
  if (code > 0xffff) return `(?:${c})`;
  return c;
}

function escapeClassChar(code: number): string {
  if (code < 0x20 || code === 0x7f) return '\\x' + code.toString(16).padStart(2, '0');
  if (code > 0xffff) throw new RegexTranslateError('a character outside the Basic Multilingual Plane inside a class is not supported');
  const c = String.fromCharCode(code);
  return c === '\\' || c === ']' || c === '[' || c === '-' || c === '^' ? '\\' + c : c;
}

function caseVariants(c: string): Set<string> {
  return new Set([c, c.toLowerCase(), c.toUpperCase()]);
}

/** A literal character matching either case (`[aA]`), for Onigmo's `i` option. */
export function caseless(c: string): string {
  const v = [...caseVariants(c)].filter((s) => s.length === 1 || s === c);
  if (v.length === 1) return escapeLiteral(c);
  return '[' + v.map((s) => (s.length === 1 ? escapeClassChar(s.charCodeAt(0)) : s)).join('') + ']';
}
