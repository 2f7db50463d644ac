import type { FilterPlugin } from '../../core/registry-types.js';
import { RecordTransformerFilter, compileRecordMap } from './filter.js';
import { recordTransformerConfig, recordTransformerOptions } from './options.js';

export { RecordTransformerFilter } from './filter.js';
export { recordTransformerOptions } from './options.js';

export const recordTransformerFilter: FilterPlugin = {
  kind: 'filter',
  name: 'record_transformer',
  description: "Adds keys made from templates (${tag}, ${record[\"key\"]}, ...), removes or keeps keys, renews the record or its time (Fluentd's record_transformer)",
  options: recordTransformerOptions,
  check: (options) => void compileRecordMap(recordTransformerConfig(options), () => {}),
  create: (options, ctx) => new RecordTransformerFilter(options, ctx),
};
