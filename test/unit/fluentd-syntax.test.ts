import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFluentdFile, parseFluentdText, param, type FluentdElement } from '../../src/config/formats/fluentd/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'fluentd');
const DAEMONSET = join(FIXTURES, 'fluentd-kubernetes-daemonset');
const IN_CLUSTER = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

/** `name arg` of each element, for comparing the shape of a tree. */
function heads(elements: FluentdElement[]): string[] {
  return elements.map((e) => (e.arg === '' ? e.name : `${e.name} ${e.arg}`));
}

function values(e: FluentdElement): Record<string, string | null> {
  return Object.fromEntries(e.params.map((p) => [p.key, p.value]));
}

function parse(text: string, env: Record<string, string> = {}) {
  return parseFluentdText(text, 'test.conf', { env, hostname: 'node-1' });
}

test('fluentd-kubernetes-daemonset: fluent.conf loads with every include, in order', () => {
  const { root, warnings, files } = parseFluentdFile(join(DAEMONSET, 'fluent.conf'), { env: IN_CLUSTER, hostname: 'node-1' });
  assert.deepEqual(heads(root.elements), [
    'source', 'source', 'source', // systemd.conf
    'source', 'source', // prometheus.conf
    'label @FLUENT_LOG',
    'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', // kubernetes/*.conf
    'filter kubernetes.**',
    'match **',
  ]);
  assert.equal(files.length, 19);
  assert.equal(files[0], join(DAEMONSET, 'fluent.conf'));
  // conf.d/ is empty in the image: the glob includes nothing, which Fluentd accepts.
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /@include conf\.d\/\*\.conf: no file matches/);
  assert.equal(warnings[0]!.line, 8);

  const containers = root.elements.find((e) => param(e, '@id')?.value === 'in_tail_container_logs')!;
  assert.ok(containers.file.endsWith(join('kubernetes', 'containers.conf')));
  assert.equal(containers.line, 1);
  assert.deepEqual(values(containers), {
    '@type': 'tail',
    '@id': 'in_tail_container_logs',
    path: '/var/log/containers/*.log',
    pos_file: '/var/log/fluentd-containers.log.pos',
    tag: 'kubernetes.*',
    exclude_path: null,
    read_from_head: 'true',
  });
  assert.equal(param(containers, 'exclude_path')!.unset, 'default');
  assert.equal(param(containers, 'read_from_head')!.line, 8);
  // The <parse> comes from `@include ../tail_container_parse.conf` inside the <source>.
  const parseSection = containers.elements[0]!;
  assert.equal(parseSection.name, 'parse');
  assert.ok(parseSection.file.endsWith('tail_container_parse.conf'));
  assert.deepEqual(values(parseSection), { '@type': 'json', time_format: '%Y-%m-%dT%H:%M:%S.%NZ' });
  assert.equal(param(parseSection, 'time_format')!.line, 3);

  const metadata = root.elements.find((e) => e.name === 'filter')!;
  assert.equal(param(metadata, 'kubernetes_url')!.value, 'https://10.96.0.1:443/api');
  assert.equal(param(metadata, 'kubernetes_url')!.line, 30);
  assert.equal(param(metadata, 'verify_ssl')!.value, 'true');
  assert.equal(param(metadata, 'ca_file')!.value, '');

  const fwd = root.elements.at(-1)!;
  assert.deepEqual(heads(fwd.elements), ['server', 'buffer']);
  assert.deepEqual(fwd.elements[1]!.params.map((p) => [p.key, p.value, p.unset]), [['flush_interval', null, 'default']]);

  const audit = root.elements.find((e) => param(e, '@id')?.value === 'in_tail_kube_apiserver_audit')!;
  const multiline = audit.elements[0]!;
  assert.equal(param(multiline, 'format_firstline')!.value, '/^\\S+\\s+AUDIT:/');
  assert.ok(param(multiline, 'format1')!.value!.startsWith('/^(?<time>\\S+) AUDIT:(?: (?:id="(?<id>(?:[^"\\\\]|\\\\.)*)"'));
  assert.equal(param(multiline, 'time_format')!.line, 21);

  const systemd = root.elements[0]!;
  assert.equal(param(systemd, 'matches')!.value, '[{"_SYSTEMD_UNIT":"kubelet.service"}]');
});

