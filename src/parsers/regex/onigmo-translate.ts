/**
 * Fluent Bit's regular expressions are Onigmo patterns in Ruby syntax; this turns one into a
 * JavaScript RegExp source with the same matches, or says which construct JavaScript cannot express.
 *
 * What changes on the way (Onigmo → JavaScript, no `u` flag so the linear-time engine can run it):
 *  - `(?<name>…)` / `(?'name'…)` become plain capture groups, numbered in order; when a pattern has a
 *    named group, its unnamed `(…)` do not capture (Ruby's rule), so they become `(?:…)`.
 *  - `^`/`$` are line anchors in Ruby: the `m` flag is set. `.` does not match `\n` only (JavaScript's
 *    also refuses `\r`): it becomes `[^\n]`, or `[^]` under Ruby's `m` option (`/…/m`, `(?m…)`).
 *  - `\A`, `\z`, `\Z`, `\G`; `\h`/`\H` (hex digits); `\s` is ASCII white space as in Ruby; POSIX
 *    brackets `[[:alpha:]]` (ASCII classes); `\x{…}`, octal escapes; `{,n}`; a quantifier on a
 *    quantifier (`a**`, `a{2}+`) is wrapped in a group as Onigmo reads it.
 *  - Inline options `(?imx-imx)` and `(?imx-imx:…)` (V8 in Node 20 has no modifiers): `i` is applied
 *    by spelling letters in both cases (`[aA]`), `m` by the `.` translation, `x` by dropping white
 *    space and `#` comments while translating.
 *  - A counted repeat over 16 of a one-character atom (`[a-z0-9]{64}`) is written as several repeats
 *    of at most 16, which V8's linear-time engine accepts and which match the same.
 * Rejected with the construct's name: atomic groups `(?>…)`, possessive quantifiers (`*+`, `++`,
 * `?+`), absence operators `(?~…)`, conditionals `(?(…)…)`, subexpression calls `\g<…>`, `\K`, `\X`,
 * Unicode properties `\p{…}`, class intersections `&&`.
 */

export class RegexTranslateError extends Error {}

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** Capture group i + 1 holds the value of names[i] (named groups in order; a name may repeat). */
  names: string[];
  /** Some quantifier repeats a part that itself holds an unbounded quantifier (`(a+)+`). */
  nestedQuantifier: boolean;
}

interface Options {
  i: boolean;
  m: boolean;
  x: boolean;
}

interface Atom {
  text: string;
  /** One character wide (a literal, class or `.`): its repeats may be split. */
  single: boolean;
  /** Already carries a quantifier: another one wraps it in `(?:…)` first. */
  quantified: boolean;
  /** Holds an unbounded quantifier somewhere inside. */
  unbounded: boolean;
  /** `|` between alternatives: not an atom, cannot be quantified. */
  bar?: boolean;
  /** An assertion (`^`, `\b`, look-around): JavaScript cannot quantify it. */
  assertion?: boolean;
}

interface Frame {
  atoms: Atom[];
  /** Text that opens the group in the output: `(`, `(?:`, `(?=`, … ; '' for the whole pattern. */
  open: string;
  /** Options to restore when the group closes. */
  saved: Options;
  assertion: boolean;
}

const MAX_LINEAR_REPEAT = 16;

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

const SPACE_CLASS = '\\t\\n\\v\\f\\r ';
const HEX_CLASS = '0-9a-fA-F';

/** Splits Fluent Bit's `/pattern/flags` spelling (flb_regex.c) into the pattern and its options. */
export function splitSlashes(pattern: string): { body: string; options: Options } {
  const options: Options = { i: false, m: false, x: false };
  if (pattern.length > 1 && pattern.startsWith('/')) {
    const last = pattern.lastIndexOf('/');
    if (last > 0 && last < pattern.length - 1) {
      const flags = pattern.slice(last + 1);
      if (/^[imxo]+$/.test(flags)) {
        for (const f of flags) if (f === 'i' || f === 'm' || f === 'x') options[f] = true;
        if (options.i || options.m || options.x) return { body: pattern.slice(1, last), options };
      }
    }
    if (pattern.endsWith('/')) return { body: pattern.slice(1, -1), options };
  }
  return { body: pattern, options };
}

/** Translates a Fluent Bit regex (slashes and trailing options allowed) to JavaScript. */
export function translateOnigmo(pattern: string): TranslatedRegex {
  const { body, options } = splitSlashes(pattern);
  const first = new Translator(body, options, true);
  const out = first.run();
  // `\A`/`\z` are plain `^`/`$` (no look-around, so the linear-time engine can run them) unless the
  // pattern also has line anchors: only known once it was read.
  if (first.usedStringAnchors && !first.usedLineAnchors) return new Translator(body, options, false).run();
  return out;
}

