import type { PluginRegistry } from './config/load.js';
import type { AnyPlugin } from './core/registry-types.js';
import { dummyInput } from './inputs/dummy/index.js';
import { forwardInput } from './inputs/forward/index.js';
import { tailInput } from './inputs/tail/index.js';
import { httpInput } from './inputs/http/index.js';
import { kubernetesEventsInput } from './inputs/kubernetes_events/index.js';
import { eventExporterFilter } from './filters/event_exporter/index.js';
import { kubernetesFilter } from './filters/kubernetes/index.js';
import { forwardOutput } from './outputs/forward/index.js';
import { lokiOutput } from './outputs/loki/index.js';
import { stdoutOutput } from './outputs/stdout/index.js';

/** Every plugin floki knows. */
export const PLUGIN_LIST: readonly AnyPlugin[] = [forwardInput, tailInput, httpInput, kubernetesEventsInput, dummyInput, eventExporterFilter, kubernetesFilter, lokiOutput, forwardOutput, stdoutOutput];

/** A plugin by its kind and the name a config uses: an input and an output may share a name (`forward`), as in Fluent Bit. */
export function findPlugin(kind: AnyPlugin['kind'], name: string): AnyPlugin | undefined {
  return PLUGIN_LIST.find((p) => p.kind === kind && p.name === name);
}

/**
 * Plugins by name alone, for the config loader, which looks a name up before it checks the kind:
 * where an input and an output share a name, the input is the one found here (the output is
 * reachable with `findPlugin('output', name)` once the loader looks up by kind).
 */
export const PLUGINS: PluginRegistry = new Map([...PLUGIN_LIST].reverse().map((p) => [p.name, p]));
