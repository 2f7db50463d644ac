/**
 * The stdout formats of Fluent Bit's `stdout` output, as Fluent Bit 5.1.1 prints them:
 * - `json_lines` / `json_stream`: one record a line, `{"date":<time>, ...record}`;
 * - `json`: each batch as one JSON array of such records, on one line;
 * - `msgpack`: Fluent Bit's dump, `[n] tag: [[sec.nsec, {metadata}], {"key"=>value, ...}]`.
 * `json_date_key` names the time key (`false`: none) and `json_date_format` its form.
 */
import type { LogEvent } from '../../core/event.js';
import { toJson } from '../../labels/json-text.js';

export type JsonDateFormat = 'double' | 'epoch' | 'epoch_ms' | 'iso8601' | 'java_sql_timestamp';
export const JSON_DATE_FORMATS: readonly JsonDateFormat[] = ['double', 'epoch', 'epoch_ms', 'iso8601', 'java_sql_timestamp'];

const NS_PER_SECOND = 1_000_000_000n;

/**
 * The time as Fluent Bit writes it under json_date_key, as JSON text. `double` is the seconds as a C
 * double printed with 16 significant digits (so 123456789 ns shows as .123457, and .999999999 as the
 * next second, `.0`); the others are cut to microseconds or milliseconds.
 */
export function jsonDate(ns: bigint, format: JsonDateFormat): string {
  let seconds = ns / NS_PER_SECOND;
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += NS_PER_SECOND;
  }
  const micros = String(fraction / 1000n).padStart(6, '0');
  switch (format) {
    case 'double':
      return doubleText(Number(seconds) + Number(fraction) / 1e9);
    case 'epoch':
      return String(seconds);
    case 'epoch_ms':
      return String(seconds * 1000n + fraction / 1_000_000n);
    case 'iso8601':
    case 'java_sql_timestamp': {
      const date = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
      return format === 'iso8601' ? `"${date}.${micros}Z"` : `"${date.replace('T', ' ')}.${micros}"`;
    }
  }
}

/** A double as Fluent Bit prints one in JSON: `%.16g`, with `.0` when that looks like an integer. */
function doubleText(x: number): string {
  let text = x.toPrecision(16);
  if (text.includes('e')) return String(x);
  if (text.includes('.')) text = text.replace(/\.?0+$/, '');
  return text.includes('.') ? text : text + '.0';
}

/** Fluent Bit's JSON escapes every character past ASCII, and DEL, as `\uXXXX` (UTF-16 units). */
function escapeNonAscii(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** One record as Fluent Bit's JSON formats print it: the date key first, then the record's keys. */
export function fluentBitJson(event: LogEvent, dateKey: string | undefined, dateFormat: JsonDateFormat): string {
  const record = escapeNonAscii(toJson(event.record));
  if (dateKey === undefined) return record;
  const date = `${escapeNonAscii(JSON.stringify(dateKey))}:${escapeNonAscii(jsonDate(event.time, dateFormat))}`;
  return record === '{}' ? `{${date}}` : `{${date},${record.slice(1)}`;
}

/** Fluent Bit's `msgpack` dump of one event (its `msgpack_object_print`: `=>` in maps, floats with six decimals, nil). */
export function fluentBitDump(event: LogEvent, index: number): string {
  let seconds = event.time / NS_PER_SECOND;
  let fraction = event.time % NS_PER_SECOND;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += NS_PER_SECOND;
  }
  const time = `${seconds}.${String(fraction).padStart(9, '0')}`;
  return `[${index}] ${event.tag}: [[${time}, ${dumpValue(event.metadata ?? {})}], ${dumpValue(event.record)}]`;
}

/** Past this depth a value prints as `...`: a parsed log line can nest deeper than the stack allows. */
const MAX_DUMP_DEPTH = 256;

export function dumpValue(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return 'nil';
  switch (typeof value) {
    case 'string':
      return `"${value}"`;
    case 'number':
      return Number.isInteger(value) ? String(value) : value.toFixed(6);
    case 'bigint':
      return String(value);
    case 'boolean':
      return String(value);
    case 'object': {
      if (depth >= MAX_DUMP_DEPTH) return '...';
      if (Array.isArray(value)) return `[${value.map((v) => dumpValue(v, depth + 1)).join(', ')}]`;
      if (value instanceof Uint8Array) return `"${Buffer.from(value).toString('latin1')}"`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) parts.push(`"${k}"=>${dumpValue(v, depth + 1)}`);
      return `{${parts.join(', ')}}`;
    }
    default:
      return 'nil';
  }
}
