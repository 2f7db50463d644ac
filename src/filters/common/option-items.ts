import type { ResolvedOptions } from '../../config/options.js';

/** One value of a repeatable option, with the option's name. */
export interface OptionItem {
  option: string;
  value: string;
}

/**
 * The values of the repeatable options `names` in the order the config gives them: options in the
 * order of their keys (the config keeps its order), each option's values in list order. Fluent Bit
 * applies rules in the order its config lists them, across option names.
 */
export function optionItems(options: ResolvedOptions, names: readonly string[]): OptionItem[] {
  const items: OptionItem[] = [];
  for (const option of Object.keys(options)) {
    if (!names.includes(option)) continue;
    const values = options[option];
    if (!Array.isArray(values)) continue;
    for (const value of values) items.push({ option, value: String(value) });
  }
  return items;
}

/** Says where a rule came from in an error message: `key 'regex' ('log aa')`. */
export function describeItem(item: OptionItem): string {
  return `key '${item.option}' ('${item.value}')`;
}

/**
 * The hint added to a rule that has too few words when its option has several values: the config
 * reader splits a single string on commas, so the words may have been cut off there.
 */
export function commaHint(values: unknown): string {
  return Array.isArray(values) && values.length > 1 ? ' (a value with a comma must be written as a YAML list item: a single string is split on commas)' : '';
}
