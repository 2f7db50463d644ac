/**
 * `format json` (Fluent Bit's flb_parser_json.c): the text must hold one JSON object (see
 * json-text.ts for what may follow it). Decoders run first; then the time key, when it is a string,
 * is read with the time format and removed (unless `time_keep`); when it does not fit, the key stays
 * and the event keeps its own time. `types` do not apply to JSON, as in Fluent Bit.
 * A text nested deeper than a record may be does not match (counted in `tooDeep`).
 */
import type { ParseResult, Parser } from '../registry.js';
import { parseOneJsonValue, TOO_DEEP } from './json-text.js';
import { usableTime, type ParserSettings } from './parser-settings.js';

export class JsonParser implements Parser {
  timeFailures = 0;
  private deepTexts = 0;
  readonly name: string;

  constructor(private readonly s: ParserSettings) {
    this.name = s.name;
  }

  /** Texts (and decode_field values) left unparsed for nesting deeper than a record may. */
  get tooDeep(): number {
    return this.deepTexts + (this.s.decoders?.tooDeep ?? 0);
  }

  parse(text: string): ParseResult | undefined {
    // Only an object makes a record: a text whose first value cannot be one is refused without
    // JSON.parse (whose exception costs microseconds on every plain line a parser list tries).
    let i = 0;
    while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x7b) return undefined;
    const value = parseOneJsonValue(text);
    if (value === TOO_DEEP) {
      this.deepTexts++;
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    const s = this.s;
    s.decoders?.apply(record);
    if (s.timeFormat === undefined || !Object.hasOwn(record, s.timeKey)) return { record, time: undefined };
    const raw = record[s.timeKey];
    if (typeof raw !== 'string') return { record, time: undefined };
    const time = s.timeFormat.parse(raw);
    if (time === undefined) {
      this.timeFailures++;
      return { record, time: undefined };
    }
    if (!s.timeKeep) delete record[s.timeKey];
    return { record, time: usableTime(time) };
  }
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
