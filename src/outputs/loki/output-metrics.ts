/**
 * The Loki output's Prometheus metrics, bound to one instance's `name` label once so the hot path
 * does not build label objects. Names mirror Fluent Bit's `fluentbit_output_*` set.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';

export type DropReason = 'retry_limit' | 'shutdown' | 'error' | `http_${number}`;

export class LokiOutputMetrics {
  readonly records: Counter.Internal;
  readonly bytes: Counter.Internal;
  readonly batches: Counter.Internal;
  readonly retries: Counter.Internal;
  readonly errors: Counter.Internal;
  readonly queueBytes: Gauge.Internal<string>;
  readonly requestDuration: Histogram.Internal<string>;
  private readonly dropped: Counter<string>;

  constructor(
    metrics: Metrics,
    private readonly name: string,
  ) {
    const labels = { name };
    this.records = metrics.counter('floki_output_proc_records_total', 'Records (entries) an output delivered').labels(labels);
    this.bytes = metrics.counter('floki_output_proc_bytes_total', 'Bytes an output delivered').labels(labels);
    this.batches = metrics.counter('floki_output_batches_total', 'Requests (batches) the output delivered').labels(labels);
    this.retries = metrics.counter('floki_output_retries_total', 'Requests sent again after a retryable failure').labels(labels);
    this.errors = metrics.counter('floki_output_errors_total', 'Requests that failed (non-2xx status, network error or timeout)').labels(labels);
    this.queueBytes = metrics.gauge('floki_output_queue_bytes', 'Bytes held by the output: batching, queued and in flight').labels(labels);
    this.requestDuration = metrics
      .histogram('floki_output_request_duration_seconds', 'Time from sending a request to its response', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
      .labels(labels);
    this.dropped = metrics.counter('floki_output_dropped_records_total', 'Records an output gave up on, by reason', ['name', 'reason']);
  }

  drop(reason: DropReason, entries: number): void {
    if (entries > 0) this.dropped.inc({ name: this.name, reason }, entries);
  }
}
