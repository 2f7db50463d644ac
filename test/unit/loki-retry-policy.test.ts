import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter, parseRetryLimit, RetryPolicy } from '../../src/outputs/common/retry-policy.js';

test('delay grows from min, doubling, capped at max, jittered within [min, ceiling]', () => {
  const low = new RetryPolicy({ limit: 10, minMs: 500, maxMs: 300_000, random: () => 0 });
  const high = new RetryPolicy({ limit: 10, minMs: 500, maxMs: 300_000, random: () => 0.999999 });
  assert.deepEqual([0, 1, 2, 3].map((n) => low.delayMs(n)), [500, 500, 500, 500]);
  assert.deepEqual([0, 1, 2, 3].map((n) => high.delayMs(n)), [500, 1000, 2000, 4000]);
  assert.equal(high.delayMs(20), 300_000);
  assert.equal(high.delayMs(5000), 300_000);
  const mid = new RetryPolicy({ limit: 10, minMs: 100, maxMs: 10_000, random: () => 0.5 });
  assert.equal(mid.delayMs(2), 250);
});

test('Retry-After is a minimum, capped at max', () => {
  const p = new RetryPolicy({ limit: 10, minMs: 100, maxMs: 5000, random: () => 0 });
  assert.equal(p.delayMs(0, 2000), 2000);
  assert.equal(p.delayMs(0, 50), 100);
  assert.equal(p.delayMs(0, 60_000), 5000);
});

test('canRetry counts retries after the first attempt', () => {
  const p = new RetryPolicy({ limit: 2, minMs: 1, maxMs: 1 });
  assert.deepEqual([0, 1, 2].map((n) => p.canRetry(n)), [true, true, false]);
  assert.equal(new RetryPolicy({ limit: Infinity, minMs: 1, maxMs: 1 }).canRetry(1e9), true);
  assert.equal(new RetryPolicy({ limit: 0, minMs: 1, maxMs: 1 }).canRetry(0), false);
});

test('retry_limit spellings', () => {
  assert.equal(parseRetryLimit('10'), 10);
  assert.equal(parseRetryLimit(3), 3);
  assert.equal(parseRetryLimit('no_limits'), Infinity);
  assert.equal(parseRetryLimit('False'), Infinity);
  assert.equal(parseRetryLimit('no_retries'), 0);
  assert.throws(() => parseRetryLimit('often'), /retry_limit/);
  assert.throws(() => parseRetryLimit(-1), /retry_limit/);
});

test('Retry-After as seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('0.5'), 500);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:07 GMT', now), 7000);
  assert.equal(parseRetryAfter('Sun, 31 Dec 2023 23:59:00 GMT', now), 0);
});
