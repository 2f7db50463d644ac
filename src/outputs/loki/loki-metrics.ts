/**
 * The Loki output's metrics: every output's (common/output-metrics.ts), with Loki's rejection
 * reasons among the drop reasons, and the two things only a Loki push does: cutting long lines and
 * splitting a refused request.
 */
import type { Counter } from 'prom-client';
import type { Metrics } from '../../observability/metrics.js';
import { OutputMetrics } from '../common/output-metrics.js';
import type { RejectReason } from './push-errors.js';

export class LokiOutputMetrics extends OutputMetrics<RejectReason> {
  readonly truncated: Counter.Internal;
  readonly splits: Counter.Internal;

  constructor(metrics: Metrics, name: string) {
    super(metrics, name);
    const labels = { name };
    this.splits = metrics
      .counter('floki_output_rejected_splits_total', 'Requests Loki refused (400, 413) sent again as two halves, to find the entries it refuses')
      .labels(labels);
    this.truncated = metrics.counter('floki_output_truncated_records_total', 'Entries whose line was cut to max_line_size').labels(labels);
  }
}
