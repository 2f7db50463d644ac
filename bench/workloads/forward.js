// Workloads fed by the forward load generator (bench/lib/forward-load.js): kubernetes-event-exporter
// events as parsed records, as a Fluentd or Fluent Bit in front would send them.

import { join } from 'node:path';

const forward = (mode, { ack = false, connections = 1, window = 8, chunkSize = 1000, shape = 'exporter' } = {}) => ({ mode, ack, connections, window, chunkSize, shape });

function forwardToLokiConfig({ httpPort, inputPort, sinkPort }, { serviceOptions = {}, forwardOptions = {}, outputOptions = {} } = {}) {
  const extra = (opts, indent) => Object.entries(opts).map(([k, v]) => `${indent}${k}: ${v}\n`).join('');
  return `service:
  flush: 1
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
${extra(serviceOptions, '  ')}pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${inputPort}
${extra(forwardOptions, '      ')}  filters:
    - name: event_exporter
      match: '*'
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: job=floki
${extra(outputOptions, '      ')}`;
}

/** W1 in floki: the config, `service.flush 0.2`, the loki output's defaults. */
function w1Floki({ httpPort, inputPort, sinkPort }) {
  return `service:
  flush: 0.2
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${inputPort}
  filters:
    - name: event_exporter
      match: '*'
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
`;
}

/**
 * W1 in Fluent Bit, which has no event_exporter filter: the same four labels from record accessors
 * beside out_loki's own static label (floki's is job=floki), the record as JSON for the line. Fluent
 * Bit takes the accessors' keys out of the line; floki's line is the whole event.
 */
function w1FluentBit({ httpPort, inputPort, sinkPort }) {
  return `service:
  flush: 0.2
  http_server: on
  http_listen: 127.0.0.1
  http_port: ${httpPort}
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: ${inputPort}
  outputs:
    - name: loki
      match: '*'
      host: 127.0.0.1
      port: ${sinkPort}
      labels: job=fluent-bit, type=$type, reason=$reason, kind=$involvedObject['kind'], namespace=$involvedObject['namespace']
      line_format: json
`;
}

const THROUGHPUT = { reports: ['events', 'events/s', 'MiB/s in', 'CPU s', 'CPU s/GiB', 'peak RSS MiB'], rate: 'events/s' };

export const FORWARD_WORKLOADS = [
  {
    name: 'w1-forward-exporter',
    description:
      'W1 (issue #12): 500k exporter events as parsed records (about 940 B of msgpack each), PackedForward frames of 1,000, one connection → event_exporter → loki; service.flush 0.2, output defaults',
    events: 500_000,
    input: 'forward',
    forward: forward('packed', { shape: 'exporter-no-lookup' }),
    sink: { delayMs: 0 },
    floki: w1Floki,
    fluentBit: w1FluentBit,
    ...THROUGHPUT,
  },
  {
    name: 'forward-packed-1k',
    description: 'PackedForward, 1000 events per message, no acks, one connection → event_exporter → loki',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    floki: (ctx) => forwardToLokiConfig(ctx),
    ...THROUGHPUT,
  },
  // The same for 1.5M events: the rate once warm. Every run ends with the last partial batches
  // waiting out batch_wait (1 s), which is a third of a 300k run but a twelfth of this one.
  {
    name: 'forward-packed-1k-long',
    description: 'forward-packed-1k for 1.5M events: the steady rate, the final batch_wait flush weighing less',
    events: 1_500_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    floki: (ctx) => forwardToLokiConfig(ctx),
    ...THROUGHPUT,
  },
  {
    name: 'forward-packed-1k-long-unthreaded',
    description: "forward-packed-1k-long with the forward input's threaded off: records printed as JSON on the main thread",
    events: 1_500_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    floki: (ctx) => forwardToLokiConfig(ctx, { forwardOptions: { threaded: 'off' } }),
    ...THROUGHPUT,
  },
  {
    name: 'forward-packed-1k-snappyjs',
    description: 'forward-packed-1k with the pure-JS snappy (FLOKI_SNAPPY=js: snappyjs on a worker thread) instead of the native binding',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    env: { FLOKI_SNAPPY: 'js' },
    floki: (ctx) => forwardToLokiConfig(ctx),
    ...THROUGHPUT,
  },
  // The forward input's other modes, and each mode with acks: a Base64 chunk id per message, at most
  // 8 messages unacknowledged per connection (an ack means the chunk is in the output queue).
  ...[
    ['forward', 'Forward (entries as a msgpack array)'],
    ['compressed', 'CompressedPackedForward (gzip)'],
  ].map(([mode, what]) => ({
    name: `forward-${mode}-1k`,
    description: `${what}, 1000 events per message, no acks, one connection → event_exporter → loki`,
    events: 300_000,
    input: 'forward',
    forward: forward(mode),
    sink: { delayMs: 0 },
    floki: (ctx) => forwardToLokiConfig(ctx),
    ...THROUGHPUT,
  })),
  ...['packed', 'forward', 'compressed'].map((mode) => ({
    name: `forward-${mode}-1k-ack`,
    description: `forward-${mode}-1k with a chunk id per message, acks awaited, 8 messages in flight`,
    events: 300_000,
    input: 'forward',
    forward: forward(mode, { ack: true }),
    sink: { delayMs: 0 },
    floki: (ctx) => forwardToLokiConfig(ctx),
    ...THROUGHPUT,
  })),
  {
    name: 'forward-packed-1k-disk',
    description: "forward-packed-1k with the disk buffer: every chunk fsync'd to a segment file before it counts as taken, read back and sent",
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 0 },
    floki: (ctx) =>
      forwardToLokiConfig(ctx, { serviceOptions: { 'storage.path': join(ctx.dir, 'storage') }, outputOptions: { 'storage.type': 'filesystem' } }),
    ...THROUGHPUT,
  },
  {
    name: 'forward-packed-1k-slow-loki',
    description: 'forward-packed-1k into a Loki that answers each push after 50 ms; 8 workers (streams sharded over them)',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 50 },
    floki: (ctx) => forwardToLokiConfig(ctx, { outputOptions: { workers: 8 } }),
    ...THROUGHPUT,
  },
  {
    name: 'forward-packed-1k-slow-loki-1-worker',
    description: 'forward-packed-1k-slow-loki with the default single worker, for comparison',
    events: 300_000,
    input: 'forward',
    forward: forward('packed'),
    sink: { delayMs: 50 },
    floki: (ctx) => forwardToLokiConfig(ctx),
    ...THROUGHPUT,
  },
];
