import type { PluginContext } from '../core/plugin.js';

export const REGEX_CUT_METRIC = 'floki_filter_regex_cut_values_total';

/**
 * Counts values cut before a regular expression that cannot run in linear time was matched against
 * them (see regex.ts), and logs the first one: one line per filter instance, never per record.
 */
export function regexCutCounter(ctx: PluginContext): () => void {
  const counter = ctx.metrics
    .counter(REGEX_CUT_METRIC, 'Values cut to their first 16 KiB before a regular expression that cannot run in linear time was matched against them', ['name'])
    .labels(ctx.name);
  let logged = false;
  return () => {
    counter.inc();
    if (!logged) {
      logged = true;
      ctx.log.warn('a value longer than 16 KiB was matched on its first 16 KiB only: its regular expression uses a backreference, lookaround or /i (logged once; see ' + REGEX_CUT_METRIC + ')');
    }
  };
}
