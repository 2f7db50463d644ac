/**
 * What every parser format shares: its name, the time key and format, `time_keep`, `types`, the
 * field decoders and `skip_empty_values`; and how a value is put into the record.
 */
import type { Decoders } from '../decoders.js';
import type { TimeFormat } from '../time/time-format.js';
import { castValue, type ValueType } from '../type-cast.js';

export interface ParserSettings {
  name: string;
  /** `time_key` (default `time`); used only with a time format. */
  timeKey: string;
  timeFormat: TimeFormat | undefined;
  timeKeep: boolean;
  types: Map<string, ValueType> | undefined;
  decoders: Decoders | undefined;
  /** `skip_empty_values` (default on): a regex group that captured nothing is left out. */
  skipEmpty: boolean;
  /** `logfmt_no_bare_keys`: a logfmt key without `=` makes the line not match. */
  logfmtNoBareKeys: boolean;
}

/**
 * Sets `key` in a record being built. A repeated key ends up with its last value in the last place,
 * as Fluent Bit prints a record holding the key twice; `__proto__` is stored as a plain key.
 */
export function putKey(record: Record<string, unknown>, key: string, value: unknown): void {
  if (Object.hasOwn(record, key)) delete record[key];
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** The value a string becomes under the parser's `types`. */
export function typed(settings: ParserSettings, key: string, value: string): unknown {
  const type = settings.types?.get(key);
  return type === undefined ? value : castValue(value, type);
}

/** Fluent Bit treats a parsed time of exactly 0 as "no time" (the event keeps its own). */
export function usableTime(t: bigint | undefined): bigint | undefined {
  return t === 0n ? undefined : t;
}
