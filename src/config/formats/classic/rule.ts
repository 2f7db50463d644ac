/**
 * A `[MULTILINE_PARSER]` `rule` line: `"state" "/regex/" "next_state"`. Tokens are separated by
 * spaces; a token in double quotes may hold spaces and `\"`. The next state may be left out.
 */
import type { MultilineRuleSpec } from '../../../parsers/registry.js';

export function parseRule(value: string, line: number): MultilineRuleSpec | string {
  const tokens = splitTokens(value);
  if (typeof tokens === 'string') return tokens;
  if (tokens.length < 2 || tokens.length > 3) {
    return `a rule is "state" "/regex/" "next_state", got ${tokens.length} part${tokens.length === 1 ? '' : 's'}`;
  }
  return { state: tokens[0]!, regex: tokens[1]!, nextState: tokens[2] ?? '', line };
}

export function splitTokens(value: string): string[] | string {
  const tokens: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i >= value.length) break;
    if (value[i] === '"') {
      let token = '';
      let j = i + 1;
      for (; j < value.length; j++) {
        if (value[j] === '\\' && value[j + 1] === '"') {
          token += '"';
          j++;
        } else if (value[j] === '"') break;
        else token += value[j];
      }
      if (j >= value.length) return 'a quoted part of the rule is not closed';
      tokens.push(token);
      i = j + 1;
    } else {
      let j = i;
      while (j < value.length && value[j] !== ' ' && value[j] !== '\t') j++;
      tokens.push(value.slice(i, j));
      i = j;
    }
  }
  return tokens;
}
