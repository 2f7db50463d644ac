import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';

/** The forward input's metrics, bound to one instance's `name` label once so the hot path only adds. */
export interface ForwardMetrics {
  connections: Counter.Internal;
  connectionsActive: Gauge.Internal<string>;
  connectionsRejected: Counter.Internal;
  connectionTimeouts: Counter.Internal;
  frames: Counter.Internal;
  bytes: Counter.Internal;
  malformedFrames: Counter.Internal;
  authFailures: Counter.Internal;
  acks: Counter.Internal;
  skippedRecords: Counter.Internal;
  rejectedRecords: Counter.Internal;
  threadPrinted: Counter.Internal;
  /** Chunks of another signal than logs (`fluent_signal` 1 metrics, 2 traces, …), by signal name. */
  droppedSignal(signal: number): Counter.Internal;
}

const SIGNAL_NAMES: Record<number, string> = { 1: 'metrics', 2: 'traces', 3: 'blobs', 4: 'profiles' };

export function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? 'other';
}

export function forwardMetrics(metrics: Metrics, name: string): ForwardMetrics {
  const labels = { name };
  const dropped = metrics.counter(
    'floki_input_dropped_signal_chunks_total',
    'Forward chunks of another signal than logs (fluent_signal metrics, traces, ...) dropped unread, by signal.',
    ['name', 'signal'],
  );
  const droppedBySignal = new Map<string, Counter.Internal>();
  return {
    connections: metrics.counter('floki_input_connections_total', 'Connections accepted by an input.').labels(labels),
    connectionsActive: metrics.gauge('floki_input_connections_active', 'Connections currently open on an input.').labels(labels),
    connectionsRejected: metrics.counter(
      'floki_input_connections_rejected_total',
      'Connections closed on arrival because the input had net.max_connections open.',
    ).labels(labels),
    connectionTimeouts: metrics.counter(
      'floki_input_connection_timeouts_total',
      'Connections closed for sending nothing for net.io_timeout, or not finishing the handshake within net.accept_timeout.',
    ).labels(labels),
    frames: metrics.counter('floki_input_frames_total', 'Forward protocol frames received (heartbeats excluded).').labels(labels),
    bytes: metrics.counter('floki_input_bytes_total', 'Bytes received by an input.').labels(labels),
    malformedFrames: metrics.counter(
      'floki_input_malformed_frames_total',
      'Frames that were not the forward protocol (garbage, over buffer_max_size, a gzip bomb, a size mismatch, cut short by the client); each closed its connection.',
    ).labels(labels),
    authFailures: metrics.counter(
      'floki_input_auth_failures_total',
      'Connections refused at the handshake: wrong shared key, user or password, no PING, or a failed TLS handshake (including a rejected client certificate).',
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
    threadPrinted: metrics.counter(
      'floki_input_thread_printed_records_total',
      "Records whose JSON a worker thread printed ahead of the filters (threaded on); the rest are printed on the main thread when needed.",
    ).labels(labels),
    droppedSignal(signal: number): Counter.Internal {
      const signalLabel = signalName(signal);
      let counter = droppedBySignal.get(signalLabel);
      if (!counter) {
        counter = dropped.labels({ name, signal: signalLabel });
        droppedBySignal.set(signalLabel, counter);
      }
      return counter;
    },
  };
}
