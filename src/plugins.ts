import { pluginRegistry, type AnyPlugin, type PluginRegistry } from './core/registry-types.js';
import { loadAllPlugins } from './plugin-catalogue.js';

/**
 * Every plugin floki knows, loaded (tests, the docs, tools). The CLI loads only those its config
 * names instead: see src/plugin-catalogue.ts, where the list is.
 */
export const PLUGIN_LIST: readonly AnyPlugin[] = await loadAllPlugins();

/** Every plugin a config may name: `forward` is the input, `output:forward` the output (the loader looks up by kind). */
export const PLUGINS: PluginRegistry = pluginRegistry(PLUGIN_LIST);
