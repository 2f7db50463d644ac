import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { collectProcessMetrics } from './process-metrics.js';

/**
 * prom-client's classes from their own files: its index also loads the Pushgateway (http, https,
 * zlib), Summary (tdigest), the cluster aggregator and, at once, the default process metrics
 * (@opentelemetry/api), ~50 ms of start-up on a slow machine that floki never uses or (the process
 * metrics: src/observability/process-metrics.ts) loads only when the monitoring server starts. The classes are the same objects the index
 * exports (one module cache), so the metrics and their text are unchanged.
 */
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
const Histogram = require('prom-client/lib/histogram.js') as typeof PromClient.Histogram;
type Registry = PromClient.Registry;
type Counter<T extends string> = PromClient.Counter<T>;
type Gauge<T extends string> = PromClient.Gauge<T>;
type Histogram<T extends string> = PromClient.Histogram<T>;

/**
 * The process's Prometheus registry. Metric names follow `floki_<subsystem>_<what>_<unit>` with a
 * `name` label for the plugin instance; asking twice for the same metric returns the same object, so
 * several instances of one plugin share it.
 */
export class Metrics {
  readonly registry: Registry = new Registry();

  private processMetrics = false;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) this.enableProcessMetrics();
  }

  /**
   * Adds the process's own metrics (CPU, memory, event loop lag, GC), once. The runtime does this when
   * its monitoring server starts, the only place they are read: their event loop monitor is a timer,
   * and at prom-client's default precision (10 ms) it was most of an idle process's CPU. Lag is
   * sampled every 100 ms here; a stall longer than that still shows in full.
   */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectProcessMetrics(this.registry, { prefix: 'floki_', eventLoopMonitoringPrecision: 100 });
  }

  counter(name: string, help: string, labelNames: readonly string[] = ['name']): Counter<string> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter<string>;
    return new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  gauge(name: string, help: string, labelNames: readonly string[] = ['name']): Gauge<string> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Gauge<string>;
    return new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  histogram(name: string, help: string, buckets: number[], labelNames: readonly string[] = ['name']): Histogram<string> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Histogram<string>;
    return new Histogram({ name, help, buckets, labelNames: [...labelNames], registers: [this.registry] });
  }

  /**
   * Removes every gauge series of these plugin instances (their `name` label): instances a reload
   * stopped, so that what they last reported does not linger. Counters keep counting across reloads.
   */
  async forgetInstances(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const gone = new Set(names);
    for (const metric of this.registry.getMetricsAsArray()) {
      if (!(metric instanceof Gauge)) continue;
      const data = await metric.get();
      for (const v of data.values) {
        const labels = v.labels as Record<string, string | number>;
        if (labels.name !== undefined && gone.has(String(labels.name))) metric.remove(labels);
      }
    }
  }

  /** One metric's current value for a label set (tests and the health check read it). */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    let sum = 0;
    for (const v of data.values) {
      const l = v.labels as Record<string, string | number>;
      if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) sum += v.value;
    }
    return sum;
  }
}
