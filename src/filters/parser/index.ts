import type { FilterPlugin } from '../../core/registry-types.js';
import { ParserFilter, parserFilterOptions, parserFilterSettings } from './filter.js';

export { ParserFilter, parserFilterOptions } from './filter.js';

export const parserFilter: FilterPlugin = {
  kind: 'filter',
  name: 'parser',
  description: "Parses a value of each record with the config's parsers, tried in order, into the record and its time (Fluent Bit's parser)",
  options: parserFilterOptions,
  check: (options, env) => void parserFilterSettings(options, env.parsers),
  create: (options, ctx) => new ParserFilter(options, ctx),
};
