/**
 * Entries of a section against an option table: `${VAR}`s replaced, values parsed to their types,
 * defaults filled in, required keys checked. A key given twice is an error (as in Fluent Bit), except
 * a list, whose values add up (`Header` or `Parsers_File` written on several lines).
 */
import type { ConfigEntry } from '../model.js';
import { OptionValueError, parseOption, setConfigOrder, type OptionItem, type OptionSpec, type ResolvedOptions } from '../options.js';
import type { Variables } from '../variables.js';
import type { Report } from './report.js';

/** Entries of one key, in order. */
export type EntryGroups = Map<string, ConfigEntry[]>;

export function groupEntries(entries: readonly ConfigEntry[]): EntryGroups {
  const groups: EntryGroups = new Map();
  for (const e of entries) {
    const key = e.key.toLowerCase();
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  return groups;
}

/** One value with its variables replaced, or undefined (the problem is reported). */
export function expandEntry(entry: ConfigEntry, variables: Variables, where: string, report: Report): ConfigEntry['value'] | undefined {
  const r = variables.expandDeep(entry.value);
  if ('error' in r) {
    report.problem(entry, `${where}: ${r.error}`);
    return undefined;
  }
  return r.value;
}

/** Parses one option from its entries; undefined when a problem was reported. */
export function parseEntries(spec: OptionSpec, entries: readonly ConfigEntry[], variables: Variables, where: string, report: Report, lastWins = false): unknown {
  if (entries.length > 1 && spec.type !== 'list' && !lastWins) {
    report.problem(entries[1]!, `${where}: key '${spec.name}' is set ${entries.length} times`);
    return undefined;
  }
  const used = spec.type === 'list' ? entries : [entries[entries.length - 1]!];
  const values: unknown[] = [];
  for (const entry of used) {
    const raw = expandEntry(entry, variables, where, report);
    if (raw === undefined) return undefined;
    try {
      values.push(parseOption(spec, raw));
    } catch (err) {
      if (!(err instanceof OptionValueError)) throw err;
      report.problem(entry, `${where}: key '${spec.name}': ${err.message}`);
      return undefined;
    }
  }
  return spec.type === 'list' ? (values as string[][]).flat() : values[0];
}

/**
 * Every option of a table from the groups of entries that name it; defaults for the rest. The values
 * of list options are also recorded in config order across keys (see `itemsInConfigOrder`).
 */
export function resolveOptions(specs: readonly OptionSpec[], groups: EntryGroups, variables: Variables, where: string, at: { file: string; line: number }, report: Report, lastWins = false): ResolvedOptions {
  const out: ResolvedOptions = {};
  const ordered: { line: number; items: OptionItem[] }[] = [];
  for (const spec of specs) {
    if (spec.prefix !== undefined) {
      out[spec.name] = prefixedItems(spec, specs, groups, variables, where, report);
      continue;
    }
    const entries = groups.get(spec.name);
    if (entries) {
      const value = parseEntries(spec, entries, variables, where, report, lastWins);
      if (value !== undefined) {
        out[spec.name] = value;
        if (spec.type === 'list') for (const entry of entries) ordered.push({ line: entry.line, items: listItems(spec, entry, variables) });
      }
      continue;
    }
    if (spec.required) {
      report.problem(at, `${where}: missing required key '${spec.name}'`);
      continue;
    }
    if (spec.default !== undefined) out[spec.name] = parseOption(spec, spec.default);
  }
  setConfigOrder(out, ordered.sort((a, b) => a.line - b.line).flatMap((o) => o.items));
  return out;
}

/** Whether `key` belongs to an option family (`prefix`) of `specs` rather than to an option of its own. */
export function prefixedOption(specs: readonly OptionSpec[], key: string): OptionSpec | undefined {
  if (specs.some((s) => s.name === key)) return undefined;
  return specs.find((s) => s.prefix !== undefined && key.startsWith(s.prefix) && key.length > s.prefix.length);
}

/** The keys of an option family, each parsed as the family's type, in config order. */
function prefixedItems(spec: OptionSpec, specs: readonly OptionSpec[], groups: EntryGroups, variables: Variables, where: string, report: Report): OptionItem[] {
  const items: { line: number; item: OptionItem }[] = [];
  for (const [key, entries] of groups) {
    if (prefixedOption(specs, key) !== spec) continue;
    const value = parseEntries({ ...spec, name: key }, entries, variables, where, report);
    if (value !== undefined) items.push({ line: entries[0]!.line, item: { option: key, value: String(value) } });
  }
  return items.sort((a, b) => a.line - b.line).map((i) => i.item);
}

/** One entry of a list option as items (it parsed once already: it cannot fail now). */
function listItems(spec: OptionSpec, entry: ConfigEntry, variables: Variables): OptionItem[] {
  const r = variables.expandDeep(entry.value);
  if ('error' in r) return [];
  return (parseOption(spec, r.value) as string[]).map((value) => ({ option: spec.name, value }));
}

/** "did you mean" for a misspelt key, by edit distance. */
export function suggest(key: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) >= 3) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
