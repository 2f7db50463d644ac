/**
 * modify's rules: each works on the top-level keys of the record as the rules before it left it, as
 * Fluent Bit's modify.c does (keys are compared as they are; `*` in a wildcard is a character).
 */
import { appendKey, copyValue, setKey } from '../../record/append-key.js';
import type { FilterRegex } from '../regex.js';

type Rec = Record<string, unknown>;

export type ModifyRule =
  | { op: 'set' | 'add'; key: string; value: string }
  | { op: 'remove'; key: string }
  | { op: 'remove_wildcard'; prefix: string }
  | { op: 'move_to_start' | 'move_to_end'; prefix: string }
  | { op: 'remove_regex'; regex: FilterRegex }
  | { op: 'rename' | 'hard_rename' | 'copy' | 'hard_copy'; key: string; to: string };

export const ONE_WORD_RULES = ['remove', 'remove_wildcard', 'remove_regex', 'move_to_start', 'move_to_end'] as const;
export const TWO_WORD_RULES = ['set', 'add', 'rename', 'hard_rename', 'copy', 'hard_copy'] as const;

/** Applies `rule`: the record it gave (the same object or a new one), or undefined when it left it alone. */
export function applyRule(rule: ModifyRule, record: Rec): Rec | undefined {
  switch (rule.op) {
    case 'set':
      appendKey(record, rule.key, rule.value);
      return record;
    case 'add':
      if (Object.hasOwn(record, rule.key)) return undefined;
      setKey(record, rule.key, rule.value);
      return record;
    case 'remove':
      if (!Object.hasOwn(record, rule.key)) return undefined;
      delete record[rule.key];
      return record;
    case 'remove_wildcard':
    case 'remove_regex':
      return removeKeys(record, rule);
    case 'move_to_start':
    case 'move_to_end':
      return move(record, rule.prefix, rule.op === 'move_to_start');
    case 'rename':
      if (!Object.hasOwn(record, rule.key) || Object.hasOwn(record, rule.to)) return undefined;
      return rebuild(record, rule.key, rule.to, 'rename');
    case 'hard_rename':
      if (!Object.hasOwn(record, rule.key)) return undefined;
      // Onto itself, Fluent Bit drops the key as the existing target and renames nothing.
      if (rule.key === rule.to) {
        delete record[rule.key];
        return record;
      }
      return rebuild(record, rule.key, rule.to, 'rename');
    case 'copy':
      if (!Object.hasOwn(record, rule.key) || Object.hasOwn(record, rule.to)) return undefined;
      return rebuild(record, rule.key, rule.to, 'copy');
    case 'hard_copy':
      // Onto itself, Fluent Bit writes a broken map and keeps the record as it was.
      if (!Object.hasOwn(record, rule.key) || rule.key === rule.to) return undefined;
      return rebuild(record, rule.key, rule.to, 'copy');
  }
}

function removeKeys(record: Rec, rule: { op: 'remove_wildcard'; prefix: string } | { op: 'remove_regex'; regex: FilterRegex }): Rec | undefined {
  let removed = false;
  for (const key in record) {
    if (rule.op === 'remove_wildcard' ? key.startsWith(rule.prefix) : rule.regex.test(key)) {
      delete record[key];
      removed = true;
    }
  }
  return removed ? record : undefined;
}

/** A new record with `key` renamed to (or followed by a copy named) `to` in its place, and any other `to` left out. */
function rebuild(record: Rec, key: string, to: string, how: 'rename' | 'copy'): Rec {
  const out: Rec = {};
  for (const k in record) {
    if (k === to) continue;
    if (k !== key) setKey(out, k, record[k]);
    else if (how === 'rename') setKey(out, to, record[k]);
    else {
      setKey(out, k, record[k]);
      setKey(out, to, copyValue(record[k]));
    }
  }
  return out;
}

function move(record: Rec, prefix: string, toStart: boolean): Rec | undefined {
  const keys = Object.keys(record);
  if (!keys.some((k) => k.startsWith(prefix))) return undefined;
  const out: Rec = {};
  for (const k of keys) if (k.startsWith(prefix) === toStart) setKey(out, k, record[k]);
  for (const k of keys) if (k.startsWith(prefix) !== toStart) setKey(out, k, record[k]);
  return out;
}
