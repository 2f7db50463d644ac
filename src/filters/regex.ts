/**
 * The one place filters compile the regular expressions of a config (Fluent Bit writes them in
 * Onigmo's Ruby syntax) and the one place their backtracking is bounded.
 *
 * The bound: V8 is told to leave its backtracking engine for its linear-time one once a match has
 * backtracked 50,000 times (`--enable-experimental-regexp-engine-on-excessive-backtracks`), so a
 * hostile line costs time proportional to its length. That engine cannot run backreferences,
 * lookarounds or case-insensitive patterns; for those, a config whose pattern repeats a repetition
 * (`(a+)+`, the shape that backtracks exponentially) is refused, and the others run on at most the
 * first MAX_NON_LINEAR_INPUT characters of a value.
 */
import { setFlagsFromString } from 'node:v8';
import { onigmoToJavaScript } from './onigmo.js';
import { RegexConfigError } from './regex-error.js';

export { RegexConfigError };

// Only changes how a match runs once it has backtracked a lot: results are the same.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
// Lets `new RegExp(source, 'l')` tell whether the linear engine can run a pattern.
setFlagsFromString('--enable-experimental-regexp-engine');

/** Characters of a value a pattern the linear engine cannot run is matched against. */
export const MAX_NON_LINEAR_INPUT = 16 * 1024;

export class FilterRegex {
  /** False when the pattern backtracks without bound (see the file comment), so values are cut. */
  readonly linear: boolean;
  private readonly re: RegExp;

  constructor(
    /** The pattern as written in the config. */
    readonly pattern: string,
    /** Called when a value was cut to MAX_NON_LINEAR_INPUT characters before matching. */
    private readonly onCut?: () => void,
  ) {
    const { source, flags } = onigmoToJavaScript(pattern);
    try {
      this.re = new RegExp(source, flags);
    } catch (err) {
      throw new RegexConfigError(`invalid regular expression '${pattern}': ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
    this.linear = runsInLinearTime(source, flags);
    if (!this.linear && repeatsARepetition(source)) {
      throw new RegexConfigError(
        `regular expression '${pattern}' repeats a repetition and uses a backreference, lookaround or /i, so it could backtrack for ever on a hostile line: rewrite it without the nested repetition`,
      );
    }
  }

  test(text: string): boolean {
    return this.re.test(this.linear ? text : this.cut(text));
  }

  exec(text: string): RegExpExecArray | null {
    return this.re.exec(this.linear ? text : this.cut(text));
  }

  private cut(text: string): string {
    if (text.length <= MAX_NON_LINEAR_INPUT) return text;
    this.onCut?.();
    return text.slice(0, MAX_NON_LINEAR_INPUT);
  }
}

function runsInLinearTime(source: string, flags: string): boolean {
  try {
    new RegExp(source, flags + 'l');
    return true;
  } catch {
    return false;
  }
}

/**
 * True when a quantified group contains a quantifier (star height 2: `(a+)+`, `(\w*\s?)*`), the
 * shape of exponential backtracking. Reads the JavaScript source: escapes and classes are skipped.
 */
export function repeatsARepetition(source: string): boolean {
  // For each open group: whether a quantifier was seen inside it.
  const stack: boolean[] = [];
  let i = 0;
  const quantifierAt = (j: number): number => {
    const c = source[j];
    if (c === '*' || c === '+' || c === '?') return 1;
    if (c === '{') {
      const m = /^\{\d*(,\d*)?\}/.exec(source.slice(j));
      if (m && m[0] !== '{}' && m[0] !== '{,}') return m[0].length;
    }
    return 0;
  };
  const markQuantified = (unbounded: boolean) => {
    if (unbounded && stack.length > 0) stack[stack.length - 1] = true;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      i += 2;
    } else if (c === '[') {
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      stack.push(false);
      i++;
      continue;
    } else if (c === ')') {
      const inner = stack.pop() ?? false;
      i++;
      const q = quantifierAt(i);
      if (q > 0) {
        if (inner && isUnbounded(source, i)) return true;
        markQuantified(isUnbounded(source, i) || inner);
        i += q;
      } else markQuantified(inner);
      continue;
    } else {
      i++;
    }
    const q = quantifierAt(i);
    if (q > 0) {
      markQuantified(isUnbounded(source, i));
      i += q;
    }
  }
  return false;
}

/** `*`, `+`, `{n,}` or `{n,m}` with m > 1: repeats more than once. */
function isUnbounded(source: string, at: number): boolean {
  const c = source[at];
  if (c === '*' || c === '+') return true;
  if (c !== '{') return false;
  const m = /^\{(\d*)(,(\d*))?\}/.exec(source.slice(at));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
}
