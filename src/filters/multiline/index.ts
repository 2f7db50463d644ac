import type { FilterPlugin } from '../../core/registry-types.js';
import { MultilineFilter } from './filter.js';
import { multilineFilterOptions, multilineFilterSettings } from './options.js';

export { MultilineFilter } from './filter.js';
export { multilineFilterOptions } from './options.js';

export const multilineFilter: FilterPlugin = {
  kind: 'filter',
  name: 'multiline',
  description: "Joins the records of one message (a stack trace, a line the runtime split) into one, by multiline parsers or Docker's partial_message keys (Fluent Bit's multiline)",
  options: multilineFilterOptions,
  check: (options, env) => void multilineFilterSettings(options, env.parsers),
  create: (options, ctx) => new MultilineFilter(options, ctx),
};
