/**
 * `record_layout fluentd` against the API-server stand-in: the record fabric8io's
 * fluent-plugin-kubernetes_metadata_filter (v3.7.1, the 3.x line fluentd-kubernetes-daemonset ships)
 * writes. Expected values derived from its source:
 * - filter_kubernetes_metadata.rb `get_metadata_for_record` (docker / kubernetes, container_image,
 *   container_image_id, containerID) and `filter` (`record.merge(metadata)`);
 * - kubernetes_metadata_common.rb `parse_pod_metadata` / `parse_namespace_metadata` (key order:
 *   namespace_name, pod_id, pod_name, pod_ip, host, labels, annotations, master_url; namespace_id,
 *   namespace_labels), containerID less `^[-_a-zA-Z0-9]+://`;
 * - kubernetes_metadata_cache_strategy.rb `get_pod_metadata` (a pod not found: pod_id = the tag's id;
 *   neither pod nor namespace: the orphan keys);
 * - the README's "Example input/output" (docker.container_id, kubernetes.*).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { kubeFilterHarness, run } from '../helpers/kube-filter.js';
import { containerId, kubeNamespace, kubePod } from '../helpers/kube-objects.js';

const ID = containerId('web');
const TAG = `kubernetes.var.log.containers.web-0_shop_nginx-${ID}.log`;
const FLUENTD = { record_layout: 'fluentd', kube_meta_wait_time: '300ms' };

function event(tag = TAG): LogEvent {
  return { tag, time: 1n, record: { stream: 'stdout', logtag: 'F', log: 'hello' } };
}

test('a pod and namespace the API server gives: the Fluentd plugin record, key by key', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod({ namespace: 'shop', name: 'web-0', node: 'worker-1', podIP: '10.244.0.7', labels: { app: 'web', 'app.kubernetes.io/name': 'web' }, annotations: { 'example.com/team': 'a', other: 'b' }, containers: [{ name: 'nginx', image: 'nginx:1.27', id: ID }] }));
  const ns = h.api.putNamespace(kubeNamespace('shop', { tier: 'front' }));
  const pod = kubePod({ namespace: 'shop', name: 'web-0', containers: [{ name: 'nginx', image: 'nginx:1.27', id: ID }] });
  const filter = h.filter({ ...FLUENTD, annotation_match: '^example\\.com/' });
  const [out] = await run(filter, [event()]);
  const record = out!.record;
  assert.deepEqual(Object.keys(record), ['stream', 'logtag', 'log', 'docker', 'kubernetes']);
  assert.deepEqual(record.docker, { container_id: ID });
  const kube = record.kubernetes as Record<string, unknown>;
  assert.deepEqual(Object.keys(kube), [
    'container_name', 'namespace_name', 'pod_name', 'container_image', 'container_image_id',
    'pod_id', 'pod_ip', 'host', 'labels', 'annotations', 'master_url', 'namespace_id', 'namespace_labels',
  ]);
  const status = ((pod.status as Record<string, unknown>).containerStatuses as Record<string, unknown>[])[0]!;
  assert.equal(kube.container_name, 'nginx');
  assert.equal(kube.namespace_name, 'shop');
  assert.equal(kube.pod_name, 'web-0');
  assert.equal(kube.container_image, 'nginx:1.27');
  assert.equal(kube.container_image_id, status.imageID, 'imageID whole, scheme and all');
  assert.equal(kube.pod_id, (pod.metadata as Record<string, unknown>).uid);
  assert.equal(kube.pod_ip, '10.244.0.7');
  assert.equal(kube.host, 'worker-1');
  assert.deepEqual(kube.labels, { app: 'web', 'app.kubernetes.io/name': 'web' }, 'dots kept (3.x has no de_dot)');
  assert.deepEqual(kube.annotations, { 'example.com/team': 'a' }, 'only what annotation_match selects');
  assert.equal(kube.master_url, h.api.url, 'kube_url as written');
  assert.equal(kube.namespace_id, (ns.metadata as Record<string, unknown>).uid);
  assert.deepEqual(kube.namespace_labels, { 'kubernetes.io/metadata.name': 'shop', tier: 'front' });
  assert.equal('kubernetes_namespace' in record, false);
});

test('skip_* options, de_dot, and a tag the regexp does not match', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod({ namespace: 'shop', name: 'web-0', node: 'worker-1', labels: { 'a.b': '1', c: '2' }, containers: [{ name: 'nginx', image: 'nginx:1.27', id: ID }] }));
  h.api.putNamespace(kubeNamespace('shop'));
  const filter = h.filter({ ...FLUENTD, skip_master_url: true, skip_container_metadata: true, skip_namespace_metadata: true, de_dot: true });
  const [out] = await run(filter, [event()]);
  const kube = out!.record.kubernetes as Record<string, unknown>;
  assert.deepEqual(Object.keys(kube), ['container_name', 'namespace_name', 'pod_name', 'pod_id', 'host', 'labels']);
  assert.deepEqual(Object.keys(kube.labels as object), ['c', 'a_b'], 'de_dot! deletes and re-adds: the renamed key goes last');
  assert.equal(h.api.requests.some((r) => r.path.includes('/namespaces/shop') && !r.path.includes('/pods')), false, 'no namespace request');
  const other = { tag: 'app.log', time: 1n, record: { log: 'x' } };
  const [left] = await run(filter, [other]);
  assert.deepEqual(left!.record, { log: 'x' });
});

test('a pod not found: pod_id is the tag id when the namespace is found; the orphan keys when neither is', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putNamespace(kubeNamespace('shop'));
  const filter = h.filter(FLUENTD);
  const [out] = await run(filter, [event()]);
  const kube = out!.record.kubernetes as Record<string, unknown>;
  assert.deepEqual(Object.keys(kube), ['container_name', 'namespace_name', 'pod_name', 'pod_id', 'namespace_id', 'namespace_labels']);
  assert.equal(kube.pod_id, ID);
  assert.deepEqual(out!.record.docker, { container_id: ID });
  const orphanTag = `kubernetes.var.log.containers.web-0_gone_nginx-${ID}.log`;
  const [orphan] = await run(filter, [event(orphanTag)]);
  assert.deepEqual(orphan!.record.kubernetes, { container_name: 'nginx', namespace_name: '.orphaned', pod_name: 'web-0', orphaned_namespace: 'gone', namespace_id: 'orphaned' });
  const strict = h.filter({ ...FLUENTD, allow_orphans: false });
  const [kept] = await run(strict, [event(orphanTag)]);
  assert.deepEqual(kept!.record.kubernetes, { container_name: 'nginx', namespace_name: 'gone', pod_name: 'web-0' });
});

test('/var/log/pods tags: the container id comes from the pod status only', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod({ namespace: 'shop', name: 'web-0', uid: '11111111-2222-3333-4444-555555555555', containers: [{ name: 'nginx', image: 'nginx:1.27', id: ID }] }));
  h.api.putNamespace(kubeNamespace('shop'));
  const filter = h.filter(FLUENTD);
  const [out] = await run(filter, [event('kubernetes.var.log.pods.shop_web-0_11111111-2222-3333-4444-555555555555.nginx.0.log')]);
  assert.deepEqual(out!.record.docker, { container_id: ID });
  assert.equal((out!.record.kubernetes as Record<string, unknown>).container_name, 'nginx');
});

test("kubernetes_url written as Fluentd's, ending in /api: requests go to /api/v1/..., master_url stays as written", async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod({ namespace: 'shop', name: 'web-0', containers: [{ name: 'nginx', image: 'nginx:1.27', id: ID }] }));
  h.api.putNamespace(kubeNamespace('shop'));
  const url = `${h.api.url.replace(/\/$/, '')}/api`;
  const filter = h.filter({ ...FLUENTD, kube_url: url });
  const [out] = await run(filter, [event()]);
  const kube = out!.record.kubernetes as Record<string, unknown>;
  assert.equal(kube.master_url, url);
  assert.equal(typeof kube.pod_id, 'string', 'the pod was found');
  assert.ok(h.api.requests.every((r) => r.path.startsWith('/api/v1/')), JSON.stringify(h.api.requests.map((r) => r.path)));
});
