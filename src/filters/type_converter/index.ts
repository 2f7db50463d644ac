import type { FilterPlugin } from '../../core/registry-types.js';
import { TypeConverterFilter, typeConverterConfig, typeConverterOptions } from './filter.js';

export { TypeConverterFilter, typeConverterOptions } from './filter.js';

export const typeConverterFilter: FilterPlugin = {
  kind: 'filter',
  name: 'type_converter',
  description: "Converts values between integer, unsigned, float, hex, string and bool types into new keys (Fluent Bit's type_converter)",
  options: typeConverterOptions,
  check: (options) => void typeConverterConfig(options),
  create: (options, ctx) => new TypeConverterFilter(options, ctx),
};
