/**
 * floki's process metrics (src/observability/process-metrics.ts) are prom-client's default metrics:
 * the same metrics in the same order, with the same help, type and label sets; the CPU counters,
 * floki's own, count as prom-client's do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { collectProcessMetrics } from '../../src/observability/process-metrics.js';
import { Metrics } from '../../src/observability/metrics.js';

/** The exposition text with its sample values masked: names, HELP, TYPE and label sets only. */
async function shape(registry: Registry): Promise<string> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .map((line) => (line.startsWith('#') ? line : line.replace(/ [^ ]+$/, ' _').replace(/version="[^"]*"/g, 'version=_').replace(/le="[^"]*"/g, 'le=_')))
    .filter((line) => !/^floki_nodejs_(active_(handles|requests|resources)|gc_duration_seconds)/.test(line) || line.startsWith('#'))
    .join('\n');
}

test("the same metrics, help, types and labels as prom-client's collectDefaultMetrics", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  collectProcessMetrics(ours, { prefix: 'floki_', eventLoopMonitoringPrecision: 100 });
  collectDefaultMetrics({ register: theirs, prefix: 'floki_', eventLoopMonitoringPrecision: 100 });
  const a = await shape(ours);
  const b = await shape(theirs);
  assert.deepEqual(a.split('\n').filter((l) => l.startsWith('#')), b.split('\n').filter((l) => l.startsWith('#')));
  assert.equal(a, b);
  ours.clear();
  theirs.clear();
});

test('the CPU counters add the CPU used between scrapes, user + system = total', async () => {
  const metrics = new Metrics({ processMetrics: true });
  // The user counter's collect sets all three at a scrape (one snapshot: getMetricsAsJSON).
  const cpu = async () => {
    const all = await metrics.registry.getMetricsAsJSON();
    const v = (name: string) => all.find((m) => m.name === name)!.values.reduce((sum, x) => sum + x.value, 0);
    return { user: v('floki_process_cpu_user_seconds_total'), system: v('floki_process_cpu_system_seconds_total'), total: v('floki_process_cpu_seconds_total') };
  };
  const before = await cpu();
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user < 30_000);
  const after = await cpu();
  assert.ok(after.total >= before.total + 0.02, `${after.total} >= ${before.total} + 0.02`);
  assert.ok(Math.abs(after.user + after.system - after.total) < 1e-9, JSON.stringify(after));
  metrics.registry.clear();
});
