/**
 * Fluent Bit's parser filter (filter_parser.c, as 5.1.1 runs it): parses one string value of each
 * record with the parsers of the config, tried in order; the first that matches makes the record.
 *
 * - The record becomes the parsed keys, then (`reserve_data`) the record's other keys, then
 *   (`preserve_key`, with or without reserve_data) the parsed key itself, in the record's order. A key
 *   in both keeps the record's value at the record's place, as Fluent Bit prints such a record.
 * - `key_name` may be a record accessor (`$kubernetes['log']`): then reserve_data keeps every key of
 *   the record, the accessor's top-level key included, and preserve_key adds nothing (the binary's
 *   behaviour, whatever the documentation says).
 * - A time the parser read (not 0) becomes the event's time; metadata stays.
 * - A record whose value no parser matches, or that has no string at the key, passes unchanged and is
 *   counted (`floki_filter_parser_unparsed_records_total{name,reason}`).
 * - A value (or a decode_field value) nested deeper than a record may be is not parsed, as text that
 *   is not JSON; counted (`floki_filter_parser_too_deep_values_total{name}`), logged once.
 */
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import { MAX_RECORD_NESTING } from '../../core/limits.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { putKey } from '../../parsers/formats/parser-settings.js';
import type { Parser, ParserRegistry } from '../../parsers/registry.js';
import { compileKeyReference, type KeyReference } from '../../record/key-reference.js';
import { fluentdParserRules, reshape, type FluentdParserRules } from './fluentd-rules.js';

export const parserFilterOptions: readonly OptionSpec[] = [
  {
    name: 'key_name',
    type: 'string',
    required: true,
    description: "The key whose string value is parsed: a key, or a record accessor (`$kubernetes['log']`).",
  },
  {
    name: 'parser',
    type: 'list',
    required: true,
    description: 'Parsers of the config (`parsers`, `[PARSER]`, `parsers_file`), tried in order until one matches. Repeatable (one a line, or a YAML list).',
  },
  {
    name: 'reserve_data',
    type: 'bool',
    default: false,
    description: "Keep the record's other keys after the parsed ones; off: the record is the parsed keys alone.",
  },
  {
    name: 'preserve_key',
    type: 'bool',
    default: false,
    description: 'Keep `key_name` itself (after the parsed keys), with or without reserve_data. Not for a record accessor key (as in Fluent Bit).',
  },
  { name: 'unescape_key', type: 'any', description: "Deprecated in Fluent Bit and ignored there; accepted and ignored." },
  {
    name: 'record_layout',
    type: 'string',
    default: 'fluent-bit',
    choices: ['fluent-bit', 'fluentd'],
    description:
      "`fluentd`: Fluentd's filter_parser rules instead of Fluent Bit's: key_name is a Fluentd record accessor (`$.a.b`); reserve_data puts the record's keys first and the parsed values win; a record that does not parse (or lacks key_name) is dropped, or kept as it is with reserve_data (Fluentd sends it to its error stream); remove_key_name_field and reserve_time apply.",
  },
  { name: 'inject_key_prefix', type: 'string', description: "Fluentd's: put this before each parsed key." },
  { name: 'hash_value_field', type: 'string', description: "Fluentd's: the parsed keys go under this key (a map) instead of at the top." },
  { name: 'remove_key_name_field', type: 'bool', default: false, description: "record_layout fluentd: remove key_name from the record when it parsed (Fluent Bit's way is preserve_key off)." },
  { name: 'reserve_time', type: 'bool', default: false, description: "record_layout fluentd: keep the event's time even when the parser read one." },
];

export type Unparsed = 'no_match' | 'no_value';

export interface ParserFilterSettings {
  key: KeyReference;
  /** The key when it is a plain key (not a record accessor). */
  plainKey: string | undefined;
  parsers: Parser[];
  /** Parser names the config does not define (Fluent Bit logs them and goes on without them). */
  unknown: string[];
  reserveData: boolean;
  preserveKey: boolean;
  injectKeyPrefix: string | undefined;
  hashValueField: string | undefined;
  /** record_layout fluentd: Fluentd's rules (fluentd-rules.ts). */
  fluentd: FluentdParserRules | undefined;
}

/** Reads the options; throws an Error naming the key when the filter cannot work. */
export function parserFilterSettings(options: ResolvedOptions, registry: ParserRegistry): ParserFilterSettings {
  const keyName = String(options.key_name ?? '');
  if (keyName.length === 0) throw new Error("key_name: expected a key");
  const fluentd = options.record_layout === 'fluentd' ? fluentdParserRules(options, keyName) : undefined;
  let key: KeyReference;
  try {
    key = compileKeyReference(fluentd === undefined ? keyName : 'x');
  } catch (err) {
    throw new Error(`key_name: ${(err as Error).message}`);
  }
  const names = ((options.parser as string[] | undefined) ?? []).map((n) => n.trim()).filter((n) => n.length > 0);
  const parsers: Parser[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const p = registry.parser(n);
    if (p === undefined) unknown.push(n);
    else parsers.push(p);
  }
  if (parsers.length === 0) {
    const known = registry.parserNames();
    throw new Error(`parser: no parser named ${names.map((n) => `'${n}'`).join(', ') || '(none given)'} in the config${known.length ? ` (known: ${known.join(', ')})` : ''}`);
  }
  return {
    key,
    plainKey: keyName.startsWith('$') ? undefined : keyName,
    parsers,
    unknown,
    reserveData: options.reserve_data === true,
    preserveKey: options.preserve_key === true,
    injectKeyPrefix: typeof options.inject_key_prefix === 'string' && options.inject_key_prefix.length > 0 ? options.inject_key_prefix : undefined,
    hashValueField: typeof options.hash_value_field === 'string' && options.hash_value_field.length > 0 ? options.hash_value_field : undefined,
    fluentd,
  };
}

