import type { FilterPlugin } from '../../core/registry-types.js';
import { RewriteTagFilter, rewriteTagOptions } from './filter.js';
import { rewriteRules } from './rules.js';

export { RewriteTagFilter, rewriteTagOptions, MAX_HOPS } from './filter.js';

export const rewriteTagFilter: FilterPlugin = {
  kind: 'filter',
  name: 'rewrite_tag',
  description: "Emits records again under a new tag made from their values, from the start of the pipeline (Fluent Bit's rewrite_tag)",
  options: rewriteTagOptions,
  check: (options) => void rewriteRules(options),
  create: (options, ctx) => new RewriteTagFilter(options, ctx),
};
