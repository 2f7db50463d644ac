import type { OptionItem } from '../../config/options.js';

export { itemsInConfigOrder as optionItems, type OptionItem } from '../../config/options.js';

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
