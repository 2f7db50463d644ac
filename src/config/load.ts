import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import type { AnyPlugin } from '../core/registry-types.js';
import type { ServiceSettings } from '../core/plugin.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { OptionValueError, parseOption, type OptionSpec, type ResolvedOptions } from './options.js';
import { SERVICE_OPTIONS } from './service-options.js';
import { TagMatcher } from '../core/tag-match.js';
import { ParserRegistry } from '../parsers/registry.js';

export type Section = 'inputs' | 'filters' | 'outputs';

export interface PluginInstanceConfig {
  section: Section;
  index: number;
  plugin: AnyPlugin;
  /** Instance name for metrics and logs: the `alias`, else `<plugin>.<n>` counted per plugin name. */
  instanceName: string;
  options: ResolvedOptions;
  /**
   * `storage.type` (Fluent Bit's key): `filesystem` on an input means its events are on disk before
   * they are acknowledged, so outputs fed by it buffer on disk. Taken from the plugin's own option
   * when it declares one, else accepted on every input and output.
   */
  storageType?: 'memory' | 'filesystem';
  /** For filters and outputs: which tags they take. */
  matcher?: TagMatcher;
  /**
   * Filters that run on this input's or output's events alone, in order (YAML `processors: logs:`):
   * an input's before routing, an output's just before it takes the events.
   */
  processors?: PluginInstanceConfig[];
  line: number;
}

export interface ServiceConfig extends ServiceSettings {
  httpServer: boolean;
  httpListen: string;
  httpPort: number;
}

export interface FlokiConfig {
  file: string;
  service: ServiceConfig;
  inputs: PluginInstanceConfig[];
  filters: PluginInstanceConfig[];
  outputs: PluginInstanceConfig[];
  /** Named parsers and multiline parsers, for the plugins that parse. */
  parsers: ParserRegistry;
}

export type PluginRegistry = ReadonlyMap<string, AnyPlugin>;

const SECTION_KIND = { inputs: 'input', filters: 'filter', outputs: 'output' } as const;
const COMMON_KEYS: Record<Section, readonly string[]> = {
  inputs: ['name', 'alias'],
  filters: ['name', 'alias', 'match', 'match_regex'],
  outputs: ['name', 'alias', 'match', 'match_regex'],
};
const TOP_LEVEL = new Set(['service', 'pipeline', 'env']);

export function loadConfigFile(path: string, registry: PluginRegistry, environment: NodeJS.ProcessEnv = process.env): FlokiConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: basename(path), line: 0, message: `cannot read config: ${(err as Error).message}` }]);
  }
  return parseConfig(text, basename(path), registry, environment);
}

