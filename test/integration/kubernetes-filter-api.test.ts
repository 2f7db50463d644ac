/**
 * The kubernetes filter against the API-server stand-in: how few requests it makes, and that records
 * never stall whatever the API server does (down, slow, 401, 403, 404, 410, rotated tokens, pods too
 * large), with each failure logged once and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { LogEvent } from '../../src/core/event.js';
import { kubeFilterHarness, run } from '../helpers/kube-filter.js';
import { containerId, kubePod, type PodSpec } from '../helpers/kube-objects.js';
import { waitFor } from '../helpers/wait.js';

const NODE = 'worker-1';
/** For tests where a pod is never reported: the wait runs out soon. */
const FAST = { kube_node_name: NODE, kube_meta_wait_time: '300ms' };
/** For tests where the first batch must wait for the list, however slow the machine (it ends when the list does). */
const PATIENT = { kube_node_name: NODE, kube_meta_wait_time: '20s' };
const POD_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/;

function spec(i: number, extra: Partial<PodSpec> = {}): PodSpec {
  const name = `app${i}-5d4c3b2a1-x${i}`;
  return { namespace: 'shop', name, node: NODE, labels: { app: `app${i}` }, podIP: `10.244.0.${i % 250}`, containers: [{ name: 'main', image: 'registry.example/app:1', id: containerId(name) }], ...extra };
}

function logs(p: PodSpec, n = 1, stream = 'stdout'): LogEvent[] {
  const c = p.containers[0]!;
  const tag = `kube.var.log.containers.${p.name}_${p.namespace}_${c.name}-${c.id}.log`;
  return Array.from({ length: n }, (_, i) => ({ tag, time: BigInt(i + 1), record: { log: `line ${i}`, stream } }));
}

const kube = (e: LogEvent) => e.record.kubernetes as Record<string, unknown> | undefined;
const apiCalls = (paths: { path: string; watch: boolean }[]) => paths.map((r) => (r.watch ? `watch ${r.path}` : `get ${r.path}`));

test('requests do not grow with pods or records: one list and one watch of the node, whatever the number of pods', async (t) => {
  const counts: string[][] = [];
  for (const pods of [3, 30]) {
    const h = await kubeFilterHarness(t);
    const specs = Array.from({ length: pods }, (_, i) => spec(i));
    for (const s of specs) h.api.putPod(kubePod(s));
    h.api.putPod(kubePod(spec(999, { node: 'worker-2' })));
    const filter = h.filter(PATIENT);
    for (let round = 0; round < 3; round++) {
      for (const s of specs) {
        const out = await run(filter, logs(s, 20));
        assert.equal(out.length, 20);
        for (const e of out) assert.deepEqual((kube(e)!.labels as Record<string, string>).app, s.labels!.app);
      }
    }
    await waitFor(() => h.api.openWatches === 1, 'the watch');
    counts.push(apiCalls(h.api.requests));
    assert.equal(await h.metrics.value('floki_filter_kubernetes_records_total', { result: 'enriched' }), pods * 60);
  }
  assert.deepEqual(counts[0], ['get /api/v1/pods', 'watch /api/v1/pods']);
  assert.deepEqual(counts[1], counts[0], '30 pods cost what 3 cost');
});

test("a batch of known pods is handled at once, without a promise; the list and watch ask for this node's pods only", async (t) => {
  const h = await kubeFilterHarness(t);
  const s = spec(1);
  h.api.putPod(kubePod(s));
  const filter = h.filter(PATIENT);
  await run(filter, logs(s));
  const out = filter.process(logs(s, 5));
  assert.ok(Array.isArray(out), 'answered synchronously');
  assert.equal(kube(out[0]!)!.host, NODE);
  for (const r of h.api.requests) assert.equal(r.query.get('fieldSelector'), `spec.nodeName=${NODE}`);
});

test('a pod whose log appears before the watch reports it: the record waits for the watch; past kube_meta_wait_time, one GET', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod(spec(0)));
  const filter = h.filter(PATIENT);
  await run(filter, logs(spec(0)));
  const early = spec(1);
  const pending = run(filter, logs(early, 3));
  // The kubelet's log file is there; the API server tells of the pod a moment later.
  setTimeout(() => h.api.putPod(kubePod(early)), 50);
  const out = await pending;
  assert.deepEqual((kube(out[0]!)!.labels as Record<string, string>).app, 'app1');
  assert.equal(h.api.requestsTo(POD_PATH).length, 0, 'the watch told of it: no GET');

  // A pod the watch never reports (the API server places it on another node): one GET after the wait.
  const hurried = h.filter(FAST);
  await waitFor(() => h.api.openWatchesOf('pods') === 2, 'its list done: the watch is open');
  const elsewhere = spec(2, { node: 'worker-9' });
  h.api.putPod(kubePod(elsewhere));
  const started = performance.now();
  const got = await run(hurried, logs(elsewhere));
  assert.ok(performance.now() - started >= 250, 'waited for the watch first');
  assert.equal(kube(got[0]!)!.host, 'worker-9');
  assert.equal(kube(got[0]!)!.pod_id, h.api.pod('shop', elsewhere.name)!.metadata.uid);
  for (let i = 0; i < 3; i++) await run(hurried, logs(elsewhere));
  assert.deepEqual(h.api.requestsTo(POD_PATH).map((r) => r.path), [`/api/v1/namespaces/shop/pods/${elsewhere.name}`], 'one GET, then the cache');
  assert.ok(h.logs.some((l) => /another/.test(String(l.msg))), 'the node mismatch is logged');
});

