/**
 * prom-client's default process metrics (`collectDefaultMetrics`), registered one by one from its
 * own metric files, in its order, with its config defaults. One is floki's: the CPU counters, the
 * same three with the same names, help and values as prom-client's `processCpuTotal`, whose file
 * requires @opentelemetry/api (for exemplars, which floki does not turn on) at load: ~55 ms of a
 * ~0.7 s start on a slow machine (--cpu-prof). test/unit/process-metrics.test.ts checks that the
 * set stays prom-client's.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export interface ProcessMetricsConfig {
  prefix?: string;
  eventLoopMonitoringPrecision?: number;
}

type DefaultMetric = (registry: PromClient.Registry, config: Record<string, unknown>) => void;

/** prom-client's default metrics after processCpuTotal, in defaultMetrics.js's order. */
const PROM_CLIENT_METRICS = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

export function collectProcessMetrics(registry: PromClient.Registry, options: ProcessMetricsConfig): void {
  const config: Record<string, unknown> = { eventLoopMonitoringPrecision: 10, ...options, register: registry };
  processCpuTotal(registry, options.prefix ?? '');
  for (const name of PROM_CLIENT_METRICS) {
    // As prom-client: only where Node has process.getActiveResourcesInfo.
    if (name === 'processResources' && typeof process.getActiveResourcesInfo !== 'function') continue;
    (require(`prom-client/lib/metrics/${name}.js`) as DefaultMetric)(registry, config);
  }
}

/** prom-client's processCpuTotal without exemplars: CPU seconds since the last scrape, added at each scrape. */
function processCpuTotal(registry: PromClient.Registry, prefix: string): void {
  const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
  const registers = [registry];
  let last = process.cpuUsage();
  const user = new Counter({
    name: `${prefix}process_cpu_user_seconds_total`,
    help: 'Total user CPU time spent in seconds.',
    enableExemplars: false,
    registers,
    labelNames: [],
    // This one metric's `collect` sets all three.
    collect() {
      const now = process.cpuUsage();
      const userMicros = now.user - last.user;
      const systemMicros = now.system - last.system;
      last = now;
      user.inc({}, userMicros / 1e6);
      system.inc({}, systemMicros / 1e6);
      total.inc({}, (userMicros + systemMicros) / 1e6);
    },
  });
  const system = new Counter({ name: `${prefix}process_cpu_system_seconds_total`, help: 'Total system CPU time spent in seconds.', enableExemplars: false, registers, labelNames: [] });
  const total = new Counter({ name: `${prefix}process_cpu_seconds_total`, help: 'Total user and system CPU time spent in seconds.', enableExemplars: false, registers, labelNames: [] });
}
