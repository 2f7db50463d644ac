/**
 * `format logfmt` (Fluent Bit's flb_parser_logfmt.c): `key=value key="quoted \"value\"" flag`.
 * Keys and bare values are runs of characters above space other than `=` and `"`; anything else
 * between pairs is skipped. A key without a value (`flag`, `flag=`) is `true`, `key=""` is an empty
 * string; quoted values are unescaped (not when `types` are set, as in Fluent Bit). Reading stops at
 * a line break right after a pair. A time that does not fit the format makes the line not match; a
 * line with no pair left does not match either.
 */
import type { ParseResult, Parser } from '../registry.js';
import { unescapeUtf8 } from '../unescape.js';
import { putKey, typed, usableTime, type ParserSettings } from './parser-settings.js';

function ident(c: number): boolean {
  return c > 0x20 && c !== 0x3d && c !== 0x22;
}

export class LogfmtParser implements Parser {
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
    let pairs = 0;
    let c = 0;
    while (c < end) {
      while (c < end && !ident(text.charCodeAt(c))) c++;
      if (c === end) break;
      const keyStart = c;
      while (c < end && ident(text.charCodeAt(c))) c++;
      const key = text.slice(keyStart, c);
      let value = '';
      let valueSet = false;
      let quoted = false;
      let escaped = false;
      if (c < end && text.charCodeAt(c) === 0x3d) {
        valueSet = true;
        c++;
        if (c < end) {
          if (text.charCodeAt(c) === 0x22) {
            c++;
            const start = c;
            quoted = true;
            while (c < end) {
              const ch = text.charCodeAt(c);
              if (ch === 0x5c) {
                escaped = true;
                c++;
                if (c === end) break;
                c++;
              } else if (ch === 0x22) break;
              else c++;
            }
            value = text.slice(start, c);
            if (c < end && text.charCodeAt(c) === 0x22) c++;
          } else {
            const start = c;
            while (c < end && ident(text.charCodeAt(c))) c++;
            value = text.slice(start, c);
          }
        }
      }
      if (s.logfmtNoBareKeys && value.length === 0 && !valueSet) return undefined;
      let isTime = false;
      if (s.timeFormat !== undefined && value.length > 0 && key === s.timeKey) {
        const t = s.timeFormat.parse(value);
        if (t === undefined) {
          this.timeFailures++;
          return undefined;
        }
        time = t;
        isTime = true;
      }
      if (!isTime || s.timeKeep) {
        pairs++;
        if (s.types !== undefined) putKey(record, key, typed(s, key, value));
        else if (value.length === 0) putKey(record, key, quoted ? '' : true);
        else putKey(record, key, escaped ? unescapeUtf8(value) : value);
      }
      if (c === end) break;
      const ch = text.charCodeAt(c);
      if (ch === 0x0d || ch === 0x0a) break;
    }
    if (pairs === 0) return undefined;
    s.decoders?.apply(record);
    return { record, time: usableTime(time) };
  }
}
