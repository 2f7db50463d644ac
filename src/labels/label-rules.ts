/**
 * Stream label rules as Fluent Bit's out_loki spells them:
 * - `labels`: `job=floki`, `namespace=$kubernetes['namespace_name']`, or a bare accessor `$sub['stream']`
 *   whose label name is the accessor's last key (`stream`);
 * - `label_keys`: bare accessors only, same naming.
 * Keys used by bare accessors (in `labels` or `label_keys`) are removed from the record before the
 * line is formatted, as Fluent Bit does: the value is in the stream labels already.
 */
import { compileRecordAccessor, RecordAccessorSyntaxError, type PathSegment, type RecordAccessor } from './record-accessor.js';
import { sanitizeLabelName } from './label-name.js';

export class LabelRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelRuleError';
  }
}

export interface LabelRule {
  /** Label name, already sanitised. */
  readonly name: string;
  /** A fixed value (`job=floki`), or undefined when the value comes from `accessor`. */
  readonly value?: string;
  readonly accessor?: RecordAccessor;
}

export interface CompiledLabelRules {
  readonly rules: readonly LabelRule[];
  /** Record paths placed in labels by bare accessors: removed from the line. */
  readonly consumedPaths: readonly (readonly PathSegment[])[];
}

/**
 * Compile `labels` and `label_keys`; throws LabelRuleError naming the option and the entry.
 * `option` names the first list in errors (`structured_metadata` uses the same syntax).
 */
export function compileLabelRules(labels: readonly string[], labelKeys: readonly string[] = [], option = 'labels'): CompiledLabelRules {
  const rules: LabelRule[] = [];
  const consumedPaths: PathSegment[][] = [];

  const bare = (listName: string, entry: string): void => {
    const accessor = compileIn(listName, entry);
    rules.push({ name: sanitizeLabelName(accessor.lastKey), accessor });
    if (!accessor.isTag) consumedPaths.push([...accessor.path]);
  };

  for (const raw of labels) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    if (entry[0] === '$') {
      bare(option, entry);
      continue;
    }
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq).trim();
    const value = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (name.length === 0 || value.length === 0) {
      throw new LabelRuleError(`${option}: invalid entry '${entry}', expected name=value, name=$accessor or $accessor`);
    }
    if (value[0] === '$') rules.push({ name: sanitizeLabelName(name), accessor: compileIn(option, value) });
    else rules.push({ name: sanitizeLabelName(name), value });
  }

  for (const raw of labelKeys) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    // Fluent Bit insists on the `$`; a plain key name is unambiguous, so accept it as `$key`.
    bare('label_keys', entry[0] === '$' ? entry : `$${entry}`);
  }
  return { rules, consumedPaths };
}

function compileIn(option: string, pattern: string): RecordAccessor {
  try {
    return compileRecordAccessor(pattern);
  } catch (err) {
    if (err instanceof RecordAccessorSyntaxError) throw new LabelRuleError(`${option}: ${err.message}`);
    throw err;
  }
}
