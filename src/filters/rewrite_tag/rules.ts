/** rewrite_tag's rules, read as rewrite_tag.c reads them: `KEY REGEX NEW_TAG KEEP`. */
import type { ResolvedOptions } from '../../config/options.js';
import { compileKeyReference, type KeyReference } from '../../record/key-reference.js';
import { TagTemplate } from '../../record/tag-template.js';
import { commaHint } from '../common/option-items.js';
import { listWords } from '../common/rule-words.js';
import { filterRegex, type FilterRegex } from '../regex.js';

export interface RewriteRule {
  key: KeyReference;
  regex: FilterRegex;
  tag: TagTemplate;
  keep: boolean;
}

/** Throws an Error whose message names the rule. */
export function rewriteRules(options: ResolvedOptions, onTooLong?: () => void): RewriteRule[] {
  const values = (options.rule as string[] | undefined) ?? [];
  if (values.length === 0) throw new Error("needs at least one 'rule'");
  return values.map((value) => {
    // A regex with spaces is written in double quotes; words past the fourth are ignored, as in Fluent Bit.
    const words = listWords(value, 4);
    const where = `key 'rule' ('${value}')`;
    if (words.length < 4) throw new Error(`${where}: expected KEY REGEX NEW_TAG KEEP${commaHint(values)}`);
    try {
      return {
        key: compileKeyReference(words[0]!),
        regex: filterRegex(words[1]!, onTooLong),
        tag: new TagTemplate(words[2]!),
        // flb_utils_bool: true, on and yes keep the record; anything else drops it.
        keep: /^(true|on|yes)$/i.test(words[3]!),
      };
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  });
}
