/**
 * Records the pipeline drops one by one because handling them threw: a filter that threw on a batch
 * is run again on each of its events alone, and only those it still throws on are dropped; an event
 * whose copy for an output with processors fails is dropped for that output. Each is counted
 * (`floki_pipeline_failed_records_total{name,reason}`) and logged with its cause at most once a
 * minute per plugin, so that one poisoned record never fails the batch it came in, nor stalls the
 * input that retries that batch.
 */
import type { Counter } from 'prom-client';
import type { PluginContext } from './plugin.js';

export type FailureReason = 'filter_threw' | 'copy_failed';

const LOG_EVERY_MS = 60_000;

export class RecordFailures {
  private readonly counter: Counter<string>;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: Pick<PluginContext, 'name' | 'log' | 'metrics'>) {
    this.counter = ctx.metrics.counter(
      'floki_pipeline_failed_records_total',
      'Records dropped alone because a filter threw on them, or copying them for an output with processors failed (e.g. nested too deeply), by plugin and reason.',
      ['name', 'reason'],
    );
  }

  drop(reason: FailureReason, err: unknown, count = 1): void {
    this.counter.inc({ name: this.ctx.name, reason }, count);
    const now = performance.now();
    if (now - this.loggedAt < LOG_EVERY_MS) return;
    this.loggedAt = now;
    const cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const what = reason === 'filter_threw' ? 'the filter threw on a record' : 'a record could not be copied for this output';
    this.ctx.log.error({ err: cause, reason }, `${what}; it is dropped, the others go on (logged once a minute; see floki_pipeline_failed_records_total)`);
  }
}
