/**
 * The Loki line of an event: `LogEvent.line` when a filter fixed it, otherwise the record (after
 * `remove_keys` and the keys placed in labels) as `json` or `key_value`, as Fluent Bit's out_loki does.
 *
 * `drop_single_key` (Fluent Bit): when one key remains, send only its value. `on` keeps the value in
 * the line format (json: a string stays quoted); `raw` sends a string value unquoted.
 *
 * key_value differs from Fluent Bit on purpose: string values are quoted with escapes (Fluent Bit
 * leaves inner quotes as they are) and maps/arrays are quoted JSON (Fluent Bit prints Go-like
 * `map[...]`), so Loki's `| logfmt` parser reads every line back.
 */
import type { LogEvent } from '../core/event.js';
import type { PathSegment } from './record-accessor.js';
import { RecordPruner } from './record-pruner.js';
import { MsgpackJsonTranscoder } from '../msgpack/json-transcoder.js';
import { MAX_JSON_CHARS, toJson } from './json-text.js';
import { fluentdKeyValueLine, rubyToS } from './fluentd-key-value.js';

/** fluentd_key_value: fluent-plugin-grafana-loki's key_value (see fluentd-key-value.ts). */
export type LineFormat = 'json' | 'key_value' | 'fluentd_key_value';
export type DropSingleKey = 'off' | 'on' | 'raw';

export const LINE_FORMATS: readonly LineFormat[] = ['json', 'key_value', 'fluentd_key_value'];
export const DROP_SINGLE_KEY_VALUES: readonly string[] = ['off', 'on', 'raw', 'false', 'true', 'no', 'yes'];

export function parseDropSingleKey(value: string): DropSingleKey {
  const v = value.trim().toLowerCase();
  if (v === 'raw') return 'raw';
  if (v === 'on' || v === 'true' || v === 'yes') return 'on';
  if (v === 'off' || v === 'false' || v === 'no') return 'off';
  throw new Error(`drop_single_key: expected on, off or raw, got '${value}'`);
}

export interface LineFormatterOptions {
  format: LineFormat;
  dropSingleKey: DropSingleKey;
  /** `remove_keys` paths plus the paths placed in labels. */
  removePaths: readonly (readonly PathSegment[])[];
  /**
   * Longest line worth writing when a record can only be printed by the slow path (see json-text.ts):
   * just over `max_line_size`, which cuts it (and counts it) after. Default: no practical limit.
   */
  maxChars?: number;
}

export class LineFormatter {
  private readonly pruner: RecordPruner;
  private readonly keyValue: boolean;
  private readonly fluentdKeyValue: boolean;
  private readonly dropSingleKey: DropSingleKey;

  /** The line is the whole record as JSON: nothing removed, no single-key rule. */
  private readonly wholeJson: boolean;
  private readonly printer = new MsgpackJsonTranscoder([]);
  private readonly maxChars: number;

  constructor(options: LineFormatterOptions) {
    this.maxChars = options.maxChars ?? MAX_JSON_CHARS;
    this.pruner = new RecordPruner(options.removePaths);
    this.keyValue = options.format === 'key_value';
    this.fluentdKeyValue = options.format === 'fluentd_key_value';
    this.dropSingleKey = options.dropSingleKey;
    this.wholeJson = !this.keyValue && !this.fluentdKeyValue && this.dropSingleKey === 'off' && options.removePaths.length === 0;
  }

  lineFor(event: LogEvent): string {
    if (event.line !== undefined) return event.line;
    // A record still in its msgpack bytes (forward input) is printed from them: as a worker thread
    // printed it ahead, or here. The same text as format(), and the same whichever prints it.
    const raw = this.wholeJson ? event.msgpack : undefined;
    if (raw !== undefined) {
      const json = raw.json ?? this.printer.transcode(raw.buf, raw.start, raw.end);
      if (json !== undefined) return json;
    }
    return this.format(event.record);
  }

  format(record: Record<string, unknown>): string {
    const rec = this.pruner.prune(record);
    if (this.dropSingleKey !== 'off') {
      const only = singleKey(rec);
      if (only !== undefined) return this.fluentdKeyValue ? rubyToS(rec[only]) : this.formatSingle(rec[only]);
    }
    if (this.fluentdKeyValue) return fluentdKeyValueLine(rec, this.maxChars);
    return this.keyValue ? keyValueLine(rec, this.maxChars) : toJson(rec, this.maxChars);
  }

  private formatSingle(value: unknown): string {
    if (typeof value === 'string' && (this.keyValue || this.dropSingleKey === 'raw')) return value;
    return this.keyValue ? keyValueValue(value, this.maxChars) : toJson(value, this.maxChars);
  }
}

/** The only own key of a map, or undefined when it has none or several. */
function singleKey(rec: Record<string, unknown>): string | undefined {
  let found: string | undefined;
  for (const key in rec) {
    if (!Object.hasOwn(rec, key)) continue;
    if (found !== undefined) return undefined;
    found = key;
  }
  return found;
}

function keyValueLine(rec: Record<string, unknown>, maxChars: number): string {
  let out = '';
  for (const key in rec) {
    if (!Object.hasOwn(rec, key)) continue;
    const v = rec[key];
    if (v === undefined) continue;
    if (out.length > 0) out += ' ';
    out += `${key}=${keyValueValue(v, maxChars)}`;
    if (out.length > maxChars) break;
  }
  return out;
}

function keyValueValue(v: unknown, maxChars: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'null';
    default:
      return v === null ? 'null' : JSON.stringify(toJson(v, maxChars));
  }
}
