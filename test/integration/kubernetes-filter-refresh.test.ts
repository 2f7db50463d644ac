/**
 * The kubernetes filter's refresh and TLS options against the API-server stand-in: a pod read by GET is
 * asked again past `kube_meta_cache_ttl` (and never with 0), a namespace past
 * `kube_meta_namespace_cache_ttl`; `tls.verify off` talks to a server whose certificate no CA file
 * vouches for, and the default refuses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { selfSignedCert } from '../helpers/kube-apiserver.js';
import { kubeFilterHarness, run } from '../helpers/kube-filter.js';
import { containerId, kubeNamespace, kubePod, type PodSpec } from '../helpers/kube-objects.js';
import { waitFor } from '../helpers/wait.js';

const POD_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/;
const NS_PATH = /^\/api\/v1\/namespaces\/[^/]+$/;

function spec(app: string): PodSpec {
  const name = 'web-5d4c3b2a1-x1';
  return { namespace: 'shop', name, node: 'worker-1', labels: { app }, podIP: '10.244.0.1', containers: [{ name: 'main', image: 'registry.example/app:1', id: containerId(name) }] };
}

function logs(p: PodSpec): LogEvent[] {
  const c = p.containers[0]!;
  return [{ tag: `kube.var.log.containers.${p.name}_${p.namespace}_${c.name}-${c.id}.log`, time: 1n, record: { log: 'line', stream: 'stdout' } }];
}

const kube = (e: LogEvent) => e.record.kubernetes as Record<string, unknown> | undefined;
const appOf = (e: LogEvent) => (kube(e)?.labels as Record<string, string> | undefined)?.app;
const nsLabels = (e: LogEvent) => (e.record.kubernetes_namespace as Record<string, unknown> | undefined)?.labels as Record<string, string> | undefined;

// No node name: one GET per pod, as Fluent Bit; these are the copies kube_meta_cache_ttl ages.
test('kube_meta_cache_ttl: a pod read by GET is asked again once it is older, and its new labels are used', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod(spec('v1')));
  const filter = h.filter({ kube_meta_cache_ttl: '200ms' });
  assert.equal(appOf((await run(filter, logs(spec('v1'))))[0]!), 'v1');
  h.api.putPod(kubePod(spec('v2')));
  // Within the TTL the copy is used as it is.
  assert.equal(appOf((await run(filter, logs(spec('v1'))))[0]!), 'v1');
  assert.equal(h.api.requestsTo(POD_PATH).length, 1);
  // Past it: still used (no wait), asked again in the background, then the new labels.
  await waitFor(async () => appOf((await run(filter, logs(spec('v1'))))[0]!) === 'v2', 'the refreshed labels', 10_000);
  assert.ok(h.api.requestsTo(POD_PATH).length >= 2);
});

test('kube_meta_cache_ttl 0 (the default): a pod read by GET is not asked again', async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod(spec('v1')));
  const filter = h.filter({});
  assert.equal(appOf((await run(filter, logs(spec('v1'))))[0]!), 'v1');
  h.api.putPod(kubePod(spec('v2')));
  const until = performance.now() + 600;
  while (performance.now() < until) {
    assert.equal(appOf((await run(filter, logs(spec('v1'))))[0]!), 'v1');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(h.api.requestsTo(POD_PATH).length, 1, 'one GET, then the cache');
});

test("kube_meta_namespace_cache_ttl: a namespace's labels are asked again once older than it", async (t) => {
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod(spec('v1')));
  h.api.putNamespace(kubeNamespace('shop', { team: 'a' }));
  const filter = h.filter({ namespace_labels: 'on', kube_meta_namespace_cache_ttl: '200ms' });
  assert.equal(nsLabels((await run(filter, logs(spec('v1'))))[0]!)?.team, 'a');
  h.api.putNamespace(kubeNamespace('shop', { team: 'b' }));
  await waitFor(async () => nsLabels((await run(filter, logs(spec('v1'))))[0]!)?.team === 'b', "the namespace's new labels", 10_000);
  assert.ok(h.api.requestsTo(NS_PATH).length >= 2);
});

test("tls.verify off: the filter talks to an API server whose certificate kube_ca_file does not vouch for; on (the default), it does not", async (t) => {
  const other = selfSignedCert();
  t.after(() => other.remove());
  const h = await kubeFilterHarness(t);
  h.api.putPod(kubePod(spec('v1')));
  const trusting = h.filter({ kube_ca_file: other.certFile, 'tls.verify': 'off', kube_meta_wait_time: '300ms' });
  assert.equal(appOf((await run(trusting, logs(spec('v1'))))[0]!), 'v1');
  const checking = h.filter({ kube_ca_file: other.certFile, kube_meta_wait_time: '300ms' });
  const out = await run(checking, logs(spec('v1')));
  assert.equal(out.length, 1, 'the record passes');
  assert.equal(appOf(out[0]!), undefined, 'without the pod metadata');
  assert.equal(kube(out[0]!)!.pod_name, 'web-5d4c3b2a1-x1', "with its tag's");
});
