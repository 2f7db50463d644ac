/**
 * Loki's JSON push body (`compress json_gzip`), for Loki-compatible receivers that lack protobuf:
 * `{"streams":[{"stream":{"a":"b"},"values":[["<ns>","<line>",{<structured metadata>}]]}]}`.
 * Timestamps are decimal nanosecond strings, exact (clamped to Loki's range, see encoder.ts).
 */
import { parseLabelString } from '../../labels/label-string.js';
import { StringCache, stringBytes } from '../../labels/string-cache.js';
import { clampTimestampNs, sortByTime, type LokiEntry } from './encoder.js';

export class JsonPushEncoder {
  /** A stream's label string as a JSON object, bounded in bytes. */
  private readonly streamObjects = new StringCache<string>(4 * 1024 * 1024, stringBytes);

  /** UTF-8 JSON of a push request; each stream's entries are sorted by time first (in place). */
  encode(streams: ReadonlyMap<string, LokiEntry[]>): Buffer {
    let out = '{"streams":[';
    let first = true;
    for (const [labels, entries] of streams) {
      sortByTime(entries);
      if (!first) out += ',';
      first = false;
      out += `{"stream":${this.streamJson(labels)},"values":[`;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        if (i > 0) out += ',';
        out += `["${clampTimestampNs(e.ts)}",${JSON.stringify(e.line)}${e.sm === undefined ? '' : `,${JSON.stringify(e.sm)}`}]`;
      }
      out += ']}';
    }
    return Buffer.from(`${out}]}`, 'utf8');
  }

  private streamJson(labels: string): string {
    let json = this.streamObjects.get(labels);
    if (json === undefined) {
      json = JSON.stringify(parseLabelString(labels));
      this.streamObjects.set(labels, json);
    }
    return json;
  }
}
