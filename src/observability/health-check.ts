/**
 * Fluent Bit's `health_check` rule: unhealthy when, within the last `hc_period`, the outputs together
 * failed more than `hc_errors_count` requests or gave up on more than `hc_retry_failure_count`
 * batches after their retry limit. Like Fluent Bit, it samples the outputs' running totals once a
 * second and compares the newest with the oldest sample of the period.
 *
 * Sources: `floki_output_errors_total` (requests that failed: a non-2xx answer, a network error, a
 * timeout; Fluent Bit's documentation counts its "failed to flush chunk" lines) and
 * `floki_output_retries_failed_total` (batches dropped after retry_limit: Fluent Bit's
 * `retries_failed`, counted in chunks there).
 */
import type { Metrics } from './metrics.js';

export interface HealthCheckOptions {
  errorsCount: number;
  retryFailureCount: number;
  periodMs: number;
}

export interface HealthState {
  healthy: boolean;
  errors: number;
  retriesFailed: number;
}

interface Sample {
  at: number;
  errors: number;
  retriesFailed: number;
}

export class HealthCheck {
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly metrics: Metrics,
    readonly options: HealthCheckOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Samples once a second, or less often for a long period, so at most about 600 samples are kept. */
  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), Math.max(1000, Math.ceil(this.options.periodMs / 600)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes one sample of the totals and forgets those older than the period. */
  async sample(): Promise<void> {
    const errors = await this.metrics.value('floki_output_errors_total');
    const retriesFailed = await this.metrics.value('floki_output_retries_failed_total');
    const at = this.now();
    this.samples.push({ at, errors, retriesFailed });
    while (this.samples.length > 1 && this.samples[0]!.at <= at - this.options.periodMs) this.samples.shift();
  }

  /** The state now: the totals since the oldest sample of the period. */
  async state(): Promise<HealthState> {
    const errors = await this.metrics.value('floki_output_errors_total');
    const retriesFailed = await this.metrics.value('floki_output_retries_failed_total');
    const oldest = this.samples.find((s) => s.at > this.now() - this.options.periodMs) ?? { errors, retriesFailed };
    const state = { errors: errors - oldest.errors, retriesFailed: retriesFailed - oldest.retriesFailed };
    return { ...state, healthy: state.errors <= this.options.errorsCount && state.retriesFailed <= this.options.retryFailureCount };
  }
}