test('fluentd-kubernetes-daemonset: its environment variables turn files off and move paths', () => {
  const { root, warnings } = parseFluentdFile(join(DAEMONSET, 'fluent.conf'), {
    env: {
      ...IN_CLUSTER,
      FLUENTD_SYSTEMD_CONF: 'disable',
      FLUENTD_PROMETHEUS_CONF: 'disable',
      FLUENT_POS_EXTRA_DIR: 'pos',
      FLUENT_CONTAINER_TAIL_PARSER_TYPE: 'cri',
      FLUENT_CONTAINER_TAIL_EXCLUDE_PATH: '["/var/log/containers/fluentd-*"]',
      FLUENT_FORWARD_HOST: 'aggregator',
      FLUENT_FORWARD_PORT: '24224',
    },
    hostname: 'node-1',
  });
  assert.equal(root.elements.filter((e) => e.name === 'source').length, 14);
  assert.deepEqual(
    warnings.map((w) => w.message.replace(/ .*/, '')),
    ['@include', '@include', '@include'],
  );
  assert.match(warnings[0]!.message, /@include disable\.conf: no file matches/);
  const containers = root.elements.find((e) => param(e, '@id')?.value === 'in_tail_container_logs')!;
  assert.equal(param(containers, 'pos_file')!.value, '/var/log/pos/fluentd-containers.log.pos');
  assert.equal(param(containers, 'exclude_path')!.value, '["/var/log/containers/fluentd-*"]');
  assert.equal(param(containers.elements[0]!, '@type')!.value, 'cri');
  const server = root.elements.at(-1)!.elements[0]!;
  assert.deepEqual(values(server), { host: 'aggregator', port: '24224' });
});

test('fluentd-kubernetes-daemonset: kubernetes_url brackets an IPv6 API server address, and FLUENT_FILTER_KUBERNETES_URL wins', () => {
  const url = (env: Record<string, string>) => {
    const { root } = parseFluentdFile(join(DAEMONSET, 'kubernetes.conf'), { env, hostname: 'n' });
    return param(root.elements.find((e) => e.name === 'filter')!, 'kubernetes_url')!.value;
  };
  assert.equal(url({ KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '443' }), 'https://[fd00:10:96::1]:443/api');
  assert.equal(url({ KUBERNETES_SERVICE_HOST: 'kubernetes.default.svc', KUBERNETES_SERVICE_PORT: '6443' }), 'https://kubernetes.default.svc:6443/api');
  assert.equal(url({ FLUENT_FILTER_KUBERNETES_URL: 'https://api:6443/api' }), 'https://api:6443/api');
});

