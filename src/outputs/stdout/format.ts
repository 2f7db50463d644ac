import type { LogEvent } from '../../core/event.js';
import { toJson } from '../../labels/json-text.js';
import { fluentBitDump, fluentBitJson, type JsonDateFormat } from './fluent-bit-format.js';
import { fluentdLine } from './fluentd-format.js';

/** floki's own `readable` and `loki_json_lines`, and Fluent Bit's formats. */
export type StdoutFormat = 'readable' | 'loki_json_lines' | 'json_lines' | 'json_stream' | 'json' | 'msgpack' | 'fluentd';
export const STDOUT_FORMATS: readonly StdoutFormat[] = ['readable', 'loki_json_lines', 'json_lines', 'json_stream', 'json', 'msgpack', 'fluentd'];

/** How Fluent Bit's JSON formats write the time. */
export interface JsonDate {
  /** Undefined: no time key (`json_date_key false`). */
  key: string | undefined;
  format: JsonDateFormat;
}

const NS_PER_SECOND = 1_000_000_000n;

/**
 * Nanoseconds since the epoch as RFC3339 with nine fractional digits (`2026-11-25T10:00:00.000123456Z`).
 * The date part is cached per second, since a batch's entries mostly share one.
 */
export class Rfc3339NanoFormatter {
  private second: bigint | undefined;
  private prefix = '';

  format(ns: bigint): string {
    let second = ns / NS_PER_SECOND;
    let fraction = ns % NS_PER_SECOND;
    // bigint division truncates toward zero; times before 1970 need the floor.
    if (fraction < 0n) {
      second -= 1n;
      fraction += NS_PER_SECOND;
    }
    if (second !== this.second) {
      this.second = second;
      // toISOString gives `YYYY-MM-DDTHH:MM:SS.mmmZ`; keep up to the dot.
      this.prefix = new Date(Number(second) * 1000).toISOString().slice(0, -4);
    }
    return this.prefix + fraction.toString().padStart(9, '0') + 'Z';
  }
}

/** The entry's line: the one a filter fixed, or the record as JSON (bigints as strings, any depth). */
export function lineOf(event: LogEvent): string {
  return event.line ?? toJson(event.record);
}

/** `{type="Warning", reason="BackOff"}`, as logcli prints a stream's labels. */
export function readableLabels(labels: Record<string, string> | undefined): string {
  if (labels === undefined) return '{}';
  let out = '';
  for (const name in labels) {
    out += (out.length === 0 ? '{' : ', ') + name + '=' + JSON.stringify(labels[name]);
  }
  return out.length === 0 ? '{}' : out + '}';
}

/** One batch as text, ending with `\n`: one entry per line (`json`: the batch as one array). */
export function formatBatch(events: readonly LogEvent[], format: StdoutFormat, time: Rfc3339NanoFormatter, date: JsonDate = { key: 'date', format: 'double' }): string {
  let out = '';
  if (format === 'json_lines' || format === 'json_stream') {
    for (let i = 0; i < events.length; i++) out += fluentBitJson(events[i]!, date.key, date.format) + '\n';
  } else if (format === 'json') {
    for (let i = 0; i < events.length; i++) out += (i === 0 ? '[' : ',') + fluentBitJson(events[i]!, date.key, date.format);
    out += ']\n';
  } else if (format === 'fluentd') {
    for (let i = 0; i < events.length; i++) out += fluentdLine(events[i]!) + '\n';
  } else if (format === 'msgpack') {
    for (let i = 0; i < events.length; i++) out += fluentBitDump(events[i]!, i) + '\n';
  } else if (format === 'loki_json_lines') {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      out +=
        '{"tag":' + JSON.stringify(e.tag) +
        ',"time":"' + time.format(e.time) +
        '","labels":' + JSON.stringify(e.labels ?? {}) +
        ',"line":' + JSON.stringify(lineOf(e)) + '}\n';
    }
  } else {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      out += time.format(e.time) + ' ' + e.tag + ' ' + readableLabels(e.labels) + ' ' + lineOf(e) + '\n';
    }
  }
  return out;
}