test('API server down at start, then up: records flow with their tag\'s metadata at once, then with the pod\'s', async (t) => {
  const h = await kubeFilterHarness(t);
  const s = spec(1);
  h.api.putPod(kubePod(s));
  h.api.intercept = () => 'drop';
  const filter = h.filter(FAST);
  const started = performance.now();
  const first = await run(filter, logs(s));
  assert.ok(performance.now() - started < 2000, 'bounded wait');
  assert.deepEqual(kube(first[0]!), { pod_name: s.name, namespace_name: 'shop', container_name: 'main', docker_id: s.containers[0]!.id });
  const next = filter.process(logs(s, 2));
  assert.ok(Array.isArray(next), 'during the outage, no batch waits');
  assert.equal(kube(next[0]!)!.labels, undefined);

  h.api.intercept = undefined;
  await waitFor(() => {
    const out = filter.process(logs(s));
    return Array.isArray(out) && kube(out[0]!)!.labels !== undefined;
  }, 'the pod metadata once the API server answers');
  assert.equal(await h.metrics.value('floki_filter_kubernetes_records_without_metadata_total', { reason: 'api_unavailable' }) >= 3, true);
  const warnings = h.logs.filter((l) => /unavailable/.test(String(l.msg)));
  assert.equal(warnings.length, 1, 'the outage is logged once');
});

test('token rotation: after a 401 the token file is read again, for the watch and for GETs', async (t) => {
  const h = await kubeFilterHarness(t, 'token-a');
  const s = spec(1);
  h.api.putPod(kubePod(s));
  const watching = h.filter(FAST);
  const perPod = h.filter({}); // no node name: a GET per pod
  assert.ok(kube((await run(watching, logs(s)))[0]!)!.labels);
  assert.ok(kube((await run(perPod, logs(s)))[0]!)!.labels);

  writeFileSync(h.tokenFile, 'token-b');
  h.api.tokens.clear();
  h.api.tokens.add('token-b');
  h.api.dropWatches();
  await waitFor(() => h.api.openWatches === 1 && h.api.requests.at(-1)!.token === 'token-b', 'the watch again, with the new token');
  const fresh = spec(2);
  h.api.putPod(kubePod(fresh));
  assert.deepEqual((kube((await run(watching, logs(fresh)))[0]!)!.labels as Record<string, string>).app, 'app2');
  assert.deepEqual((kube((await run(perPod, logs(fresh)))[0]!)!.labels as Record<string, string>).app, 'app2');
  const rejected = h.api.requests.filter((r) => r.status === 401);
  assert.ok(rejected.length >= 2 && rejected.every((r) => r.token === 'token-a'));
  const last = h.api.requestsTo(POD_PATH).at(-1)!;
  assert.equal(last.token, 'token-b');
  assert.equal(last.status, 200);
});

test('403 and 404: records keep flowing with the tag\'s metadata, each case logged once and counted, no request per batch', async (t) => {
  const h = await kubeFilterHarness(t);
  const filter = h.filter({}, { notFoundMs: 60_000 });
  for (let round = 0; round < 3; round++) {
    for (const gone of [spec(10), spec(11), spec(12)]) {
      const out = await run(filter, logs(gone, 2));
      assert.deepEqual(Object.keys(kube(out[0]!)!), ['pod_name', 'namespace_name', 'container_name', 'docker_id']);
    }
  }
  assert.equal(h.api.requestsTo(POD_PATH).length, 3, 'one GET per pod: the 404 is remembered');
  assert.equal(await h.metrics.value('floki_filter_kubernetes_records_without_metadata_total', { reason: 'not_found' }), 18);

  h.api.intercept = (path) => (POD_PATH.test(path) ? { status: 403, body: { kind: 'Status', code: 403, message: 'pods is forbidden' } } : undefined);
  for (let i = 2; i < 5; i++) assert.equal(kube((await run(filter, logs(spec(i))))[0]!)!.labels, undefined);
  assert.equal(h.api.requestsTo(POD_PATH).length, 4, 'one 403, then the backoff: no request per pod');
  assert.equal(await h.metrics.value('floki_filter_kubernetes_records_without_metadata_total', { reason: 'forbidden' }), 1);
  assert.equal(await h.metrics.value('floki_filter_kubernetes_records_without_metadata_total', { reason: 'api_unavailable' }), 2);
  assert.equal(h.logs.filter((l) => /403/.test(String(l.msg))).length, 1);
  assert.equal(h.logs.filter((l) => /not found/.test(String(l.msg))).length, 1);
  assert.equal(await h.metrics.value('floki_filter_kubernetes_api_requests_total', { verb: 'get', code: '403' }), 1);
});

