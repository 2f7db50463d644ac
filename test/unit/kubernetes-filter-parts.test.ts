/**
 * The kubernetes filter's pure parts: reading tags, Fluent Bit's containerID/imageID reading, the
 * fluentbit.io/ annotation rules, merge_log_trim, the record's key order, and option checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerProps, NO_PROPS } from '../../src/filters/kubernetes/annotation-props.js';
import { checkKubernetesFilterOptions, resolveKubernetesFilterOptions } from '../../src/filters/kubernetes/options.js';
import { hashOf, kubernetesMap, podMetadataOf } from '../../src/filters/kubernetes/pod-metadata.js';
import { mergeRecord, trimValue, type MergeOptions, type MergeResult } from '../../src/filters/kubernetes/record-merge.js';
import { TagReader } from '../../src/filters/kubernetes/tag-metadata.js';
import { filterOptions, regexParser, TestParsers } from '../helpers/kube-filter.js';
import { containerId, kubePod } from '../helpers/kube-objects.js';

const ID = containerId('x');

test('tags: the prefix is cut by its length, the rest must be a container log file name', () => {
  const reader = new TagReader('kube.var.log.containers.', undefined);
  assert.deepEqual(reader.read(`kube.var.log.containers.web-0_shop_nginx-${ID}.log`), {
    podName: 'web-0',
    namespace: 'shop',
    containerName: 'nginx',
    dockerId: ID,
    containerHash: undefined,
    podKey: 'shop/web-0',
  });
  assert.equal(reader.read('kube.var.log.containers.'), undefined, 'no longer than the prefix');
  assert.equal(reader.read(`kube.var.log.containers.web-0_shop_nginx.log`), undefined, 'no container id');
  assert.equal(reader.read('app.logs'), undefined);
  // The prefix is not compared, as in Fluent Bit: a pod name may hold dots, so a shorter prefix still reads.
  assert.equal(new TagReader('kube.', undefined).read(`kube.var.log.containers.web-0_shop_nginx-${ID}.log`)?.podName, 'var.log.containers.web-0');
  const custom = new TagReader('kube.', regexParser('custom-tag', '^(?<namespace_name>[^_]+)\\.(?<pod_name>[a-z0-9.-]+)\\.(?<container_name>.+)\\.(?<docker_id>[a-z0-9]{64})$'));
  assert.deepEqual(custom.read(`kube.shop.web-0.nginx.${ID}`), { podName: 'web-0', namespace: 'shop', containerName: 'nginx', dockerId: ID, containerHash: undefined, podKey: 'shop/web-0' });
  assert.equal(custom.read('kube.nothing'), undefined);
});

test("containerID and imageID read as Fluent Bit reads them", () => {
  assert.equal(hashOf(`containerd://${ID}`), ID);
  assert.equal(hashOf('docker-pullable://nginx@sha256:abc'), 'nginx@sha256:abc');
  assert.equal(hashOf('sha256:abc'), 'sha256:abc', 'no slashes after the colon: the whole value');
  assert.equal(hashOf('docker.io/library/nginx:1.27'), 'docker.io/library/nginx:1.27');
  assert.equal(hashOf('noColon'), undefined);
  assert.equal(hashOf('x://'), undefined);
});

test("the kubernetes map: Fluent Bit's key order; a key the pod lacks is left out; init containers found too", () => {
  const pod = kubePod({ namespace: 'ns', name: 'p', node: 'n1', labels: { a: '1' }, containers: [{ name: 'main', image: 'img:1', id: ID }] });
  (pod.status as Record<string, unknown>).initContainerStatuses = [{ name: 'init', image: 'busybox', imageID: 'sha256:init', containerID: `containerd://${containerId('init')}` }];
  delete (pod.status as Record<string, unknown>).podIP;
  const meta = podMetadataOf(pod)!;
  const tag = { podName: 'p', namespace: 'ns', containerName: 'init', dockerId: undefined, containerHash: undefined, podKey: 'ns/p' };
  const map = kubernetesMap(tag, meta, { labels: true, annotations: true, ownerReferences: true });
  assert.deepEqual(Object.keys(map), ['pod_name', 'namespace_name', 'pod_id', 'labels', 'host', 'container_name', 'docker_id', 'container_hash', 'container_image']);
  assert.equal(map.docker_id, containerId('init'), 'from the status when the tag has none');
  assert.equal(map.container_hash, 'sha256:init');
  assert.deepEqual(Object.keys(kubernetesMap({ ...tag, containerName: 'main', dockerId: ID }, meta, { labels: false, annotations: false, ownerReferences: false })), [
    'pod_name', 'namespace_name', 'pod_id', 'host', 'container_name', 'docker_id', 'container_hash', 'container_image',
  ]);
  assert.equal(podMetadataOf({ metadata: { name: 'x' } }), undefined, 'no namespace: not a pod');
});

const parsers = { kv: regexParser('kv', '^(?<k>\\w+)=(?<v>\\w+)$'), level: regexParser('level', '^(?<level>[A-Z]+) (?<msg>.*)$') };
function props(annotations: Record<string, string>, container: string, allow = true, warnings: string[] = []) {
  return containerProps(annotations, container, { allowParser: allow, allowExclude: allow, parser: (n) => parsers[n as keyof typeof parsers], warn: (m) => warnings.push(m) });
}

test('annotations: stream and container suffixes, the container\'s own rule wins whatever the order, the last general one otherwise', () => {
  const a = {
    'fluentbit.io/parser_stdout-app': 'kv',
    'fluentbit.io/parser': 'level',
    'fluentbit.io/exclude_stderr': 'true',
    'fluentbit.io/exclude-app': 'false',
    'fluentbit.io/exclude_stdout-other': 'yes',
  };
  const app = props(a, 'app');
  assert.equal(app.stdoutParser, parsers.kv, 'its own stdout rule, though read before the general one');
  assert.equal(app.stderrParser, parsers.level);
  assert.deepEqual([app.stdoutExclude, app.stderrExclude], [false, false], 'exclude-app: false beats exclude_stderr');
  const other = props(a, 'other');
  assert.equal(other.stdoutParser, parsers.level);
  assert.deepEqual([other.stdoutExclude, other.stderrExclude], [true, true]);
  const third = props(a, 'third');
  assert.deepEqual([third.stdoutExclude, third.stderrExclude], [false, true]);
  assert.equal(props({ 'fluentbit.io/exclude': '1' }, 'x').stdoutExclude, false, 'only true, on, yes');
  assert.equal(props({ 'fluentbit.io/exclude': 'TRUE' }, 'x').stderrExclude, true);
  assert.equal(props({ 'prometheus.io/scrape': 'true' }, 'x'), NO_PROPS);
});

test('annotations that cannot apply are ignored and said: not allowed, unknown, malformed, no such parser', () => {
  const warnings: string[] = [];
  const p = props({ 'fluentbit.io/parser': 'kv', 'fluentbit.io/exclude': 'true' }, 'x', false, warnings);
  assert.deepEqual([p.stdoutParser, p.stdoutExclude], [undefined, false]);
  assert.equal(warnings.length, 2);
  warnings.length = 0;
  const q = props({ 'fluentbit.io/parser': 'nope', 'fluentbit.io/parse': 'kv', 'fluentbit.io/parser_stdin': 'kv', 'fluentbit.io/parser-': 'kv', 'fluentbit.io/parserx': 'kv', 'fluentbit.io/': 'kv' }, 'x', true, warnings);
  assert.equal(q.stdoutParser, undefined);
  assert.deepEqual(warnings, [
    "annotation parser 'nope' not found",
    "unknown annotation 'fluentbit.io/parse'",
    "invalid stream in annotation 'fluentbit.io/parser_stdin'",
    "invalid container in annotation 'fluentbit.io/parser-'",
    "invalid annotation 'fluentbit.io/parserx'",
  ]);
});

test('merge_log_trim as Fluent Bit: trailing newlines and literal \\n, \\r, never the first character', () => {
  assert.equal(trimValue('done\n'), 'done');
  assert.equal(trimValue('done\n\n'), 'done');
  assert.equal(trimValue('done\\n'), 'done');
  assert.equal(trimValue('done\\r\\n\n'), 'done');
  assert.equal(trimValue('done\r'), 'done\r', 'a carriage return itself stays');
  assert.equal(trimValue('\n'), '\n');
  assert.equal(trimValue('a\n'), 'a');
  assert.equal(trimValue(42), 42);
});

const merge = (record: Record<string, unknown>, options: Partial<MergeOptions>, kube: Record<string, unknown> | null = { pod_name: 'p' }, ns?: Record<string, unknown>) => {
  const out: MergeResult = { record: {}, time: undefined };
  mergeRecord(record, kube ?? undefined, ns, undefined, { mergeLog: false, mergeLogKey: undefined, mergeLogTrim: true, keepLog: true, mergeParser: undefined, ...options }, out);
  return out.record;
};

test('the record: its keys in order, merged keys, then kubernetes and kubernetes_namespace; changed in place only when the order allows', () => {
  const tail = { log: 'x', stream: 'stdout', kubernetes: { pod_name: 'from-file-name' } };
  const same = merge(tail, {});
  assert.equal(same, tail, 'kubernetes last already: replaced in place');
  assert.deepEqual(same, { log: 'x', stream: 'stdout', kubernetes: { pod_name: 'p' } });
  const moved = merge({ kubernetes: { old: 1 }, log: 'x' }, {});
  assert.deepEqual(Object.keys(moved), ['log', 'kubernetes']);
  assert.deepEqual(Object.keys(merge({ log: 'x', kubernetes_namespace: {}, kubernetes: {} }, {}, { a: 1 }, { name: 'n' })), ['log', 'kubernetes', 'kubernetes_namespace']);
  const both = { log: 'x', kubernetes: {}, kubernetes_namespace: {} };
  assert.equal(merge(both, {}, { a: 1 }, { name: 'n' }), both);
  assert.deepEqual(Object.keys(merge({ log: 'x', kubernetes_namespace: {} }, {}, null, { name: 'n' })), ['log', 'kubernetes_namespace']);

  const json = '{"level":"info","msg":"hi\\n","n":1}';
  assert.deepEqual(merge({ stream: 'stdout', log: json, time: 't' }, { mergeLog: true }), { stream: 'stdout', log: json, time: 't', level: 'info', msg: 'hi', n: 1, kubernetes: { pod_name: 'p' } });
  assert.deepEqual(merge({ log: json }, { mergeLog: true, keepLog: false, mergeLogKey: 'app' }), { app: { level: 'info', msg: 'hi', n: 1 }, kubernetes: { pod_name: 'p' } });
  assert.deepEqual(merge({ log: { a: 'x\n' } }, { mergeLog: true, keepLog: false }), { a: 'x\n', kubernetes: { pod_name: 'p' } }, 'a map is merged as it is, untrimmed');
  assert.deepEqual(merge({ log: 7 }, { mergeLog: true, keepLog: false }), { kubernetes: { pod_name: 'p' } }, 'Fluent Bit drops a log of another type without keep_log');
  assert.deepEqual(merge({ log: ' [1] ' }, { mergeLog: true, keepLog: false }), { log: ' [1] ', kubernetes: { pod_name: 'p' } });
});

test('options: Fluent Bit defaults, NODE_NAME, parsers that must exist', () => {
  const o = resolveKubernetesFilterOptions(filterOptions({}), { NODE_NAME: 'worker-7' });
  assert.equal(o.url.href, 'https://kubernetes.default.svc/');
  assert.equal(o.tagPrefix, 'kube.var.log.containers.');
  assert.deepEqual([o.labels, o.annotations, o.mergeLog, o.keepLog, o.mergeLogTrim, o.maxObjectBytes, o.tokenTtlMs, o.namespaceTtlMs], [true, true, false, true, true, 32768, 600_000, 900_000]);
  assert.equal(o.nodeName, 'worker-7');
  assert.equal(resolveKubernetesFilterOptions(filterOptions({ kube_node_name: 'a' }), { NODE_NAME: 'b' }).nodeName, 'a');
  assert.equal(resolveKubernetesFilterOptions(filterOptions({ kubelet_port: 10255 }), {}).kubeletUrl.href, 'https://127.0.0.1:10255/');
  const env = { parsers: new TestParsers([parsers.kv]) };
  assert.doesNotThrow(() => checkKubernetesFilterOptions(filterOptions({ merge_parser: 'kv', regex_parser: 'kv' }), env));
  assert.throws(() => checkKubernetesFilterOptions(filterOptions({ merge_parser: 'json' }), env), /merge_parser: no parser named 'json'/);
  assert.throws(() => checkKubernetesFilterOptions(filterOptions({ regex_parser: 'tags' }), env), /regex_parser: no parser named 'tags'/);
  assert.throws(() => checkKubernetesFilterOptions(filterOptions({ kube_url: 'ftp://x' }), env), /kube_url/);
});

test('merge_log on, a log that is not JSON: the maps are appended to the record itself (nothing moves), as when nothing is merged', () => {
  const text = { stream: 'stdout', log: 'plain text {not json' };
  const out = merge(text, { mergeLog: true });
  assert.equal(out, text);
  assert.deepEqual(Object.keys(out), ['stream', 'log', 'kubernetes']);
  // `kubernetes` not last: a copy in Fluent Bit's order, as before.
  const moved = merge({ kubernetes: { old: 1 }, log: 'not json', stream: 'stderr' }, { mergeLog: true });
  assert.deepEqual(moved, { log: 'not json', stream: 'stderr', kubernetes: { pod_name: 'p' } });
  assert.deepEqual(Object.keys(moved), ['log', 'stream', 'kubernetes']);
});
