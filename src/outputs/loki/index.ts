/** The `loki` output plugin: Fluent Bit's out_loki options, Promtail's wire format (protobuf + snappy). */
import type { OutputPlugin } from '../../core/registry-types.js';
import { LokiOutput } from './loki-output.js';
import { LOKI_OPTIONS, resolveLokiConfig } from './options.js';
import { compileOutputLabels } from './output-labels.js';
import { loadPushProto } from './push-proto.js';

export const lokiOutput: OutputPlugin = {
  kind: 'output',
  name: 'loki',
  description: 'Sends entries to Grafana Loki: batched per stream, protobuf, snappy, retried with backoff.',
  options: LOKI_OPTIONS,
  check: (options) => void compileOutputLabels(resolveLokiConfig(options)),
  create(options, ctx) {
    // Load the .proto now so a broken install fails at startup, not at the first flush.
    loadPushProto();
    return new LokiOutput(resolveLokiConfig(options), ctx);
  },
};

export { LokiOutput, type LokiOutputDeps } from './loki-output.js';
export { LOKI_OPTIONS, LokiConfigError, resolveLokiConfig, type LokiConfig } from './options.js';
