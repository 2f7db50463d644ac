/**
 * Every plugin floki knows, by kind and name, each with the import that loads it. The CLI loads only
 * the plugins its config names (registryFor): a forward → loki node does not carry the tail input,
 * the kubernetes filter or the forward output in its memory (about 4 MiB of RSS at idle, measured
 * with `node bench/run.js idle`). src/plugins.ts loads them all, for tests, the docs and tools.
 */
import { pluginRegistry, type AnyPlugin, type PluginRegistry } from './core/registry-types.js';
import type { ConfigModel, PluginKind, PluginSection } from './config/model.js';

export interface CatalogueEntry {
  kind: PluginKind;
  name: string;
  load(): Promise<AnyPlugin>;
}

/** In the registry's order: where an input and an output share a name, the first one listed owns the plain name. */
export const PLUGIN_CATALOGUE: readonly CatalogueEntry[] = [
  { kind: 'input', name: 'forward', load: async () => (await import('./inputs/forward/index.js')).forwardInput },
  { kind: 'input', name: 'tail', load: async () => (await import('./inputs/tail/index.js')).tailInput },
  { kind: 'input', name: 'http', load: async () => (await import('./inputs/http/index.js')).httpInput },
  { kind: 'input', name: 'kubernetes_events', load: async () => (await import('./inputs/kubernetes_events/index.js')).kubernetesEventsInput },
  { kind: 'input', name: 'dummy', load: async () => (await import('./inputs/dummy/index.js')).dummyInput },
  { kind: 'filter', name: 'event_exporter', load: async () => (await import('./filters/event_exporter/index.js')).eventExporterFilter },
  { kind: 'filter', name: 'kubernetes', load: async () => (await import('./filters/kubernetes/index.js')).kubernetesFilter },
  { kind: 'filter', name: 'grep', load: async () => (await import('./filters/grep/index.js')).grepFilter },
  { kind: 'filter', name: 'modify', load: async () => (await import('./filters/modify/index.js')).modifyFilter },
  { kind: 'filter', name: 'record_modifier', load: async () => (await import('./filters/record_modifier/index.js')).recordModifierFilter },
  { kind: 'filter', name: 'nest', load: async () => (await import('./filters/nest/index.js')).nestFilter },
  { kind: 'filter', name: 'type_converter', load: async () => (await import('./filters/type_converter/index.js')).typeConverterFilter },
  { kind: 'filter', name: 'throttle', load: async () => (await import('./filters/throttle/index.js')).throttleFilter },
  { kind: 'filter', name: 'rewrite_tag', load: async () => (await import('./filters/rewrite_tag/index.js')).rewriteTagFilter },
  { kind: 'filter', name: 'parser', load: async () => (await import('./filters/parser/index.js')).parserFilter },
  { kind: 'filter', name: 'multiline', load: async () => (await import('./filters/multiline/index.js')).multilineFilter },
  { kind: 'filter', name: 'record_transformer', load: async () => (await import('./filters/record_transformer/index.js')).recordTransformerFilter },
  { kind: 'filter', name: 'concat', load: async () => (await import('./filters/concat/index.js')).concatFilter },
  { kind: 'output', name: 'loki', load: async () => (await import('./outputs/loki/index.js')).lokiOutput },
  { kind: 'output', name: 'forward', load: async () => (await import('./outputs/forward/index.js')).forwardOutput },
  { kind: 'output', name: 'stdout', load: async () => (await import('./outputs/stdout/index.js')).stdoutOutput },
  { kind: 'output', name: 'null', load: async () => (await import('./outputs/null/index.js')).nullOutput },
  // After the output: a plain `stdout` stays the output's name; the filter is found by kind.
  { kind: 'filter', name: 'stdout', load: async () => (await import('./filters/stdout/index.js')).stdoutFilter },
];

/** Every plugin, loaded. */
export function loadAllPlugins(): Promise<AnyPlugin[]> {
  return Promise.all(PLUGIN_CATALOGUE.map((p) => p.load()));
}

/**
 * The plugins a config model's sections (and their processors) name. A name the model cannot tell
 * yet (it is or holds a `${VARIABLE}`) wants every plugin of its kind; an unknown name none (the
 * config's resolution reports it).
 */
export function pluginsNamedBy(model: ConfigModel): CatalogueEntry[] {
  const wanted = new Set<CatalogueEntry>();
  const visit = (section: PluginSection): void => {
    let name: unknown;
    for (const e of section.entries) if (e.key.toLowerCase() === 'name') name = e.value;
    const text = typeof name === 'string' || typeof name === 'number' ? String(name).trim().toLowerCase() : undefined;
    for (const p of PLUGIN_CATALOGUE) {
      if (p.kind !== section.kind) continue;
      if (text === undefined || text.includes('${') || p.name === text) wanted.add(p);
    }
    for (const s of section.processors) visit(s);
  };
  for (const s of [...model.inputs, ...model.filters, ...model.outputs]) visit(s);
  return PLUGIN_CATALOGUE.filter((p) => wanted.has(p));
}

/**
 * A registry in which the plugins the model names are loaded. The others are there by kind and name
 * only (for the message that lists the known ones when a name is wrong); nothing looks them up, since
 * the model does not name them.
 */
export async function registryFor(model: ConfigModel): Promise<PluginRegistry> {
  const wanted = new Set(pluginsNamedBy(model));
  const plugins = await Promise.all(PLUGIN_CATALOGUE.map((p) => (wanted.has(p) ? p.load() : Promise.resolve(placeholder(p)))));
  return pluginRegistry(plugins);
}

function placeholder(p: CatalogueEntry): AnyPlugin {
  return {
    kind: p.kind,
    name: p.name,
    description: '',
    options: [],
    create(): never {
      throw new Error(`plugin ${p.kind} ${p.name} was not loaded`);
    },
  } as AnyPlugin;
}
