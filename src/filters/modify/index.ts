import type { FilterPlugin } from '../../core/registry-types.js';
import { modifyConfig } from './config.js';
import { ModifyFilter, modifyOptions } from './filter.js';

export { ModifyFilter, modifyOptions } from './filter.js';

export const modifyFilter: FilterPlugin = {
  kind: 'filter',
  name: 'modify',
  description: "Sets, adds, removes, renames, copies and moves keys, under conditions (Fluent Bit's modify)",
  options: modifyOptions,
  check: (options) => void modifyConfig(options),
  create: (options, ctx) => new ModifyFilter(options, ctx),
};
