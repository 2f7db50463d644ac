import type { FilterPlugin } from '../../core/registry-types.js';
import { NestFilter, nestConfig, nestOptions } from './filter.js';

export { NestFilter, nestOptions } from './filter.js';

export const nestFilter: FilterPlugin = {
  kind: 'filter',
  name: 'nest',
  description: "Nests keys under one key, or lifts a map's keys to the top level, with prefixes (Fluent Bit's nest)",
  options: nestOptions,
  check: (options) => void nestConfig(options),
  create: (options, ctx) => new NestFilter(options, ctx),
};
