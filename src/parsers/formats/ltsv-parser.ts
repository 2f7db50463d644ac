/**
 * `format ltsv` (Fluent Bit's flb_parser_ltsv.c, http://ltsv.org): `label:value` fields separated by
 * tabs. Labels are `[0-9A-Za-z_.-]+`; a value runs to the next tab or line break. Reading stops at a
 * label not followed by `:` and at a line break. A time that does not fit the format makes the line
 * not match; a line with no field left does not match either.
 */
import type { ParseResult, Parser } from '../registry.js';
import { putKey, typed, usableTime, type ParserSettings } from './parser-settings.js';

function labelChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x2d;
}

/** Fluent Bit's field table: every byte but NUL, tab, LF, CR and 0x0e. */
function fieldChar(c: number): boolean {
  return c !== 0x00 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0e;
}

export class LtsvParser implements Parser {
  timeFailures = 0;
  /** decode_field json values nested too deeply (see Parser.tooDeep). */
  get tooDeep(): number {
    return this.s.decoders?.tooDeep ?? 0;
  }
  readonly name: string;

  constructor(private readonly s: ParserSettings) {
    this.name = s.name;
  }

  parse(text: string): ParseResult | undefined {
    const s = this.s;
    const end = text.length;
    const record: Record<string, unknown> = {};
    let time: bigint | undefined;
    let fields = 0;
    let c = 0;
    while (c < end) {
      const labelStart = c;
      while (c < end && labelChar(text.charCodeAt(c))) c++;
      if (c === end || text.charCodeAt(c) !== 0x3a) break;
      const label = text.slice(labelStart, c);
      c++;
      const fieldStart = c;
      while (c < end && fieldChar(text.charCodeAt(c))) c++;
      const field = text.slice(fieldStart, c);
      if (label.length > 0) {
        let isTime = false;
        if (s.timeFormat !== undefined && field.length > 0 && label === s.timeKey) {
          const t = s.timeFormat.parse(field);
          if (t === undefined) {
            this.timeFailures++;
            return undefined;
          }
          time = t;
          isTime = true;
        }
        if (!isTime || s.timeKeep) {
          fields++;
          putKey(record, label, typed(s, label, field));
        }
      }
      if (c === end) break;
      if (text.charCodeAt(c) === 0x09) c++;
      if (c === end) break;
      const ch = text.charCodeAt(c);
      if (ch === 0x0d || ch === 0x0a) break;
    }
    if (fields === 0) return undefined;
    s.decoders?.apply(record);
    return { record, time: usableTime(time) };
  }
}
