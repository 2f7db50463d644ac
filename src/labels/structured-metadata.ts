/**
 * Loki 3 structured metadata of an entry: name/value pairs stored next to the line, not in the stream
 * labels, so high-cardinality values (an involved object's name and uid, a trace id) cost no streams.
 *
 * `structured_metadata` takes the same entries as `labels` (Fluent Bit's out_loki syntax):
 * `name=value`, `name=$accessor` or a bare `$accessor` named after its last key.
 * `structured_metadata_map_keys` takes accessors of maps whose every key becomes a pair.
 * Strings are kept as they are, numbers and booleans printed, maps and arrays as JSON; missing and
 * empty values are left out. Names are sanitised like label names.
 */
import type { LogEvent } from '../core/event.js';
import { compileLabelRules, LabelRuleError, type LabelRule } from './label-rules.js';
import { sanitizeLabelName } from './label-name.js';
import { compileRecordAccessor, RecordAccessorSyntaxError, scalarToString, type RecordAccessor } from './record-accessor.js';
import { toJson } from './json-text.js';

export type StructuredMetadata = Record<string, string>;

export class StructuredMetadataExtractor {
  private readonly rules: readonly LabelRule[];
  private readonly mapAccessors: readonly RecordAccessor[];

  constructor(entries: readonly string[], mapKeys: readonly string[] = []) {
    this.rules = compileLabelRules(entries, [], 'structured_metadata').rules;
    this.mapAccessors = mapKeys.map((raw) => {
      const entry = raw.trim();
      try {
        return compileRecordAccessor(entry[0] === '$' ? entry : `$${entry}`);
      } catch (err) {
        if (err instanceof RecordAccessorSyntaxError) throw new LabelRuleError(`structured_metadata_map_keys: ${err.message}`);
        throw err;
      }
    });
  }

  get empty(): boolean {
    return this.rules.length === 0 && this.mapAccessors.length === 0;
  }

  /** The pairs of one event, or undefined when it has none. */
  extract(event: LogEvent): StructuredMetadata | undefined {
    let out: StructuredMetadata | undefined;
    for (const rule of this.rules) {
      const v = rule.accessor ? metadataValue(rule.accessor.get(event.record, event.tag)) : rule.value;
      if (v !== undefined && v.length > 0) (out ??= {})[rule.name] = v;
    }
    for (const accessor of this.mapAccessors) {
      const map = accessor.get(event.record, event.tag);
      if (map === null || typeof map !== 'object' || Array.isArray(map)) continue;
      for (const key of Object.keys(map)) {
        const v = metadataValue((map as Record<string, unknown>)[key]);
        if (v !== undefined && v.length > 0) (out ??= {})[sanitizeLabelName(key)] = v;
      }
    }
    return out;
  }
}

function metadataValue(value: unknown): string | undefined {
  const s = scalarToString(value);
  if (s !== undefined) return s;
  return value !== null && typeof value === 'object' ? toJson(value) : undefined;
}
