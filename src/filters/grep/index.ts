import type { FilterPlugin } from '../../core/registry-types.js';
import { GrepFilter, grepOptions } from './filter.js';
import { grepRules } from './rules.js';

export { GrepFilter, grepOptions } from './filter.js';

export const grepFilter: FilterPlugin = {
  kind: 'filter',
  name: 'grep',
  description: "Keeps or drops records by regular expressions on their values (Fluent Bit's grep)",
  options: grepOptions,
  check: (options) => void grepRules(options),
  create: (options, ctx) => new GrepFilter(options, ctx),
};
