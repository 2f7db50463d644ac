/**
 * Issue #17's end-to-end test: the fluentd-kubernetes-daemonset container-log configuration
 * (test/fixtures/fluentd/fluentd-kubernetes-daemonset, as published) with a fluent-plugin-grafana-loki
 * `<match>` in its conf.d/ (test/fixtures/fluentd/grafana-loki/daemonset-conf.d-loki.conf) is run by
 * floki as the image runs it, configured by the image's environment variables only: it tails CRI
 * logs (FLUENT_CONTAINER_TAIL_PARSER_TYPE=cri), enriches them from an API-server stand-in through
 * kubernetes_metadata, and delivers to a decoding Loki receiver the labels and lines Fluentd gives:
 * fluent-plugin-parser-cri's record (`stream`, `logtag`, `message`, the time text it keeps; a partial
 * `P` line is its own entry, as the daemonset config does not join them), the `<label>`s and Kubernetes labels the plugin
 * extracts, and its key_value line of what remains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { Floki } from '../../src/runtime.js';
import { freePort, ROOT } from '../helpers/floki-process.js';
import { KubeApiServer } from '../helpers/kube-apiserver.js';
import { kubeNamespace, kubePod } from '../helpers/kube-objects.js';
import { LokiReceiver } from '../helpers/loki-receiver.js';
import { lines, writeFiles } from '../unit/config-kit.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'fluentd');
const CID = 'a1b2c3d4'.repeat(8);
const POD = 'api-7d9f8b6c5-xk2lp';
const LOG_FILE = `${POD}_shop_api-${CID}.log`;

test('the fluentd-kubernetes-daemonset config with a grafana-loki <match> runs end to end into Loki as Fluentd would', async (t) => {
  const loki = await LokiReceiver.start();
  t.after(() => loki.close());
  const api = await KubeApiServer.start([]);
  // The daemonset's kubernetes_metadata names no token file: in a cluster it is the service account's.
  api.allowAnonymous = true;
  t.after(() => api.close());
  api.putNamespace(kubeNamespace('shop', { team: 'a' }));
  api.putPod(kubePod({ namespace: 'shop', name: POD, node: 'node-1', labels: { app: 'api', 'app.kubernetes.io/part-of': 'shop' }, containers: [{ name: 'api', image: 'registry.example/api:1.2', id: CID }] }));

  const dir = writeFiles(t, { 'var/log/containers/.keep': '', 'pos/.keep': '' });
  const conf = join(dir, 'conf');
  cpSync(join(FIXTURES, 'fluentd-kubernetes-daemonset'), conf, { recursive: true });
  mkdirSync(join(conf, 'conf.d'));
  cpSync(join(FIXTURES, 'grafana-loki', 'daemonset-conf.d-loki.conf'), join(conf, 'conf.d', 'loki.conf'));
  writeFileSync(
    join(dir, 'var', 'log', 'containers', LOG_FILE),
    [
      '2026-11-25T10:00:00.000000001Z stdout F GET /healthz 200',
      '2026-11-25T10:00:00.000000002Z stderr P panic: first half, ',
      '2026-11-25T10:00:00.000000003Z stderr F second half',
      '2026-11-25T10:00:00.000000004Z stdout F started',
      '',
    ].join('\n'),
  );
  const environment = {
    FLUENTD_SYSTEMD_CONF: 'disable',
    FLUENTD_PROMETHEUS_BIND: '127.0.0.1',
    FLUENTD_PROMETHEUS_PORT: '0',
    FLUENT_CONTAINER_TAIL_PATH: join(dir, 'var', 'log', 'containers', '*.log'),
    FLUENT_CONTAINER_TAIL_PARSER_TYPE: 'cri',
    FLUENT_CONTAINER_TAIL_PARSER_TIME_FORMAT: '%Y-%m-%dT%H:%M:%S.%N%:z',
    // The image keeps its pos files under /var/log/<FLUENT_POS_EXTRA_DIR>: here, the test's folder.
    FLUENT_POS_EXTRA_DIR: `../..${join(dir, 'pos')}`,
    FLUENT_POS_DIR: `../..${join(dir, 'pos')}`,
    FLUENT_FILTER_KUBERNETES_URL: `${api.url}/api`,
    KUBERNETES_CA_FILE: api.caFile,
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(api.port),
    FLUENT_FORWARD_HOST: '127.0.0.1',
    FLUENT_FORWARD_PORT: String(await freePort()),
    LOKI_URL: loki.url,
  };
  const loaded = loadConfig(join(conf, 'fluent.conf'), PLUGINS, { environment });
  assert.ok(loaded.config, lines(loaded.problems).join('\n'));
  const floki = new Floki(loaded.config, pino({ level: process.env.FLOKI_TEST_LOG ?? 'silent' }));
  await floki.start();
  t.after(() => floki.stop(100));
  await loki.waitFor(4, 20_000);
  await floki.stop(1000);

  const byTime = [...loki.entries].sort((a, b) => (a.ts < b.ts ? -1 : 1));
  const labels = { job: 'fluentd', namespace: 'shop', pod: POD, container: 'api', app: 'api', app_kubernetes_io_part_of: 'shop' };
  assert.deepEqual(
    byTime.map((e) => [e.ts, e.labels, e.line]),
    [
      [1_795_600_800_000_000_001n, { ...labels, stream: 'stdout' }, 'logtag=F message="GET /healthz 200" time=2026-11-25T10:00:00.000000001Z'],
      [1_795_600_800_000_000_002n, { ...labels, stream: 'stderr' }, 'logtag=P message="panic: first half, " time=2026-11-25T10:00:00.000000002Z'],
      [1_795_600_800_000_000_003n, { ...labels, stream: 'stderr' }, 'logtag=F message="second half" time=2026-11-25T10:00:00.000000003Z'],
      [1_795_600_800_000_000_004n, { ...labels, stream: 'stdout' }, 'logtag=F message=started time=2026-11-25T10:00:00.000000004Z'],
    ],
  );
});
