/**
 * Engine.reload: the old inputs stop at a clean point before the new ones start, filters send on what
 * they hold, outputs whose definition is unchanged keep running (queue and all), changed ones are
 * retired, inputs hand their state to their successors, and a pipeline that cannot start gives way to
 * the previous one again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEvent } from '../../src/core/event.js';
import { ReloadError, RETIRING_OUTPUT_DEADLINE_MS } from '../../src/core/engine.js';
import type { FilterContext, Hold } from '../../src/core/plugin.js';
import type { AnyPlugin } from '../../src/core/registry-types.js';
import { engineHarness, event, type EngineHarness } from './engine-harness.js';
import { waitFor } from '../helpers/wait.js';

const BASE = `
service:
  grace: 2
pipeline:
  inputs:
    - name: probe
  outputs:
    - name: collect
      match: '*'
`;

async function started(t: TestContext, text: string, extra: AnyPlugin[] = []): Promise<EngineHarness> {
  const h = engineHarness(text, extra);
  await h.engine.start();
  t.after(() => h.engine.stop(200));
  return h;
}

test('a reload replaces inputs, keeps an unchanged output with what it holds, and routes by the new config', async (t) => {
  const h = await started(t, BASE);
  const first = h.probes.get('probe.0')!;
  const out = h.outputs.get('collect.0')!;
  await first.ctx.emit([event('a', { n: 1 })]);
  await h.engine.reload(
    h.config(`
service:
  grace: 2
pipeline:
  inputs:
    - name: probe
  filters:
    - name: record_modifier
      match: '*'
      record: reloaded yes
  outputs:
    - name: collect
      match: 'b*'
`),
  );
  assert.equal(first.stopped, true, 'the old input was stopped');
  const second = h.probes.get('probe.0')!;
  assert.notEqual(second, first, 'a new input instance');
  assert.equal(second.started, true);
  assert.equal(h.allOutputs.length, 1, 'the output was kept, not made again');
  assert.equal(out.stopped, false);
  await second.ctx.emit([event('a', { n: 2 }), event('b', { n: 3 })]);
  assert.deepEqual(
    out.events.map((e) => e.record),
    [{ n: 1 }, { n: 3, reloaded: 'yes' }],
    'the new match and the new filter apply to the kept output',
  );
  assert.equal(await h.metrics.value('floki_input_records_total', { name: 'probe.0' }), 3, 'counters count on across reloads');
});

test('a changed output is retired (sending in the background) and a new instance takes its place', async (t) => {
  const h = await started(t, BASE);
  const old = h.outputs.get('collect.0')!;
  await h.engine.reload(h.config(BASE.replace("match: '*'", "match: '*'\n      note: changed")));
  assert.equal(h.allOutputs.length, 2);
  const now = h.outputs.get('collect.0')!;
  assert.notEqual(now, old);
  await waitFor(() => old.stopped, 'the old output stopped');
  assert.deepEqual(old.stopDeadlines, [RETIRING_OUTPUT_DEADLINE_MS], 'a memory queue goes on sending long after the reload');
  await h.probes.get('probe.0')!.ctx.emit([event('x')]);
  assert.equal(now.events.length, 1);
  assert.equal(old.events.length, 0);
});

test('a disk-buffered output that is replaced closes before the new one of its name starts', async (t) => {
  const order: string[] = [];
  const disk: AnyPlugin = {
    kind: 'output',
    name: 'disk',
    description: 'test output with files',
    options: [{ name: 'note', type: 'string', description: '' }],
    create: (o) => ({
      start: async () => void order.push(`start ${String(o.note)}`),
      write: () => {},
      queuedBytes: () => 0,
      stop: async (deadline) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push(`stopped ${String(o.note)} within ${deadline}`);
      },
    }),
  };
  const text = (note: string) => `
service:
  grace: 2
  storage.path: /nonexistent
pipeline:
  inputs:
    - name: probe
  outputs:
    - name: disk
      match: '*'
      storage.type: filesystem
      note: ${note}
`;
  const h = await started(t, text('one'), [disk]);
  await h.engine.reload(h.config(text('two')));
  assert.deepEqual(order, ['start one', 'stopped one within 2000', 'start two']);
});

test('an input hands its state to the input of the same plugin and name that replaces it', async (t) => {
  const h = await started(t, BASE);
  h.probes.get('probe.0')!.state = { positions: 42 };
  await h.engine.reload(h.config(BASE));
  assert.deepEqual(h.probes.get('probe.0')!.ctx.handedOver, { positions: 42 });
  // Another plugin under that name gets nothing.
  await h.engine.reload(h.config(BASE.replace('    - name: probe', '    - name: dummy\n      alias: probe.0\n      rate: 1')));
  await h.engine.reload(h.config(BASE));
  assert.equal(h.probes.get('probe.0')!.ctx.handedOver, undefined);
});

test('old inputs have stopped before new ones start, and filters send on what they hold before that', async (t) => {
  const order: string[] = [];
  const holder: AnyPlugin = {
    kind: 'filter',
    name: 'holder',
    description: 'holds every event until it stops',
    options: [],
    create: (_o, c) => {
      const ctx = c as FilterContext;
      const held: LogEvent[] = [];
      const holds: Hold[] = [];
      return {
        process(events, flow) {
          held.push(...events);
          holds.push(flow.hold());
          return [];
        },
        async stop() {
          order.push('filter stop');
          await ctx.pass(held.splice(0), holds.splice(0));
        },
      };
    },
  };
  const text = `
service:
  grace: 2
pipeline:
  inputs:
    - name: probe
  filters:
    - name: holder
      match: '*'
  outputs:
    - name: collect
      match: '*'
`;
  const h = await started(t, text, [holder]);
  const first = h.probes.get('probe.0')!;
  let settled = false;
  await first.ctx.emit([event('a', { n: 1 })], () => (settled = true));
  first.stopWork = async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    order.push('input stopped');
  };
  const out = h.outputs.get('collect.0')!;
  assert.equal(out.events.length, 0);
  await h.engine.reload(h.config(text));
  order.push(`new input started: ${String(h.probes.get('probe.0')!.started)}`);
  assert.deepEqual(order, ['input stopped', 'filter stop', 'new input started: true']);
  assert.deepEqual(out.events.map((e) => e.record), [{ n: 1 }], 'what the old filter held reached the kept output');
  out.settleAll();
  assert.equal(settled, true, 'and settles the emit it came from');
});

test('a full output that is kept pauses the new inputs that feed it', async (t) => {
  const h = await started(t, BASE);
  const out = h.outputs.get('collect.0')!;
  await h.probes.get('probe.0')!.ctx.emit([event('a')]);
  out.ctx.setFull(true);
  assert.equal(h.probes.get('probe.0')!.ctx.paused, true);
  await h.engine.reload(h.config(BASE));
  const next = h.probes.get('probe.0')!;
  await next.ctx.emit([event('a')]);
  assert.equal(next.ctx.paused, true);
  out.ctx.setFull(false);
  assert.equal(next.ctx.paused, false);
  assert.equal(next.resumes, 1);
});

test('the gauges of instances a reload removed are gone; counters stay', async (t) => {
  const h = await started(t, BASE.replace('    - name: probe', '    - name: probe\n    - name: probe\n      alias: gone'));
  const out = h.outputs.get('collect.0')!;
  await h.probes.get('gone')!.ctx.emit([event('a')]);
  out.ctx.setFull(true);
  out.ctx.setFull(false);
  assert.equal(await h.metrics.value('floki_input_ingestion_paused', { name: 'gone' }), 0);
  const series = async (name: string) => (await h.metrics.registry.getSingleMetric('floki_input_ingestion_paused')!.get()).values.filter((v) => v.labels.name === name).length;
  assert.equal(await series('gone'), 1);
  await h.engine.reload(h.config(BASE));
  assert.equal(await series('gone'), 0, 'the removed input has no paused gauge left');
  assert.equal(await h.metrics.value('floki_input_records_total', { name: 'gone' }), 1);
});

test('a new pipeline that cannot start gives way to the previous config, which continues from the state handed over', async (t) => {
  const failing: AnyPlugin = {
    kind: 'input',
    name: 'failing',
    description: 'cannot start',
    options: [],
    create: () => ({ start: async () => Promise.reject(new Error('address in use')), stop: async () => {}, pause() {}, resume() {} }),
  };
  const h = await started(t, BASE, [failing]);
  h.probes.get('probe.0')!.state = 'from the first';
  await assert.rejects(
    h.engine.reload(h.config(BASE.replace('    - name: probe', '    - name: probe\n    - name: failing'))),
    (err: unknown) => err instanceof ReloadError && err.restored && /address in use/.test(err.message),
  );
  assert.equal(h.engine.running, true);
  assert.equal(h.engine.config.inputs.length, 1, 'the previous config runs');
  // probe.0 of the failed pipeline started and stopped, with nothing of its own to hand over: its
  // successor gets what it was given.
  const probes = h.allProbes;
  assert.equal(probes.length, 3);
  assert.equal(probes[1]!.ctx.handedOver, 'from the first');
  assert.equal(probes[1]!.stopped, true);
  assert.equal(probes[2]!.started, true);
  assert.equal(probes[2]!.ctx.handedOver, 'from the first');
  await probes[2]!.ctx.emit([event('z')]);
  assert.equal(h.outputs.get('collect.0')!.events.length, 1);
});

test('reload refuses to run twice at once, and stop waits for a reload under way', async (t) => {
  const h = await started(t, BASE);
  h.probes.get('probe.0')!.stopWork = () => new Promise((resolve) => setTimeout(resolve, 100));
  const first = h.engine.reload(h.config(BASE));
  await assert.rejects(h.engine.reload(h.config(BASE)), /cannot reload: the engine is reloading/);
  const stopping = h.engine.stop(200);
  await first;
  await stopping;
  assert.equal(h.engine.running, false);
  assert.equal(h.probes.get('probe.0')!.stopped, true, 'the new pipeline was stopped too');
});

test('an input paused by a full output is resumed while it stops at a reload, to finish what it took in', async (t) => {
  const h = await started(t, BASE);
  const p = h.probes.get('probe.0')!;
  const out = h.outputs.get('collect.0')!;
  await p.ctx.emit([event('a')]);
  out.ctx.setFull(true);
  assert.equal(p.ctx.paused, true);
  // Like the forward input with a chunk it cannot emit while paused: it stops once it could finish.
  p.stopWork = () => waitFor(() => p.resumes === 1, 'the input resumed', 2000);
  const reloading = h.engine.reload(h.config(BASE));
  out.ctx.setFull(false);
  await reloading;
  assert.equal(p.resumes, 1);
  assert.equal(p.stopped, true);
});
