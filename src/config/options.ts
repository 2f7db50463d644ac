/**
 * Plugin option tables. Each plugin declares its options once (name, type, default, description);
 * the config validator and the README's option tables are generated from that table.
 */
export type OptionType =
  | 'string'
  | 'int'
  | 'bool'
  /** A duration: `500ms`, `10s`, `5m`, `1h` or a bare number of seconds. Resolved to milliseconds. */
  | 'duration'
  /** A size: `512`, `32K`, `4M`, `1G` (1024-based, as Fluent Bit reads them). Resolved to bytes. */
  | 'size'
  /** A list of strings: a YAML sequence, or one string split on commas. */
  | 'list'
  /** Any YAML value, passed through (e.g. the dummy input's record). */
  | 'any';

export interface OptionSpec {
  name: string;
  type: OptionType;
  default?: string | number | boolean | string[];
  required?: boolean;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  /**
   * The option is a family of keys that start with this prefix (Fluent Bit's `parser_N`: `parser_1`,
   * `parser_2`, …): its value is the list of `{option: key, value}` given, in config order. Keys of
   * the plugin's other options are not part of it (`parser_firstline`).
   */
  prefix?: string;
  description: string;
}

/** Options after validation: durations in ms, sizes in bytes, bools as booleans, lists as arrays. */
export type ResolvedOptions = Record<string, unknown>;

/** One value of a `list` option, with the option's name. */
export interface OptionItem {
  option: string;
  value: string;
}

/**
 * Where the config loader keeps the values of `list` options in the order the config gives them,
 * across keys (a non-enumerable property of the resolved options): Fluent Bit applies some rules in
 * config order whatever their key (grep's `Regex`/`Exclude`, modify's rules, written interleaved).
 */
const CONFIG_ORDER = Symbol('list values in config order');

export function setConfigOrder(options: ResolvedOptions, items: readonly OptionItem[]): void {
  Object.defineProperty(options, CONFIG_ORDER, { value: items, enumerable: false });
}

/**
 * The values of the `list` options `names`, in the order the config gives them. Options made without
 * the loader (tests) have no recorded order: then options in key order, each in list order.
 */
export function itemsInConfigOrder(options: ResolvedOptions, names: readonly string[]): OptionItem[] {
  const recorded = (options as { [CONFIG_ORDER]?: readonly OptionItem[] })[CONFIG_ORDER];
  if (recorded) return recorded.filter((i) => names.includes(i.option));
  const items: OptionItem[] = [];
  for (const option of Object.keys(options)) {
    if (!names.includes(option)) continue;
    const values = options[option];
    if (!Array.isArray(values)) continue;
    for (const value of values) items.push({ option, value: String(value) });
  }
  return items;
}

export class OptionValueError extends Error {}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value * 1000);
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
    if (m) return Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()]!);
  }
  throw new OptionValueError(`expected a duration such as 500ms, 10s, 5m or a number of seconds, got ${show(value)}`);
}

export function parseSize(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i.exec(value);
    if (m) return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
  }
  throw new OptionValueError(`expected a size such as 512, 32K, 4M or 1G, got ${show(value)}`);
}

export function parseBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'on' || v === 'true' || v === 'yes') return true;
    if (v === 'off' || v === 'false' || v === 'no') return false;
  }
  throw new OptionValueError(`expected on/off or true/false, got ${show(value)}`);
}

export function parseInt10(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  throw new OptionValueError(`expected an integer, got ${show(value)}`);
}

export function parseList(value: unknown): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  throw new OptionValueError(`expected a list or a comma-separated string, got ${show(value)}`);
}

export function parseOption(spec: OptionSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new OptionValueError(`expected a string, got ${show(value)}`);
      }
      const s = String(value);
      if (spec.choices && !spec.choices.includes(s)) {
        throw new OptionValueError(`expected one of ${spec.choices.join(', ')}, got ${show(value)}`);
      }
      return s;
    }
    case 'int':
      return parseInt10(value);
    case 'bool':
      return parseBool(value);
    case 'duration':
      return parseDuration(value);
    case 'size':
      return parseSize(value);
    case 'list':
      return parseList(value);
    case 'any':
      return value;
  }
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a map';
  return String(value);
}
