import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { regexTooLongCounter } from '../regex-metrics.js';
import { grepRules, logicalOp, type GrepRule, type LogicalOp } from './rules.js';

export const grepOptions: readonly OptionSpec[] = [
  {
    name: 'regex',
    type: 'list',
    description:
      "`KEY REGEX`: keep records whose `KEY` matches the regular expression. `KEY` is a key or a record accessor (`$kubernetes['labels']['app']`); only string values match. Repeatable (a YAML list).",
  },
  {
    name: 'exclude',
    type: 'list',
    description: '`KEY REGEX`: drop records whose `KEY` matches the regular expression. Repeatable (a YAML list).',
  },
  {
    name: 'logical_op',
    type: 'string',
    default: 'legacy',
    description:
      '`and`, `or` or `legacy` (any case). `and`/`or` combine rules of one kind (all `regex` or all `exclude`); `legacy` walks the rules in order: a failing `regex` or a matching `exclude` drops the record, a matching `regex` keeps it at once.',
  },
];

/** Fluent Bit's grep: keeps or drops whole records by regular expressions on their values. */
export class GrepFilter implements Filter {
  private readonly rules: GrepRule[];
  private readonly op: LogicalOp;

  constructor(options: ResolvedOptions, ctx: PluginContext) {
    const op = logicalOp(options.logical_op);
    if (!op.known) ctx.log.warn({ logical_op: options.logical_op }, "unknown logical_op: using legacy, as Fluent Bit does");
    this.op = op.op;
    this.rules = grepRules(options, regexTooLongCounter(ctx));
  }

  process(events: LogEvent[]): LogEvent[] {
    if (this.rules.length === 0) return events;
    // Allocated only once a record is dropped.
    let kept: LogEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const keep = this.op === 'legacy' ? this.keepLegacy(events[i]!.record) : this.keepCombined(events[i]!.record);
      if (kept !== undefined) {
        if (keep) kept.push(events[i]!);
      } else if (!keep) kept = events.slice(0, i);
    }
    return kept ?? events;
  }

  private keepLegacy(record: Record<string, unknown>): boolean {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const matched = matches(rule, record);
      if (rule.exclude) {
        if (matched) return false;
      } else return matched;
    }
    return true;
  }

  private keepCombined(record: Record<string, unknown>): boolean {
    const rules = this.rules;
    const any = this.op === 'or';
    let found = !any;
    for (let i = 0; i < rules.length; i++) {
      if (matches(rules[i]!, record) === any) {
        found = any;
        break;
      }
    }
    return rules[0]!.exclude ? !found : found;
  }
}

function matches(rule: GrepRule, record: Record<string, unknown>): boolean {
  const value = rule.key.get(record);
  return typeof value === 'string' && rule.regex.test(value);
}
