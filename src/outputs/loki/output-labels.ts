/**
 * The Loki output's labels, structured metadata and line rules compiled from its config, once: by the
 * plugin's check (so `--dry-run` reports a bad accessor) and by the output itself. Every record path
 * an accessor reads for labels or structured metadata is removed from the line, with `remove_keys`,
 * as Fluent Bit's out_loki does.
 */
import { compileLabelRules, LabelRuleError, type LabelRule } from '../../labels/label-rules.js';
import { compileRecordAccessor, RecordAccessorSyntaxError, type PathSegment, type RecordAccessor } from '../../labels/record-accessor.js';
import { StructuredMetadataExtractor } from '../../labels/structured-metadata.js';
import { LokiConfigError, type LokiConfig } from './options.js';

export interface OutputLabels {
  readonly rules: readonly LabelRule[];
  /** undefined when no structured metadata is configured. */
  readonly metadata: StructuredMetadataExtractor | undefined;
  /** `remove_keys`, then the paths read into labels and structured metadata. */
  readonly removePaths: readonly (readonly PathSegment[])[];
  readonly tenantAccessor: RecordAccessor | undefined;
}

export function compileOutputLabels(config: LokiConfig): OutputLabels {
  try {
    const { rules, consumedPaths } = compileLabelRules(config.labels, config.labelKeys, 'labels', config.labelMap);
    const extractor = new StructuredMetadataExtractor(config.structuredMetadata, config.structuredMetadataMapKeys);
    const removeKeys = config.removeKeys.map((key) => accessorFor('remove_keys', key).path);
    return {
      rules,
      metadata: extractor.empty ? undefined : extractor,
      removePaths: [...removeKeys, ...consumedPaths, ...extractor.consumedPaths],
      tenantAccessor: config.tenantIdKey === undefined ? undefined : accessorFor('tenant_id_key', config.tenantIdKey),
    };
  } catch (err) {
    if (err instanceof LabelRuleError) throw new LokiConfigError(err.message);
    throw err;
  }
}

function accessorFor(option: string, key: string): RecordAccessor {
  try {
    return compileRecordAccessor(key.startsWith('$') ? key : `$${key}`);
  } catch (err) {
    if (err instanceof RecordAccessorSyntaxError) throw new LokiConfigError(`${option}: ${err.message}`);
    throw err;
  }
}
