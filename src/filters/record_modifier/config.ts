/** record_modifier's options read as filter_modifier.c reads them. */
import type { ResolvedOptions } from '../../config/options.js';
import { listWords } from '../common/rule-words.js';
import { commaHint } from '../common/option-items.js';

/** A key of remove_key or allowlist_key: compared without regard to ASCII case; a trailing `*` makes it a prefix. */
export interface KeyPattern {
  lower: string;
  prefix: boolean;
}

export interface RecordModifierConfig {
  records: Array<{ key: string; value: string }>;
  /** remove_key's patterns, or allowlist_key's (and whitelist_key's): never both. */
  patterns: KeyPattern[];
  allowlist: boolean;
  uuidKey: string | undefined;
  warnings: string[];
}

export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function patterns(values: unknown): KeyPattern[] {
  if (!Array.isArray(values)) return [];
  return values.map((v) => {
    const s = String(v);
    return s.endsWith('*') ? { lower: asciiLower(s.slice(0, -1)), prefix: true } : { lower: asciiLower(s), prefix: false };
  });
}

/** Throws an Error whose message names the key and value. */
export function recordModifierConfig(options: ResolvedOptions): RecordModifierConfig {
  const config: RecordModifierConfig = { records: [], patterns: [], allowlist: false, uuidKey: undefined, warnings: [] };
  for (const value of (options.record as string[] | undefined) ?? []) {
    const words = listWords(value, 2);
    if (words.length < 2) throw new Error(`key 'record' ('${value}'): expected a key and a value${commaHint(options.record)}`);
    if (words.length > 2) {
      // Fluent Bit logs an error and goes on without the rule.
      config.warnings.push(`key 'record' ('${value}') has more than two words: Fluent Bit skips it, and so does floki; quote a value with spaces`);
      continue;
    }
    config.records.push({ key: words[0]!, value: words[1]! });
  }
  const remove = patterns(options.remove_key);
  const allow = [...patterns(options.allowlist_key), ...patterns(options.whitelist_key)];
  if (remove.length > 0 && allow.length > 0) throw new Error('give remove_key or allowlist_key (whitelist_key), not both');
  config.patterns = remove.length > 0 ? remove : allow;
  config.allowlist = allow.length > 0;
  const uuid = options.uuid_key;
  config.uuidKey = typeof uuid === 'string' && uuid.length > 0 ? uuid : undefined;
  return config;
}
