import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';

/** The forward input's metrics, bound to one instance's `name` label once so the hot path only adds. */
export interface ForwardMetrics {
  connections: Counter.Internal;
  connectionsActive: Gauge.Internal<string>;
  frames: Counter.Internal;
  bytes: Counter.Internal;
  malformedFrames: Counter.Internal;
  acks: Counter.Internal;
  skippedRecords: Counter.Internal;
  rejectedRecords: Counter.Internal;
}

export function forwardMetrics(metrics: Metrics, name: string): ForwardMetrics {
  const labels = { name };
  return {
    connections: metrics.counter('floki_input_connections_total', 'Connections accepted by an input.').labels(labels),
    connectionsActive: metrics.gauge('floki_input_connections_active', 'Connections currently open on an input.').labels(labels),
    frames: metrics.counter('floki_input_frames_total', 'Forward protocol frames received (heartbeats excluded).').labels(labels),
    bytes: metrics.counter('floki_input_bytes_total', 'Bytes received by an input.').labels(labels),
    malformedFrames: metrics.counter(
      'floki_input_malformed_frames_total',
      'Frames that were not the forward protocol; each closed its connection.',
    ).labels(labels),
    acks: metrics.counter('floki_input_acks_total', 'Forward chunk acknowledgements sent.').labels(labels),
    skippedRecords: metrics.counter(
      'floki_input_skipped_records_total',
      'Entries dropped as invalid (time not a time, record not a map), as Fluentd skip_invalid_event.',
    ).labels(labels),
    rejectedRecords: metrics.counter(
      'floki_input_rejected_records_total',
      'Records the pipeline refused (emit rejected); their chunk is not acknowledged.',
    ).labels(labels),
  };
}
