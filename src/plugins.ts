import { pluginRegistry, type AnyPlugin, type PluginRegistry } from './core/registry-types.js';
import { dummyInput } from './inputs/dummy/index.js';
import { forwardInput } from './inputs/forward/index.js';
import { tailInput } from './inputs/tail/index.js';
import { httpInput } from './inputs/http/index.js';
import { kubernetesEventsInput } from './inputs/kubernetes_events/index.js';
import { eventExporterFilter } from './filters/event_exporter/index.js';
import { kubernetesFilter } from './filters/kubernetes/index.js';
import { grepFilter } from './filters/grep/index.js';
import { modifyFilter } from './filters/modify/index.js';
import { recordModifierFilter } from './filters/record_modifier/index.js';
import { nestFilter } from './filters/nest/index.js';
import { typeConverterFilter } from './filters/type_converter/index.js';
import { throttleFilter } from './filters/throttle/index.js';
import { rewriteTagFilter } from './filters/rewrite_tag/index.js';
import { parserFilter } from './filters/parser/index.js';
import { multilineFilter } from './filters/multiline/index.js';
import { recordTransformerFilter } from './filters/record_transformer/index.js';
import { concatFilter } from './filters/concat/index.js';
import { stdoutFilter } from './filters/stdout/index.js';
import { forwardOutput } from './outputs/forward/index.js';
import { lokiOutput } from './outputs/loki/index.js';
import { stdoutOutput } from './outputs/stdout/index.js';
import { nullOutput } from './outputs/null/index.js';

/** Every plugin floki knows. */
export const PLUGIN_LIST: readonly AnyPlugin[] = [
  forwardInput,
  tailInput,
  httpInput,
  kubernetesEventsInput,
  dummyInput,
  eventExporterFilter,
  kubernetesFilter,
  grepFilter,
  modifyFilter,
  recordModifierFilter,
  nestFilter,
  typeConverterFilter,
  throttleFilter,
  rewriteTagFilter,
  parserFilter,
  multilineFilter,
  recordTransformerFilter,
  concatFilter,
  lokiOutput,
  forwardOutput,
  stdoutOutput,
  nullOutput,
  // After the output: a plain `stdout` stays the output's name; the filter is found by kind.
  stdoutFilter,
];

/** Every plugin a config may name: `forward` is the input, `output:forward` the output (the loader looks up by kind). */
export const PLUGINS: PluginRegistry = pluginRegistry(PLUGIN_LIST);
