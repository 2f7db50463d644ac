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

test('headers: custom, basic and bearer auth; the tenant is sent per batch', () => {
  const c = resolveLokiConfig({ tenant_id: 'team-a', header: ['X-A one two', 'X-B: b'], http_user: 'u', http_passwd: 'p' });
  assert.deepEqual(c.headers, { 'X-A': 'one two', 'X-B': 'b', Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
  assert.equal(c.tenantId, 'team-a');
  assert.equal(resolveLokiConfig({ bearer_token: 't' }).headers['Authorization'], 'Bearer t');
  assert.throws(() => resolveLokiConfig({ bearer_token: 't', http_user: 'u' }), LokiConfigError);
});

test('transports, encodings, TLS and the disk buffer', () => {
  const d = resolveLokiConfig({});
  assert.equal(d.transport, 'http');
  assert.equal(d.compress, 'snappy');
  assert.equal(d.tls, undefined);
  assert.equal(d.maxLineSize, 256_000, "Loki's own max_line_size (256KB)");
  assert.equal(d.storageType, undefined);
  assert.equal(d.totalLimitBytes, 1024 ** 3);
  assert.equal(d.fullAction, 'pause');
  assert.equal(resolveLokiConfig({ compress: 'gzip' }).compress, 'json_gzip', 'Fluent Bit spells it gzip');
  const https = resolveLokiConfig({ url: 'https://loki.example:8443/api/prom/push', 'tls.verify': false });
  assert.deepEqual([https.host, https.port, https.uri, https.tls?.verify], ['loki.example', 8443, '/api/prom/push', false]);
  assert.equal(resolveLokiConfig({ url: 'https://loki.example' }).port, 443);
  assert.throws(() => resolveLokiConfig({ tls: true, 'tls.ca_file': '/nonexistent/ca.pem' }), /tls\.ca_file: cannot read '\/nonexistent\/ca\.pem': ENOENT/);
  assert.throws(() => resolveLokiConfig({ transport: 'grpc', compress: 'json_gzip' }), /compress/);
  assert.throws(() => resolveLokiConfig({ 'storage.total_limit_size': 1000 }), /storage\.total_limit_size/);
  const disk = resolveLokiConfig({ 'storage.type': 'filesystem', 'storage.full_action': 'drop_oldest', tenant_id_key: "$kubernetes['namespace_name']" });
  assert.deepEqual([disk.storageType, disk.fullAction, disk.tenantIdKey], ['filesystem', 'drop_oldest', "$kubernetes['namespace_name']"]);
});

test('bad values are config errors', () => {
  assert.throws(() => resolveLokiConfig({ uri: 'loki/api/v1/push' }), /uri/);
  assert.throws(() => resolveLokiConfig({ workers: 0 }), /workers/);
  assert.throws(() => resolveLokiConfig({ retry_limit: 'often' }), /retry_limit/);
  assert.throws(() => resolveLokiConfig({ line_format: 'xml' }), /line_format/);
  assert.throws(() => resolveLokiConfig({ header: ['NoValue'] }), /header/);
});
