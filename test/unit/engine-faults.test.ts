/**
 * Faults the engine had, each with the test that caught it:
 * - route caches counted entries, not bytes, while tags come from the wire (megabytes each);
 * - records rewrite_tag re-emitted filled an output without pausing the inputs they came from;
 * - stop() waited for the inputs for half the grace period only, so an input's last write (the tail
 *   input's positions, due by half the grace period after it was asked to stop) could come after exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RouteCache, ROUTE_ENTRY_BYTES } from '../../src/core/route-cache.js';
import type { Route } from '../../src/core/slots.js';
import { engineHarness, event } from './engine-harness.js';
import { waitFor } from '../helpers/wait.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const ROUTE: Route = { filters: [], outputs: [] };

test('a route cache holds at most its bytes, counting the tags, and never keeps a tag past a tenth of them', () => {
  const cache = new RouteCache(64 * 1024);
  for (let i = 0; i < 1000; i++) {
    cache.set(`tag-${i}-${'x'.repeat(500)}`, ROUTE);
    assert.ok(cache.bytes <= 64 * 1024, `${cache.bytes} bytes after ${i + 1} tags`);
  }
  assert.ok(cache.size > 0 && cache.size < 64, `${cache.size} tags of 1 KiB each in 64 KiB`);
  const big = 'y'.repeat(cache.maxTagChars + 1);
  cache.set(big, ROUTE);
  assert.equal(cache.get(big), undefined);
  const small = new RouteCache(10 * (ROUTE_ENTRY_BYTES + 2));
  for (let i = 0; i < 25; i++) small.set(String.fromCharCode(97 + i), ROUTE);
  assert.ok(small.size <= 10);
  assert.equal(small.get('y'), ROUTE, 'the newest tag is there after the cache started over');
});

test('tags of half a megabyte from the wire are not kept by the route caches', async (t) => {
  const h = engineHarness(`
pipeline:
  inputs:
    - name: probe
  filters:
    - name: grep
      match: '*'
      exclude: drop ^yes$
  outputs:
    - name: collect
      match: 'keep*'
`);
  await h.engine.start();
  t.after(() => h.engine.stop(100));
  const ctx = h.probes.get('probe.0')!.ctx;
  const before = heapAfterGc();
  // 100 distinct tags of 512 KiB: the old cache (10,000 entries) kept all of them, 50 MiB.
  for (let i = 0; i < 100; i++) {
    const tag = `keep.${i}.${'t'.repeat(512 * 1024)}`;
    await ctx.emit([event(tag, { drop: 'yes' })]);
  }
  const grown = heapAfterGc() - before;
  assert.ok(grown < 20 * 1024 * 1024, `the heap grew by ${Math.round(grown / 1024 / 1024)} MiB`);
});

test("records rewrite_tag re-emits pause the inputs they came from when their output is full, and resume them; nothing is lost", async (t) => {
  const h = engineHarness(`
pipeline:
  inputs:
    - name: probe
    - name: probe
      alias: other
  filters:
    - name: rewrite_tag
      match: '*'
      rule: $msg ^(a.*)$ new.$1 false
  outputs:
    - name: collect
      match: new.*
    - name: collect
      alias: plain
      match: plain
`);
  await h.engine.start();
  t.after(() => h.engine.stop(100));
  const app = h.probes.get('probe.0')!;
  const other = h.probes.get('other')!;
  const out = h.outputs.get('collect.0')!;
  // app's records reach collect.0 only as rewrite_tag re-emits them (under new.*); other's pass the
  // filter without a match and reach plain: other is not one of the emitter's senders.
  await app.ctx.emit([event('app', { msg: 'a1' })]);
  await other.ctx.emit([event('plain', { msg: 'b1' })]);
  await waitFor(() => out.events.length === 1, 'the re-emitted record');
  out.ctx.setFull(true);
  assert.equal(app.ctx.paused, true, 'the input whose records were re-emitted is paused');
  assert.equal(app.pauses, 1);
  assert.equal(other.ctx.paused, false, 'an input that does not feed the full output reads on');
  // Re-emitted records pass the same filter again (its cycle rule sends them on): no deadlock.
  await app.ctx.emit([event('app', { msg: 'a2' })]);
  out.ctx.setFull(false);
  assert.equal(app.ctx.paused, false);
  assert.equal(app.resumes, 1);
  await app.ctx.emit([event('app', { msg: 'a3' })]);
  await waitFor(() => out.events.length === 3, 'every re-emitted record');
  assert.deepEqual(
    out.events.map((e) => [e.tag, e.record.msg]),
    [
      ['new.a1', 'a1'],
      ['new.a2', 'a2'],
      ['new.a3', 'a3'],
    ],
  );
  assert.equal(await h.metrics.value('floki_input_ingestion_paused', { name: 'probe.0' }), 0);
});

test('an input whose records are re-emitted after the output filled is paused at once', async (t) => {
  const h = engineHarness(`
pipeline:
  inputs:
    - name: probe
    - name: probe
      alias: late
  filters:
    - name: rewrite_tag
      match: app*
      rule: $msg ^(.*)$ new false
  outputs:
    - name: collect
      match: new
`);
  await h.engine.start();
  t.after(() => h.engine.stop(100));
  const out = h.outputs.get('collect.0')!;
  await h.probes.get('probe.0')!.ctx.emit([event('app', { msg: 'x' })]);
  await waitFor(() => out.events.length === 1, 'the re-emitted record');
  out.ctx.setFull(true);
  const late = h.probes.get('late')!;
  assert.equal(late.ctx.paused, false, 'not routed through the filter yet');
  await late.ctx.emit([event('app2', { msg: 'y' })]);
  assert.equal(late.ctx.paused, true, 'its records went through the filter whose emitter feeds the full output');
});

test('stop waits for an input that stops after half the grace period but within it', async () => {
  const h = engineHarness(`
pipeline:
  inputs:
    - name: probe
  outputs:
    - name: collect
      match: '*'
`);
  await h.engine.start();
  const p = h.probes.get('probe.0')!;
  // Like the tail input: waits for its lines to settle, then writes its positions (here, at 70% of the grace).
  p.stopWork = () => new Promise((resolve) => setTimeout(resolve, 280));
  const started = Date.now();
  await h.engine.stop(400);
  assert.equal(p.stopped, true, 'the input had finished stopping when stop() returned');
  assert.ok(Date.now() - started < 2000);
  const out = h.outputs.get('collect.0')!;
  assert.equal(out.stopped, true);
  assert.ok(out.stopDeadlines[0]! <= 200, `the output was stopped after half the grace (given ${out.stopDeadlines[0]} ms)`);
});

test('stop gives up on an input that does not stop within the grace period', async () => {
  const h = engineHarness(`
pipeline:
  inputs:
    - name: probe
  outputs:
    - name: collect
      match: '*'
`);
  await h.engine.start();
  h.probes.get('probe.0')!.stopWork = () => new Promise(() => {});
  const started = Date.now();
  await h.engine.stop(300);
  const took = Date.now() - started;
  assert.ok(took >= 280 && took < 2000, `stop took ${took} ms`);
});
