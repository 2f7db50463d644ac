/**
 * `format regex` (Fluent Bit's flb_parser_regex.c): the record is the named groups of the first
 * match, in the pattern's order; unnamed groups are dropped, and a pattern without named groups never
 * matches. A group that captured nothing (or did not take part) is an empty string, or left out under
 * `skip_empty_values` (on by default). The time key is read with the time format: when it does not
 * fit, the key is dropped and the event keeps its own time.
 */
import type { ParseResult, Parser } from '../registry.js';
import type { BoundedRegex } from '../regex/bounded-regex.js';
import { putKey, typed, usableTime, type ParserSettings } from './parser-settings.js';

export class RegexParser implements Parser {
  timeFailures = 0;
  /** decode_field json values nested too deeply (see Parser.tooDeep). */
  get tooDeep(): number {
    return this.s.decoders?.tooDeep ?? 0;
  }
  readonly name: string;

  constructor(
    private readonly s: ParserSettings,
    readonly regex: BoundedRegex,
  ) {
    this.name = s.name;
  }

  parse(text: string): ParseResult | undefined {
    const names = this.regex.names;
    if (names.length === 0) return undefined;
    const m = this.regex.exec(text);
    if (m === null) return undefined;
    const s = this.s;
    const record: Record<string, unknown> = {};
    let time: bigint | undefined;
    for (let i = 0; i < names.length; i++) {
      const value = m[i + 1] ?? '';
      if (value.length === 0 && s.skipEmpty) continue;
      const name = names[i]!;
      if (s.timeFormat !== undefined && name === s.timeKey) {
        const t = s.timeFormat.parse(value);
        if (t === undefined) {
          this.timeFailures++;
          continue;
        }
        time = t;
        if (!s.timeKeep) continue;
      }
      putKey(record, name, typed(s, name, value));
    }
    s.decoders?.apply(record);
    return { record, time: usableTime(time) };
  }
}
