/**
 * Parser formats of Fluentd configs:
 *
 * - `none` (Fluentd's lib/fluent/plugin/parser_none.rb): the whole text under `message_key`
 *   (default `message`); the event keeps its time.
 * - `multi_format` (fluent-plugin-multi-format-parser, `<pattern>`s): the parsers named in `parsers`
 *   tried in order, the first that parses the text wins; none: not matched.
 * - `cri` (fluent/fluent-plugin-parser-cri, lib/fluent/plugin/parser_cri.rb): the line split on single
 *   whitespace characters into 4 (`split(/\s/, 4)`): time, stream, logtag, message. The record is
 *   `{stream, logtag, message}` plus `time` (the text, time_keep on by default), the time read with
 *   `%Y-%m-%dT%H:%M:%S.%L%z`; with `sub_parser` (the plugin's nested `<parse>`), the message is parsed by
 *   that parser instead and stream/logtag merged into its record (`merge_cri_fields`, default on); a
 *   message the sub-parser does not match makes the line not match.
 * - `kubernetes` (fluentd-kubernetes-daemonset's plugins/parser_kubernetes.rb, a RegexpParser with
 *   fixed settings): klog lines, `^(?<severity>\w)(?<time>\d{4} [^\s]*)\s+(?<pid>\d+)\s+(?<source>[^ \]]+)\] (?<message>.*)`
 *   with Ruby's /m (the message may span lines), time `%m%d %H:%M:%S.%N` (no year: this year), in the
 *   system time zone as Fluentd's parsers read times by default; `time` is not kept.
 */
import type { ParseResult, Parser } from '../registry.js';
import type { TimeFormat } from '../time/time-format.js';

export class NoneParser implements Parser {
  readonly timeFailures = 0;
  constructor(
    readonly name: string,
    private readonly messageKey: string,
  ) {}

  parse(text: string): ParseResult {
    return { record: { [this.messageKey]: text }, time: undefined };
  }
}

export class MultiFormatParser implements Parser {
  /** Resolved by the registry once every parser is defined. */
  parsers: Parser[] = [];
  constructor(
    readonly name: string,
    readonly parserNames: readonly string[],
  ) {}

  get timeFailures(): number {
    let n = 0;
    for (const p of this.parsers) n += p.timeFailures;
    return n;
  }

  /** The parsers' own count of values nested too deep, where they keep one. */
  get tooDeep(): number {
    let n = 0;
    for (const p of this.parsers) n += (p as { tooDeep?: number }).tooDeep ?? 0;
    return n;
  }

  parse(text: string): ParseResult | undefined {
    for (const p of this.parsers) {
      const r = p.parse(text);
      if (r !== undefined) return r;
    }
    return undefined;
  }
}

/** parser_kubernetes.rb's CONF_FORMAT1; Ruby's /m (dot matches newlines) is Onigmo's (?m:) on the one dot it has. */
export const KUBERNETES_REGEX = '^(?<severity>\\w)(?<time>\\d{4} [^\\s]*)\\s+(?<pid>\\d+)\\s+(?<source>[^ \\]]+)\\] (?<message>(?m:.*))';
/** CONF_TIME_FORMAT "%m%d %H:%M:%S.%N": Ruby's %N (fraction digits) is %L in floki's (Fluent Bit's) strptime. */
export const KUBERNETES_TIME_FORMAT = '%m%d %H:%M:%S.%L';

export const CRI_TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%L%z';

export class CriParser implements Parser {
  timeFailures = 0;
  /** Resolved by the registry once every parser is defined (the plugin's nested `<parse>`). */
  subParser: Parser | undefined;

  get tooDeep(): number {
    return (this.subParser as { tooDeep?: number } | undefined)?.tooDeep ?? 0;
  }

  constructor(
    readonly name: string,
    private readonly timeKey: string,
    private readonly timeKeep: boolean,
    private readonly timeFormat: TimeFormat,
    private readonly mergeCriFields: boolean,
    readonly subParserName: string | undefined,
  ) {}

  parse(text: string): ParseResult | undefined {
    const elems = splitWhitespace(text, 4);
    if (elems === undefined) return undefined;
    const [timeText, stream, logtag, message] = elems;
    if (this.subParserName !== undefined) {
      const r = this.subParser?.parse(message);
      if (r === undefined) return undefined;
      if (this.mergeCriFields) {
        r.record.stream = stream;
        r.record.logtag = logtag;
      }
      return r;
    }
    const time = this.timeFormat.parse(timeText);
    // The plugin's time parser raises on a time it cannot read: the line is not parsed.
    if (time === undefined) {
      this.timeFailures++;
      return undefined;
    }
    const record: Record<string, unknown> = { stream, logtag, message };
    if (this.timeKeep) record[this.timeKey] = timeText;
    return { record, time };
  }
}

/** Ruby's `text.split(/\s/, n)` when it gives exactly n parts (empty parts between two spaces count). */
function splitWhitespace(text: string, n: number): [string, string, string, string] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length && parts.length < n - 1; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length !== n - 1) return undefined;
  parts.push(text.slice(start));
  return parts as [string, string, string, string];
}
