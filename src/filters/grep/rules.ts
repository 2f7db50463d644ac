import type { ResolvedOptions } from '../../config/options.js';
import { compileKeyReference, type KeyReference } from '../../record/key-reference.js';
import { firstWordAndRest } from '../common/rule-words.js';
import { commaHint, describeItem, optionItems } from '../common/option-items.js';
import { filterRegex, type FilterRegex } from '../regex.js';

export interface GrepRule {
  exclude: boolean;
  key: KeyReference;
  regex: FilterRegex;
}

export type LogicalOp = 'legacy' | 'and' | 'or';

/** `logical_op` as Fluent Bit reads it: AND, OR or legacy in any case; anything else is legacy. */
export function logicalOp(value: unknown): { op: LogicalOp; known: boolean } {
  const v = String(value ?? 'legacy').toLowerCase();
  return v === 'and' || v === 'or' || v === 'legacy' ? { op: v, known: true } : { op: 'legacy', known: false };
}

/** The rules in config order. Throws an Error whose message names the key and value. */
export function grepRules(options: ResolvedOptions, onTooLong?: () => void): GrepRule[] {
  const op = logicalOp(options.logical_op).op;
  const rules: GrepRule[] = [];
  for (const item of optionItems(options, ['regex', 'exclude'])) {
    const exclude = item.option === 'exclude';
    if (op !== 'legacy' && rules.length > 0 && rules[0]!.exclude !== exclude) {
      throw new Error(`with logical_op ${op}, give either regex or exclude rules, not both`);
    }
    const words = firstWordAndRest(item.value);
    if (words.length !== 2) throw new Error(`${describeItem(item)}: expected a key and a regular expression${commaHint(options[item.option])}`);
    // grep reads a bare key as a record accessor: `log` is `$log` (so `Mem.used` is the key `Mem`).
    const keyText = words[0]!.startsWith('$') ? words[0]! : '$' + words[0]!;
    try {
      rules.push({ exclude, key: compileKeyReference(keyText), regex: filterRegex(words[1]!, onTooLong) });
    } catch (err) {
      throw new Error(`${describeItem(item)}: ${(err as Error).message}`);
    }
  }
  return rules;
}
