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
import { caseless, escapeLiteral, HEX_CLASS, OnigmoScanner, RegexTranslateError, SPACE_CLASS, type Options } from './onigmo-scanner.js';

export { RegexTranslateError } from './onigmo-scanner.js';

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** Capture group i + 1 holds the value of names[i] (named groups in order; a name may repeat). */
  names: string[];
  /** Some quantifier repeats a part that itself holds an unbounded quantifier (`(a+)+`). */
  nestedQuantifier: boolean;
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

class Translator extends OnigmoScanner {
  private readonly names: string[] = [];
  private readonly hasNamed: boolean;
  private groupCount = 0;
  /** Named group number (1-based, in the output) by name, for `\k<name>`. */
  private readonly namedNumbers = new Map<string, number>();
  usedLineAnchors = false;
  usedStringAnchors = false;
  private nested = false;
  private readonly stack: Frame[] = [];

  constructor(
    src: string,
    options: Options,
    /** Whether `^`/`$` may appear: `\A`/`\z` must then be look-arounds. */
    private readonly lineAnchors: boolean,
  ) {
    super(src, options);
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