test('410 Gone on the watch: the node is listed again and later changes are seen', async (t) => {
  const h = await kubeFilterHarness(t);
  const s = spec(1);
  h.api.putPod(kubePod(s));
  const filter = h.filter(FAST);
  await run(filter, logs(s));
  h.api.dropWatches();
  h.api.compact();
  h.api.putPod(kubePod({ ...s, labels: { app: 'renamed' } }));
  await waitFor(() => h.api.requests.filter((r) => !r.watch).length === 2 && h.api.openWatches === 1, 'a second list, then a watch');
  await waitFor(() => (kube((filter.process(logs(s)) as LogEvent[])[0]!)!.labels as Record<string, string>).app === 'renamed', 'the change');
});

test('a slow API server costs a bounded wait once, then records go on at once while it stays slow', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.latencyMs = 3000;
  const filter = h.filter({ kube_meta_wait_time: '100ms' }, { getTimeoutMs: 300 });
  let started = performance.now();
  await run(filter, logs(spec(1)));
  assert.ok(performance.now() - started < 1500, 'the GET timed out');
  started = performance.now();
  for (let i = 2; i < 6; i++) assert.ok(Array.isArray(filter.process(logs(spec(i)))), 'no wait during the outage');
  assert.ok(performance.now() - started < 200);
});

test('deleted pods: their late lines still get metadata; long after, they leave the cache', async (t) => {
  const h = await kubeFilterHarness(t);
  const s = spec(1);
  h.api.putPod(kubePod(s));
  const filter = h.filter(FAST, { deletedGraceMs: 300, sweepEveryMs: 50 });
  await run(filter, logs(s));
  h.api.deletePod('shop', s.name);
  await h.api.flushed();
  await waitFor(async () => (await h.metrics.value('floki_filter_kubernetes_cache_entries', { cache: 'pod' })) === 1, 'the pod cached');
  assert.ok(kube((await run(filter, logs(s)))[0]!)!.labels, 'just deleted: still known');
  await waitFor(async () => {
    filter.process(logs(spec(2)));
    return (await h.metrics.value('floki_filter_kubernetes_cache_evictions_total', { reason: 'deleted' })) === 1;
  }, 'evicted after the grace period');
  const late = await run(filter, logs(s));
  assert.equal(kube(late[0]!)!.labels, undefined, 'gone: the tag metadata (after a 404)');
});

test('the cache is bounded in bytes; a pod over buffer_size is skipped, its records get the tag metadata', async (t) => {
  const h = await kubeFilterHarness(t);
  const big = (i: number) => spec(i, { annotations: { note: 'x'.repeat(6000) } });
  for (let i = 0; i < 20; i++) h.api.putPod(kubePod(big(i)));
  const huge = spec(99, { envVars: 1000 });
  h.api.putPod(kubePod(huge));
  const filter = h.filter({ ...FAST, kube_meta_cache_size: '64K' });
  for (let i = 0; i < 20; i++) assert.ok(kube((await run(filter, logs(big(i))))[0]!)!.annotations);
  const bytes = await h.metrics.value('floki_filter_kubernetes_cache_bytes', { cache: 'pod' });
  assert.ok(bytes > 0 && bytes <= (64 * 1024 * 7) / 8, `cache bytes ${bytes}`);
  assert.ok((await h.metrics.value('floki_filter_kubernetes_cache_evictions_total', { reason: 'size' })) > 0);

  const out = await run(filter, logs(huge));
  assert.deepEqual(Object.keys(kube(out[0]!)!), ['pod_name', 'namespace_name', 'container_name', 'docker_id']);
  assert.equal(await h.metrics.value('floki_filter_kubernetes_records_without_metadata_total', { reason: 'too_large' }), 1);
});

test('use_kubelet: the kubelet\'s /pods once for all the pods; use_tag_for_meta: no request at all', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.kubeletNode = NODE;
  const specs = [spec(1), spec(2), spec(3)];
  for (const s of specs) h.api.putPod(kubePod(s));
  const filter = h.filter({ use_kubelet: true, kubelet_port: h.api.port });
  for (const s of specs) assert.equal(kube((await run(filter, logs(s)))[0]!)!.pod_ip, s.podIP);
  assert.deepEqual(apiCalls(h.api.requests), ['get /pods']);

  const before = h.api.requests.length;
  const tagOnly = h.filter({ use_tag_for_meta: true });
  assert.deepEqual(Object.keys(kube((filter.process(logs(specs[0]!)) as LogEvent[])[0]!)!).length > 4, true);
  assert.deepEqual(Object.keys(kube((tagOnly.process(logs(specs[0]!)) as LogEvent[])[0]!)!), ['pod_name', 'namespace_name', 'container_name', 'docker_id']);
  assert.equal(h.api.requests.length, before);
});