/** Parses and validates a config in Fluent Bit's YAML schema; throws ConfigError with every problem found. */
export function parseConfig(text: string, file: string, registry: PluginRegistry, environment: NodeJS.ProcessEnv = process.env): FlokiConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 0);
  const problem = (node: Node | null | undefined, message: string) => problems.push({ file, line: lineOf(node), message });

  for (const e of doc.errors) problems.push({ file, line: e.linePos?.[0]?.line ?? 0, message: e.message.split('\n')[0]! });
  if (problems.length) throw new ConfigError(problems);

  const root = doc.contents;
  const parsers = new ParserRegistry();
  const config: FlokiConfig = { file, service: resolveService(undefined, problem), inputs: [], filters: [], outputs: [], parsers };
  if (root === null || root === undefined) {
    throw new ConfigError([{ file, line: 1, message: 'the config is empty: it needs a pipeline' }]);
  }
  if (!isMap(root)) throw new ConfigError([{ file, line: lineOf(root), message: 'the config must be a map with service and pipeline' }]);

  const envSection = pairValue(root, 'env');
  const env: Record<string, string> = {};
  if (envSection) {
    if (!isMap(envSection)) problem(envSection, "'env' must be a map of names to values");
    else for (const p of envSection.items) env[String(keyOf(p))] = String(isScalar(p.value) ? p.value.value : '');
  }
  const substitute = (value: unknown, node: Node | null | undefined, where: string): unknown => {
    if (typeof value !== 'string' || !value.includes('${')) return value;
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name] ?? environment[name];
      if (v === undefined) {
        problem(node, `${where}: variable '${name}' is not set (in env or the environment)`);
        return '';
      }
      return v;
    });
  };

  for (const pair of root.items) {
    const key = String(keyOf(pair));
    if (!TOP_LEVEL.has(key)) problem(pair.key as Node, `unknown section '${key}' (expected service, pipeline or env)`);
  }

  const service = pairValue(root, 'service');
  if (service && !isMap(service)) problem(service, "'service' must be a map");
  config.service = resolveService(isMap(service) ? service : undefined, problem, substitute);

  const pipeline = pairValue(root, 'pipeline');
  if (!pipeline) problem(root, "missing 'pipeline' with inputs and outputs");
  else if (!isMap(pipeline)) problem(pipeline, "'pipeline' must be a map with inputs, filters and outputs");
  else {
    for (const pair of pipeline.items) {
      const key = String(keyOf(pair));
      if (key !== 'inputs' && key !== 'filters' && key !== 'outputs') {
        problem(pair.key as Node, `unknown key 'pipeline.${key}' (expected inputs, filters or outputs)`);
      }
    }
    const counters = new Map<string, number>();
    for (const section of ['inputs', 'filters', 'outputs'] as const) {
      const list = pairValue(pipeline, section);
      if (!list) continue;
      if (!isSeq(list)) {
        problem(list, `'${section}' must be a list of plugins, each a map with 'name'`);
        continue;
      }
      list.items.forEach((item, index) => {
        const instance = resolveInstance(section, index, item as Node, registry, counters, problem, () => problems.length, lineOf, substitute, parsers);
        if (instance) config[section].push(instance);
      });
    }
    for (const instance of [...config.inputs, ...config.outputs]) {
      if (instance.storageType === 'filesystem' && config.service.storagePath === undefined) {
        problems.push({ file, line: instance.line, message: `${instance.section}[${instance.index}] (${instance.plugin.name}): storage.type filesystem needs 'storage.path' in service` });
      }
    }
    if (!pairValue(pipeline, 'inputs')) problem(pipeline, "the pipeline has no 'inputs'");
    if (!pairValue(pipeline, 'outputs')) problem(pipeline, "the pipeline has no 'outputs'");
  }

  if (problems.length) throw new ConfigError(problems);
  return config;
}

type ProblemFn = (node: Node | null | undefined, message: string) => void;
type SubstituteFn = (value: unknown, node: Node | null | undefined, where: string) => unknown;

function resolveService(map: YAMLMap | undefined, problem: ProblemFn, substitute: SubstituteFn = (v) => v): ServiceConfig {
  const values = resolveOptions(map, SERVICE_OPTIONS, [], 'service', problem, substitute);
  return {
    flushMs: values['flush'] as number,
    graceMs: values['grace'] as number,
    logLevel: values['log_level'] as string,
    httpServer: values['http_server'] as boolean,
    httpListen: values['http_listen'] as string,
    httpPort: values['http_port'] as number,
    storagePath: values['storage.path'] as string | undefined,
  };
}

