/**
 * Stream label rules as Fluent Bit's out_loki spells them (checked against the 5.1.1 binary; see
 * test/fixtures/fluent-bit-loki):
 * - `labels`: `job=floki`, `namespace=$kubernetes['namespace_name']`, or a bare accessor;
 * - `label_keys`: bare accessors;
 * - `label_map_path`: a JSON file whose leaves are label names, e.g. `{"sub": {"stream": "stream"}}`
 *   for `stream=$sub['stream']`.
 * A bare accessor's label is named after its whole path joined with `_` (`$sub['stream']` gives
 * `sub_stream`, `$arr[1]` gives `arr_1`, `$TAG` gives `_`); Fluent Bit's documentation says `stream`,
 * its binary does this. Every record key an accessor reads (in any of the three, and in structured
 * metadata) is removed from the line, as Fluent Bit does: the value is sent already.
 */
import { compileRecordAccessor, pathAccessor, RecordAccessorSyntaxError, type PathSegment, type RecordAccessor } from './record-accessor.js';
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

/** One leaf of a `label_map_path` file: the label `name` takes the value at `path`. */
export interface LabelMapEntry {
  readonly name: string;
  readonly path: readonly string[];
}

export interface CompiledLabelRules {
  readonly rules: readonly LabelRule[];
  /** Record paths the rules read: removed from the line. */
  readonly consumedPaths: readonly (readonly PathSegment[])[];
}

/** Fluent Bit's name for a bare accessor's label: the path joined with `_`, then sanitised; `$TAG` gives `_`. */
export function bareLabelName(accessor: RecordAccessor): string {
  return accessor.isTag ? '_' : sanitizeLabelName(accessor.path.join('_'));
}

/**
 * Compile `labels`, `label_keys` and a label map; throws LabelRuleError naming the option and the
 * entry. `option` names the first list in errors (`structured_metadata` uses the same syntax).
 */
export function compileLabelRules(labels: readonly string[], labelKeys: readonly string[] = [], option = 'labels', labelMap: readonly LabelMapEntry[] = []): CompiledLabelRules {
  const rules: LabelRule[] = [];
  const consumedPaths: PathSegment[][] = [];
  const consume = (accessor: RecordAccessor): void => {
    if (!accessor.isTag) consumedPaths.push([...accessor.path]);
  };

  const bare = (listName: string, entry: string): void => {
    // As Fluent Bit: a bare key may not start with a digit (it would not make a label name).
    if (entry[1] !== undefined && entry[1] >= '0' && entry[1] <= '9') {
      throw new LabelRuleError(`${listName}: key name for record accessor cannot start with a number: ${entry}`);
    }
    const accessor = compileIn(listName, entry);
    rules.push({ name: bareLabelName(accessor), accessor });
    consume(accessor);
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
    if (value[0] === '$') {
      const accessor = compileIn(option, value);
      rules.push({ name: sanitizeLabelName(name), accessor });
      consume(accessor);
    } else rules.push({ name: sanitizeLabelName(name), value });
  }

  for (const raw of labelKeys) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    // Fluent Bit insists on the `$`; a plain key name is unambiguous, so accept it as `$key`.
    bare('label_keys', entry[0] === '$' ? entry : `$${entry}`);
  }

  for (const { name, path } of labelMap) {
    const accessor = pathAccessor(path);
    rules.push({ name: sanitizeLabelName(name), accessor });
    consume(accessor);
  }
  return { rules, consumedPaths };
}

/**
 * The leaves of a `label_map_path` file's JSON: each string is a label name, the keys above it the
 * record path of its value. Throws LabelRuleError on anything else (Fluent Bit logs it and goes on
 * without labels; a config error is clearer).
 */
export function labelMapEntries(json: unknown, where: string): LabelMapEntry[] {
  const out: LabelMapEntry[] = [];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new LabelRuleError(`label_map_path: ${where}: expected a JSON object`);
  const walk = (node: Record<string, unknown>, path: string[]): void => {
    for (const key of Object.keys(node)) {
      const value = node[key];
      const here = [...path, key];
      if (typeof value === 'string') out.push({ name: value, path: here });
      else if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, here);
      else throw new LabelRuleError(`label_map_path: ${where}: the value at '${here.join('.')}' is ${JSON.stringify(value)}; expected a label name (a string) or an object`);
    }
  };
  walk(json as Record<string, unknown>, []);
  return out;
}

function compileIn(option: string, pattern: string): RecordAccessor {
  try {
    return compileRecordAccessor(pattern);
  } catch (err) {
    if (err instanceof RecordAccessorSyntaxError) throw new LabelRuleError(`${option}: ${err.message}`);
    throw err;
  }
}
