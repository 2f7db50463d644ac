/**
 * Loki 3 structured metadata of an entry: name/value pairs stored next to the line, not in the stream
 * labels, so high-cardinality values (an involved object's name and uid, a trace id) cost no streams.
 *
 * `structured_metadata` takes the same entries as `labels` (Fluent Bit's out_loki syntax):
 * `name=value`, `name=$accessor` or a bare `$accessor` named after its path (`$a['b']` gives `a_b`).
 * `structured_metadata_map_keys` takes accessors of maps whose every key becomes a pair; an explicit
 * `structured_metadata` pair of the same name wins. Values print as labels do (label-value.ts);
 * missing and empty values are left out. Names are sanitised like label names. As in Fluent Bit,
 * every key read here is removed from the line (`consumedPaths`).
 */
import type { LogEvent } from '../core/event.js';
import { compileLabelRules, LabelRuleError, type LabelRule } from './label-rules.js';
import { sanitizeLabelName } from './label-name.js';
import { labelValue } from './label-value.js';
import { compileRecordAccessor, RecordAccessorSyntaxError, type PathSegment, type RecordAccessor } from './record-accessor.js';

export type StructuredMetadata = Record<string, string>;

export class StructuredMetadataExtractor {
  private readonly rules: readonly LabelRule[];
  private readonly mapAccessors: readonly RecordAccessor[];
  /** Record paths read here: removed from the line. */
  readonly consumedPaths: readonly (readonly PathSegment[])[];

  constructor(entries: readonly string[], mapKeys: readonly string[] = []) {
    const compiled = compileLabelRules(entries, [], 'structured_metadata');
    this.rules = compiled.rules;
    this.mapAccessors = mapKeys
      .map((raw) => raw.trim())
      .filter((entry) => entry.length > 0)
      .map((entry) => {
        try {
          return compileRecordAccessor(entry[0] === '$' ? entry : `$${entry}`);
        } catch (err) {
          if (err instanceof RecordAccessorSyntaxError) throw new LabelRuleError(`structured_metadata_map_keys: ${err.message}`);
          throw err;
        }
      });
    this.consumedPaths = [...compiled.consumedPaths, ...this.mapAccessors.filter((a) => !a.isTag).map((a) => a.path)];
  }

  get empty(): boolean {
    return this.rules.length === 0 && this.mapAccessors.length === 0;
  }

  /** The pairs of one event, or undefined when it has none. */
  extract(event: LogEvent): StructuredMetadata | undefined {
    let out: StructuredMetadata | undefined;
    for (const accessor of this.mapAccessors) {
      const map = accessor.get(event.record, event.tag);
      if (map === null || typeof map !== 'object' || Array.isArray(map)) continue;
      for (const key of Object.keys(map)) {
        const v = labelValue((map as Record<string, unknown>)[key]);
        if (v !== undefined && v.length > 0) (out ??= {})[sanitizeLabelName(key)] = v;
      }
    }
    for (const rule of this.rules) {
      const v = rule.accessor ? labelValue(rule.accessor.get(event.record, event.tag)) : rule.value;
      if (v !== undefined && v.length > 0) (out ??= {})[rule.name] = v;
    }
    return out;
  }
}
