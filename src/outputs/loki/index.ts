/** The `loki` output plugin: Fluent Bit's out_loki options, Promtail's wire format (protobuf + snappy). */
import type { OutputPlugin } from '../../core/registry-types.js';
import { LokiOutput } from './loki-output.js';
import { LOKI_OPTIONS, resolveLokiConfig } from './options.js';
import { compileOutputLabels } from './output-labels.js';

export const lokiOutput: OutputPlugin = {
  kind: 'output',
  name: 'loki',
  description: 'Sends entries to Grafana Loki: batched per stream, protobuf, snappy, retried with backoff.',
  options: LOKI_OPTIONS,
  check: (options) => void compileOutputLabels(resolveLokiConfig(options)),
  create(options, ctx) {
    // The .proto is not loaded here: the push body is encoded without it (encoder.ts); protobufjs
    // is loaded only to decode (tests, gRPC replies), which keeps ~3 MiB out of every process.
    const config = resolveLokiConfig(options);
    // Fluent Bit flushes every service.flush: unset, batch_wait is no longer than that. A batch
    // still fills to batch_size first under load; what changes is how long the last one waits.
    const batchWaitSet = options.batch_wait !== undefined && options.batch_wait !== null;
    if (!batchWaitSet && ctx.service.flushMs > 0 && ctx.service.flushMs < config.batchWaitMs) return new LokiOutput({ ...config, batchWaitMs: ctx.service.flushMs }, ctx);
    return new LokiOutput(config, ctx);
  },
};

export { LokiOutput, type LokiOutputDeps } from './loki-output.js';
export { LOKI_OPTIONS, LokiConfigError, resolveLokiConfig, type LokiConfig } from './options.js';
