import type { FilterPlugin } from '../../core/registry-types.js';
import { ConcatFilter } from './filter.js';
import { concatOptions, concatSettings } from './options.js';

export { ConcatFilter } from './filter.js';
export { concatOptions } from './options.js';

export const concatFilter: FilterPlugin = {
  kind: 'filter',
  name: 'concat',
  description: "Joins a stream's consecutive records (n_lines, start/end regexps, partial_key, CRI P/F log tags) into one (fluent-plugin-concat)",
  options: concatOptions,
  check: (options) => void concatSettings(options),
  create: (options, ctx) => new ConcatFilter(options, ctx),
};
