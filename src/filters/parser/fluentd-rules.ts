/**
 * `record_layout fluentd` of the parser filter: Fluentd's lib/fluent/plugin/filter_parser.rb.
 *
 * - key_name is a Fluentd record accessor (`$.a.b`, `$['a']`, or a plain key);
 * - parsed: the record is `handle_parsed`'s: the parsed keys (prefixed by inject_key_prefix, under
 *   hash_value_field when set), and with reserve_data `record.merge(parsed)` — the record's keys
 *   first, in their order, the parsed values replacing the record's; remove_key_name_field deletes
 *   key_name first; the parser's time unless reserve_time (or the parser read none);
 * - not parsed, or key_name missing: Fluentd sends the record to its error stream (dropped here) and,
 *   with reserve_data only, passes `record.merge({})` on (with hash_value_field: the field set to {}).
 */
import type { ResolvedOptions } from '../../config/options.js';
import type { Parser } from '../../parsers/registry.js';
import { deleteFluentd, digFluentd, parseFluentdAccessor, type FluentdKey } from '../common/fluentd-accessor.js';

export interface FluentdParseOutcome {
  /** undefined: the record is dropped (Fluentd's error stream). */
  record: Record<string, unknown> | undefined;
  time: bigint | undefined;
  outcome: 'parsed' | 'no_match' | 'no_value';
}

export interface FluentdParserRules {
  reserveTime: boolean;
  apply(record: Record<string, unknown>, parsers: readonly Parser[], reserveData: boolean, prefix: string | undefined, hashField: string | undefined): FluentdParseOutcome;
}

/** Prefixes the parsed keys and nests them under hash_value_field, as `handle_parsed` does. */
export function reshape(values: Record<string, unknown>, prefix: string | undefined, hashField: string | undefined): Record<string, unknown> {
  let v = values;
  if (prefix !== undefined) {
    const out: Record<string, unknown> = {};
    for (const k in v) out[prefix + k] = v[k];
    v = out;
  }
  return hashField === undefined ? v : { [hashField]: v };
}

export function fluentdParserRules(options: ResolvedOptions, keyName: string): FluentdParserRules {
  let keys: FluentdKey[];
  try {
    keys = parseFluentdAccessor(keyName);
  } catch (err) {
    throw new Error(`key_name: ${(err as Error).message}`);
  }
  const removeKey = options.remove_key_name_field === true;
  const reserveTime = options.reserve_time === true;
  return {
    reserveTime,
    apply(record, parsers, reserveData, prefix, hashField) {
      const raw = digFluentd(record, keys);
      const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : undefined;
      const kept = (outcome: 'no_match' | 'no_value'): FluentdParseOutcome => {
        if (!reserveData) return { record: undefined, time: undefined, outcome };
        return { record: merge(record, reshape({}, prefix, hashField)), time: undefined, outcome };
      };
      if (raw === undefined || raw === null) return kept('no_value');
      if (text === undefined) return kept('no_match');
      for (const p of parsers) {
        const r = p.parse(text);
        if (r === undefined) continue;
        if (removeKey) deleteFluentd(record, keys);
        const values = reshape(r.record, prefix, hashField);
        return { record: reserveData ? merge(record, values) : values, time: r.time, outcome: 'parsed' };
      }
      return kept('no_match');
    },
  };
}

/** Ruby's `record.merge(values)`. */
function merge(record: Record<string, unknown>, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in record) out[k] = record[k];
  for (const k in values) out[k] = values[k];
  return out;
}