test('fluentd-kubernetes-daemonset: outside a cluster, kubernetes_url is an error naming the variable and the line', () => {
  assert.throws(
    () => parseFluentdFile(join(DAEMONSET, 'kubernetes.conf'), { env: {}, hostname: 'n' }),
    (err: Error) => {
      assert.equal(err.name, 'ConfigError');
      assert.match(err.message, /kubernetes\.conf:30: embedded Ruby "#\{ENV\['FLUENT_FILTER_KUBERNETES_URL'\] \|\| \(host = ENV\.fetch/);
      assert.match(err.message, /raised KeyError: key not found: "KUBERNETES_SERVICE_HOST"/);
      return true;
    },
  );
});

test('fluentd-kubernetes-daemonset: the Elasticsearch fluent.conf with use_nil and use_default', () => {
  const { root } = parseFluentdFile(join(DAEMONSET, 'fluent-elasticsearch8.conf'), { env: { ...IN_CLUSTER, FLUENT_ELASTICSEARCH_HOST: 'es' }, hostname: 'n' });
  const es = root.elements.at(-1)!;
  assert.equal(es.arg, '**');
  assert.equal(param(es, 'host')!.value, 'es');
  assert.equal(param(es, 'port')!.value, '');
  assert.equal(param(es, 'scheme')!.value, 'http');
  assert.equal(param(es, 'logstash_dateformat')!.value, '%Y.%m.%d');
  assert.deepEqual([param(es, 'user')!.value, param(es, 'user')!.unset], [null, 'default']);
  assert.deepEqual([param(es, 'target_index_key')!.value, param(es, 'target_index_key')!.unset], [null, 'nil']);
  assert.equal(param(es, 'sniffer_class_name')!.value, 'Fluent::Plugin::ElasticsearchSimpleSniffer');
  assert.deepEqual(values(es.elements[0]!), {
    flush_thread_count: '8',
    flush_interval: '5s',
    chunk_limit_size: '2M',
    queue_limit_length: '32',
    retry_max_interval: '30',
    retry_forever: 'true',
  });
});

test('fluent-plugin-grafana-loki: the Docker image config and the documented options', () => {
  const image = parseFluentdFile(join(FIXTURES, 'grafana-loki', 'fluentd.conf'), { env: { LOKI_URL: 'http://loki:3100' }, hostname: 'n' });
  assert.deepEqual(heads(image.root.elements), ['source', 'filter **', 'match loki.**']);
  const loki = image.root.elements[2]!;
  assert.ok(loki.file.endsWith('loki.conf'));
  assert.deepEqual(values(loki), { '@type': 'loki', url: 'http://loki:3100', extra_labels: '{"job":"fluentd"}' });
  assert.deepEqual(values(loki.elements[0]!), { flush_interval: '10s', flush_at_shutdown: 'true' });

  const documented = parseFluentdFile(join(FIXTURES, 'grafana-loki', 'documented-usage.conf'), { env: { LOKI_USERNAME: 'u' }, hostname: 'n' });
  const match = documented.root.elements[0]!;
  assert.equal(match.line, 4);
  assert.equal(param(match, 'username')!.value, 'u');
  assert.equal(param(match, 'password')!.value, '');
  // `${...}` is a Fluentd placeholder, not embedded Ruby: kept as written.
  assert.equal(param(match, 'tenant')!.value, '${$.kubernetes.labels.tenant}');
  assert.equal(param(match, 'extra_labels')!.value, '{"env":"dev","datacenter":"dc1"}');
  const [label, buffer] = match.elements;
  assert.deepEqual(label!.params.map((p) => [p.key, p.value, p.line]), [
    ['fluentd_worker', '', 21],
    ['container', '$.kubernetes.container', 22],
  ]);
  assert.equal(buffer!.arg, '$.kubernetes.labels.tenant');
  assert.equal(param(buffer!, 'chunk_limit_size')!.value, '8m');
});

test("Fluentd's example configs: comments after a directive, <worker>, <store>, <transport tls>", () => {
  const workers = parseFluentdFile(join(FIXTURES, 'fluentd-examples', 'worker_section.conf'), { env: {}, hostname: 'n' });
  assert.deepEqual(heads(workers.root.elements), ['system', 'source', 'match all', 'worker 0']);
  assert.deepEqual(heads(workers.root.elements[3]!.elements), ['source', 'match tail']);
  assert.equal(workers.root.elements[3]!.elements[1]!.line, 30);

  const copy = parseFluentdFile(join(FIXTURES, 'fluentd-examples', 'out_copy.conf'), { env: {}, hostname: 'n' });
  const stores = copy.root.elements[1]!.elements;
  assert.deepEqual(heads(stores), ['store', 'store']);
  assert.deepEqual(values(stores[1]!), { '@type': 'file', path: '/var/log/fluentd/out_file_test', format: 'json', buffer_type: 'memory', append: 'false' });

  const tls = parseFluentdFile(join(FIXTURES, 'fluentd-examples', 'in_forward_tls.conf'), { env: {}, hostname: 'n' });
  assert.deepEqual(heads(tls.root.elements[0]!.elements), ['transport tls']);
});

test("Fluentd's v1_literal_example.conf: each value as its comment says, and `\"#{test}\"` refused", () => {
  const file = join(FIXTURES, 'fluentd-examples', 'v1_literal_example.conf');
  assert.throws(
    () => parseFluentdFile(file, { env: {}, hostname: 'n' }),
    (err: Error & { problems?: unknown[] }) => {
      assert.equal(err.problems?.length, 1);
      assert.match(err.message, /v1_literal_example\.conf:22: embedded Ruby "#\{test\}" is outside what floki evaluates \('test'\)/);
      return true;
    },
  );
  const text = readFixture(file).replace('"#{test}"  # replaced by eval(\'test\')', '"#{ENV[\'TEST\']}"');
  const { root } = parse(text, { TEST: 'evaluated' });
  const [s1, s2, s3] = root.elements.map(values);
  assert.deepEqual(s1, {
    key1: 'text', key2: "'", key3: '\\', key4: '\\t', key5: '\\[', key6: '\\[', key7: '#t', key8: '\\#{test}', key9: '#{test}',
    key10: '\\[(?<time>[^\\]]*)\\] (?<message>.*)',
  });
  assert.deepEqual(s2, {
    key1: 'text', key2: '"', key3: '\\', key4: '\t', key5: '[', key6: '\\[', key7: '#t', key8: '#{test}', key9: 'evaluated',
    key10: '\\[(?<time>[^\\]]*)\\] (?<message>.*)',
  });
  assert.deepEqual(s3, {
    key1: 'text', key2: '\\', key3: '\\\\', key4: '\\t', key5: '\\[', key6: '\\\\[', key7: '#t', key8: '\\#{test}', key9: '#{test}',
    key10: '\\[(?<time>[^\\]]*)\\] (?<message>.*)',
  });
});

function readFixture(path: string): string {
  return readFileSync(path, 'utf8');
}
