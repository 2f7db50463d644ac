/**
 * One `[INPUT]`/`[FILTER]`/`[OUTPUT]` section (or YAML pipeline item, or processor) against its
 * plugin's option table: each key is the plugin's own, a common key (common-keys.ts), a Fluent Bit key
 * floki ignores or refuses (fluent-bit-keys.ts), or unknown. Messages name the file, the line, the
 * section (`outputs[0]`), the plugin and the key, whatever the format.
 */
import type { PluginInstanceConfig, Section } from '../../core/pipeline-config.js';
import { lookupPlugin, type AnyPlugin, type PluginRegistry } from '../../core/registry-types.js';
import { TagMatcher } from '../../core/tag-match.js';
import type { ParserRegistry } from '../../parsers/registry.js';
import { commonKeysFor, type CommonKey } from '../common-keys.js';
import { fluentBitKey } from '../fluent-bit-keys.js';
import type { ConfigEntry, PluginSection } from '../model.js';
import type { ResolvedOptions } from '../options.js';
import type { Variables } from '../variables.js';
import { expandEntry, groupEntries, parseEntries, prefixedOption, resolveOptions, suggest, type EntryGroups } from './options.js';
import type { Report } from './report.js';
import { upstreamProblemAt } from './upstreams.js';
import { normalLogLevel } from './service.js';

export interface InstanceContext {
  registry: PluginRegistry;
  variables: Variables;
  report: Report;
  parsers: ParserRegistry;
  /** Instances per plugin name so far, for `<plugin>.<n>`. */
  counters: Map<string, number>;
}

const SECTION_OF = { input: 'inputs', filter: 'filters', output: 'outputs' } as const;
/** A matcher for an output without `match`: Fluent Bit sends it nothing. */
const NOTHING = TagMatcher.regex('(?!)');

/**
 * @param where how messages name the section: `inputs[0]`, `outputs[1].processors.logs[0]`
 * @param processor a processor: it takes every event of its input or output, so has no `match`
 */
export function resolveInstance(section: PluginSection, index: number, where: string, ctx: InstanceContext, processor = false): PluginInstanceConfig | undefined {
  const { registry, variables, report } = ctx;
  const groups = groupEntries(section.entries);
  const nameEntries = groups.get('name');
  if (!nameEntries) {
    report.problem(section, `${where}: missing required key 'name'`);
    return undefined;
  }
  const nameValue = expandEntry(nameEntries[nameEntries.length - 1]!, variables, where, report);
  if (nameValue === undefined) return undefined;
  const name = String(nameValue).trim().toLowerCase();
  const kind = section.kind;
  const plugin = lookupPlugin(registry, kind, name);
  if (!plugin) {
    const known = [...new Set([...registry.values()].filter((p) => p.kind === kind).map((p) => p.name))].sort();
    report.problem(nameEntries[0]!, `${where}: unknown ${processor ? 'processor' : kind} plugin '${name}' (known: ${known.join(', ')})`);
    return undefined;
  }
  const label = `${where} (${name})`;
  const before = report.problems.length;

  const own = new Set(plugin.options.map((o) => o.name));
  const common = new Map<string, CommonKey>(commonKeysFor(kind).map((k) => [k.name, k]));
  for (const [key, entries] of groups) {
    if (own.has(key) || common.has(key) || prefixedOption(plugin.options, key)) continue;
    const entry = entries[0]!;
    const fb = fluentBitKey(kind, name, key);
    if (!fb) {
      report.problem(entry, `${label}: unknown key '${key}'${suggest(key, [...own, ...common.keys()])}`);
      continue;
    }
    const value = expandEntry(entry, variables, label, report);
    if (value === undefined) continue;
    if (fb.status === 'refuse' && !(fb.harmlessWhen && fb.harmlessWhen(String(value)))) {
      report.problem(entry, `${label}: key '${key}' is not supported by floki (${fb.reason})`);
    } else if (fb.status === 'ignore') {
      report.warning(entry, `${label}: key '${key}' has no effect in floki (${fb.reason})`);
    }
  }

  const options = resolveOptions(plugin.options, groups, variables, label, section, report);
  const commons = commonValues(plugin, groups, common, variables, label, report, processor);

  if (plugin.check && report.problems.length === before) {
    try {
      plugin.check(options, { parsers: ctx.parsers });
    } catch (err) {
      const upstream = groups.get('upstream');
      report.problem(upstreamProblemAt(err, upstream?.[upstream.length - 1]) ?? section, `${label}: ${(err as Error).message}`);
    }
  }

  const n = ctx.counters.get(name) ?? 0;
  ctx.counters.set(name, n + 1);
  const instance: PluginInstanceConfig = {
    section: SECTION_OF[kind] as Section,
    index,
    plugin,
    instanceName: commons.alias ?? `${name}.${n}`,
    options,
    storageType: storageTypeOf(plugin, options, commons.storageType),
    line: section.line,
    file: section.file,
  };
  if (commons.logLevel !== undefined) instance.logLevel = commons.logLevel;
  if (section.routeGroup !== undefined) instance.routeGroup = section.routeGroup;
  if (section.relabel !== undefined) instance.relabel = section.relabel;
  if (!processor && kind !== 'input') {
    const matcher = matcherOf(groups, variables, label, report);
    if (matcher) instance.matcher = matcher;
    else if (kind === 'output') {
      report.warning(section, `${label}: NO match for this output instance: it receives nothing (give 'match' or 'match_regex')`);
      instance.matcher = NOTHING;
    } else report.problem(section, `${label}: missing 'match' or 'match_regex': without one it receives nothing`);
  }
  return instance;
}

