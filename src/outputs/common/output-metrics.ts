/**
 * The Prometheus metrics every floki output shares, bound to one instance's `name` label once so the
 * hot path does not build label objects. Names mirror Fluent Bit's `fluentbit_output_*` set. An
 * output adds its own beside them (loki/loki-metrics.ts, forward/metrics.ts).
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';

/**
 * retry_limit: retries exhausted (memory buffer); shutdown: still held when the grace period ended
 * (memory buffer); storage_full: oldest segment deleted (`storage.full_action drop_oldest`);
 * corrupt: a damaged block of a segment file; error: a bug (encoding); invalid_timestamp: a time
 * the destination cannot hold. An output may count its own reasons beside these.
 */
export type DropReason = 'retry_limit' | 'shutdown' | 'storage_full' | 'corrupt' | 'error' | 'invalid_timestamp';

export class OutputMetrics<Reason extends string = DropReason> {
  readonly records: Counter.Internal;
  readonly bytes: Counter.Internal;
  readonly batches: Counter.Internal;
  readonly retries: Counter.Internal;
  readonly errors: Counter.Internal;
  readonly retriesFailed: Counter.Internal;
  readonly queueBytes: Gauge.Internal<string>;
  readonly storageBytes: Gauge.Internal<string>;
  readonly oldestAge: Gauge.Internal<string>;
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
    this.retriesFailed = metrics.counter('floki_output_retries_failed_total', 'Requests (batches) given up after retry_limit').labels(labels);
    this.queueBytes = metrics.gauge('floki_output_queue_bytes', 'Bytes held in memory by the output: batching, queued, in flight, read back from disk').labels(labels);
    this.storageBytes = metrics.gauge('floki_output_storage_bytes', 'Bytes of the output’s disk buffer segment files').labels(labels);
    this.oldestAge = metrics.gauge('floki_output_oldest_entry_age_seconds', 'Age of the oldest entry the output holds (memory or disk), since it was accepted').labels(labels);
    this.requestDuration = metrics
      .histogram('floki_output_request_duration_seconds', 'Time from sending a request to its response', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
      .labels(labels);
    this.dropped = metrics.counter('floki_output_dropped_records_total', 'Records an output gave up on, by reason', ['name', 'reason']);
  }

  drop(reason: DropReason | Reason, entries: number): void {
    if (entries > 0) this.dropped.inc({ name: this.name, reason }, entries);
  }
}
