/**
 * Parser formats of Fluentd configs:
 *
 * - `none` (Fluentd's lib/fluent/plugin/parser_none.rb): the whole text under `message_key`
 *   (default `message`); the event keeps its time.
 * - `multi_format` (fluent-plugin-multi-format-parser, `<pattern>`s): the parsers named in `parsers`
 *   tried in order, the first that parses the text wins; none: not matched.
 * - `kubernetes` (fluentd-kubernetes-daemonset's plugins/parser_kubernetes.rb, a RegexpParser with
 *   fixed settings): klog lines, `^(?<severity>\w)(?<time>\d{4} [^\s]*)\s+(?<pid>\d+)\s+(?<source>[^ \]]+)\] (?<message>.*)`
 *   with Ruby's /m (the message may span lines), time `%m%d %H:%M:%S.%N` (no year: this year), in the
 *   system time zone as Fluentd's parsers read times by default; `time` is not kept.
 */
import type { ParseResult, Parser } from '../registry.js';

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
