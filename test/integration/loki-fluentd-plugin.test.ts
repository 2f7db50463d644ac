/**
 * The loki output set up as a fluent-plugin-grafana-loki config maps onto it (FLUENTD-INTERFACE.md):
 * `line_format fluentd_key_value` (the plugin's default key_value), `extract_kubernetes_labels`, a
 * `<label>` as `labels name=$accessor` (the plugin deletes the key from the line), `remove_keys`.
 * Expected stream and line derived from grafana/loki clients/cmd/fluentd/lib/fluent/plugin/out_loki.rb
 * (`line_to_loki`: label accessors deleted, kubernetes labels with [.-/] made _, remove_keys deleted,
 * `record_to_line` key_value), for a record shaped as kubernetes_metadata's `record_layout fluentd`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lokiHarness, T0 } from '../helpers/loki-harness.js';

test('a fluent-plugin-grafana-loki setup: labels, kubernetes labels and the key_value line the plugin would send', async (t) => {
  const h = await lokiHarness(t, {
    line_format: 'fluentd_key_value',
    extract_kubernetes_labels: true,
    labels: ['job=fluentd', "namespace=$kubernetes['namespace_name']"],
    remove_keys: ['docker', 'logtag'],
  });
  await h.output.write([
    {
      tag: 'kubernetes.var.log.containers.web-0_shop_nginx-x.log',
      time: T0,
      record: {
        stream: 'stdout',
        logtag: 'F',
        log: 'GET /index.html "200"',
        docker: { container_id: 'abc' },
        kubernetes: { container_name: 'nginx', namespace_name: 'shop', pod_name: 'web-0', labels: { 'app.kubernetes.io/name': 'web' } },
      },
    },
  ]);
  await h.receiver.waitFor(1);
  const [entry] = h.receiver.entries;
  assert.deepEqual(entry!.labels, { job: 'fluentd', namespace: 'shop', app_kubernetes_io_name: 'web' });
  assert.equal(entry!.ts, T0);
  assert.equal(
    entry!.line,
    'stream=stdout log="GET /index.html \\"200\\"" kubernetes="{\\"container_name\\" => \\"nginx\\", \\"pod_name\\" => \\"web-0\\", \\"labels\\" => {\\"app.kubernetes.io/name\\" => \\"web\\"}}"',
  );
});