interface CommonValues {
  alias?: string;
  logLevel?: string;
  storageType?: string;
}

/** The common keys this plugin does not declare: acted on by the loader, ignored, or refused. */
function commonValues(plugin: AnyPlugin, groups: EntryGroups, common: Map<string, CommonKey>, variables: Variables, label: string, report: Report, processor: boolean): CommonValues {
  const out: CommonValues = {};
  const declared = new Set(plugin.options.map((o) => o.name));
  for (const [key, spec] of common) {
    const entries = groups.get(key);
    if (!entries || declared.has(key) || key === 'name') continue;
    if (key === 'match' || key === 'match_regex') {
      if (processor) report.warning(entries[0]!, `${label}: '${key}' has no effect on a processor: it takes every event of its input or output`);
      continue;
    }
    if (spec.undeclared === 'refuse') {
      report.problem(entries[0]!, `${label}: key '${key}' is not supported by floki (${spec.reason})`);
      continue;
    }
    if (key === 'storage.type') {
      out.storageType = storageTypeValue(entries, variables, label, report);
      continue;
    }
    const value = parseEntries(spec, entries, variables, label, report);
    if (value === undefined) continue;
    if (key === 'alias') out.alias = String(value);
    else if (key === 'log_level') out.logLevel = normalLogLevel(String(value));
    else if (spec.undeclared === 'ignore') report.warning(entries[0]!, `${label}: key '${key}' has no effect in floki (${spec.reason})`);
  }
  return out;
}

function storageTypeValue(entries: ConfigEntry[], variables: Variables, label: string, report: Report): string | undefined {
  const entry = entries[entries.length - 1]!;
  const value = expandEntry(entry, variables, label, report);
  if (value === undefined || value === null) return undefined;
  const v = String(value).trim().toLowerCase();
  if (v === 'memory' || v === 'filesystem') return v;
  if (v === 'memrb') report.problem(entry, `${label}: key 'storage.type': 'memrb' is not supported by floki (a ring buffer drops the oldest records)`);
  else report.problem(entry, `${label}: key 'storage.type': expected memory or filesystem, got '${String(value)}'`);
  return undefined;
}

function storageTypeOf(plugin: AnyPlugin, options: ResolvedOptions, generic: string | undefined): PluginInstanceConfig['storageType'] {
  const v = plugin.options.some((o) => o.name === 'storage.type') ? options['storage.type'] : generic;
  return v === 'memory' || v === 'filesystem' ? v : undefined;
}

function matcherOf(groups: EntryGroups, variables: Variables, label: string, report: Report): TagMatcher | undefined {
  const match = groups.get('match');
  const regex = groups.get('match_regex');
  if (match && regex) {
    report.problem(regex[0]!, `${label}: give 'match' or 'match_regex', not both`);
    return undefined;
  }
  for (const [entries, kind] of [[match, 'match'], [regex, 'match_regex']] as const) {
    if (!entries) continue;
    if (entries.length > 1) {
      report.problem(entries[1]!, `${label}: key '${kind}' is set ${entries.length} times`);
      return NOTHING;
    }
    const value = expandEntry(entries[0]!, variables, label, report);
    if (value === undefined) return NOTHING;
    if (typeof value !== 'string' && typeof value !== 'number') {
      report.problem(entries[0]!, `${label}: key '${kind}': expected a string`);
      return NOTHING;
    }
    if (kind === 'match') return TagMatcher.wildcard(String(value));
    try {
      return TagMatcher.regex(String(value));
    } catch (err) {
      report.problem(entries[0]!, `${label}: invalid match_regex: ${(err as Error).message}`);
      return NOTHING;
    }
  }
  return undefined;
}
