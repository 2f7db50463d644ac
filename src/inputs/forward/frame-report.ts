import type { Logger } from 'pino';
import type { ForwardFrame } from './decoder.js';
import { signalName, type ForwardMetrics, type SkipReason } from './metrics.js';

const SKIPPED: readonly [SkipReason, (f: ForwardFrame) => number, string][] = [
  ['invalid', (f) => f.skipped, 'time not a time or record not a map'],
  ['time_out_of_range', (f) => f.outOfRange, 'time before 1970 or past 2262 (Loki stores int64 nanoseconds), NaN or infinite'],
  ['too_deep', (f) => f.tooDeep, 'record nested deeper than 64 levels of maps and arrays'],
];

/**
 * What one connection's frames carried besides events: other signals than logs, dropped, and entries
 * refused, by reason. Each is counted; each kind is logged once per connection (never per record).
 */
export class FrameReport {
  private warnedSkipped: Set<SkipReason> | undefined;
  private warnedSignals: Set<number> | undefined;

  constructor(
    private readonly metrics: ForwardMetrics,
    private readonly log: Logger,
    private readonly remote: string,
  ) {}

  received(frame: ForwardFrame): void {
    this.metrics.frames.inc();
    if (frame.signal !== 0) this.droppedSignal(frame);
    for (const [reason, count, what] of SKIPPED) {
      const n = count(frame);
      if (n > 0) this.skipped(frame, reason, n, what);
    }
  }

  private droppedSignal(frame: ForwardFrame): void {
    this.metrics.droppedSignal(frame.signal).inc();
    this.warnedSignals ??= new Set();
    if (this.warnedSignals.has(frame.signal)) return;
    this.warnedSignals.add(frame.signal);
    this.log.warn(
      { remote: this.remote, tag: frame.tag, fluent_signal: frame.signal, signal: signalName(frame.signal) },
      'forward: dropped a chunk that is not logs; floki forwards logs only (logged once per connection and signal)',
    );
  }

  /** Entries refused; the rest of the chunk goes on and is acked. */
  private skipped(frame: ForwardFrame, reason: SkipReason, count: number, what: string): void {
    this.metrics.skippedRecords[reason].inc(count);
    this.warnedSkipped ??= new Set();
    if (this.warnedSkipped.has(reason)) return;
    this.warnedSkipped.add(reason);
    this.log.warn(
      { remote: this.remote, tag: frame.tag, reason, skipped: count },
      `forward: skipped entries (${what}); the rest of the chunk is delivered (logged once per connection and reason)`,
    );
  }
}
