import type { PluginContext } from '../core/plugin.js';
import { NON_LINEAR_MAX_LENGTH } from './regex.js';

export const REGEX_TOO_LONG_METRIC = 'floki_filter_regex_skipped_values_total';

/**
 * Counts values a regular expression that cannot run in linear time was not applied to because they
 * were longer than NON_LINEAR_MAX_LENGTH (they count as not matching; see parsers/regex/bounded-regex.ts),
 * and logs the first one: one line per filter instance, never per record.
 */
export function regexTooLongCounter(ctx: PluginContext): () => void {
  const kib = NON_LINEAR_MAX_LENGTH / 1024;
  const counter = ctx.metrics
    .counter(REGEX_TOO_LONG_METRIC, `Values longer than ${kib} KiB that a regular expression which cannot run in linear time was not applied to (they count as not matching)`, ['name'])
    .labels(ctx.name);
  let logged = false;
  return () => {
    counter.inc();
    if (!logged) {
      logged = true;
      ctx.log.warn(`a value longer than ${kib} KiB counted as not matching: its regular expression uses a back-reference, look-around or long counted repeat of a group, so it cannot run in linear time (logged once; see ${REGEX_TOO_LONG_METRIC})`);
    }
  };
}