class Translator {
  private pos = 0;
  private opts: Options;
  private readonly names: string[] = [];
  private readonly hasNamed: boolean;
  private groupCount = 0;
  /** Named group number (1-based, in the output) by name, for `\k<name>`. */
  private readonly namedNumbers = new Map<string, number>();
  usedLineAnchors = false;
  usedStringAnchors = false;
  private needsIFlag = false;
  private nested = false;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly src: string,
    options: Options,
    /** Whether `^`/`$` may appear: `\A`/`\z` must then be look-arounds. */
    private readonly lineAnchors: boolean,
  ) {
    this.opts = { ...options };
    this.hasNamed = /\(\?(<(?![=!])|')/.test(src);
  }

  run(): TranslatedRegex {
    this.stack.push({ atoms: [], open: '', saved: { ...this.opts }, assertion: false });
    while (this.pos < this.src.length) this.step();
    if (this.stack.length !== 1) throw new RegexTranslateError('missing ) at the end of the pattern');
    const source = join(this.stack[0]!.atoms);
    let flags = this.lineAnchors ? 'm' : '';
    if (this.needsIFlag) flags += 'i';
    return { source, flags, names: this.names, nestedQuantifier: this.nested };
  }

  private get frame(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private push(text: string, single: boolean, extra?: Partial<Atom>): void {
    this.frame.atoms.push({ text, single, quantified: false, unbounded: false, ...extra });
  }

  private fail(what: string): never {
    throw new RegexTranslateError(`${what} at offset ${this.pos} is not supported`);
  }

  private step(): void {
    const c = this.src[this.pos]!;
    if (this.opts.x) {
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
        return;
      }
      if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
        return;
      }
    }
    switch (c) {
      case '\\':
        this.escape();
        return;
      case '[':
        this.push(this.charClass(), true);
        return;
      case '(':
        this.openGroup();
        return;
      case ')':
        this.closeGroup();
        return;
      case '|':
        this.pos++;
        this.frame.atoms.push({ text: '|', single: false, quantified: false, unbounded: false, bar: true });
        return;
      case '.':
        this.pos++;
        this.push(this.opts.m ? '[^]' : '[^\\n]', true);
        return;
      case '^':
      case '$':
        this.pos++;
        this.usedLineAnchors = true;
        this.push(c, false, { assertion: true });
        return;
      case '*':
      case '+':
      case '?':
        this.quantifier();
        return;
      case '{':
        if (this.interval()) return;
        this.pos++;
        this.literal('{');
        return;
      default:
        this.pos++;
        this.literal(c);
    }
  }

  private literal(c: string): void {
    this.push(this.opts.i ? caseless(c) : escapeLiteral(c), true);
  }

  private escape(): void {
    const start = this.pos;
    const e = this.src[this.pos + 1];
    if (e === undefined) this.fail('a trailing backslash');
    this.pos += 2;
    switch (e) {
      case 'A':
      case 'G':
        return this.stringAnchor('start');
      case 'z':
        return this.stringAnchor('end');
      case 'Z':
        return this.stringAnchor('endOrNewline');
      case 'b':
      case 'B':
        this.push('\\' + e, false, { assertion: true });
        return;
      case 'h':
        this.push(`[${HEX_CLASS}]`, true);
        return;
      case 'H':
        this.push(`[^${HEX_CLASS}]`, true);
        return;
      case 's':
        this.push(`[${SPACE_CLASS}]`, true);
        return;
      case 'S':
        this.push(`[^${SPACE_CLASS}]`, true);
        return;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.push('\\' + e, true);
        return;
      case 'R':
        this.push('(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])', false);
        return;
      case 'k':
        return this.backReference();
      case 'g':
        this.pos = start;
        this.fail('a subexpression call \\g<…>');
        break;
      case 'K':
        this.pos = start;
        this.fail('\\K (keep)');
        break;
      case 'X':
        this.pos = start;
        this.fail('\\X (grapheme cluster)');
        break;
      case 'p':
      case 'P':
        this.pos = start;
        this.fail(`a Unicode property \\${e}{…}`);
        break;
      default:
        if (e >= '1' && e <= '9') {
          this.pos = start + 1;
          const digits = this.readDigits();
          this.push(`\\${digits}`, false);
          if (this.opts.i) this.needsIFlag = true;
          return;
        }
        this.pos = start;
        this.push(this.charEscape(true), true);
    }
  }

  /**
   * An escape standing for one character (`\n`, `\x41`, `\x{263a}`, `\101`, `\.`): returns it as
   * JavaScript source, spelled in both cases under `i` when `caseFold`.
   */
  private charEscape(caseFold: boolean): string {
    const code = this.readCharEscape();
    const ch = String.fromCodePoint(code);
    if (caseFold && this.opts.i) return caseless(ch);
    return escapeCodePoint(code);
  }

  /** Reads `\X` at pos (the backslash included) and returns the code point it stands for. */
  private readCharEscape(): number {
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

  private readDigits(): string {
    const start = this.pos;
    while (this.pos < this.src.length && this.src[this.pos]! >= '0' && this.src[this.pos]! <= '9') this.pos++;
    return this.src.slice(start, this.pos);
  }

  private backReference(): void {
    const open = this.src[this.pos];
    const close = open === '<' ? '>' : open === "'" ? "'" : undefined;
    if (close === undefined) {
      this.literal('k');
      return;
    }
    const end = this.src.indexOf(close, this.pos + 1);
    if (end < 0) this.fail('an unterminated \\k<…>');
    const name = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    const n = /^-?\d+$/.test(name) ? Number(name) : this.namedNumbers.get(name);
    if (n === undefined || n <= 0) this.fail(`a back-reference to an unknown group \\k<${name}>`);
    this.push(`\\${n}`, false);
    if (this.opts.i) this.needsIFlag = true;
  }

  /** `\A`, `\z`, `\Z`: plain `^`/`$` when the pattern has no line anchors, look-arounds otherwise. */
  private stringAnchor(kind: 'start' | 'end' | 'endOrNewline'): void {
    this.usedStringAnchors = true;
    const lines = this.lineAnchors;
    const text = kind === 'start' ? (lines ? '(?<![^])' : '^') : kind === 'end' ? (lines ? '(?![^])' : '$') : lines ? '(?=\\n?(?![^]))' : '(?=\\n?$)';
    this.push(text, false, { assertion: true });
  }

  private openGroup(): void {
    const start = this.pos;
    const saved = { ...this.opts };
    if (this.src[this.pos + 1] !== '?') {
      this.pos++;
      if (this.hasNamed) this.stack.push({ atoms: [], open: '(?:', saved, assertion: false });
      else {
        this.groupCount++;
        this.stack.push({ atoms: [], open: '(', saved, assertion: false });
      }
      return;
    }
    const kind = this.src[this.pos + 2];
    this.pos += 3;
    switch (kind) {
      case ':':
        this.stack.push({ atoms: [], open: '(?:', saved, assertion: false });
        return;
      case '=':
      case '!':
        this.stack.push({ atoms: [], open: `(?${kind}`, saved, assertion: true });
        return;
      case '<': {
        const next = this.src[this.pos];
        if (next === '=' || next === '!') {
          this.pos++;
          this.stack.push({ atoms: [], open: `(?<${next}`, saved, assertion: true });
          return;
        }
        this.namedGroup('>', saved);
        return;
      }
      case "'":
        this.namedGroup("'", saved);
        return;
      case '>':
        this.pos = start;
        this.fail('an atomic group (?>…)');
        break;
      case '~':
        this.pos = start;
        this.fail('an absence operator (?~…)');
        break;
      case '(':
        this.pos = start;
        this.fail('a conditional group (?(…)…)');
        break;
      case '#': {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) this.fail('an unterminated comment (?#…');
        this.pos = end + 1;
        return;
      }
      default:
        this.pos -= 1;
        this.inlineOptions(start, saved);
    }
  }

  private namedGroup(close: string, saved: Options): void {
    const end = this.src.indexOf(close, this.pos);
    if (end < 0) this.fail('an unterminated group name');
    const name = this.src.slice(this.pos, end);
    if (name.length === 0) this.fail('an empty group name');
    this.pos = end + 1;
    this.groupCount++;
    this.names.push(name);
    if (!this.namedNumbers.has(name)) this.namedNumbers.set(name, this.groupCount);
    this.stack.push({ atoms: [], open: '(', saved, assertion: false });
  }

  /** `(?imx-imx)` (to the end of the enclosing group) or `(?imx-imx:…)`. */
  private inlineOptions(start: number, saved: Options): void {
    let on = true;
    const opts = { ...this.opts };
    for (;;) {
      const c = this.src[this.pos];
      this.pos++;
      if (c === 'i' || c === 'm' || c === 'x') opts[c] = on;
      else if (c === '-' && on) on = false;
      else if (c === ')') {
        this.opts = opts;
        return;
      } else if (c === ':') {
        this.stack.push({ atoms: [], open: '(?:', saved, assertion: false });
        this.opts = opts;
        return;
      } else {
        this.pos = start;
        this.fail(`an unknown group (?${c ?? ''}`);
      }
    }
  }

  private closeGroup(): void {
    if (this.stack.length === 1) this.fail('an unmatched )');
    this.pos++;
    const f = this.stack.pop()!;
    this.opts = f.saved;
    const unbounded = f.atoms.some((a) => a.unbounded);
    this.push(f.open + join(f.atoms) + ')', false, { unbounded, assertion: f.assertion });
  }

  private quantifier(): void {
    const q = this.src[this.pos]!;
    this.pos++;
    const max = q === '?' ? 1 : Infinity;
    this.applyQuantifier(q, q === '+' ? 1 : 0, max);
  }

  /** `{n}`, `{n,}`, `{n,m}`, `{,m}`; false when the brace is a literal (Onigmo's rule). */
  private interval(): boolean {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.pos, this.pos + 24));
    if (!m || (m[1] === '' && m[3] === '') || (m[1] === '' && m[2] === '')) return false;
    this.pos += m[0].length;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (max < min) this.fail('a repeat {n,m} with m < n');
    this.applyQuantifier(undefined, min, max);
    return true;
  }

  private applyQuantifier(symbol: string | undefined, min: number, max: number): void {
    const atoms = this.frame.atoms;
    let atom = atoms[atoms.length - 1];
    if (atom === undefined || atom.bar) this.fail('a repeat with nothing to repeat');
    let lazy = '';
    const next = this.src[this.pos];
    if (next === '?') {
      lazy = '?';
      this.pos++;
    } else if (next === '+' && symbol !== undefined) {
      this.pos--;
      this.fail('a possessive quantifier');
    }
    if (atom.quantified || atom.assertion) {
      atom = { text: `(?:${atom.text})`, single: false, quantified: false, unbounded: atom.unbounded, assertion: false };
      atoms[atoms.length - 1] = atom;
    }
    if (max > 1 && atom.unbounded) this.nested = true;
    atom.text = repeat(atom, symbol, min, max, lazy);
    atom.quantified = true;
    atom.single = false;
    if (max === Infinity) atom.unbounded = true;
  }

  /** A `[…]` class (nested classes are merged, POSIX brackets expanded); returns JavaScript source. */
  private charClass(): string {
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
  private classChar(): number | string {
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

  private classRange(lo: number, hi: number): string {
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

function join(atoms: readonly Atom[]): string {
  let s = '';
  for (const a of atoms) s += a.text;
  return s;
}

/** The atom with its repeat; long counted repeats of one-character atoms are split by 16. */
function repeat(atom: Atom, symbol: string | undefined, min: number, max: number, lazy: string): string {
  if (symbol !== undefined) return atom.text + symbol + lazy;
  if (!atom.single || (min <= MAX_LINEAR_REPEAT && (max <= MAX_LINEAR_REPEAT || max === Infinity))) return atom.text + interval(min, max) + lazy;
  let out = '';
  let left = min;
  while (left > MAX_LINEAR_REPEAT) {
    out += atom.text + `{${MAX_LINEAR_REPEAT}}`;
    left -= MAX_LINEAR_REPEAT;
  }
  if (max === Infinity) return out + atom.text + interval(left, Infinity) + lazy;
  if (left > 0) out += atom.text + `{${left}}`;
  let optional = max - min;
  while (optional > 0) {
    const n = Math.min(optional, MAX_LINEAR_REPEAT);
    out += atom.text + `{0,${n}}` + lazy;
    optional -= n;
  }
  return out;
}

function interval(min: number, max: number): string {
  if (max === Infinity) return `{${min},}`;
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

const SYNTAX = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '/']);

function escapeLiteral(c: string): string {
  return SYNTAX.has(c) ? '\\' + c : escapeCodePoint(c.codePointAt(0)!);
}

function escapeCodePoint(code: number): string {
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
function caseless(c: string): string {
  const v = [...caseVariants(c)].filter((s) => s.length === 1 || s === c);
  if (v.length === 1) return escapeLiteral(c);
  return '[' + v.map((s) => (s.length === 1 ? escapeClassChar(s.charCodeAt(0)) : s)).join('') + ']';
}
