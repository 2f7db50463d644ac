import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOption } from '../../src/config/options.js';
import { LOKI_OPTIONS, LokiConfigError, resolveLokiConfig } from '../../src/outputs/loki/options.js';

test('every option has a description and a default that parses', () => {
  for (const spec of LOKI_OPTIONS) {
    assert.ok(spec.description.length > 10, spec.name);
    if (spec.default !== undefined) parseOption(spec, spec.default);
  }
});

test('defaults: Promtail batching and backoff, Fluent Bit names', () => {
  const c = resolveLokiConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 3100);
  assert.equal(c.uri, '/loki/api/v1/push');
  assert.deepEqual(c.labels, ['job=floki']);
  assert.equal(c.batchSizeBytes, 1024 * 1024);
  assert.equal(c.batchWaitMs, 1000);
  assert.equal(c.memBufLimitBytes, 64 * 1024 * 1024);
  assert.equal(c.retryLimit, 10);
  assert.equal(c.retryMinBackoffMs, 500);
  assert.equal(c.retryMaxBackoffMs, 300_000);
  assert.equal(c.timeoutMs, 10_000);
  assert.equal(c.workers, 1);
  assert.equal(c.lineFormat, 'json');
  assert.equal(c.dropSingleKey, 'off');
  assert.deepEqual(c.headers, {});
});

test('resolved values are taken as they are (ms, bytes)', () => {
  const c = resolveLokiConfig({ batch_wait: 250, batch_size: 2048, retry_limit: 'no_limits', drop_single_key: 'raw' });
  assert.equal(c.batchWaitMs, 250);
  assert.equal(c.batchSizeBytes, 2048);
  assert.equal(c.retryLimit, Infinity);
  assert.equal(c.dropSingleKey, 'raw');
});

test('headers: tenant, custom, basic and bearer auth', () => {
  const c = resolveLokiConfig({ tenant_id: 'team-a', header: ['X-A one two', 'X-B: b'], http_user: 'u', http_passwd: 'p' });
  assert.deepEqual(c.headers, { 'X-A': 'one two', 'X-B': 'b', 'X-Scope-OrgID': 'team-a', Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
  assert.equal(resolveLokiConfig({ bearer_token: 't' }).headers['Authorization'], 'Bearer t');
  assert.throws(() => resolveLokiConfig({ bearer_token: 't', http_user: 'u' }), LokiConfigError);
});

test('bad values are config errors', () => {
  assert.throws(() => resolveLokiConfig({ uri: 'loki/api/v1/push' }), /uri/);
  assert.throws(() => resolveLokiConfig({ workers: 0 }), /workers/);
  assert.throws(() => resolveLokiConfig({ retry_limit: 'often' }), /retry_limit/);
  assert.throws(() => resolveLokiConfig({ line_format: 'xml' }), /line_format/);
  assert.throws(() => resolveLokiConfig({ header: ['NoValue'] }), /header/);
});
