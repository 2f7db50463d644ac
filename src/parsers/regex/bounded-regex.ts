/**
 * The one place floki compiles the regular expressions of a config (Fluent Bit writes them in Onigmo's
 * Ruby syntax; onigmo-translate.ts turns them into JavaScript) and the one place their running time is
 * bounded, for every user: parsers, multiline rules, and the filters (src/filters/regex.ts).
 *
 * The bound: V8 can run a regex on a linear-time (breadth-first) engine instead of backtracking, and
 * with `--enable-experimental-regexp-engine-on-excessive-backtracks` it switches a regex to it after
 * `BACKTRACKS_BEFORE_FALLBACK` backtracks on one input, with the same result. This module turns that
 * flag on for the process the first time a pattern is compiled (it is read when a regex runs, so
 * regexes made before it benefit too); nothing else in floki sets V8's regexp flags. Patterns that
 * engine cannot run (back-references, look-arounds, `\A`/`\z` beside `^`/`$`, a counted repeat over
 * 16 of a group, case-insensitive ranges beyond Latin) are checked instead: one that repeats a part
 * holding an unbounded repeat (`(a+)+`, exponential on a bad line) is refused at config time, and the
 * others are applied only to texts of at most `NON_LINEAR_MAX_LENGTH` characters (a longer text counts
 * as not matched, and is counted in `tooLong`).
 */
import { setFlagsFromString } from 'node:v8';
import { RegexTranslateError, translateOnigmo } from './onigmo-translate.js';

/** Longest text a regex without the linear-time fallback is run on. */
export const NON_LINEAR_MAX_LENGTH = 64 * 1024;

/** Backtracks of one regex on one text before V8 finishes it on the linear-time engine. */
export const BACKTRACKS_BEFORE_FALLBACK = 10_000;

let flagsSet = false;

function enableBacktrackFallback(): void {
  if (flagsSet) return;
  flagsSet = true;
  // The second flag only makes the `l` flag known, which tells whether a pattern can run linearly.
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  setFlagsFromString('--enable-experimental-regexp-engine');
  // V8 counts backtracks per start position: at its default (50,000) an unanchored pattern can still
  // spend seconds on a long hostile line before switching; at 10,000 a 400 KB one takes under a second.
  setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`);
}

export class BoundedRegex {
  /** Texts not matched only because they were longer than NON_LINEAR_MAX_LENGTH (non-linear patterns). */
  tooLong = 0;
  /** Called with each such text, for a plugin's metric (set by the one plugin that owns the regex). */
  onTooLong: (() => void) | undefined;

  constructor(
    readonly regex: RegExp,
    /** Group i + 1 holds names[i]. */
    readonly names: readonly string[],
    /** False when V8's linear-time engine cannot run it: then texts are bounded in length. */
    readonly linear: boolean,
    /** The pattern as written in the config. */
    readonly pattern: string,
  ) {}

  /** The match, or null; never runs unbounded. */
  exec(text: string): RegExpExecArray | null {
    if (!this.linear && text.length > NON_LINEAR_MAX_LENGTH) return this.skip();
    this.regex.lastIndex = 0;
    return this.regex.exec(text);
  }

  test(text: string): boolean {
    if (!this.linear && text.length > NON_LINEAR_MAX_LENGTH) {
      this.skip();
      return false;
    }
    this.regex.lastIndex = 0;
    return this.regex.test(text);
  }

  private skip(): null {
    this.tooLong++;
    this.onTooLong?.();
    return null;
  }
}

/** A pattern in a config that floki cannot run safely or at all; the message says which and why. */
export class RegexConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexConfigError';
  }
}

/** Translates and compiles a Fluent Bit regex; throws RegexConfigError saying what is wrong. */
export function compileBoundedRegex(pattern: string): BoundedRegex {
  enableBacktrackFallback();
  let t;
  try {
    t = translateOnigmo(pattern);
  } catch (e) {
    if (e instanceof RegexTranslateError) throw new RegexConfigError(`invalid regex ${JSON.stringify(pattern)}: ${e.message}`);
    throw e;
  }
  let regex: RegExp;
  try {
    regex = new RegExp(t.source, t.flags);
  } catch (e) {
    throw new RegexConfigError(`invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  let linear = true;
  try {
    new RegExp(t.source, t.flags + 'l');
  } catch {
    linear = false;
  }
  if (!linear && t.nestedQuantifier) {
    throw new RegexConfigError(
      `regex ${JSON.stringify(pattern)} repeats a part that holds an unbounded repeat and uses a construct (back-reference, look-around, long counted repeat) that prevents the linear-time fallback: it could backtrack for ever on a hostile line`,
    );
  }
  return new BoundedRegex(regex, t.names, linear, pattern);
}
