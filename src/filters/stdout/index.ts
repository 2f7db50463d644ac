/**
 * The `stdout` filter: prints each event and passes it on unchanged, as Fluent Bit's filter_stdout
 * (`[i] tag: [sec.nsec, {metadata}, {record}]`, i counting within each batch) or, with
 * `format fluentd`, as Fluentd's filter_stdout with its default formatter (formatter_stdout.rb:
 * `%Y-%m-%d %H:%M:%S.%N %z` in local time, the tag, `: `, the record as JSON). One write per batch.
 */
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter } from '../../core/plugin.js';
import type { FilterPlugin } from '../../core/registry-types.js';
import { dumpValue } from '../../outputs/stdout/fluent-bit-format.js';
import { fluentdLine } from '../../outputs/stdout/fluentd-format.js';

export { fluentdLine };

export const stdoutFilterOptions: readonly OptionSpec[] = [
  {
    name: 'format',
    type: 'string',
    default: 'fluent-bit',
    choices: ['fluent-bit', 'fluentd'],
    description: "`fluent-bit`: Fluent Bit's filter dump, `[0] tag: [1764670380.123456789, {}, {\"key\"=>\"value\"}]`. `fluentd`: Fluentd's, `2026-12-02 10:13:00.123456789 +0000 tag: {\"key\":\"value\"}`.",
  },
];

const NS = 1_000_000_000n;

export function fluentBitFilterLine(event: LogEvent, index: number): string {
  const seconds = event.time / NS;
  const fraction = event.time % NS;
  return `[${index}] ${event.tag}: [${seconds}.${String(fraction).padStart(9, '0')}, ${dumpValue(event.metadata ?? {})}, ${dumpValue(event.record)}]`;
}

export class StdoutFilter implements Filter {
  private readonly fluentd: boolean;
  constructor(
    options: ResolvedOptions,
    private readonly write: (text: string) => void = (text) => void process.stdout.write(text),
  ) {
    this.fluentd = options.format === 'fluentd';
  }

  process(events: LogEvent[]): LogEvent[] {
    if (events.length === 0) return events;
    let out = '';
    for (let i = 0; i < events.length; i++) out += (this.fluentd ? fluentdLine(events[i]!) : fluentBitFilterLine(events[i]!, i)) + '\n';
    this.write(out);
    return events;
  }
}

export const stdoutFilter: FilterPlugin = {
  kind: 'filter',
  name: 'stdout',
  description: "Prints each record to standard output and passes it on (Fluent Bit's and Fluentd's stdout filter)",
  options: stdoutFilterOptions,
  create: (options) => new StdoutFilter(options),
};
