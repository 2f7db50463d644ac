/**
 * The filters' regular expressions (grep, modify, rewrite_tag): the parsers' Onigmo translation and
 * backtracking bound (src/parsers/regex/bounded-regex.ts), so a pattern means the same and is bounded
 * the same way in a filter as in a parser. What a filter adds: a callback for the values a pattern the
 * linear-time engine cannot run was not applied to (longer than NON_LINEAR_MAX_LENGTH), for its metric.
 */
import { BoundedRegex, compileBoundedRegex, NON_LINEAR_MAX_LENGTH, RegexConfigError } from '../parsers/regex/bounded-regex.js';

export { NON_LINEAR_MAX_LENGTH, RegexConfigError };

/** A compiled filter pattern: `test`/`exec` as BoundedRegex's (group i + 1 holds `names[i]` when named). */
export type FilterRegex = BoundedRegex;

/** Compiles a pattern of a filter rule; throws RegexConfigError saying what is wrong with it. */
export function filterRegex(pattern: string, onTooLong?: () => void): FilterRegex {
  const re = compileBoundedRegex(pattern);
  re.onTooLong = onTooLong;
  return re;
}
