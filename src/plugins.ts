import type { PluginRegistry } from './config/load.js';
import type { AnyPlugin } from './core/registry-types.js';
import { dummyInput } from './inputs/dummy/index.js';
import { forwardInput } from './inputs/forward/index.js';
import { tailInput } from './inputs/tail/index.js';
import { httpInput } from './inputs/http/index.js';
import { kubernetesEventsInput } from './inputs/kubernetes_events/index.js';
import { eventExporterFilter } from './filters/event_exporter/index.js';
import { grepFilter } from './filters/grep/index.js';
import { modifyFilter } from './filters/modify/index.js';
import { recordModifierFilter } from './filters/record_modifier/index.js';
import { nestFilter } from './filters/nest/index.js';
import { typeConverterFilter } from './filters/type_converter/index.js';
import { throttleFilter } from './filters/throttle/index.js';
import { rewriteTagFilter } from './filters/rewrite_tag/index.js';
import { lokiOutput } from './outputs/loki/index.js';
import { stdoutOutput } from './outputs/stdout/index.js';

/** Every plugin floki knows, by the name a config uses. */
export const PLUGIN_LIST: readonly AnyPlugin[] = [forwardInput, tailInput, httpInput, kubernetesEventsInput, dummyInput, eventExporterFilter, grepFilter, modifyFilter, recordModifierFilter, nestFilter, typeConverterFilter, throttleFilter, rewriteTagFilter, lokiOutput, stdoutOutput];

export const PLUGINS: PluginRegistry = new Map(PLUGIN_LIST.map((p) => [p.name, p]));
