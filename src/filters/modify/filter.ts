import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { regexTooLongCounter } from '../regex-metrics.js';
import { holds, type Condition } from './conditions.js';
import { modifyConfig } from './config.js';
import { applyRule, type ModifyRule } from './rules.js';

const rule = (name: string, description: string): OptionSpec => ({ name, type: 'list', description: `${description} Repeatable (a YAML list).` });

export const modifyOptions: readonly OptionSpec[] = [
  rule('set', '`KEY VALUE`: set KEY to the string VALUE; an existing KEY is replaced and moves last.'),
  rule('add', '`KEY VALUE`: add KEY with the string VALUE unless KEY exists.'),
  rule('remove', '`KEY`: remove KEY.'),
  rule('remove_wildcard', '`PREFIX`: remove every key that starts with PREFIX (a `*` in it is a character, as in Fluent Bit).'),
  rule('remove_regex', '`REGEX`: remove every key that matches REGEX.'),
  rule('rename', '`KEY NEW`: rename KEY to NEW in its place, unless NEW exists.'),
  rule('hard_rename', '`KEY NEW`: rename KEY to NEW in its place; an existing NEW is removed.'),
  rule('copy', '`KEY NEW`: copy KEY to NEW, just after KEY, unless NEW exists.'),
  rule('hard_copy', '`KEY NEW`: copy KEY to NEW, just after KEY; an existing NEW is removed.'),
  rule('move_to_start', '`PREFIX`: move the keys that start with PREFIX to the start, in their order.'),
  rule('move_to_end', '`PREFIX`: move the keys that start with PREFIX to the end, in their order.'),
  rule(
    'condition',
    '`CONDITION KEY [VALUE]`: the rules apply only to records for which every condition holds: `key_exists`, `key_does_not_exist`, `a_key_matches`, `no_key_matches`, `key_value_equals`, `key_value_does_not_equal`, `key_value_matches`, `key_value_does_not_match`, `matching_keys_have_matching_values`, `matching_keys_do_not_have_matching_values` (any case). KEY may be a record accessor.',
  ),
];

/**
 * Fluent Bit's modify: rules in config order (each on the result of the one before) on the records
 * for which every condition holds. Words are split on spaces; quote a value with spaces (`"a b"`).
 */
export class ModifyFilter implements Filter {
  private readonly rules: ModifyRule[];
  private readonly conditions: Condition[];

  constructor(options: ResolvedOptions, ctx: PluginContext) {
    const config = modifyConfig(options, regexTooLongCounter(ctx));
    for (const w of config.warnings) ctx.log.warn(w);
    this.rules = config.rules;
    this.conditions = config.conditions;
  }

  process(events: LogEvent[]): LogEvent[] {
    const { rules, conditions } = this;
    if (rules.length === 0) return events;
    next: for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const original = event.record;
      for (let c = 0; c < conditions.length; c++) if (!holds(conditions[c]!, original)) continue next;
      let record = original;
      let changed = false;
      for (let r = 0; r < rules.length; r++) {
        const after = applyRule(rules[r]!, record);
        if (after !== undefined) {
          record = after;
          changed = true;
        }
      }
      if (changed) {
        if (record !== original) event.record = record;
        // The line a filter before fixed showed the record as it was.
        event.line = undefined;
      }
    }
    return events;
  }
}
