/**
 * Fluent Bit's health_check rule over floki's output metrics: unhealthy when failures within the
 * period exceed hc_errors_count or hc_retry_failure_count (strictly more, as Fluent Bit compares).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheck } from '../../src/observability/health-check.js';
import { Metrics } from '../../src/observability/metrics.js';

function setup(options = { errorsCount: 2, retryFailureCount: 1, periodMs: 5000 }) {
  let now = 1_000_000;
  const metrics = new Metrics();
  const errors = metrics.counter('floki_output_errors_total', 'test');
  const retriesFailed = metrics.counter('floki_output_retries_failed_total', 'test');
  const check = new HealthCheck(metrics, options, () => now);
  return { check, errors, retriesFailed, advance: (ms: number) => (now += ms) };
}

test('healthy until the errors within the period exceed hc_errors_count, healthy again once they age out', async () => {
  const { check, errors, advance } = setup();
  await check.sample();
  assert.deepEqual(await check.state(), { healthy: true, errors: 0, retriesFailed: 0 });
  errors.inc({ name: 'loki.0' }, 2);
  advance(1000);
  await check.sample();
  assert.deepEqual(await check.state(), { healthy: true, errors: 2, retriesFailed: 0 }, 'two errors are not more than two');
  errors.inc({ name: 'loki.1' });
  assert.deepEqual(await check.state(), { healthy: false, errors: 3, retriesFailed: 0 }, 'summed over every output');
  for (let i = 0; i < 5; i++) {
    advance(1000);
    await check.sample();
  }
  assert.deepEqual(await check.state(), { healthy: true, errors: 0, retriesFailed: 0 }, 'older than hc_period');
});

test('unhealthy when batches given up after retry_limit exceed hc_retry_failure_count', async () => {
  const { check, retriesFailed, advance } = setup();
  await check.sample();
  retriesFailed.inc({ name: 'loki.0' });
  advance(1000);
  await check.sample();
  assert.equal((await check.state()).healthy, true);
  retriesFailed.inc({ name: 'loki.0' });
  assert.deepEqual(await check.state(), { healthy: false, errors: 0, retriesFailed: 2 });
});

test('samples older than the period are forgotten: memory stays bounded', async () => {
  const { check, advance } = setup();
  for (let i = 0; i < 100; i++) {
    await check.sample();
    advance(1000);
  }
  assert.ok((check as unknown as { samples: unknown[] }).samples.length <= 6);
});
