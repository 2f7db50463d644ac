/** record_transformer's options, Fluentd's names and defaults (filter_record_transformer.rb config_params). */
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import { parseFluentdAccessor, type FluentdKey } from '../common/fluentd-accessor.js';

export const recordTransformerOptions: readonly OptionSpec[] = [
  {
    name: 'record',
    type: 'any',
    description:
      'A map of key → template (Fluentd\'s `<record>` section): `${tag}`, `${tag_parts[N]}` (N may be negative), `${tag_prefix[N]}`, `${tag_suffix[N]}`, `${hostname}`, `${time}`, `${record["key"]}`; with enable_ruby also `${record["a"]["b"]}` and `${record.dig("a", "b")}`. A value written as JSON (starting `{` or `[`) is that JSON, its strings expanded. In YAML and classic configs floki first reads `${NAME}` as a variable, so `${tag}`, `${hostname}` and `${time}` work only from a Fluentd config.',
  },
  { name: 'remove_keys', type: 'list', default: [], description: 'Keys removed after the record is made: plain keys, or Fluentd record accessors (`$.a.b`, `$[\'a\'][0]`).' },
  { name: 'keep_keys', type: 'list', default: [], description: 'With renew_record: these keys of the incoming record are kept (before the `record` keys are added).' },
  { name: 'renew_record', type: 'bool', default: false, description: 'Start from an empty record instead of the incoming one.' },
  { name: 'renew_time_key', type: 'string', description: "The event's time becomes the value of this key of the new record (Unix seconds, fraction allowed), when it has it." },
  {
    name: 'enable_ruby',
    type: 'bool',
    default: false,
    description: 'Fluentd evaluates `${...}` as Ruby. floki runs no Ruby: only expressions that are lookups (tag, hostname, time, tag_parts[N], tag_prefix[N], tag_suffix[N], record["a"]["b"], record.dig(...)) are accepted; any other is a config error naming it.',
  },
  { name: 'auto_typecast', type: 'bool', default: true, description: 'A value that is one placeholder and nothing else keeps the type of what it reads (a number stays a number).' },
];

export interface RecordTransformerConfig {
  /** The `<record>` map: key templates and values (strings, or what JSON values held). */
  record: Array<[string, unknown]>;
  removeKeys: FluentdKey[][];
  keepKeys: string[];
  renewRecord: boolean;
  renewTimeKey: string | undefined;
  enableRuby: boolean;
  autoTypecast: boolean;
}

/** Throws an Error naming the key when Fluentd would refuse the configuration. */
export function recordTransformerConfig(o: ResolvedOptions): RecordTransformerConfig {
  const record: Array<[string, unknown]> = [];
  const map = o.record;
  if (map !== undefined && map !== null) {
    if (typeof map !== 'object' || Array.isArray(map)) throw new Error("record: expected a map of key → template (Fluentd's <record> section)");
    for (const [k, v] of Object.entries(map as Record<string, unknown>)) record.push([k, parseValue(v)]);
  }
  const list = (key: string): string[] => (Array.isArray(o[key]) ? (o[key] as unknown[]).map(String).filter((s) => s.length > 0) : []);
  const renewRecord = o.renew_record === true;
  const keepKeys = list('keep_keys');
  if (keepKeys.length > 0 && !renewRecord) throw new Error('keep_keys: `renew_record` must be true to use `keep_keys`');
  const removeKeys = list('remove_keys').map((k) => {
    try {
      return parseFluentdAccessor(k);
    } catch (err) {
      throw new Error(`remove_keys: ${(err as Error).message}`);
    }
  });
  return {
    record,
    removeKeys,
    keepKeys,
    renewRecord,
    renewTimeKey: typeof o.renew_time_key === 'string' && o.renew_time_key.length > 0 ? o.renew_time_key : undefined,
    enableRuby: o.enable_ruby === true,
    autoTypecast: o.auto_typecast !== false,
  };
}

/** `parse_value`: a string starting with `{` or `[` is JSON when it parses (else kept as the string, as Fluentd warns and does). */
function parseValue(v: unknown): unknown {
  if (typeof v !== 'string' || !(v.startsWith('{') || v.startsWith('['))) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
