import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOption } from '../../src/config/options.js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { LOKI_OPTIONS, LokiConfigError, resolveLokiConfig } from '../../src/outputs/loki/options.js';
import { PLUGINS } from '../../src/plugins.js';

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

/** A Fluent Bit style config with one loki output carrying `keys` (YAML lines, indented six). */
function lokiConfig(keys: string): string {
  return `pipeline:\n  inputs:\n    - name: dummy\n  outputs:\n    - name: loki\n      match: '*'\n${keys}`;
}

test("every key of Fluent Bit's out_loki docs is accepted, or refused by the check with the key and 'not supported by floki'", () => {
  const dir = mkdtempSync(join(tmpdir(), 'floki-loki-opts-'));
  try {
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ sub: { stream: 'stream' } }));
    // The table of pipeline/outputs/loki.md (fluent-bit-docs), every key with a value.
    const documented = [
      'host: loki',
      'uri: /loki/api/v1/push',
      'port: 3100',
      'tls: off',
      'http_user: u',
      'http_passwd: p',
      'header: X-A b',
      'tenant_id: t',
      'labels: job=fluentbit, $sub[\'stream\']',
      "label_keys: $sub['id']",
      `label_map_path: ${map}`,
      "structured_metadata: pod=$kubernetes['pod_name']",
      'structured_metadata_map_keys: $kubernetes',
      'remove_keys: tid',
      'drop_single_key: raw',
      'line_format: key_value',
      'auto_kubernetes_labels: on',
      'tenant_id_key: tid',
      'tenant_id_key_error_handling: partial_error',
      'buffer_size: 512KB',
      'compress: gzip',
      'workers: 2',
    ];
    const config = parseConfig(lokiConfig(documented.map((k) => `      ${k}\n`).join('')), 'floki.yaml', PLUGINS, {});
    const c = resolveLokiConfig(config.outputs[0]!.options);
    assert.deepEqual(c.labelMap, [{ name: 'stream', path: ['sub', 'stream'] }]);
    assert.equal(c.autoKubernetesLabels, true);
    assert.equal(c.compress, 'json_gzip');
    // bearer_token is documented too; it excludes http_user.
    parseConfig(lokiConfig('      bearer_token: abc\n'), 'floki.yaml', PLUGINS, {});

    for (const key of ['net.source_address: 10.0.0.1', 'tls.proxy.ca_file: /x.pem']) {
      assert.throws(
        () => parseConfig(lokiConfig(`      ${key}\n`), 'floki.yaml', PLUGINS, {}),
        (err: unknown) => err instanceof ConfigError && err.message.includes(`key '${key.split(':')[0]}' is not supported by floki`),
        key,
      );
    }
    for (const key of ['net.keepalive: off', 'net.connect_timeout: 10', 'net.dns.mode: TCP', 'tls.debug: 4']) parseConfig(lokiConfig(`      ${key}\n`), 'floki.yaml', PLUGINS, {});

    assert.throws(() => resolveLokiConfig({ tenant_id_key_error_handling: 'sometimes' }), /tenant_id_key_error_handling: expected partial_success or partial_error/);
    assert.throws(() => resolveLokiConfig({ label_map_path: join(dir, 'missing.json') }), /label_map_path: cannot read .*missing\.json.*ENOENT/);
    writeFileSync(map, '{"sub": {"stream": 1}}');
    assert.throws(() => resolveLokiConfig({ label_map_path: map }), /label_map_path: .*the value at 'sub.stream' is 1/);
    writeFileSync(map, 'not json');
    assert.throws(() => resolveLokiConfig({ label_map_path: map }), /label_map_path: cannot read/);
    // A bad accessor is found by the check (so by --dry-run), not only when the output starts.
    assert.throws(() => parseConfig(lokiConfig("      labels: $9lives\n"), 'floki.yaml', PLUGINS, {}), /cannot start with a number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tls.key_passwd opens an encrypted key; tls versions are checked', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = mkdtempSync(join(tmpdir(), 'floki-loki-key-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    const c = resolveLokiConfig({ tls: true, 'tls.crt_file': keyFile, 'tls.key_file': keyFile, 'tls.key_passwd': 'secret' });
    assert.equal(c.tls!.key!.toString(), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    assert.throws(() => resolveLokiConfig({ tls: true, 'tls.crt_file': keyFile, 'tls.key_file': keyFile, 'tls.key_passwd': 'wrong' }), /tls.key_passwd: cannot open tls.key_file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(resolveLokiConfig({ tls: true, 'tls.min_version': 'tlsv1.3' }).tls!.minVersion, 'TLSv1.3');
  assert.throws(() => resolveLokiConfig({ tls: true, 'tls.max_version': 'SSLv3' }), /tls.max_version: expected TLSv1.1, TLSv1.2 or TLSv1.3/);
});
