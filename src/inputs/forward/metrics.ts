import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';

/** The forward input's metrics, bound to one instance's `name` label once so the hot path only adds. */
export interface ForwardMetrics {
  connections: Counter.Internal;
  connectionsActive: Gauge.Internal<string>;
  connectionsRejected: Counter.Internal;
  /** Connections closed by a timeout, by which one. */
  connectionTimeouts: Record<TimeoutReason, Counter.Internal>;
  /** Connections floki closed to make room for others, by which limit. */
  connectionsEvicted: Record<EvictionReason, Counter.Internal>;
  /** Bytes held in frames not received whole yet, over all connections (the buffer_total_limit_size budget). */
  frameBufferBytes: Gauge.Internal<string>;
  frames: Counter.Internal;
  bytes: Counter.Internal;
  malformedFrames: Counter.Internal;
  authFailures: Counter.Internal;
  acks: Counter.Internal;
  /** Entries not made events, by reason: invalid (skip_invalid_event), time_out_of_range, too_deep. */
  skippedRecords: Record<SkipReason, Counter.Internal>;
  rejectedRecords: Counter.Internal;
  threadPrinted: Counter.Internal;
  /** Chunks of another signal than logs (`fluent_signal` 1 metrics, 2 traces, …), by signal name. */
  droppedSignal(signal: number): Counter.Internal;
}

export type TimeoutReason = 'io_timeout' | 'accept_timeout' | 'frame_timeout';
export type EvictionReason = 'max_connections' | 'buffer_total_limit_size';
export type SkipReason = 'invalid' | 'time_out_of_range' | 'too_deep';

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
  const timeouts = metrics.counter(
    'floki_input_connection_timeouts_total',
    'Connections closed by a timeout, by reason: io_timeout (nothing received for net.io_timeout), accept_timeout (TLS or the shared key handshake not done within net.accept_timeout), frame_timeout (a frame not received whole within net.frame_timeout).',
    ['name', 'reason'],
  );
  const evicted = metrics.counter(
    'floki_input_connections_evicted_total',
    'Connections closed to make room, by reason: max_connections (the longest idle one, for a new connection at net.max_connections), buffer_total_limit_size (the one holding the oldest unfinished frame, when unfinished frames over all connections held more).',
    ['name', 'reason'],
  );
  const skipped = metrics.counter(
    'floki_input_skipped_records_total',
    'Entries not made events and not counted as delivered, by reason: invalid (not [time, map], time not a time; as Fluentd skip_invalid_event), time_out_of_range (before 1970, at or past 2^63 ns, NaN or infinite: Loki cannot store it), too_deep (record nested deeper than 64 levels). The rest of their chunk is delivered and acked.',
    ['name', 'reason'],
  );
  return {
    connections: metrics.counter('floki_input_connections_total', 'Connections accepted by an input.').labels(labels),
    connectionsActive: metrics.gauge('floki_input_connections_active', 'Connections currently open on an input.').labels(labels),
    connectionsRejected: metrics.counter(
      'floki_input_connections_rejected_total',
      'Connections closed on arrival because the input had net.max_connections open and none could be evicted (every one busy with a chunk).',
    ).labels(labels),
    connectionTimeouts: {
      io_timeout: timeouts.labels({ name, reason: 'io_timeout' }),
      accept_timeout: timeouts.labels({ name, reason: 'accept_timeout' }),
      frame_timeout: timeouts.labels({ name, reason: 'frame_timeout' }),
    },
    connectionsEvicted: {
      max_connections: evicted.labels({ name, reason: 'max_connections' }),
      buffer_total_limit_size: evicted.labels({ name, reason: 'buffer_total_limit_size' }),
    },
    frameBufferBytes: metrics.gauge(
      'floki_input_frame_buffer_bytes',
      'Bytes held in frames not received whole yet (and frames read ahead), over all connections of a forward input; at most buffer_total_limit_size.',
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
    skippedRecords: {
      invalid: skipped.labels({ name, reason: 'invalid' }),
      time_out_of_range: skipped.labels({ name, reason: 'time_out_of_range' }),
      too_deep: skipped.labels({ name, reason: 'too_deep' }),
    },
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
