import type { Counter, Gauge } from 'prom-client';
import { MAX_RECORD_NESTING } from '../../core/limits.js';
import type { Metrics } from '../../observability/metrics.js';

/** The tail input's metrics, bound to one instance's `name` label once so the read loop only adds. */
export class TailMetrics {
  readonly filesOpened: Counter.Internal;
  readonly filesClosed: Counter.Internal;
  readonly filesRotated: Counter.Internal;
  readonly filesTruncated: Counter.Internal;
  readonly filesOpen: Gauge.Internal<string>;
  readonly bytes: Counter.Internal;
  readonly lines: Counter.Internal;
  readonly partialLines: Counter.Internal;
  readonly partialFlushed: Counter.Internal;
  readonly longTruncated: Counter.Internal;
  readonly longSkipped: Counter.Internal;
  readonly malformed: Counter.Internal;
  readonly unparsed: Counter.Internal;
  readonly timeOutOfRange: Counter.Internal;
  readonly multilineTruncated: Counter.Internal;
  readonly tooDeep: Counter.Internal;
  readonly positionsWrites: Counter.Internal;
  private readonly lag: Gauge<string>;

  constructor(metrics: Metrics, private readonly name: string) {
    const labels = { name };
    this.filesOpened = metrics.counter('floki_input_tail_files_opened_total', 'Files the tail input started following.').labels(labels);
    this.filesClosed = metrics.counter('floki_input_tail_files_closed_total', 'Files the tail input stopped following (rotated away and finished, deleted).').labels(labels);
    this.filesRotated = metrics.counter('floki_input_tail_files_rotated_total', 'Followed files renamed or replaced under their path (rotation).').labels(labels);
    this.filesTruncated = metrics.counter('floki_input_tail_files_truncated_total', 'Followed files that shrank (copytruncate) and were read again from their start.').labels(labels);
    this.filesOpen = metrics.gauge('floki_input_tail_files_open', 'Files the tail input follows now.').labels(labels);
    this.bytes = metrics.counter('floki_input_bytes_total', 'Bytes received by an input.').labels(labels);
    this.lines = metrics.counter('floki_input_tail_lines_total', 'Lines read from files (each piece of a split line counts).').labels(labels);
    this.partialLines = metrics.counter('floki_input_tail_partial_lines_joined_total', 'Pieces of split lines (CRI P, docker pieces without a newline) joined into whole lines.').labels(labels);
    this.partialFlushed = metrics.counter('floki_input_tail_partial_lines_flushed_total', 'Split lines sent without their last piece after flush_timeout, or when their file was closed.').labels(labels);
    const long = metrics.counter('floki_input_tail_long_lines_total', 'Lines longer than buffer_max_size, by what was done with them.', ['name', 'action']);
    this.longTruncated = long.labels(name, 'truncated');
    this.longSkipped = long.labels(name, 'skipped');
    this.malformed = metrics.counter('floki_input_tail_malformed_lines_total', 'Lines in none of the multiline.parser formats, sent as they are.').labels(labels);
    this.unparsed = metrics.counter('floki_input_tail_unparsed_lines_total', 'Lines parser (or parser_firstline, with no record to append them to) did not match, sent as they are.').labels(labels);
    this.tooDeep = metrics
      .counter('floki_input_tail_too_deep_lines_total', `Lines the parser left unparsed because they nest deeper than ${MAX_RECORD_NESTING} levels, sent as they are.`)
      .labels(labels);
    this.timeOutOfRange = metrics
      .counter(
        'floki_input_skipped_records_total',
        'Entries not made events and not counted as delivered, by reason: invalid (not [time, map], time not a time; as Fluentd skip_invalid_event), time_out_of_range (before 1970, at or past 2^63 ns, NaN or infinite: Loki cannot store it), too_deep (record nested deeper than 64 levels). The rest of their chunk is delivered and acked.',
        ['name', 'reason'],
      )
      .labels(name, 'time_out_of_range');
    this.multilineTruncated = metrics.counter('floki_input_tail_multiline_truncated_total', 'Multiline entries cut at the multiline buffer limit (2 MiB).').labels(labels);
    this.positionsWrites = metrics.counter('floki_input_tail_db_writes_total', 'Times the positions file (db) was written.').labels(labels);
    this.lag = metrics.gauge('floki_input_tail_file_lag_bytes', 'Bytes of a followed file not read yet.', ['name', 'file']);
  }

  setLag(file: string, bytes: number): void {
    this.lag.set({ name: this.name, file }, bytes);
  }

  removeLag(file: string): void {
    this.lag.remove({ name: this.name, file });
  }
}
