/**
 * The forward output's metrics: the output metrics every floki output shares
 * (common/output-metrics.ts: `floki_output_proc_records_total`, `_proc_bytes_total`, `_batches_total` (frames),
 * `_retries_total`, `_errors_total`, `_dropped_records_total{reason}`, `_queue_bytes`,
 * `_storage_bytes`, `_oldest_entry_age_seconds`, `_request_duration_seconds` (write to ack)), and the
 * forward protocol's own: handshake failures, ack timeouts, and each upstream node's state.
 */
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';
import { OutputMetrics } from '../common/output-metrics.js';

export class ForwardOutputMetrics extends OutputMetrics {
  readonly handshakeFailures: Counter.Internal;
  readonly ackTimeouts: Counter.Internal;
  private readonly nodeUp: Gauge<string>;

  constructor(
    metrics: Metrics,
    private readonly instance: string,
  ) {
    super(metrics, instance);
    const labels = { name: instance };
    this.handshakeFailures = metrics
      .counter('floki_output_handshake_failures_total', 'Connections whose secure forward handshake failed: refused by the receiver (wrong shared key, user or password) or a receiver without the key')
      .labels(labels);
    this.ackTimeouts = metrics.counter('floki_output_ack_timeouts_total', 'Frames not acked within ack_response_timeout (sent again)').labels(labels);
    this.nodeUp = metrics.gauge('floki_output_upstream_node_up', 'Whether an upstream node takes frames (1) or is left out after a failure (0)', ['name', 'node']);
  }

  setNodeUp(node: string, up: boolean): void {
    this.nodeUp.set({ name: this.instance, node }, up ? 1 : 0);
  }
}
