/**
 * The keys a Fluent Bit user writes: service keys (floki's own, ignored, refused), the common keys of
 * every input, filter and output, and Fluent Bit's other keys of floki's plugins (fluent-bit-keys.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { COMMON_KEYS } from '../../src/config/common-keys.js';
import { FLUENT_BIT_KEYS } from '../../src/config/fluent-bit-keys.js';
import type { PluginKind } from '../../src/config/model.js';
import { PLUGIN_LIST, PLUGINS } from '../../src/plugins.js';
import { lines, loaded, refused, writeFiles } from './config-kit.js';

/** A warning without its reason. */
const upToReason = (w: string) => w.slice(0, w.indexOf(' has no effect in floki') + ' has no effect in floki'.length);

const conf = (input: string, output = '[OUTPUT]\n    Name stdout\n    Match *\n', service = '') =>
  `${service ? `[SERVICE]\n${service}` : ''}[INPUT]\n${input}${output}`;

test('service: floki keys are read, others ignored with a warning as Fluent Bit ignores them, plugins_file and streams_file refused', (t) => {
  const service = [
    'Flush 2', 'Daemon off', 'Log_File /var/log/fb.log', 'Log_Level warning', 'storage.sync normal', 'storage.checksum off', 'storage.metrics on',
    'storage.backlog.mem_limit 5M', 'http_monitor on', 'HTTP_Server On', 'Health_Check On', 'HC_Errors_Count 2', 'HC_Retry_Failure_Count 3', 'HC_Period 5', 'Hot_Reload On',
  ].map((l) => `    ${l}\n`).join('');
  const dir = writeFiles(t, { 'fb.conf': conf('    Name dummy\n', undefined, service) });
  const { config, warnings } = loaded(join(dir, 'fb.conf'), PLUGINS);
  assert.equal(config.service.flushMs, 2000);
  assert.equal(config.service.logLevel, 'warn');
  assert.deepEqual([config.service.healthCheck, config.service.hcErrorsCount, config.service.hcRetryFailureCount, config.service.hcPeriodMs], [true, 2, 3, 5000]);
  assert.equal(config.service.hotReload, true);
  assert.deepEqual(
    lines(warnings).map((w) => w.replace(/^fb\.conf:\d+: service: key '([^']+)' is ignored by floki$/, '$1')),
    ['daemon', 'log_file', 'storage.sync', 'storage.checksum', 'storage.metrics', 'storage.backlog.mem_limit', 'http_monitor'],
  );

  const bad = writeFiles(t, { 'fb.conf': conf('    Name dummy\n', undefined, '    Plugins_File plugins.conf\n    Streams_File streams.conf\n    HC_Period 0\n') });
  assert.deepEqual(refused(join(bad, 'fb.conf'), PLUGINS), [
    "fb.conf:2: service: key 'plugins_file' is not supported by floki (external plugins (.so) cannot be loaded by floki)",
    "fb.conf:3: service: key 'streams_file' is not supported by floki (the stream processor is not supported by floki)",
    "fb.conf:4: service: key 'hc_period' must be at least 1s",
  ]);
});

test('common keys: log_level per instance, alias, and the ones a plugin does not use are accepted with a warning', (t) => {
  const dir = writeFiles(t, {
    'fb.conf': conf(
      '    Name forward\n    Alias fw\n    Log_Level debug\n    Mem_Buf_Limit 5MB\n    storage.pause_on_chunks_overlimit on\n',
      '[OUTPUT]\n    Name stdout\n    Match *\n    Log_Level off\n    Retry_Limit 3\n    Workers 2\n    storage.total_limit_size 1G\n',
    ),
  });
  const { config, warnings } = loaded(join(dir, 'fb.conf'), PLUGINS);
  assert.deepEqual([config.inputs[0]!.instanceName, config.inputs[0]!.logLevel, config.outputs[0]!.logLevel], ['fw', 'debug', 'off']);
  assert.deepEqual(lines(warnings).map(upToReason), [
    "fb.conf:5: inputs[0] (forward): key 'mem_buf_limit' has no effect in floki",
    "fb.conf:6: inputs[0] (forward): key 'storage.pause_on_chunks_overlimit' has no effect in floki",
    "fb.conf:11: outputs[0] (stdout): key 'retry_limit' has no effect in floki",
    "fb.conf:12: outputs[0] (stdout): key 'workers' has no effect in floki",
    "fb.conf:13: outputs[0] (stdout): key 'storage.total_limit_size' has no effect in floki",
  ]);
});

test("a plugin's own declaration of a common key wins: tail's mem_buf_limit, loki's retry_limit and workers reach the plugin", (t) => {
  const dir = writeFiles(t, {
    'fb.conf': conf('    Name tail\n    Path /var/log/containers/*.log\n    Mem_Buf_Limit 5MB\n    Threaded on\n', '[OUTPUT]\n    Name loki\n    Match *\n    Retry_Limit False\n    Workers 2\n'),
  });
  const { config, warnings } = loaded(join(dir, 'fb.conf'), PLUGINS);
  assert.equal(config.inputs[0]!.options['mem_buf_limit'], 5 * 1024 * 1024);
  assert.deepEqual([config.outputs[0]!.options['retry_limit'], config.outputs[0]!.options['workers']], ['False', 2]);
  assert.deepEqual(lines(warnings), ["fb.conf:5: inputs[0] (tail): key 'threaded' has no effect in floki (floki runs this input on the main thread; it changes no record)"]);
});

