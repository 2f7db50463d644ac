/**
 * What the kubernetes filter keeps per tag, and the pods and namespaces it found missing, is bounded in
 * bytes as well as in entries (tags are what clients send: a forward tag may be megabytes long); a `log`
 * nested deeper than a record may is left unmerged, counted and logged once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { ByteBoundedCache } from '../../src/kube/bounded-cache.js';
import { kubeFilterHarness, run } from '../helpers/kube-filter.js';
import { containerId, kubePod, type PodSpec } from '../helpers/kube-objects.js';

test('ByteBoundedCache with an entry limit drops its least recently used entries past its bytes or its entries, and counts them', () => {
  const m = new ByteBoundedCache<number>(1000, undefined, 3);
  const keys = () => { const out: string[] = []; m.forEach((k) => out.push(k.slice(0, 1))); return out; };
  m.set('a', 1, 2);
  m.set('b', 2, 2);
  m.set('c', 3, 2);
  m.set('d', 4, 2);
  assert.deepEqual(keys(), ['b', 'c', 'd']);
  m.set('x'.repeat(400), 5, 800); // 800 bytes, and one entry too many: b goes
  assert.deepEqual(keys(), ['c', 'd', 'x']);
  m.set('y'.repeat(200), 6, 400); // 400 bytes more: past 1000, c, d and x go
  assert.deepEqual(keys(), ['y']);
  assert.equal(m.bytes, 400);
  assert.equal(m.evictions, 5);
  assert.ok(m.delete('y'.repeat(200)));
  assert.equal(m.bytes, 0);
});

test('tags of a megabyte each: the per-tag state and the misses stay within their byte bounds', async (t) => {
  const h = await kubeFilterHarness(t);
  const filter = h.filter({ kube_meta_wait_time: '0s', kube_node_name: 'worker-1' });
  const id = containerId('x');
  for (let i = 0; i < 40; i++) {
    const pod = `p${i}-${'a'.repeat(512 * 1024)}`;
    await run(filter, [{ tag: `kube.var.log.containers.${pod}_shop_main-${id}.log`, time: 1n, record: { log: 'x' } }]);
  }
  const states = (filter as unknown as { states: ByteBoundedCache<unknown> }).states;
  assert.ok(states.bytes <= 16 * 1024 * 1024, `per-tag state holds ${states.bytes} bytes`);
  assert.ok(states.size < 40, 'older tags were let go');
  const pods = (filter as unknown as { pods: { misses: ByteBoundedCache<unknown> } }).pods;
  assert.ok(pods.misses.bytes <= 4 * 1024 * 1024, `misses hold ${pods.misses.bytes} bytes`);
});

test('merge_log: a log nested deeper than a record may is left as it is, counted and logged once', async (t) => {
  const h = await kubeFilterHarness(t);
  const name = 'web-5d4c3b2a1-x1';
  const s: PodSpec = { namespace: 'shop', name, node: 'worker-1', labels: { app: 'web' }, podIP: '10.244.0.1', containers: [{ name: 'main', image: 'registry.example/app:1', id: containerId(name) }] };
  h.api.putPod(kubePod(s));
  const filter = h.filter({ kube_node_name: 'worker-1', kube_meta_wait_time: '20s', merge_log: 'on' });
  const deep = '{"a":'.repeat(100) + '1' + '}'.repeat(100);
  const tag = `kube.var.log.containers.${name}_shop_main-${s.containers[0]!.id}.log`;
  const events: LogEvent[] = [0, 1].map(() => ({ tag, time: 1n, record: { log: deep, stream: 'stdout' } }));
  events.push({ tag, time: 1n, record: { log: '{"ok":1}', stream: 'stdout' } });
  const out = await run(filter, events);
  assert.equal(out[0]!.record.log, deep, 'left as it is');
  assert.equal(out[2]!.record.ok, 1, 'a shallow one is merged');
  assert.equal(await h.metrics.value('floki_filter_kubernetes_too_deep_logs_total', { name: 'kubernetes.0' }), 2);
  await run(filter, [{ tag, time: 1n, record: { log: deep, stream: 'stdout' } }]);
  assert.equal(h.logs.filter((l) => /nests deeper/.test(String(l.msg))).length, 1, 'logged once');
});
