/** modify's options read into rules and conditions, as modify.c's setup reads its properties. */
import type { ResolvedOptions } from '../../config/options.js';
import { compileKeyReference } from '../../record/key-reference.js';
import { commaHint, describeItem, optionItems, type OptionItem } from '../common/option-items.js';
import { quotedWords } from '../common/rule-words.js';
import { filterRegex } from '../regex.js';
import type { Condition } from './conditions.js';
import { ONE_WORD_RULES, TWO_WORD_RULES, type ModifyRule } from './rules.js';

export const RULE_OPTIONS: readonly string[] = [...ONE_WORD_RULES, ...TWO_WORD_RULES];

export interface ModifyConfig {
  rules: ModifyRule[];
  conditions: Condition[];
  /** Things Fluent Bit does that a user may not expect, to log once at start. */
  warnings: string[];
}

/** Throws an Error whose message names the key and value. */
export function modifyConfig(options: ResolvedOptions, onTooLong?: () => void): ModifyConfig {
  const config: ModifyConfig = { rules: [], conditions: [], warnings: [] };
  for (const item of optionItems(options, ['condition', ...RULE_OPTIONS])) {
    const words = quotedWords(item.value, 3);
    if (words === undefined) throw new Error(`${describeItem(item)}: a quote is not closed`);
    if (words.length === 0 || words.length > 3) throw new Error(`${describeItem(item)}: expected at most three words (quote a value with spaces)`);
    try {
      if (item.option === 'condition') config.conditions.push(condition(item, words, commaHint(options.condition), onTooLong));
      else config.rules.push(rule(item, words, config.warnings, commaHint(options[item.option]), onTooLong));
    } catch (err) {
      throw new Error(`${describeItem(item)}: ${(err as Error).message}`);
    }
  }
  return config;
}

function rule(item: OptionItem, words: string[], warnings: string[], hint: string, onTooLong?: () => void): ModifyRule {
  const op = item.option;
  if (words.length === 3) {
    // modify.c gives a three-word rule no operation, and its first operation is RENAME.
    warnings.push(`${describeItem(item)} has three words: Fluent Bit treats it as 'rename ${words[0]} ${words[2]}', and so does floki; quote a value with spaces`);
    return { op: 'rename', key: words[0]!, to: words[2]! };
  }
  const [a, b] = words as [string, string | undefined];
  if ((ONE_WORD_RULES as readonly string[]).includes(op)) {
    if (b !== undefined) throw new Error(`${op} takes one word, a key`);
    switch (op) {
      case 'remove':
        return { op, key: a };
      case 'remove_regex':
        if (a.length === 0) throw new Error('empty regular expression');
        return { op, regex: filterRegex(a, onTooLong) };
      case 'remove_wildcard':
        return { op, prefix: a };
      default:
        return { op: op as 'move_to_start' | 'move_to_end', prefix: a };
    }
  }
  if (b === undefined) throw new Error(`${op} takes two words${hint}`);
  if (op === 'set' || op === 'add') return { op, key: a, value: b };
  return { op: op as 'rename' | 'hard_rename' | 'copy' | 'hard_copy', key: a, to: b };
}

function condition(item: OptionItem, words: string[], hint: string, onTooLong?: () => void): Condition {
  const kind = words[0]!.toLowerCase();
  const a = words[1];
  const b = words[2];
  if (a === undefined || a.length === 0) throw new Error(`${kind} needs a key`);
  const needB = (what: string): string => {
    if (b === undefined || b.length === 0) throw new Error(`${kind} needs ${what}${hint}`);
    return b;
  };
  switch (kind) {
    case 'key_exists':
    case 'key_does_not_exist':
      return { kind, key: compileKeyReference(a) };
    case 'a_key_matches':
    case 'no_key_matches':
      return { kind, keyRegex: filterRegex(a, onTooLong) };
    case 'key_value_equals':
    case 'key_value_does_not_equal':
      return { kind, key: compileKeyReference(a), value: needB('a value') };
    case 'key_value_matches':
    case 'key_value_does_not_match':
      return { kind, key: compileKeyReference(a), valueRegex: filterRegex(needB('a regular expression'), onTooLong) };
    case 'matching_keys_have_matching_values':
    case 'matching_keys_do_not_have_matching_values':
      return { kind, keyRegex: filterRegex(a, onTooLong), valueRegex: filterRegex(needB('a regular expression for values'), onTooLong) };
    default:
      throw new Error(`unknown condition '${words[0]}'`);
  }
}