function resolveInstance(
  section: Section,
  index: number,
  node: Node,
  registry: PluginRegistry,
  counters: Map<string, number>,
  problem: ProblemFn,
  problemCount: () => number,
  lineOf: (n: Node | null | undefined) => number,
  substitute: SubstituteFn,
  parsers: ParserRegistry,
): PluginInstanceConfig | undefined {
  const where = `${section}[${index}]`;
  if (!isMap(node)) {
    problem(node, `${where}: expected a map with 'name' and the plugin's keys`);
    return undefined;
  }
  const nameNode = pairValue(node, 'name');
  const name = isScalar(nameNode) ? String(nameNode.value) : undefined;
  if (!name) {
    problem(node, `${where}: missing required key 'name'`);
    return undefined;
  }
  const plugin = registry.get(name);
  const kind = SECTION_KIND[section];
  if (!plugin || plugin.kind !== kind) {
    const known = [...registry.values()].filter((p) => p.kind === kind).map((p) => p.name).sort();
    problem(nameNode, `${where}: unknown ${kind} plugin '${name}' (known: ${known.join(', ')})`);
    return undefined;
  }
  const before = problemCount();
  const ownsStorageType = plugin.options.some((o) => o.name === 'storage.type');
  const commonKeys = section === 'filters' || ownsStorageType ? COMMON_KEYS[section] : [...COMMON_KEYS[section], 'storage.type'];
  const options = resolveOptions(node, plugin.options, commonKeys, `${where} (${name})`, problem, substitute);
  const storageNode = pairValue(node, 'storage.type');
  const storageValue = ownsStorageType ? options['storage.type'] : isScalar(storageNode) ? substitute(storageNode.value, storageNode, where) : undefined;
  let storageType: 'memory' | 'filesystem' | undefined;
  if (storageValue === 'memory' || storageValue === 'filesystem') storageType = storageValue;
  else if (storageValue !== undefined && storageValue !== null) problem(storageNode, `${where} (${name}): key 'storage.type': expected memory or filesystem, got '${String(storageValue)}'`);
  if (plugin.check && problemCount() === before) {
    try {
      plugin.check(options, { parsers });
    } catch (err) {
      problem(node, `${where} (${name}): ${(err as Error).message}`);
    }
  }
  const n = counters.get(name) ?? 0;
  counters.set(name, n + 1);
  const alias = pairValue(node, 'alias');
  const instanceName = isScalar(alias) ? String(alias.value) : `${name}.${n}`;

  let matcher: TagMatcher | undefined;
  if (section !== 'inputs') {
    const match = pairValue(node, 'match');
    const matchRegex = pairValue(node, 'match_regex');
    if (match && matchRegex) problem(matchRegex, `${where} (${name}): give 'match' or 'match_regex', not both`);
    else if (isScalar(match)) matcher = TagMatcher.wildcard(String(substitute(match.value, match, where)));
    else if (isScalar(matchRegex)) {
      try {
        matcher = TagMatcher.regex(String(substitute(matchRegex.value, matchRegex, where)));
      } catch (err) {
        problem(matchRegex, `${where} (${name}): invalid match_regex: ${(err as Error).message}`);
      }
    } else problem(node, `${where} (${name}): missing 'match' or 'match_regex': without one it receives nothing`);
  }
  return { section, index, plugin, instanceName, options, storageType, matcher, line: lineOf(node) };
}

function resolveOptions(
  map: YAMLMap | undefined,
  specs: readonly OptionSpec[],
  commonKeys: readonly string[],
  where: string,
  problem: ProblemFn,
  substitute: SubstituteFn,
): ResolvedOptions {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: ResolvedOptions = {};
  const seen = new Set<string>();
  for (const pair of map?.items ?? []) {
    // Fluent Bit reads keys case-insensitively.
    const key = String(keyOf(pair)).toLowerCase();
    const keyNode = pair.key as Node;
    if (commonKeys.includes(key)) continue;
    const spec = byName.get(key);
    if (!spec) {
      problem(keyNode, `${where}: unknown key '${key}'${suggest(key, [...byName.keys(), ...commonKeys])}`);
      continue;
    }
    seen.add(key);
    const valueNode = pair.value as Node | null;
    const raw = spec.type === 'any' ? toJs(valueNode) : substituteDeep(toJs(valueNode), (v) => substitute(v, valueNode, where));
    try {
      out[key] = parseOption(spec, raw);
    } catch (err) {
      if (!(err instanceof OptionValueError)) throw err;
      problem(valueNode ?? keyNode, `${where}: key '${key}': ${err.message}`);
    }
  }
  for (const spec of specs) {
    if (seen.has(spec.name)) continue;
    if (spec.required) {
      problem(map, `${where}: missing required key '${spec.name}'`);
      continue;
    }
    if (spec.default !== undefined) out[spec.name] = parseOption(spec, spec.default);
  }
  return out;
}

function substituteDeep(value: unknown, substitute: (s: string) => unknown): unknown {
  if (typeof value === 'string') return substitute(value);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, substitute));
  return value;
}

function toJs(node: Node | null): unknown {
  if (node === null || node === undefined) return null;
  return (node as unknown as { toJSON(): unknown }).toJSON();
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function pairValue(map: YAMLMap, key: string): Node | undefined {
  for (const p of map.items) if (String(keyOf(p)).toLowerCase() === key) return (p.value ?? undefined) as Node | undefined;
  return undefined;
}

/** "did you mean" for a misspelt key, by edit distance. */
function suggest(key: string, candidates: string[]): string {
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
