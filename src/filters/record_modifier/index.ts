import type { FilterPlugin } from '../../core/registry-types.js';
import { recordModifierConfig } from './config.js';
import { RecordModifierFilter, recordModifierOptions } from './filter.js';

export { RecordModifierFilter, recordModifierOptions } from './filter.js';

export const recordModifierFilter: FilterPlugin = {
  kind: 'filter',
  name: 'record_modifier',
  description: "Appends keys, removes keys or keeps only some, adds a UUID (Fluent Bit's record_modifier)",
  options: recordModifierOptions,
  check: (options) => void recordModifierConfig(options),
  create: (options, ctx) => new RecordModifierFilter(options, ctx),
};
