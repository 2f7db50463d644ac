import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus registry. Metric names follow `floki_<subsystem>_<what>_<unit>` with a
 * `name` label for the plugin instance; asking twice for the same metric returns the same object, so
 * several instances of one plugin share it.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'floki_' });
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