export class ParserFilter implements Filter {
  private readonly s: ParserFilterSettings;
  private readonly unparsed: Record<Unparsed, { inc(n: number): void }>;
  private readonly timeFailures: { inc(n: number): void };
  private readonly tooDeep: { inc(n: number): void };
  private tooDeepLogged = false;
  private readonly log: PluginContext['log'];

  constructor(options: ResolvedOptions, ctx: PluginContext) {
    this.s = parserFilterSettings(options, ctx.parsers);
    if (this.s.unknown.length > 0) ctx.log.warn({ parsers: this.s.unknown }, 'parser: no parser of that name in the config; the filter goes on with the others, as Fluent Bit does');
    if (options.unescape_key !== undefined) ctx.log.warn('unescape_key is deprecated in Fluent Bit and does nothing: ignored');
    const m = ctx.metrics;
    const unparsed = m.counter('floki_filter_parser_unparsed_records_total', 'Records the parser filter passed on unchanged: no parser matched their value, or they had no string at key_name', ['name', 'reason']);
    this.unparsed = { no_match: unparsed.labels(ctx.name, 'no_match'), no_value: unparsed.labels(ctx.name, 'no_value') };
    this.timeFailures = m
      .counter('floki_filter_parser_time_failures_total', 'Parsed values whose time did not fit the parser\'s time_format (the event keeps its own time)', ['name'])
      .labels(ctx.name);
    this.tooDeep = m
      .counter('floki_filter_parser_too_deep_values_total', `Values (or decode_field values) left unparsed because they nest deeper than ${MAX_RECORD_NESTING} levels`, ['name'])
      .labels(ctx.name);
    this.log = ctx.log;
  }

  process(events: LogEvent[]): LogEvent[] {
    const s = this.s;
    if (s.fluentd !== undefined) return this.processFluentd(events, s.fluentd);
    const parsers = s.parsers;
    let noMatch = 0;
    let noValue = 0;
    let timeFailures = 0;
    let tooDeep = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const original = event.record;
      const text = textOf(s.plainKey !== undefined ? (Object.hasOwn(original, s.plainKey) ? original[s.plainKey] : undefined) : s.key.get(original));
      if (text === undefined) {
        noValue++;
        continue;
      }
      let parsed: Record<string, unknown> | undefined;
      let time: bigint | undefined;
      for (let p = 0; p < parsers.length; p++) {
        const parser = parsers[p]!;
        const failuresBefore = parser.timeFailures;
        const deepBefore = parser.tooDeep;
        const r = parser.parse(text);
        if (parser.timeFailures !== failuresBefore) timeFailures++;
        if (parser.tooDeep !== deepBefore) tooDeep++;
        if (r !== undefined) {
          parsed = r.record;
          time = r.time;
          break;
        }
      }
      if (parsed === undefined) {
        noMatch++;
        continue;
      }
      event.record = this.merge(reshape(parsed, s.injectKeyPrefix, s.hashValueField), original);
      if (time !== undefined) event.time = time;
      // The line a filter before fixed showed the record as it was.
      event.line = undefined;
    }
    if (noMatch > 0) this.unparsed.no_match.inc(noMatch);
    if (noValue > 0) this.unparsed.no_value.inc(noValue);
    if (timeFailures > 0) this.timeFailures.inc(timeFailures);
    if (tooDeep > 0) this.countTooDeep(tooDeep);
    return events;
  }

  private countTooDeep(n: number): void {
    this.tooDeep.inc(n);
    if (this.tooDeepLogged) return;
    this.tooDeepLogged = true;
    this.log.warn(`a value nested deeper than ${MAX_RECORD_NESTING} levels was left unparsed (logged once; see floki_filter_parser_too_deep_values_total)`);
  }

  private merge(parsed: Record<string, unknown>, original: Record<string, unknown>): Record<string, unknown> {
    const s = this.s;
    const plain = s.plainKey;
    if (s.reserveData) {
      for (const k of Object.keys(original)) {
        if (k === plain && !s.preserveKey) continue;
        putKey(parsed, k, original[k]);
      }
    } else if (s.preserveKey && plain !== undefined) putKey(parsed, plain, original[plain]);
    return parsed;
  }

  /** Fluentd's filter_parser: `filter_stream` / `filter_one_record` / `handle_parsed`. */
  private processFluentd(events: LogEvent[], rules: FluentdParserRules): LogEvent[] {
    const s = this.s;
    let kept: LogEvent[] | undefined;
    let noMatch = 0;
    let noValue = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const result = rules.apply(event.record, s.parsers, s.reserveData, s.injectKeyPrefix, s.hashValueField);
      if (result.outcome === 'no_value') noValue++;
      else if (result.outcome === 'no_match') noMatch++;
      if (result.record === undefined) {
        kept ??= events.slice(0, i);
        continue;
      }
      if (result.record !== event.record) {
        event.record = result.record;
        event.line = undefined;
      }
      if (result.time !== undefined && !rules.reserveTime) event.time = result.time;
      kept?.push(event);
    }
    if (noMatch > 0) this.unparsed.no_match.inc(noMatch);
    if (noValue > 0) this.unparsed.no_value.inc(noValue);
    return kept ?? events;
  }
}

/** A string value, or the UTF-8 text of a binary one (msgpack bin), as Fluent Bit reads both. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return undefined;
}
