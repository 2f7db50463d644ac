import { randomUUID } from 'node:crypto';
import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { appendKey, setKey } from '../../record/append-key.js';
import { asciiLower, recordModifierConfig, type KeyPattern } from './config.js';

export const recordModifierOptions: readonly OptionSpec[] = [
  {
    name: 'record',
    type: 'list',
    description: '`KEY VALUE`: append KEY with the string VALUE (quote a value with spaces: `msg "a b"`); an existing KEY is replaced and moves last. Repeatable (a YAML list).',
  },
  {
    name: 'remove_key',
    type: 'list',
    description: 'Remove this key (any ASCII case; a trailing `*` matches a prefix). Repeatable. Not with `allowlist_key`.',
  },
  {
    name: 'allowlist_key',
    type: 'list',
    description: 'Keep only the keys listed (any ASCII case; a trailing `*` matches a prefix); a record left with no key is dropped. Repeatable. Not with `remove_key`.',
  },
  { name: 'whitelist_key', type: 'list', description: 'The old name of `allowlist_key`; both lists count.' },
  { name: 'uuid_key', type: 'string', description: 'Append this key with a random version 4 UUID to every record.' },
];

/** Fluent Bit's record_modifier: keys removed (or kept), then records appended, then the UUID. */
export class RecordModifierFilter implements Filter {
  private readonly records: Array<{ key: string; value: string }>;
  private readonly patterns: KeyPattern[];
  private readonly allowlist: boolean;
  private readonly uuidKey: string | undefined;

  constructor(options: ResolvedOptions, ctx: PluginContext) {
    const config = recordModifierConfig(options);
    for (const w of config.warnings) ctx.log.warn(w);
    this.records = config.records;
    this.patterns = config.patterns;
    this.allowlist = config.allowlist;
    this.uuidKey = config.uuidKey;
  }

  process(events: LogEvent[]): LogEvent[] {
    if (this.patterns.length === 0 && this.records.length === 0 && this.uuidKey === undefined) return events;
    let kept: LogEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const keep = this.apply(event);
      if (kept !== undefined) {
        if (keep) kept.push(event);
      } else if (!keep) kept = events.slice(0, i);
    }
    return kept ?? events;
  }

  /** False when the record was left with no key at all: Fluent Bit drops it. */
  private apply(event: LogEvent): boolean {
    const original = event.record;
    let record = original;
    let changed = false;
    if (this.patterns.length > 0) {
      let removed = false;
      const out: Record<string, unknown> = {};
      for (const key in original) {
        if (this.listed(key) === this.allowlist) setKey(out, key, original[key]);
        else removed = true;
      }
      if (removed) {
        record = out;
        changed = true;
      }
    }
    for (let r = 0; r < this.records.length; r++) appendKey(record, this.records[r]!.key, this.records[r]!.value);
    if (this.uuidKey !== undefined) appendKey(record, this.uuidKey, randomUUID());
    if (this.records.length > 0 || this.uuidKey !== undefined) changed = true;
    if (!changed) return true;
    for (const _ in record) {
      if (record !== original) event.record = record;
      event.line = undefined;
      return true;
    }
    return false;
  }

  private listed(key: string): boolean {
    const lower = asciiLower(key);
    for (let p = 0; p < this.patterns.length; p++) {
      const pattern = this.patterns[p]!;
      if (pattern.prefix ? lower.startsWith(pattern.lower) : lower === pattern.lower) return true;
    }
    return false;
  }
}
