import type { OptionSpec, ResolvedOptions } from '../../config/options.js';
import type { LogEvent } from '../../core/event.js';
import type { Filter, PluginContext } from '../../core/plugin.js';
import { appendKey, setKey } from '../../record/append-key.js';

export const nestOptions: readonly OptionSpec[] = [
  { name: 'operation', type: 'string', required: true, choices: ['nest', 'lift'], description: '`nest` keys under one key, or `lift` a map\'s keys to the top level.' },
  {
    name: 'wildcard',
    type: 'list',
    description: '`nest`: the keys to nest: a key, or a prefix ending in `*` (`Mem.*`; `*` alone is every key). Repeatable.',
  },
  { name: 'nest_under', type: 'string', description: '`nest`: the key the nested map goes under (last in the record).' },
  { name: 'nested_under', type: 'string', description: '`lift`: the key whose map is lifted (its keys go last in the record).' },
  { name: 'add_prefix', type: 'string', description: 'Prefix the nested or lifted keys with this. Not with `remove_prefix`.' },
  { name: 'remove_prefix', type: 'string', description: 'Remove this prefix from the nested or lifted keys that have it. Not with `add_prefix`.' },
];

interface Wildcard {
  key: string;
  prefix: boolean;
}

export interface NestConfig {
  lift: boolean;
  key: string;
  wildcards: Wildcard[];
  addPrefix: string | undefined;
  removePrefix: string | undefined;
}

/** Throws an Error that names the key. */
export function nestConfig(options: ResolvedOptions): NestConfig {
  const lift = options.operation === 'lift';
  const addPrefix = options.add_prefix as string | undefined;
  const removePrefix = options.remove_prefix as string | undefined;
  if (addPrefix !== undefined && removePrefix !== undefined) throw new Error('give add_prefix or remove_prefix, not both');
  // Fluent Bit keeps one key for both options: either names it.
  const key = ((lift ? options.nested_under ?? options.nest_under : options.nest_under ?? options.nested_under) as string | undefined) ?? '';
  if (key.length === 0) throw new Error(lift ? 'operation lift needs nested_under' : 'operation nest needs nest_under');
  const wildcards = ((options.wildcard as string[] | undefined) ?? []).map((w) => (w.endsWith('*') ? { key: w.slice(0, -1), prefix: true } : { key: w, prefix: false }));
  if (!lift && wildcards.length === 0) throw new Error('operation nest needs a wildcard');
  return { lift, key, wildcards, addPrefix, removePrefix };
}

/** Fluent Bit's nest: moves keys into a map under one key, or a map's keys up to the top level. */
export class NestFilter implements Filter {
  private readonly config: NestConfig;
  private warnedNotAMap = false;

  constructor(options: ResolvedOptions, private readonly ctx: PluginContext) {
    this.config = nestConfig(options);
  }

  process(events: LogEvent[]): LogEvent[] {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const record = this.config.lift ? this.lift(event.record) : this.nest(event.record);
      if (record !== undefined) {
        event.record = record;
        event.line = undefined;
      }
    }
    return events;
  }

  private nest(record: Record<string, unknown>): Record<string, unknown> | undefined {
    let any = false;
    for (const key in record) {
      if (this.nested(key)) {
        any = true;
        break;
      }
    }
    if (!any) return undefined;
    const out: Record<string, unknown> = {};
    const inner: Record<string, unknown> = {};
    for (const key in record) {
      if (this.nested(key)) appendKey(inner, this.renamed(key), record[key]);
      else setKey(out, key, record[key]);
    }
    appendKey(out, this.config.key, inner);
    return out;
  }

  private lift(record: Record<string, unknown>): Record<string, unknown> | undefined {
    const key = this.config.key;
    if (!Object.hasOwn(record, key)) return undefined;
    const value = record[key];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (!this.warnedNotAMap) {
        this.warnedNotAMap = true;
        this.ctx.log.warn({ key }, 'a value to lift is not a map: left as it is (logged once)');
      }
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const k in record) if (k !== key) setKey(out, k, record[k]);
    const map = value as Record<string, unknown>;
    for (const k in map) appendKey(out, this.renamed(k), map[k]);
    return out;
  }

  private nested(key: string): boolean {
    const wildcards = this.config.wildcards;
    for (let w = 0; w < wildcards.length; w++) {
      const wildcard = wildcards[w]!;
      if (wildcard.prefix ? key.startsWith(wildcard.key) : key === wildcard.key) return true;
    }
    return false;
  }

  private renamed(key: string): string {
    const { addPrefix, removePrefix } = this.config;
    if (addPrefix !== undefined) return addPrefix + key;
    if (removePrefix !== undefined && key.startsWith(removePrefix)) return key.slice(removePrefix.length);
    return key;
  }
}
