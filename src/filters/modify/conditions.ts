/**
 * modify's conditions, as Fluent Bit's modify.c evaluates them: on the record as it came in, all of
 * them before any rule. Value conditions name a key or a record accessor; key-pattern conditions look
 * at top-level keys. A value "equals" only as a string; it "matches" as a string or a boolean
 * (`true`/`false`); numbers, maps and arrays do neither.
 */
import type { KeyReference } from '../../record/key-reference.js';
import type { FilterRegex } from '../regex.js';

type Rec = Record<string, unknown>;

export type Condition =
  | { kind: 'key_exists' | 'key_does_not_exist'; key: KeyReference }
  | { kind: 'a_key_matches' | 'no_key_matches'; keyRegex: FilterRegex }
  | { kind: 'key_value_equals' | 'key_value_does_not_equal'; key: KeyReference; value: string }
  | { kind: 'key_value_matches' | 'key_value_does_not_match'; key: KeyReference; valueRegex: FilterRegex }
  | { kind: 'matching_keys_have_matching_values' | 'matching_keys_do_not_have_matching_values'; keyRegex: FilterRegex; valueRegex: FilterRegex };

export function holds(c: Condition, record: Rec): boolean {
  switch (c.kind) {
    case 'key_exists':
      return c.key.get(record) !== undefined;
    case 'key_does_not_exist':
      return c.key.get(record) === undefined;
    case 'a_key_matches':
      return anyKeyMatches(record, c.keyRegex);
    case 'no_key_matches':
      return !anyKeyMatches(record, c.keyRegex);
    case 'key_value_equals':
      return c.key.get(record) === c.value;
    case 'key_value_does_not_equal': {
      const v = c.key.get(record);
      return v !== undefined && v !== c.value;
    }
    case 'key_value_matches':
      return valueMatches(c.key.get(record), c.valueRegex);
    case 'key_value_does_not_match': {
      const v = c.key.get(record);
      return v !== undefined && !valueMatches(v, c.valueRegex);
    }
    case 'matching_keys_have_matching_values':
      return matchingKeysMatch(record, c.keyRegex, c.valueRegex);
    // The page says "all matching keys have values that do not match"; Fluent Bit 5.1.1 negates the
    // condition above instead (true as soon as one matching key's value does not match).
    case 'matching_keys_do_not_have_matching_values':
      return !matchingKeysMatch(record, c.keyRegex, c.valueRegex);
  }
}

function anyKeyMatches(record: Rec, regex: FilterRegex): boolean {
  for (const key in record) if (regex.test(key)) return true;
  return false;
}

function valueMatches(value: unknown, regex: FilterRegex): boolean {
  if (typeof value === 'string') return regex.test(value);
  if (typeof value === 'boolean') return regex.test(value ? 'true' : 'false');
  return false;
}

function matchingKeysMatch(record: Rec, keyRegex: FilterRegex, valueRegex: FilterRegex): boolean {
  for (const key in record) {
    if (keyRegex.test(key) && !valueMatches(record[key], valueRegex)) return false;
  }
  return true;
}