test('bad common values are errors: log_level, storage.type (memrb is not supported)', (t) => {
  const dir = writeFiles(t, { 'fb.conf': conf('    Name dummy\n    Log_Level loud\n    storage.type memrb\n', '[OUTPUT]\n    Name stdout\n    Match *\n    storage.type disk\n') });
  assert.deepEqual(refused(join(dir, 'fb.conf'), PLUGINS), [
    "fb.conf:3: inputs[0] (dummy): key 'log_level': expected one of off, error, warn, warning, info, debug, trace, got 'loud'",
    "fb.conf:4: inputs[0] (dummy): key 'storage.type': 'memrb' is not supported by floki (a ring buffer drops the oldest records)",
    "fb.conf:8: outputs[0] (stdout): key 'storage.type': expected memory or filesystem, got 'disk'",
  ]);
});

test("Fluent Bit keys floki does not do: refused with 'not supported by floki', unless set to what floki does anyway", (t) => {
  const dir = writeFiles(t, {
    'fb.conf': conf(
      '    Name dummy\n    Copies 2\n    Routable false\n    Rate_Gate on\n',
      '[OUTPUT]\n    Name loki\n    Match *\n    net.source_address 10.0.0.1\n    tls.proxy.verify on\n',
    ),
  });
  assert.deepEqual(refused(join(dir, 'fb.conf'), PLUGINS), [
    "fb.conf:3: inputs[0] (dummy): key 'copies' is not supported by floki (floki generates one record per tick)",
    "fb.conf:4: inputs[0] (dummy): key 'routable' is not supported by floki (an input whose records go nowhere)",
    "fb.conf:5: inputs[0] (dummy): key 'rate_gate' is not supported by floki (floki does not rate-limit inputs)",
    "fb.conf:9: outputs[0] (loki): key 'net.source_address' is not supported by floki (floki connects from the default address)",
    "fb.conf:10: outputs[0] (loki): key 'tls.proxy.verify' is not supported by floki (floki does not connect through a TLS proxy)",
  ]);
  const fine = writeFiles(t, {
    'fb.conf': conf('    Name dummy\n    Routable true\n    Rate_Gate off\n    Flush_On_Startup on\n', '[OUTPUT]\n    Name loki\n    Match *\n    tls.verify_hostname on\n    net.dns.mode TCP\n'),
  });
  assert.deepEqual(lines(loaded(join(fine, 'fb.conf'), PLUGINS).warnings).map(upToReason), [
    "fb.conf:5: inputs[0] (dummy): key 'flush_on_startup' has no effect in floki",
    "fb.conf:10: outputs[0] (loki): key 'net.dns.mode' has no effect in floki",
  ]);
});

test('the http input takes tag, for records posted to /', (t) => {
  const dir = writeFiles(t, { 'fb.conf': conf('    Name http\n    Tag events\n') });
  assert.equal(loaded(join(dir, 'fb.conf'), PLUGINS).config.inputs[0]!.options['tag'], 'events');
});

test("the Fluent Bit keys table names only keys that are neither a plugin's own nor common, for plugins floki has", () => {
  for (const [kind, plugins] of Object.entries(FLUENT_BIT_KEYS)) {
    const common = new Set(COMMON_KEYS.filter((k) => k.kinds.includes(kind as PluginKind)).map((k) => k.name));
    for (const [name, keys] of Object.entries(plugins)) {
      const plugin = PLUGIN_LIST.find((p) => p.kind === kind && p.name === name);
      assert.ok(plugin, `${kind} ${name} is not a floki plugin`);
      const own = new Set(plugin.options.map((o) => o.name));
      const seen = new Set<string>();
      for (const k of keys) {
        assert.ok(!own.has(k.key), `${name}: '${k.key}' is in its option table; take it out of fluent-bit-keys.ts`);
        assert.ok(!common.has(k.key), `${name}: '${k.key}' is a common key`);
        assert.ok(!seen.has(k.key), `${name}: '${k.key}' twice`);
        seen.add(k.key);
      }
    }
  }
  for (const p of PLUGIN_LIST.filter((p) => p.kind !== 'filter')) assert.ok(FLUENT_BIT_KEYS[p.kind][p.name], `${p.kind} ${p.name} has no entry in fluent-bit-keys.ts`);
});

test("keys floki's http, stdout and loki have as their own options are not also marked as Fluent Bit keys floki ignores or refuses", () => {
  const pending: Record<string, string[]> = {
    'input http': ['add_remote_addr', 'remote_addr_key', 'http2', 'http_server.http2', 'enable_health_endpoint'],
    'output stdout': ['json_date_key', 'json_date_format'],
    'output loki': ['auto_kubernetes_labels', 'label_map_path', 'tenant_id_key_error_handling'],
  };
  for (const [where, keys] of Object.entries(pending)) {
    const [kind, name] = where.split(' ') as [PluginKind, string];
    const marked = (FLUENT_BIT_KEYS[kind][name] ?? []).filter((k) => keys.includes(k.key)).map((k) => k.key);
    assert.deepEqual(marked, [], where);
  }
});
